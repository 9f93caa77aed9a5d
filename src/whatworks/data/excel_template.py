"""An Excel coding workbook for a new review: the schema's columns with drop-down lists (data validation).

Sheets (read back by :func:`whatworks.data.excel.import_workbook`):

``effects``, ``pooled``, ``risk_of_bias``
    the columns of effects.csv, pooled.csv and risk_of_bias.csv in schema order, one row per coded row;
    each header cell carries the column's description as a comment; categorical columns have drop-down
    lists; text columns are formatted as text so that a spreadsheet does not turn ``1,211`` into a number.
``review``
    the keys of review.toml as key / value rows (``prisma.records_screened`` ... for the PRISMA flow;
    ``prisma.identified.<source>`` and ``prisma.reports_excluded.<reason>`` rows per source / reason).
``lists``
    the vocabularies the drop-down lists read (hidden; taken from :mod:`whatworks.data.schema`).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from . import schema as S
from .prisma import PRISMA_COUNTS, PRISMA_TABLES

#: Sheet name -> the schema columns it holds.
SHEETS: dict[str, tuple[S.Column, ...]] = {
    "effects": S.EFFECT_COLUMNS,
    "pooled": S.POOLED_COLUMNS,
    "risk_of_bias": S.RISK_OF_BIAS_COLUMNS,
}
REVIEW_SHEET = "review"
LISTS_SHEET = "lists"
TEMPLATE_ROWS = 1000  # rows that carry the drop-down lists
BOOLEANS = ("true", "false")


def column_vocab(sheet: str, column: S.Column) -> tuple[str, ...]:
    """The drop-down list of a column (empty: free entry).

    Examples
    --------
    >>> column_vocab("effects", next(c for c in S.EFFECT_COLUMNS if c.name == "design"))
    ('rct', 'non_randomised', 'single_group')
    """
    if column.type == "vocab":
        return column.vocab
    if column.type == "bool":
        return BOOLEANS
    if sheet == "risk_of_bias" and column.name in S.ROB2_DOMAINS:
        return S.ROB2_JUDGEMENTS
    if sheet == "risk_of_bias" and column.name == "overall":
        return tuple(dict.fromkeys((*S.ROB2_JUDGEMENTS, *S.ROBINS_I_JUDGEMENTS)))
    return ()


def write_template(review_id: str, path: str | Path, *, today: _dt.date | None = None) -> Path:
    """Write the coding workbook of a new review.

    Parameters
    ----------
    review_id : str
        The review id (lowercase letters, digits and ``_``), written into the ``review`` sheet.
    path : str or Path
        The ``.xlsx`` file to create.
    today : datetime.date, optional
        Date written as ``coded_on`` (default: today).

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If ``review_id`` is not a valid id or ``path`` does not end in ``.xlsx``.
    FileExistsError
        If ``path`` exists (nothing is overwritten).

    Examples
    --------
    >>> import tempfile
    >>> from openpyxl import load_workbook
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     book = load_workbook(write_template("smith2027", Path(tmp) / "smith2027.xlsx"))
    >>> book.sheetnames
    ['effects', 'pooled', 'risk_of_bias', 'review', 'lists']
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if not S.REVIEW_ID_PATTERN.match(review_id):
        raise ValueError(f"invalid review id {review_id!r}: use lowercase letters, digits and _, starting "
                         "with a letter (e.g. smith2027)")
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"the workbook must be an .xlsx file, got {path.name!r}")
    if path.exists():
        raise FileExistsError(f"{path} already exists; not overwriting it")
    book = Workbook()
    book.remove(book.active)
    lists = book.create_sheet(LISTS_SHEET, 0)
    ranges: dict[tuple[str, ...], str] = {}

    def list_range(vocab: tuple[str, ...]) -> str:
        if vocab not in ranges:
            col = get_column_letter(len(ranges) + 1)
            lists[f"{col}1"] = f"list {len(ranges) + 1}"
            for i, value in enumerate(vocab, start=2):
                lists[f"{col}{i}"] = value
            ranges[vocab] = f"{LISTS_SHEET}!${col}$2:${col}${len(vocab) + 1}"
        return ranges[vocab]

    for name, columns in SHEETS.items():
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        for j, column in enumerate(columns, start=1):
            letter = get_column_letter(j)
            cell = sheet.cell(row=1, column=j, value=column.name)
            cell.font = Font(bold=True)
            need = "required; " if column.nonempty else ""
            cell.comment = Comment(f"{need}{column.description}", "whatworks")
            sheet.column_dimensions[letter].width = max(12, len(column.name) + 2)
            vocab = column_vocab(name, column)
            if vocab:
                dv = DataValidation(type="list", formula1=f"={list_range(vocab)}", allow_blank=True,
                                    showErrorMessage=True, errorTitle=column.name,
                                    error=f"Choose one of: {', '.join(vocab)}")
                dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
                sheet.add_data_validation(dv)
            elif column.type in ("str", "url"):  # a column style: new cells are text ("1,211" stays as typed)
                sheet.column_dimensions[letter].number_format = "@"
    _review_sheet(book.create_sheet(REVIEW_SHEET), review_id, today or _dt.date.today(), list_range)
    book.move_sheet(LISTS_SHEET, offset=len(book.sheetnames) - 1)
    lists.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _review_sheet(sheet, review_id: str, today: _dt.date, list_range) -> None:  # noqa: ANN001 - openpyxl types
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    sheet.append(["key", "value", "what it holds"])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    prefilled = {"id": review_id, "kind": "review", "metric": "SMD", "coded_on": today.isoformat()}
    for key in S.REVIEW_KEYS:
        if key.name == "prisma":
            continue
        need = "required" if key.required else ("required with effects" if key.name == "metric" else "optional")
        sheet.append([key.name, prefilled.get(key.name), f"{need}: {key.description}"])
        if key.vocab:
            dv = DataValidation(type="list", formula1=f"={list_range(key.vocab)}", allow_blank=True)
            dv.add(f"B{sheet.max_row}")
            sheet.add_data_validation(dv)
    for count, words in PRISMA_COUNTS.items():
        if count in PRISMA_TABLES:
            part = "source" if count == "identified" else "reason"
            sheet.append([f"prisma.{count}.<{part}>", None, f"PRISMA flow (optional): {words.lower()}, one row per "
                          f"{part}: replace <{part}> with its name; a whole number or 'not recorded'"])
        else:
            sheet.append([f"prisma.{count}", None, f"PRISMA flow (optional): {words.lower()}; a whole number or "
                          "'not recorded', never an estimate"])
    sheet.append(["prisma.notes", None, "PRISMA flow (optional): where the counts come from"])
    for i in range(2, sheet.max_row + 1):
        sheet.cell(row=i, column=2).number_format = "@" if sheet.cell(row=i, column=1).value in (
            "id", "title", "citation", "url", "doi", "scope", "model", "sign_convention", "notes", "coded_by",
            "coded_on") else "General"
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 50
    sheet.column_dimensions["C"].width = 90
