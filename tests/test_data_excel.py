"""Excel in: the coding workbook template (drop-down lists from the schema) and its import (whatworks import)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from whatworks.cli import main
from whatworks.data import load_reviews, validate
from whatworks.data import schema as S
from whatworks.data.excel import WorkbookError, cell_text, import_workbook
from whatworks.data.excel_template import write_template

COLUMN = {c.name: c for c in S.EFFECT_COLUMNS}
ROW = {"review": "smith2027", "effect_id": "alpha2020_wl", "study_id": "alpha2020", "study": "Alpha (2020)",
       "year": 2020, "design": "rct", "strategy": "social_cognition", "strategy_reason": "CBT for loneliness",
       "control": "waitlist", "n_treatment": 20, "n_control": 22, "stat_type": "means_post", "m_t": 30,
       "sd_t": 6, "m_c": 34, "sd_c": 6.5, "sign_convention": "higher_lonelier", "df": "1,211",
       "source_url": "https://example.org/synthetic", "locator": "Table 2", "hand": "first"}
REVIEW = {"title": "T", "citation": "C", "url": "https://example.org/synthetic", "scope": "S",
          "sign_convention": "negative g = less lonely", "coded_by": "A. Coder", "coded_on": dt.date(2027, 3, 1)}


def filled(tmp_path: Path, row: dict | None = None, review: dict | None = None, fmt: dict | None = None) -> Path:
    path = write_template("smith2027", tmp_path / "smith2027.xlsx")
    book = load_workbook(path)
    ws = book["effects"]
    header = [c.value for c in ws[1]]
    for name, value in {**ROW, **(row or {})}.items():
        cell = ws.cell(row=2, column=header.index(name) + 1, value=value)
        if fmt and name in fmt:
            cell.number_format = fmt[name]
    rv = book["review"]
    keys = {rv.cell(row=i, column=1).value: i for i in range(2, rv.max_row + 1)}
    for key, value in {**REVIEW, **(review or {})}.items():
        rv.cell(row=keys[key], column=2, value=value)
    book.save(path)
    return path


def test_template_sheets_and_drop_down_lists_come_from_the_schema(tmp_path):
    book = load_workbook(write_template("smith2027", tmp_path / "t.xlsx"))
    assert book.sheetnames == ["effects", "pooled", "risk_of_bias", "review", "lists"]
    assert book["lists"].sheet_state == "hidden"
    for sheet, columns in (("effects", S.EFFECT_COLUMNS), ("pooled", S.POOLED_COLUMNS),
                           ("risk_of_bias", S.RISK_OF_BIAS_COLUMNS)):
        ws = book[sheet]
        assert [c.value for c in ws[1]] == list(S.column_names(columns))
        lists = {}
        for dv in ws.data_validations.dataValidation:
            ref = dv.formula1.split("!")[1].replace("$", "")
            col = ref.split(":")[0].rstrip("0123456789")
            values = tuple(c.value for (c,) in book["lists"][ref])
            for rng in str(dv.sqref).split():
                lists[ws[rng.split(":")[0]].column_letter] = values
        by_letter = {ws.cell(row=1, column=j).column_letter: c for j, c in enumerate(columns, start=1)}
        expected = {letter: (c.vocab or ("true", "false")) for letter, c in by_letter.items()
                    if c.type in ("vocab", "bool")}
        if sheet == "risk_of_bias":
            for letter, c in by_letter.items():
                if c.name in S.ROB2_DOMAINS:
                    expected[letter] = S.ROB2_JUDGEMENTS
                elif c.name == "overall":
                    expected[letter] = tuple(dict.fromkeys(S.ROB2_JUDGEMENTS + S.ROBINS_I_JUDGEMENTS))
        assert lists == expected, sheet
        assert col  # every validation points into the lists sheet
    review = book["review"]
    keys = [review.cell(row=i, column=1).value for i in range(2, review.max_row + 1)]
    assert keys[: len(S.REVIEW_KEYS) - 1] == [k.name for k in S.REVIEW_KEYS if k.name != "prisma"]
    assert "prisma.records_screened" in keys and review.cell(row=2, column=2).value == "smith2027"


def test_template_refuses_to_overwrite_and_bad_ids(tmp_path):
    write_template("smith2027", tmp_path / "t.xlsx")
    with pytest.raises(FileExistsError):
        write_template("smith2027", tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="invalid review id"):
        write_template("Smith 2027", tmp_path / "u.xlsx")
    assert main(["new-review", "smith2027", "--xlsx", "--out", str(tmp_path / "t.xlsx")]) == 1
    assert main(["new-review", "smith2027", "--xlsx", "--out", str(tmp_path / "t.csv")]) == 2


def test_round_trip_template_fill_import_validate_load(tmp_path):
    root = tmp_path / "reviews"
    root.mkdir()
    result = import_workbook(filled(tmp_path), "smith2027", root)
    assert result.folder == root / "smith2027" and result.files == ("effects.csv", "review.toml")
    assert not [p for p in result.problems if p.is_error]
    assert validate(root) == []
    df = load_reviews(root)
    assert df.loc[0, "sd_c"] == 0.5 * 13 and df.loc[0, "df"] == "1,211" and df.loc[0, "n_treatment"] == 20
    assert df.loc[0, "yi"] < 0
    text = (root / "smith2027" / "review.toml").read_text("utf-8")
    assert "coded_on = 2027-03-01" in text and 'id = "smith2027"' in text


def test_a_number_typed_in_a_dutch_excel_is_the_number(tmp_path):
    # A Dutch Excel shows 0,5 and stores the number 0.5: the value is read, never the displayed text.
    root = tmp_path / "reviews"
    root.mkdir()
    path = filled(tmp_path, row={"stat_type": "d", "es": 0.5, "m_t": None, "sd_t": None, "m_c": None, "sd_c": None},
                  fmt={"es": "0,00"})
    assert import_workbook(path, "smith2027", root).folder is not None
    assert (root / "smith2027" / "effects.csv").read_text("utf-8").splitlines()[1].count(",0.5,") == 1
    assert load_reviews(root).loc[0, "es"] == 0.5


def test_a_text_cell_with_a_decimal_comma_is_refused_like_in_a_csv(tmp_path):
    root = tmp_path / "reviews"
    root.mkdir()
    result = import_workbook(filled(tmp_path, row={"sd_c": "6,5"}), "smith2027", root)
    assert result.folder is None and not (root / "smith2027").exists()
    (err,) = [p for p in result.problems if p.is_error]
    assert str(err) == "smith2027.xlsx:effects:2:sd_c: decimal comma in '6,5': write '6.5'"


def test_errors_name_sheet_row_and_column(tmp_path, capsys):
    root = tmp_path / "reviews"
    root.mkdir()
    path = filled(tmp_path, row={"design": "RCT", "n_control": 1.5}, review={"coded_on": "March 2027"})
    assert main(["import", str(path), "--review", "smith2027", "--root", str(root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "smith2027.xlsx:effects:2:design: 'RCT' is not one of: rct, non_randomised, single_group (did you mean " \
           "'rct'?)" in out
    assert "smith2027.xlsx:effects:2:n_control: must be a whole number (at most 15 digits), got '1.5'" in out
    assert any(line.startswith("smith2027.xlsx:review:14:coded_on: must be an ISO date") for line in out)
    assert out[-1].startswith("nothing written: 3 error(s)")


def test_import_usage_errors(tmp_path, capsys):
    root = tmp_path / "reviews"
    root.mkdir()
    (tmp_path / "x.xlsx").write_text("not a workbook", "utf-8")
    with pytest.raises(WorkbookError):
        import_workbook(tmp_path / "x.xlsx", "smith2027", root)
    assert main(["import", str(tmp_path / "x.xlsx"), "--review", "smith2027", "--root", str(root)]) == 2
    assert main(["import", str(tmp_path / "nope.xlsx"), "--review", "smith2027", "--root", str(root)]) == 2
    book = filled(tmp_path)
    assert main(["import", str(book), "--review", "Bad Id", "--root", str(root)]) == 2
    assert main(["import", str(book), "--review", "smith2027", "--root", str(tmp_path / "missing")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_import_never_overwrites_unless_replace(tmp_path):
    root = tmp_path / "reviews"
    (root / "smith2027").mkdir(parents=True)
    (root / "smith2027" / "notes.md").write_text("kept", "utf-8")
    path = filled(tmp_path)
    with pytest.raises(FileExistsError):
        import_workbook(path, "smith2027", root)
    assert import_workbook(path, "smith2027", root, replace=True).folder is not None
    assert (root / "smith2027" / "notes.md").read_text("utf-8") == "kept"


def test_cell_text():
    assert cell_text(None) == "" and cell_text(False) == "false" and cell_text(3) == "3"
    assert cell_text(0.1) == "0.1" and cell_text(2.0, COLUMN["sd_t"]) == "2.0"  # a float column keeps its decimal point
    assert cell_text(dt.datetime(2027, 3, 1)) == "2027-03-01"
