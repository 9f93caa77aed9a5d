"""Reading a data file's bytes into a header and rows of strings, reporting what keeps it from being read.

Only the file format is checked here (encoding, BOM, delimiter, shape); the cell values are checked by
:mod:`whatworks.data.validate`. A file is read only when it is a regular file inside the collection
folder (after resolving links) and at most :data:`MAX_FILE_BYTES` long; otherwise the problem names
the file and why, never its contents.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem

#: Largest data file read, in bytes (512 MB). The largest bundled file is about 0.2 MB; 200,000 rows coded
#: as fully as the living review's are about 290 MB. A larger file is refused with a message, not read.
MAX_FILE_BYTES = 512 * 1024 * 1024

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


def outside(path: Path, base: Path) -> str | None:
    """Why ``path`` may not be read as part of the collection at ``base`` (a link leading out of it, a
    broken link), or None when it resolves inside ``base``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # a broken link or a loop of links
        return f"cannot be opened ({getattr(exc, 'strerror', None) or 'a broken link or a loop of links'})"
    if not real.is_relative_to(base.resolve()):
        return (f"is a link to {real}, outside the collection folder {base}: not read (copy the file into "
                "the collection instead of linking it)")
    return None


def check_file(path: Path, label: str, problems: list[Problem], base: Path | None = None) -> bool:
    """Whether ``path`` may be read: a regular file (inside ``base``, when given, after resolving links)
    of at most :data:`MAX_FILE_BYTES`. Otherwise a problem names the file and why (never its contents)
    and the file is not opened: a FIFO, device or socket could block or never end."""
    why = outside(path, base) if base is not None else None
    if why:
        problems.append(Problem(label, None, None, why))
        return False
    try:
        info = os.stat(path)
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot read file: {exc.strerror or exc}"))
        return False
    if not stat.S_ISREG(info.st_mode):
        problems.append(Problem(label, None, None, f"is not a regular file ({_kind(info.st_mode)}): not read"))
        return False
    if info.st_size > MAX_FILE_BYTES:
        problems.append(Problem(label, None, None, _too_large(info.st_size)))
        return False
    return True


def read_bytes(path: Path, label: str, problems: list[Problem], base: Path | None = None) -> bytes | None:
    """The bytes of ``path`` if :func:`check_file` allows it; else None (with the problem).

    The file is opened without blocking and checked again once open (it may have been replaced), and at
    most ``MAX_FILE_BYTES + 1`` bytes are read, so a file that grew meanwhile is refused too.
    """
    if not check_file(path, label, problems, base):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced between stat and open
                problems.append(Problem(label, None, None, "is not a regular file: not read"))
                return None
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(label, None, None, _too_large(len(data))))
        return None
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"  # pragma: no cover - every other kind is listed above


def _too_large(size: int) -> str:
    return (f"file is larger than {MAX_FILE_BYTES // 2**20} MB ({size / 2**20:.0f} MB or more): not read; the "
            "limit guards against reading a wrong file (whatworks.data._csvfile.MAX_FILE_BYTES)")


def read_text(path: Path, label: str, problems: list[Problem], base: Path | None = None,
              data: bytes | None = None) -> str | None:
    """Read ``path`` (or decode ``data``, its bytes) as UTF-8 text; report a BOM, undecodable bytes or NUL
    bytes, or why the file is not read (:func:`read_bytes`), and return None."""
    if data is None:
        data = read_bytes(path, label, problems, base)
        if data is None:
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


def read_csv(path: Path, label: str, problems: list[Problem], base: Path | None = None) -> RawTable | None:
    """Parse a CSV file (a regular file inside ``base``, when given; see :func:`read_bytes`); return None
    (with problems) when it cannot be read as a table."""
    data = read_bytes(path, label, problems, base)
    if data is None or _is_semicolon_export(data, label, problems):
        return None
    text = read_text(path, label, problems, data=data)
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


def _is_semicolon_export(data: bytes, label: str, problems: list[Problem]) -> bool:
    """Report a semicolon-separated spreadsheet export (checked first: such files are often not UTF-8)."""
    head = data[:65536].decode("latin-1").lstrip("\ufeff\xef\xbb\xbf\r\n").splitlines()  # latin-1 never fails
    if not head or head[0].count(";") <= head[0].count(","):
        return False
    lines = data.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf\r\n").splitlines()  # only for such exports
    decimal = " with decimal commas" if any(_DECIMAL_COMMA.search(x) for x in lines[1:]) else ""
    problems.append(Problem(label, None, None, SEMICOLON_EXPLANATION.format(decimal=decimal)))
    return True
