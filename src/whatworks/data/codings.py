"""One coder's coding of a review folder, read for comparison: cells as typed, keyed rows, computed yi.

Shared by :mod:`whatworks.data.agree` (how far two codings agree) and :mod:`whatworks.data.merge` (their
consensus). Rows are matched by a key per file (:func:`whatworks.data.conflicts.resolution_key`): the
``effect_id`` in effects.csv, ``study_id`` + ``effect_id`` in risk_of_bias.csv, the ``analysis`` label in
pooled.csv. Cells compare after the schema's normalisation (:func:`same`): typed values for numbers and
booleans (``0.50`` equals ``0.5``, an empty boolean equals ``false``), whitespace-collapsed text otherwise.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import schema as S
from ._csvfile import read_csv
from .compute import compute_effects
from .conflicts import key_column, row_key
from .problems import Problem
from .validate import _parse

#: The tables of a review folder that codings are compared on, with their schema columns.
TABLE_COLUMNS: dict[str, tuple[S.Column, ...]] = {
    S.EFFECTS_FILE: S.EFFECT_COLUMNS,
    S.POOLED_FILE: S.POOLED_COLUMNS,
    S.RISK_OF_BIAS_FILE: S.RISK_OF_BIAS_COLUMNS,
}
#: review.toml keys that differ between two coders by design and are not compared.
META_NOT_COMPARED = ("coded_by", "coded_on")
#: Columns naming the coder and the date: not compared; the consensus joins the names, takes the later date.
CODER_COLUMNS = {S.RISK_OF_BIAS_FILE: ("assessed_by", "assessed_on")}
#: Columns that identify a row rather than code it; compared only through the matching.
IDENTITY_COLUMNS = {S.EFFECTS_FILE: ("review", "effect_id"), S.POOLED_FILE: ("review", "analysis"),
                    S.RISK_OF_BIAS_FILE: ("review", "study_id", "effect_id")}


class CodingError(ValueError):
    """A folder that cannot be compared: missing, not a review folder, unreadable, or ambiguous row keys."""


@dataclass(frozen=True)
class TableCoding:
    """One CSV file of a coding: its header and rows keyed for matching (key -> (data row, cells))."""

    file: str
    path: str
    header: tuple[str, ...]
    rows: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Coding:
    """A coder's review folder: ``meta`` (review.toml), ``tables`` by file name and ``yi`` by effect_id."""

    folder: Path
    review_id: str
    meta: dict[str, object]
    tables: dict[str, TableCoding]
    yi: dict[str, float | None]

    def where(self, file: str, row: int | None = None, column: str | None = None) -> str:
        """``folder/file:row:column`` of a cell of this coding."""
        out = f"{self.folder}/{file}"
        return out + (f":{row}" if row is not None else "") + (f":{column}" if column else "")


def read_coding(folder: str | Path) -> Coding:
    """Read a coder's review folder for comparison.

    Raises
    ------
    CodingError
        If the folder does not exist, holds no ``review.toml``, has a file that cannot be read as a
        table, or two rows of a file share a key (the rows could not be matched).
    """
    path = Path(folder)
    if not path.is_dir():
        raise CodingError(f"not a folder: {path}")
    if not (path / S.REVIEW_FILE).is_file():
        raise CodingError(f"{path} is not a review folder (it holds no review.toml)")
    try:
        meta = tomllib.loads((path / S.REVIEW_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CodingError(f"{path}/{S.REVIEW_FILE} cannot be read: {exc}") from exc
    rid = meta.get("id") if isinstance(meta.get("id"), str) and meta.get("id") else path.name
    tables: dict[str, TableCoding] = {}
    for file in TABLE_COLUMNS:
        if (path / file).exists():
            tables[file] = _read_table(path, file)
    if S.EFFECTS_FILE not in tables and S.POOLED_FILE not in tables:
        raise CodingError(f"{path} holds neither effects.csv nor pooled.csv")
    metric = meta.get("metric")
    yi = _yi(tables.get(S.EFFECTS_FILE), metric if isinstance(metric, str) else None)
    return Coding(path, str(rid), meta, tables, yi)


def _read_table(folder: Path, file: str) -> TableCoding:
    problems: list[Problem] = []
    raw = read_csv(folder / file, f"{folder}/{file}", problems)
    if raw is None:
        raise CodingError("; ".join(str(p) for p in problems))
    table = TableCoding(file, f"{folder}/{file}", tuple(raw.header))
    for r, cells in raw.rows:
        key = row_key(file, cells)
        if not key.strip("/"):
            raise CodingError(f"{folder}/{file}:{r}: the row has no {key_column(file) or 'key'}, so it cannot be "
                              "matched with the other coding; fill it")
        if key in table.rows:
            raise CodingError(f"{folder}/{file}:{r}: key {key!r} is used twice (first in row "
                              f"{table.rows[key][0]}): rows are matched by it, so it must be unique")
        table.rows[key] = (r, cells)
    return table


def _yi(table: TableCoding | None, metric: str | None) -> dict[str, float | None]:
    if table is None:
        return {}
    typed = [(r, {c.name: typed_value(c, cells.get(c.name, "")) for c in S.EFFECT_COLUMNS})
             for r, cells in table.rows.values()]
    computed = compute_effects(typed, metric)
    return {key: c.yi for key, c in zip(table.rows, computed)}


def typed_value(column: S.Column, text: str) -> object:
    """The cell's typed value (``None`` when empty or not valid for the column)."""
    value, message = _parse(column, text)
    return None if message else value


def same(file: str, column: str, text_a: str, text_b: str) -> bool:
    """Whether two coders' cells agree after the schema's normalisation.

    Examples
    --------
    >>> same("effects.csv", "m_t", "0.50", "0.5"), same("effects.csv", "exclude", "", "false")
    (True, True)
    >>> same("effects.csv", "m_t", "0,5", "0.5"), same("effects.csv", "notes", "a  b", "a b")
    (False, True)
    """
    if text_a == text_b:
        return True
    col = {c.name: c for c in TABLE_COLUMNS.get(file, ())}.get(column)
    if col is None or col.type in ("str", "url"):
        return " ".join(text_a.split()) == " ".join(text_b.split())
    (va, ma), (vb, mb) = _parse(col, text_a), _parse(col, text_b)
    return ma is None and mb is None and va == vb
