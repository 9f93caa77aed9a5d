"""Reading an Excel coding workbook into a review folder, validated, with errors at file:sheet:row:column.

The workbook is laid out like the folder (:mod:`whatworks.data.excel_template` writes an empty one):
sheet ``effects`` like effects.csv (row 1 the column names, one coded row per line), optional sheets
``pooled`` and ``risk_of_bias`` like pooled.csv and risk_of_bias.csv (a sheet without coded rows writes
no file; blank lines are skipped), and a sheet ``review`` of key /
value rows for review.toml (``prisma.<count>``, ``prisma.identified.<source>`` and
``prisma.reports_excluded.<reason>`` rows fill the ``[prisma]`` table). Cells are read as values, not as
displayed text: a number typed in a Dutch Excel as ``0,5`` is stored as the number 0.5 and becomes
``0.5``; a text cell holding ``0,5`` stays text and is refused with the same message as in a CSV file.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import schema as S
from ._toml import dumps
from .excel_template import LISTS_SHEET, REVIEW_SHEET, SHEETS
from .merge import write_csv
from .problems import Problem, sort_problems
from .validate import check_folder

_FILES = {"effects": S.EFFECTS_FILE, "pooled": S.POOLED_FILE, "risk_of_bias": S.RISK_OF_BIAS_FILE}


class WorkbookError(ValueError):
    """The workbook cannot be read at all (not a file, not an .xlsx workbook) or the review id is invalid."""


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_workbook` did: the folder written (``None`` when errors stopped it), files, problems."""

    folder: Path | None
    files: tuple[str, ...]
    problems: tuple[Problem, ...]


