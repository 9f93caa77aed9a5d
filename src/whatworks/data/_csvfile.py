"""Reading a data file's bytes into a header and rows of strings, reporting what keeps it from being read.

Only the file format is checked here (encoding, BOM, delimiter, shape); the cell values are checked by
:mod:`whatworks.data.validate`. A file is read only when it is a regular file inside the collection
folder (after resolving links) and at most :data:`MAX_FILE_BYTES` long (:func:`check_file`, before any
open); otherwise the problem names the file and why, never its contents.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .problems import Problem

SEMICOLON_EXPLANATION = (
    "file is semicolon-separated{decimal} (a Dutch/European spreadsheet export); "
    "save it as CSV with commas between fields and '.' as the decimal mark"
)
_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*\"?-?\d+,\d+\"?\s*(?=;|$)")
#: Largest data file read, in bytes (512 MB). The largest bundled file is about 0.2 MB; 200,000 rows coded
#: as fully as the living review's are about 290 MB. A larger file is refused with a message, not read.
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass
class RawTable:
    """A CSV file as strings, by column: ``numbers[i]`` is the data row number of the i-th row kept and
    ``columns[name][i]`` its cell text (surrounding spaces are stripped when the cells are typed). Rows with the wrong number of fields are reported and
    left out, so the rest of the file is still checked.

    Data row ``n`` is line ``n + 1`` of the file (the header is line 1) unless cells span lines.
    """

    label: str
    header: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    columns: dict[str, Sequence[str]] = field(default_factory=dict)
    markers: bool = False  # some line holds a double-coding marker CONFLICT{...} (data/conflicts.py)

    @property
    def rows(self) -> list[tuple[int, dict[str, str]]]:
        """(data row number, {column: cell}) per row (a row-wise view, built on demand)."""
        names = list(self.columns)
        return [(r, dict(zip(names, map(str.strip, cells)))) for r, cells in zip(self.numbers, zip(*self.columns.values()))]


_CHUNK = 1 << 20


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


def read_text(path: Path, label: str, problems: list[Problem], base: Path | None = None) -> str | None:
    """Read ``path`` as UTF-8 text (a regular file inside ``base``, when given; :func:`read_bytes`); report
    a BOM, undecodable bytes or NUL bytes and return None."""
    data = read_bytes(path, label, problems, base)
    if data is None:
        return None
    if not _check_bytes(data[:4], label, problems):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(_not_utf8(label, data, exc.start))
        return None
    if "\x00" in text:
        problems.append(Problem(label, None, None, "file contains NUL bytes; it is not a text file"))
        return None
    return text


def _check_bytes(head: bytes, label: str, problems: list[Problem]) -> bool:
    """Report a UTF-8 or UTF-16 byte-order mark at the start of a file."""
    if head.startswith(b"\xef\xbb\xbf"):
        problems.append(Problem(label, None, None, "file starts with a UTF-8 byte-order mark (BOM), as Excel "
                                "writes 'CSV UTF-8'; save it as UTF-8 without BOM"))
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(label, None, None, "file is UTF-16 (it starts with a UTF-16 byte-order mark); "
                                "save it as UTF-8"))
        return False
    return True


def _not_utf8(label: str, data: bytes, start: int) -> Problem:
    line = data[:start].count(b"\n") + 1
    return Problem(label, None, None, f"file is not valid UTF-8 (byte {start}, line {line}); save it as UTF-8")


def _first_bad_byte(path: Path) -> tuple[int, int]:
    """Offset and line of the first byte that is not UTF-8, read in chunks (the file may be large)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines = 0, 1
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # the decoder may hold up to 3 bytes of an incomplete character from the previous chunk
                pending = len(decoder.getstate()[0])
                bad = offset + exc.start - pending
                return bad, lines + chunk[: max(exc.start - pending, 0)].count(b"\n")
            offset += len(chunk)
            lines += chunk.count(b"\n")
    return offset, lines  # pragma: no cover - called only after a decode error


class _NulByte(Exception):
    pass


