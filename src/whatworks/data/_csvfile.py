"""Reading a data file's bytes into a header and rows of strings, reporting what keeps it from being read.

Only the file format is checked here (encoding, BOM, delimiter, shape); the cell values are checked by
:mod:`whatworks.data.validate`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem

SEMICOLON_EXPLANATION = (
    "file is semicolon-separated{decimal} (a Dutch/European spreadsheet export); "
    "save it as CSV with commas between fields and '.' as the decimal mark"
)
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*\"?-?\d+,\d+\"?\s*(?=;|$)")


@dataclass
class RawTable:
    """A CSV file as strings: ``rows`` holds (data row number, {column: stripped cell text}).

    Data row ``n`` is line ``n + 1`` of the file (the header is line 1) unless cells span lines.
    """

    label: str
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def read_text(path: Path, label: str, problems: list[Problem]) -> str | None:
    """Read ``path`` as UTF-8 text; report a BOM, undecodable bytes or NUL bytes and return None."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(label, None, None, "file starts with a UTF-8 byte-order mark (BOM), as Excel "
                                "writes 'CSV UTF-8'; save it as UTF-8 without BOM"))
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(label, None, None, "file is UTF-16 (it starts with a UTF-16 byte-order mark); "
                                "save it as UTF-8"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(label, None, None, f"file is not valid UTF-8 (byte {exc.start}, line {line}); "
                                "save it as UTF-8"))
        return None
    if "\x00" in text:
        problems.append(Problem(label, None, None, "file contains NUL bytes; it is not a text file"))
        return None
    return text


def read_csv(path: Path, label: str, problems: list[Problem]) -> RawTable | None:
    """Parse a CSV file; return None (with problems) when it cannot be read as a table."""
    if _is_semicolon_export(path, label, problems):
        return None
    text = read_text(path, label, problems)
    if text is None:
        return None
    if not text.strip():
        problems.append(Problem(label, None, None, "file is empty (not even a header)"))
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        problems.append(Problem(label, None, None, f"not a readable CSV file: {exc}"))
        return None
    header = [h.strip() for h in records[0]]
    table = RawTable(label, header)
    ok = True
    seen: set[str] = set()
    for i, name in enumerate(header, start=1):
        if not name:
            problems.append(Problem(label, None, None, f"header field {i} is empty"))
            ok = False
        elif name in seen:
            problems.append(Problem(label, None, name, "column appears twice in the header"))
            ok = False
        seen.add(name)
    for r, rec in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in rec):
            continue  # blank line (e.g. a trailing newline): not a row
        if len(rec) != len(header):
            problems.append(Problem(label, r, None, f"row has {len(rec)} fields, the header has {len(header)}"))
            ok = False
            continue
        table.rows.append((r, {name: cell.strip() for name, cell in zip(header, rec)}))
    return table if ok else None


def _is_semicolon_export(path: Path, label: str, problems: list[Problem]) -> bool:
    """Report a semicolon-separated spreadsheet export (checked first: such files are often not UTF-8)."""
    try:
        text = path.read_bytes().decode("latin-1")  # never fails; enough to see the delimiters
    except OSError:
        return False
    lines = text.lstrip("\ufeff\xef\xbb\xbf\r\n").splitlines()
    if not lines or lines[0].count(";") <= lines[0].count(","):
        return False
    decimal = " with decimal commas" if any(_DECIMAL_COMMA.search(x) for x in lines[1:]) else ""
    problems.append(Problem(label, None, None, SEMICOLON_EXPLANATION.format(decimal=decimal)))
    return True