def cell_text(value: object, column: S.Column | None = None) -> str:
    """The text a cell value stands for in a CSV file.

    Examples
    --------
    >>> n_treatment = next(c for c in S.EFFECT_COLUMNS if c.name == "n_treatment")
    >>> cell_text(0.5), cell_text(20.0, n_treatment), cell_text(True), cell_text(" 0,5 ")
    ('0.5', '20', 'true', '0,5')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and (column is None or column.type != "float") and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value).strip()


def import_workbook(path: str | Path, review_id: str, root: str | Path, *, replace: bool = False) -> ImportResult:
    """Read a coding workbook and write ``root/review_id`` when it validates without errors.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` workbook.
    review_id : str
        The review id (the folder name).
    root : str or Path
        The collection folder to write the review folder in; it must exist.
    replace : bool
        Replace the data files of an existing folder (other files in it are kept).

    Returns
    -------
    ImportResult
        With errors nothing is written (``folder`` is ``None``) and ``problems`` lists every one as
        ``FILE.xlsx:sheet:row:column: message`` (rows as Excel numbers them: the header is row 1).

    Raises
    ------
    WorkbookError
        If the id is invalid or the workbook cannot be opened.
    FileNotFoundError
        If ``root`` does not exist.
    FileExistsError
        If the folder exists and ``replace`` is false.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not S.REVIEW_ID_PATTERN.match(review_id):
        raise WorkbookError(f"invalid review id {review_id!r}: use lowercase letters, digits and _, starting "
                            "with a letter (e.g. smith2027)")
    path, root = Path(path), Path(root)
    if not path.is_file():
        raise WorkbookError(f"not a file: {path}")
    if not root.is_dir():
        raise FileNotFoundError(f"collection folder {root} does not exist (pass --root DIR)")
    target = root / review_id
    if target.exists() and not replace:
        raise FileExistsError(f"{target} already exists; not overwriting it (--replace replaces its data files)")
    try:
        book = load_workbook(path, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise WorkbookError(f"{path} cannot be read as an Excel workbook (.xlsx): {exc}") from exc
    problems: list[Problem] = []
    rows_of: dict[str, list[int]] = {}  # file -> Excel row of each data row
    keys: dict[str, int] = {}  # review.toml key -> Excel row in the review sheet
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / review_id
        folder.mkdir()
        for name in book.sheetnames:
            if name in _FILES:
                rows_of[_FILES[name]] = _write_sheet(book[name], SHEETS[name], folder / _FILES[name])
            elif name == REVIEW_SHEET:
                keys = _write_review(book[name], folder / S.REVIEW_FILE, path.name, problems)
            elif name != LISTS_SHEET:
                problems.append(Problem(f"{path.name}:{name}", None, None, "sheet ignored: the sheets read are "
                                        "effects, pooled, risk_of_bias and review", "warning"))
        if REVIEW_SHEET not in book.sheetnames:
            problems.append(Problem(path.name, None, None, "no 'review' sheet: review.toml is made from its "
                                    "key / value rows (whatworks new-review ID --xlsx writes one)"))
        if "effects" not in book.sheetnames and "pooled" not in book.sheetnames:
            problems.append(Problem(path.name, None, None, "no 'effects' or 'pooled' sheet"))
        problems += [_to_sheet(p, path.name, rows_of, keys) for p in check_folder(folder).problems]
        files = tuple(sorted(p.name for p in folder.iterdir()))
        if any(p.is_error for p in problems):
            return ImportResult(None, files, tuple(sort_problems(problems)))
        target.mkdir(exist_ok=True)
        for name in files:
            shutil.copyfile(folder / name, target / name)
    return ImportResult(target, files, tuple(sort_problems(problems)))


def _write_sheet(sheet, columns: tuple[S.Column, ...], out: Path) -> list[int]:  # noqa: ANN001 - openpyxl
    by_name = {c.name: c for c in columns}
    values = sheet.iter_rows(values_only=True)
    first = next(values, ())
    header = [cell_text(v) for v in first]
    while header and not header[-1]:
        header.pop()
    rows: list[dict[str, str]] = []
    excel_rows: list[int] = []
    for i, record in enumerate(values, start=2):
        cells = {h: cell_text(v, by_name.get(h)) for h, v in zip(header, record) if h}
        if any(cells.values()):
            rows.append(cells)
            excel_rows.append(i)
    if rows:  # a sheet without coded rows writes no file
        write_csv(out, [h or f"(column {j})" for j, h in enumerate(header, start=1)], rows)
    return excel_rows


def _write_review(sheet, out: Path, book_name: str, problems: list[Problem]) -> dict[str, int]:  # noqa: ANN001
    """Write review.toml from the key / value rows; return the Excel row of each key."""
    meta: dict[str, object] = {}
    rows: dict[str, int] = {}
    for i, record in enumerate(sheet.iter_rows(values_only=True), start=1):
        key = cell_text(record[0] if record else None)
        value = record[1] if len(record) > 1 else None
        if (i == 1 and key == "key") or not key or value is None or cell_text(value) == "":
            continue
        label = f"{book_name}:{REVIEW_SHEET}"
        if key in rows:
            problems.append(Problem(label, i, key, f"key appears twice (first in row {rows[key]})"))
            continue
        rows[key] = i
        parts = key.split(".", 2) if key.startswith("prisma.") else [key]
        if parts[0] == "prisma":  # counts stay numbers ("not recorded" stays text)
            value = int(value) if isinstance(value, float) and value.is_integer() else value
            value = value.strip() if isinstance(value, str) else value
        elif key == "coded_on" and isinstance(value, (_dt.date, _dt.datetime)):
            value = value.date() if isinstance(value, _dt.datetime) else value
        else:
            value = cell_text(value)
        here = meta
        for part in parts[:-1]:
            nxt = here.setdefault(part, {})
            if not isinstance(nxt, dict):
                problems.append(Problem(label, i, key, f"{part} is a value, so it cannot also hold {key}"))
                break
            here = nxt
        else:
            here[parts[-1]] = value
    out.write_text(dumps(meta), encoding="utf-8")
    return rows


def _to_sheet(p: Problem, book_name: str, rows_of: dict[str, list[int]], keys: dict[str, int]) -> Problem:
    """A folder problem (``id/effects.csv:3:m_t``) at its place in the workbook (``book.xlsx:effects:4:m_t``)."""
    file = p.file.split("/", 1)[1] if "/" in p.file else p.file
    sheet = {v: k for k, v in _FILES.items()}.get(file, REVIEW_SHEET if file == S.REVIEW_FILE else None)
    if sheet is None:
        return Problem(f"{book_name}:{file}", p.row, p.column, p.message, p.severity)
    if sheet == REVIEW_SHEET:
        return Problem(f"{book_name}:{REVIEW_SHEET}", keys.get(p.column or ""), p.column, p.message, p.severity)
    rows = rows_of.get(file, [])
    row = rows[p.row - 1] if p.row is not None and 0 < p.row <= len(rows) else p.row
    return Problem(f"{book_name}:{sheet}", row, p.column, p.message, p.severity)