def _lines(fh, table: RawTable):  # noqa: ANN001, ANN202
    """The lines of ``fh``, refusing NUL bytes and noting double-coding markers on the way."""
    for line in fh:
        if "\x00" in line:
            raise _NulByte
        if "CONFLICT{" in line:
            table.markers = True
        yield line


def read_csv(path: Path, label: str, problems: list[Problem], base: Path | None = None) -> RawTable | None:
    """Parse a CSV file; return None (with problems) when it cannot be read as a table.

    The file is streamed (never held as one string), so memory follows the cells kept, not the file. It
    is opened only if :func:`check_file` allows it (a regular file inside ``base``, when given).
    """
    if not check_file(path, label, problems, base):
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(_CHUNK)
    except OSError as exc:
        problems.append(Problem(label, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if _is_semicolon_export(path, head, label, problems) or not _check_bytes(head[:4], label, problems):
        return None
    table = RawTable(label)
    records: list[list[str]] = []
    r: int | None = None  # the last data row read, for a parse error's position
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(_lines(fh, table), strict=True)
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)  # leading blank lines
            if header is None:
                problems.append(Problem(label, None, None, "file is empty (not even a header)"))
                return None
            n = len(header)
            numbers = table.numbers
            r = 0
            for r, rec in enumerate(reader, start=1):
                if not (rec and (rec[0].strip() or any(cell.strip() for cell in rec))):
                    continue  # blank line (e.g. a trailing newline): not a row
                if len(rec) == n:
                    records.append(rec)
                    numbers.append(r)
                else:  # reported; the other rows are still checked
                    problems.append(Problem(label, r, None, f"row has {len(rec)} fields, the header has {n}"))
    except UnicodeDecodeError:
        problems.append(_not_utf8_at(path, label))
        return None
    except _NulByte:
        problems.append(Problem(label, None, None, "file contains NUL bytes; it is not a text file"))
        return None
    except csv.Error as exc:
        where = None if r is None else r + 1  # the row being parsed (None: the header)
        problems.append(Problem(label, where, None, f"not a readable CSV file: {exc} (check the double quotes: a "
                                "quote inside a quoted cell is written twice, \"\")"))
        return None
    except OSError as exc:  # pragma: no cover - the file vanished between reads
        problems.append(Problem(label, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    table.header = [h.strip() for h in header]
    ok = True
    seen: set[str] = set()
    for i, name in enumerate(table.header, start=1):
        if not name:
            problems.append(Problem(label, None, None, f"header field {i} is empty"))
            ok = False
        elif name in seen:
            problems.append(Problem(label, None, name, "column appears twice in the header"))
            ok = False
        seen.add(name)
    if not ok:
        return None
    cols = zip(*records) if records else [()] * len(table.header)
    table.columns = dict(zip(table.header, cols))  # tuples of cells, stripped when typed
    return table


def _not_utf8_at(path: Path, label: str) -> Problem:
    start, line = _first_bad_byte(path)
    return Problem(label, None, None, f"file is not valid UTF-8 (byte {start}, line {line}); save it as UTF-8")


def _is_semicolon_export(path: Path, head: bytes, label: str, problems: list[Problem]) -> bool:
    """Report a semicolon-separated spreadsheet export (checked first: such files are often not UTF-8)."""
    text = head.decode("latin-1")  # never fails; enough to see the delimiters
    lines = text.lstrip("\ufeff\xef\xbb\xbf\r\n").splitlines()
    if not lines or lines[0].count(";") <= lines[0].count(","):
        return False
    with open(path, "rb") as fh:  # a rare path: read it all for the decimal-comma hint
        rest = fh.read().decode("latin-1").lstrip("\ufeff\xef\xbb\xbf\r\n").splitlines()
    decimal = " with decimal commas" if any(_DECIMAL_COMMA.search(x) for x in rest[1:]) else ""
    problems.append(Problem(label, None, None, SEMICOLON_EXPLANATION.format(decimal=decimal)))
    return True
