"""Typed tables: the cells of a data file turned into values, checked, and stored by column.

:func:`type_table` types every column of a :class:`~whatworks.data._csvfile.RawTable` against its
schema columns and reports each bad cell as ``file:row:column``. The result, a :class:`Table`, keeps one
list per column (``None`` = missing), so 200,000 rows of 60 columns cost a list per column rather than a
dict per row; it is also a sequence of ``(row number, row)`` pairs whose rows read like dicts
(``row["study_id"]``, ``row.get("es")``) for checks written row by row.

:func:`parse_cell` is the one definition of what a valid cell is and of each error message; the column
loops take fast paths for plain valid cells and send anything else to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence

from . import schema as S
from ._csvfile import RawTable
from .problems import Problem

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_URL = re.compile(r"^https?://\S+$")


class RowView(Mapping):
    """Row ``i`` of a :class:`Table`, read like a dict (``row["column"]``, ``row.get``)."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[str, list], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, name: str) -> object:
        return self._columns[name][self._i]

    def get(self, name: str, default: object = None) -> object:  # Mapping.get, without its try/except
        column = self._columns.get(name)
        return default if column is None else column[self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"RowView({dict(self)!r})"


class Table(Sequence):
    """Typed rows of one data file, stored by column: ``numbers`` (data row numbers) and ``columns``
    (schema column -> list of values). Indexing and iteration give ``(row number, RowView)`` pairs."""

    def __init__(self, numbers: list[int], columns: dict[str, list],
                 resolution: dict[str, list[float | None]] | None = None) -> None:
        self.numbers = numbers
        self.columns = columns
        #: for some number columns: the unit of each cell's last printed digit (see :func:`resolution`)
        self.resolution = resolution or {}

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - int -> pair, slice -> list of pairs
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.numbers[i], RowView(self.columns, i if i >= 0 else len(self) + i)

    def __iter__(self) -> Iterator[tuple[int, RowView]]:
        cols = self.columns
        return (( r, RowView(cols, i)) for i, r in enumerate(self.numbers))


def columns_of(rows: Sequence[tuple[int, Mapping[str, object]]], names: Sequence[str]) -> tuple[list[int], dict[str, list]]:
    """Row numbers and the columns ``names`` of typed rows (a Table gives its own lists, unchanged)."""
    if isinstance(rows, Table):
        return rows.numbers, rows.columns
    return [r for r, _ in rows], {name: [row.get(name) for _, row in rows] for name in names}


def type_table(raw: RawTable, columns: tuple[S.Column, ...], out: list[Problem],
               resolution_of: tuple[str, ...] = ()) -> Table:
    """Type every schema column of ``raw`` (absent columns: all missing), reporting bad cells to ``out``;
    for the columns ``resolution_of`` also keep each cell's printed precision (:func:`resolution`).

    The typed columns replace the raw ones, which are dropped as they are typed (``raw.columns`` is
    left holding only the columns the schema does not know), so a large file's cells are not held twice.
    """
    n = len(raw.numbers)
    typed: dict[str, list] = {}
    res: dict[str, list[float | None]] = {}
    for col in columns:
        cells = raw.columns.pop(col.name, None)
        if cells is None:
            typed[col.name] = [False if col.type == "bool" else None] * n
            continue
        typed[col.name] = vals = _type_column(col, cells, raw.numbers, raw.label, out)
        if col.name in resolution_of:
            res[col.name] = [None if x is None else resolution(c) for c, x in zip(cells, vals)]
    return Table(raw.numbers, typed, res)


def resolution(text: str) -> float | None:
    """The unit of the last printed digit of a number cell: ``"0.21"`` -> 0.01, ``"30"`` -> 1,
    ``"1.5e-3"`` -> 1e-4 (None if it is not a plain number).

    Examples
    --------
    >>> resolution("0.21"), resolution("30"), resolution("1.5e-3")
    (0.01, 1.0, 0.0001)
    """
    mantissa, _, exponent = text.strip().lower().partition("e")
    digits = mantissa.lstrip("+-")
    decimals = len(digits) - digits.index(".") - 1 if "." in digits else 0
    try:
        exp = int(exponent) if exponent else 0
    except ValueError:
        return None
    return float(f"1e{exp - decimals}")


_VOCABS: dict[tuple[str, ...], dict[str, str]] = {}


def _type_column(col: S.Column, cells: Sequence[str], numbers: list[int], label: str, out: list[Problem]) -> list:
    """Typed values of one column's (unstripped) cells; bad cells are reported. Plain valid cells take
    the fast paths below; every other cell is decided by :func:`parse_cell`."""
    t = col.type
    if not any(cells):  # an empty column (common: most statistics columns are empty for most files)
        return [False if t == "bool" else None] * len(cells) if not col.nonempty or not cells else \
            _report_empty(col, cells, numbers, label, out)
    if t == "str":
        vals: list = [c.strip() or None for c in cells]
        bad = [i for i, x in enumerate(vals) if x is None] if col.nonempty else []
    elif t == "vocab":
        canon = _VOCABS.setdefault(col.vocab, {v: v for v in col.vocab})
        vals = [canon.get(c) or canon.get(c.strip()) if c else None for c in cells]
        bad = [i for i, x in enumerate(vals) if x is None] if None in vals else []
        bad = [i for i in bad if col.nonempty or cells[i].strip()]
    else:
        vals = [False if t == "bool" else None] * len(cells)
        filled = [i for i, c in enumerate(cells) if c] if "" in cells else range(len(cells))
        bad = [i for i, c in enumerate(cells) if not c] if col.nonempty else []
        lo, hi, positive = col.minimum, col.maximum, col.positive
        for i in filled:
            c = cells[i]
            x: object = None
            if t == "float":  # float() also takes the surrounding spaces that stripping would remove
                try:
                    x = float(c)
                except ValueError:
                    pass
                else:
                    if not (c.isascii() and "_" not in c and x - x == 0):  # type: ignore[operator]  # inf, nan
                        x = None
            elif t == "int":
                x = int(c) if c.isdigit() and c.isascii() and len(c) <= 15 else None
            elif t == "bool":
                x = {"true": True, "false": False}.get(c.lower())
            elif _URL.match(c):
                x = c
            if x is not None and t in ("float", "int") and (
                    (lo is not None and x < lo) or (hi is not None and x > hi) or (positive and x <= 0)):  # type: ignore[operator]
                x = None
            if x is None:
                c = c.strip()
                x = parse_cell(col, c)[0]
                if x is None and (c or col.nonempty):
                    bad.append(i)
            vals[i] = x
    for i in bad:
        c = cells[i].strip()
        message = parse_cell(col, c)[1] if c else ("is empty but required" if col.nonempty else None)
        if message:
            out.append(Problem(label, numbers[i], col.name, message))
    return vals


def _report_empty(col: S.Column, cells: Sequence[str], numbers: list[int], label: str, out: list[Problem]) -> list:
    out.extend(Problem(label, r, col.name, "is empty but required") for r in numbers)
    return [False if col.type == "bool" else None] * len(cells)


def parse_cell(col: S.Column, text: str) -> tuple[object, str | None]:
    """Typed value of a (stripped) cell (``None`` when empty) and an error message, if any."""
    if text == "":
        return (False if col.type == "bool" else None), None
    if col.type == "str":
        return text, None
    if col.type == "url":
        if not _URL.match(text):
            return None, f"must be a URL starting with http:// or https://, got {short(text)}"
        return text, None
    if col.type == "vocab":
        return (text, None) if text in col.vocab else (None, vocab_message(text, col.vocab))
    if col.type == "bool":
        low = text.lower()
        return (low == "true", None) if low in ("true", "false") else (None, f"must be true or false, got {short(text)}")
    if col.type == "int":
        if not _INT.match(text) or len(text) > 15:
            return None, f"must be a whole number (at most 15 digits), got {short(text)}"
        value: float = int(text)
    else:
        if _DECIMAL_COMMA.match(text):
            return None, f"decimal comma in {text!r}: write {text.replace(',', '.')!r}"
        if not _FLOAT.match(text) or not math.isfinite(float(text)):
            return None, (f"must be a number, got {short(text)}"
                          + (" (write inequalities such as p < .001 in notes)" if text[:1] in "<>≤≥" else ""))
        value = float(text)
    if col.minimum is not None and value < col.minimum:
        return None, f"must be >= {col.minimum:g}, got {text}"
    if col.maximum is not None and value > col.maximum:
        return None, f"must be <= {col.maximum:g}, got {text}"
    if col.positive and value <= 0:
        return None, f"must be > 0, got {text}"
    return value, None


def vocab_message(text: str, vocab: tuple[str, ...]) -> str:
    hint = [v for v in vocab if v.lower() == text.strip().lower().replace(" ", "_").replace("-", "_")]
    did = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"{short(text)} is not one of: {', '.join(vocab)}{did}"


def short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
