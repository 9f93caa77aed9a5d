"""The consensus of two codings: :func:`merge` writes it with every disagreement marked, :func:`resolve` applies decisions.

The workflow (docs/adding-a-review.md): two coders code the same review independently; :func:`merge`
writes one folder where every cell on which they agree is taken and every cell on which they differ holds
``CONFLICT{a=...|b=...}`` (:mod:`whatworks.data.conflicts`), with one open row per disagreement in
``resolutions.csv``. A row coded by one coder only keeps that coder's cells, with a marker in its key
column (``effect_id``; ``study_id`` in risk_of_bias.csv; ``analysis`` in pooled.csv): resolving it to the
key keeps the row, resolving it to nothing drops it. The validator refuses the folder until every marker
is resolved and every decision is recorded (who, when, why).
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import schema as S
from ._csvfile import read_csv
from ._toml import dumps
from .agree import AgreementResult, agree
from .codings import CODER_COLUMNS, TABLE_COLUMNS, Coding, CodingError, read_coding
from .conflicts import (
    RESOLUTION_COLUMNS,
    RESOLUTIONS_FILE,
    conflict_marker,
    key_column,
    meta_cells,
    parse_conflict,
    resolution_rows,
    row_key,
)
from .problems import Problem


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge` wrote: the consensus ``folder``, the number of marked cells and the agreement."""

    folder: Path
    n_conflicts: int
    agreement: AgreementResult


@dataclass(frozen=True)
class ResolveResult:
    """What :func:`resolve` did: decisions written into cells, disagreements still open, problems found."""

    applied: int
    still_open: int
    problems: tuple[Problem, ...] = ()


def merge(coder_a: str | Path, coder_b: str | Path, out: str | Path) -> MergeResult:
    """Write the consensus folder of two codings of one review.

    Parameters
    ----------
    coder_a, coder_b : str or Path
        The two coders' review folders.
    out : str or Path
        The consensus folder to create; its name must be the review id (e.g. ``data/reviews/smith2027``).

    Returns
    -------
    MergeResult

    Raises
    ------
    CodingError
        If a folder cannot be compared (see :func:`whatworks.data.agree.agree`) or ``out`` is not named
        after the review.
    FileExistsError
        If ``out`` exists and is not empty (nothing is overwritten).

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> from whatworks.data import bundled_root
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a = shutil.copytree(bundled_root() / "teoh2021", Path(tmp) / "a" / "teoh2021")
    ...     merge(a, a, Path(tmp) / "consensus" / "teoh2021").n_conflicts
    0
    """
    result = agree(coder_a, coder_b)
    a, b = read_coding(coder_a), read_coding(coder_b)
    folder = Path(out)
    if folder.name != a.review_id:
        raise CodingError(f"the consensus folder must be named after the review: {folder.parent / a.review_id}, "
                          f"not {folder}")
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} already exists and is not empty; not overwriting it")
    conflicts = {(str(d["file"]), str(d["key"]), str(d["column"])): d
                 for d in result.disagreements.to_dict("records")}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / S.REVIEW_FILE).write_text(dumps(_merged_meta(a, b, conflicts)), encoding="utf-8")
    for file in TABLE_COLUMNS:
        if file in a.tables or file in b.tables:
            header, rows = _merged_table(a, b, file, conflicts)
            write_csv(folder / file, header, rows)
    if conflicts:
        rows = resolution_rows([{k: str(v) for k, v in d.items()} for d in conflicts.values()])
        write_csv(folder / RESOLUTIONS_FILE, list(RESOLUTION_COLUMNS), rows)
    return MergeResult(folder, len(conflicts), result)


def _merged_meta(a: Coding, b: Coding, conflicts: Mapping[tuple[str, str, str], object]) -> dict[str, object]:
    out: dict[str, object] = {}
    ca, cb = meta_cells(a.meta), meta_cells(b.meta)
    for name in dict.fromkeys([*ca, *cb]):
        if (S.REVIEW_FILE, "", name) in conflicts:
            value: object = conflict_marker(ca.get(name, ""), cb.get(name, ""))
        else:
            value = _get(a.meta, name) if name in ca else _get(b.meta, name)
        _put(out, name, value)
    out["coded_by"] = _coders(str(a.meta.get("coded_by", "")), str(b.meta.get("coded_by", "")))
    dates = [str(m["coded_on"]) for m in (a.meta, b.meta) if m.get("coded_on")]
    if dates:
        out["coded_on"] = max(dates)
    return out


def _coders(by_a: str, by_b: str) -> str:
    return by_a if by_a == by_b or not by_b else (by_b if not by_a else f"{by_a}; {by_b} (independent double coding)")


def _get(meta: Mapping[str, object], dotted: str) -> object:
    value: object = meta
    for part in dotted.split("."):
        value = value[part] if isinstance(value, Mapping) else None
    return value


def _put(meta: dict[str, object], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    here = meta
    for part in parents:
        nxt = here.setdefault(part, {})
        here = nxt if isinstance(nxt, dict) else {}
    here[last] = value


def _merged_table(a: Coding, b: Coding, file: str, conflicts: Mapping[tuple[str, str, str], object]
                  ) -> tuple[list[str], list[dict[str, str]]]:
    ta, tb = a.tables.get(file), b.tables.get(file)
    header_in = [*(ta.header if ta else ()), *(tb.header if tb else ())]
    known = [c.name for c in TABLE_COLUMNS[file] if c.name in header_in]
    header = known + [h for h in dict.fromkeys(header_in) if h not in known]
    rows_a = ta.rows if ta else {}
    rows_b = tb.rows if tb else {}
    out: list[dict[str, str]] = []
    for key in [*rows_a, *(k for k in rows_b if k not in rows_a)]:
        cells_a = rows_a[key][1] if key in rows_a else None
        cells_b = rows_b[key][1] if key in rows_b else None
        row: dict[str, str] = {}
        for column in header:
            va = cells_a.get(column, "") if cells_a is not None else ""
            vb = cells_b.get(column, "") if cells_b is not None else ""
            if cells_a is None or cells_b is None:
                row[column] = va if cells_b is None else vb
                if column == key_column(file):
                    row[column] = conflict_marker(va, vb)
            elif column in CODER_COLUMNS.get(file, ()):
                row[column] = _coders(va, vb) if column.endswith("_by") else max(va, vb)
            elif (file, key, column) in conflicts:
                row[column] = conflict_marker(va, vb)
            else:
                row[column] = va
        out.append(row)
    return header, out


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    """Write a data file as the schema wants it: UTF-8 without BOM, commas, ``\\n`` line ends."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def resolve(folder: str | Path) -> ResolveResult:
    """Write the decisions recorded in ``folder/resolutions.csv`` into the marked cells.

    A row of ``resolutions.csv`` is a decision when ``resolved_by`` is filled; its ``resolved_value``
    replaces the marker (an empty ``resolved_value`` leaves the cell empty, or drops the row when the
    marker is in the row's key column, or removes the review.toml entry). Rows without ``resolved_by``
    stay open. Cells are changed only where they still hold the marker the row describes.

    Returns
    -------
    ResolveResult

    Raises
    ------
    CodingError
        If ``folder`` is not a merged review folder (no review.toml or no resolutions.csv).
    """
    path = Path(folder)
    if not (path / S.REVIEW_FILE).is_file() or not (path / RESOLUTIONS_FILE).is_file():
        raise CodingError(f"{path} is not a merged review folder (it needs review.toml and {RESOLUTIONS_FILE})")
    problems: list[Problem] = []
    raw = read_csv(path / RESOLUTIONS_FILE, f"{path.name}/{RESOLUTIONS_FILE}", problems)
    if raw is None or any(c not in raw.header for c in RESOLUTION_COLUMNS):
        problems.append(Problem(f"{path.name}/{RESOLUTIONS_FILE}", None, None,
                                f"needs the columns {', '.join(RESOLUTION_COLUMNS)}"))
        return ResolveResult(0, 0, tuple(problems))
    decided = [(r, row) for r, row in raw.rows if row["resolved_by"]]
    still_open = len(raw.rows) - len(decided)
    applied = 0
    for file in {row["file"] for _, row in decided}:
        mine = [(r, row) for r, row in decided if row["file"] == file]
        if file == S.REVIEW_FILE:
            applied += _apply_meta(path, mine, problems)
        elif file in TABLE_COLUMNS and (path / file).exists():
            applied += _apply_table(path, file, mine, problems)
        else:
            for r, _ in mine:
                problems.append(Problem(f"{path.name}/{RESOLUTIONS_FILE}", r, "file", f"no such file: {file}"))
    return ResolveResult(applied, still_open, tuple(problems))


def _status(path: Path, r: int, row: Mapping[str, str], cell: str | None,
            problems: list[Problem]) -> bool:
    """True when ``cell`` holds this row's marker (apply the decision); else report it unless already applied."""
    if cell is not None and parse_conflict(cell) == (row["value_a"], row["value_b"]):
        return True
    if (cell or "") != row["resolved_value"]:
        problems.append(Problem(f"{path.name}/{RESOLUTIONS_FILE}", r, "column", f"{row['file']} {row['key']} "
                                f"{row['column']} holds {cell!r}, not the marker of this row (edited by hand?); "
                                "left as it is"))
    return False


def _apply_table(path: Path, file: str, decided: list[tuple[int, dict[str, str]]], problems: list[Problem]) -> int:
    raw = read_csv(path / file, f"{path.name}/{file}", problems)
    if raw is None:
        return 0
    rows = [cells for _, cells in raw.rows]
    index = {row_key(file, cells): i for i, cells in enumerate(rows)}
    drop: set[int] = set()
    applied = 0
    for r, dec in decided:
        i = index.get(dec["key"])
        cell = rows[i].get(dec["column"]) if i is not None else None
        if i is None:
            if not (dec["column"] == key_column(file) and dec["resolved_value"] == ""):  # else: dropped before
                problems.append(Problem(f"{path.name}/{RESOLUTIONS_FILE}", r, "key",
                                        f"{file} has no row {dec['key']!r}; left as it is"))
            continue
        if not _status(path, r, dec, cell, problems):
            continue
        if dec["column"] == key_column(file) and dec["resolved_value"] == "":
            drop.add(i)
        else:
            rows[i][dec["column"]] = dec["resolved_value"]
        applied += 1
    write_csv(path / file, raw.header, [row for i, row in enumerate(rows) if i not in drop])
    return applied


def _apply_meta(path: Path, decided: list[tuple[int, dict[str, str]]], problems: list[Problem]) -> int:
    meta = tomllib.loads((path / S.REVIEW_FILE).read_text(encoding="utf-8"))
    applied = 0
    for r, dec in decided:
        current = _get(meta, dec["column"])
        if not _status(path, r, dec, None if current is None else str(current), problems):
            continue
        value: object = dec["resolved_value"]
        if dec["column"].startswith("prisma.") and dec["resolved_value"].strip().isdigit():
            value = int(dec["resolved_value"])
        if value == "":
            *parents, last = dec["column"].split(".")
            parent = _get(meta, ".".join(parents)) if parents else meta
            if isinstance(parent, dict):
                parent.pop(last, None)
        else:
            _put(meta, dec["column"], value)
        applied += 1
    (path / S.REVIEW_FILE).write_text(dumps(meta), encoding="utf-8")
    return applied
