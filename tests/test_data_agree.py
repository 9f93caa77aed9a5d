"""Agreement of two codings (whatworks.data.agree, ``whatworks agree``): kappa against R, cells, exit codes.

Reference values: tests/reference/agreement.json, written by tests/reference/agreement.R (psych 2.2.9
``cohen.kappa``, metafor 3.8.1 ``escalc``) from the synthetic fixture tests/fixtures/double_coding.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from whatworks.cli import main
from whatworks.data.agree import agree, cohen_kappa
from whatworks.data.codings import CodingError

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "double_coding"
A, B = FIXTURE / "coder_a" / "demo2027", FIXTURE / "coder_b" / "demo2027"
REFERENCE = json.loads((HERE / "reference" / "agreement.json").read_text("utf-8"))["columns"]
# kappa and its variance are closed forms of the same 2x2..kxk table: only floating-point rounding separates
# R's and numpy's sums
KAPPA_TOL = 1e-12
# yi comes from the same formula (metafor's exact Hedges' correction) in both; differences of two yi of
# ~0.5 lose a few digits
DYI_TOL = 1e-10


@pytest.fixture(scope="module")
def result():
    return agree(A, B)


def _row(frame: pd.DataFrame, file: str, column: str) -> pd.Series:
    (i,) = frame.index[(frame["file"] == file) & (frame["column"] == column)]
    return frame.loc[i]


@pytest.mark.parametrize("ref", [r for r in REFERENCE if "kappa" in r], ids=lambda r: f"{r['file']}:{r['column']}")
def test_kappa_matches_psych(result, ref):
    row = _row(result.agreement, ref["file"], ref["column"])
    assert row["n"] == ref["n"] and row["n_disagree"] == ref["n_disagree"]
    if ref["kappa"] is None:
        assert math.isnan(row["kappa"]) and math.isnan(row["kappa_se"])
    else:
        assert row["kappa"] == pytest.approx(ref["kappa"], abs=KAPPA_TOL)
        assert row["kappa_se"] ** 2 == pytest.approx(ref["var_kappa"], abs=KAPPA_TOL)
    assert row["agree_pct"] == pytest.approx(100 * (ref["n"] - ref["n_disagree"]) / ref["n"])


@pytest.mark.parametrize("ref", [r for r in REFERENCE if "max_abs_dyi" in r], ids=lambda r: r["column"])
def test_numeric_columns_and_yi_movement_match_r(result, ref):
    row = _row(result.agreement, ref["file"], ref["column"])
    assert row["n"] == ref["n"] and row["n_disagree"] == ref["n_disagree"]
    if ref["max_abs_dyi"] is None:
        assert math.isnan(row["max_abs_dyi"])
    else:
        assert row["max_abs_dyi"] == pytest.approx(ref["max_abs_dyi"], rel=DYI_TOL)


def test_the_reference_covers_every_judgement_column():
    assert {r["column"] for r in REFERENCE if r["file"] == "risk_of_bias.csv"} == {"tool", "d1", "d2", "d3", "d4",
                                                                                  "d5", "overall"}


def test_kappa_edge_cases():
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"])[0])  # one category: undefined, as in psych (NA)
    assert cohen_kappa(["x", "y"], ["x", "y"])[0] == 1.0
    assert cohen_kappa(["x", "y"], ["y", "x"])[0] == -1.0
    with pytest.raises(ValueError, match="same length"):
        cohen_kappa(["x"], ["x", "y"])


def test_cells_compare_after_normalisation(result):
    d = result.disagreements
    dogwood = d[d["key"] == "dogwood2021_wl"]
    assert list(dogwood["column"]) == ["sd_t"]  # m_t "12.50" vs "12.5" agrees
    juniper = d[d["key"] == "juniper2024_uc"]
    assert juniper.empty  # notes differ in white space only
    hazel = d[(d["key"] == "hazel2023_wl") & (d["file"] == "effects.csv")]
    assert list(hazel[["value_a", "value_b"]].itertuples(index=False, name=None)) == [("true", "")]


def test_disagreements_name_both_places(result):
    row = result.disagreements.set_index(["key", "column"]).loc[("birch2020_wl", "strategy")]
    assert (row["value_a"], row["value_b"]) == ("social_support", "social_access")
    assert row["where_a"] == f"{A}/effects.csv:2:strategy" and row["where_b"] == f"{B}/effects.csv:2:strategy"
    assert not math.isnan(row["yi_a"]) and row["yi_a"] == row["yi_b"]


def test_rows_in_one_coding_only_are_listed(result):
    d = result.disagreements[result.disagreements["column"] == "effect_id"]
    assert list(d[["key", "value_a", "value_b"]].itertuples(index=False, name=None)) == [
        ("kauri2024_wl", "kauri2024_wl", ""), ("larch2025_wl", "", "larch2025_wl")]
    assert d.iloc[0]["where_a"] == f"{A}/effects.csv:11:effect_id" and d.iloc[0]["where_b"] == ""
    assert result.rows["effects.csv"] == (11, 1, 1) and result.rows["risk_of_bias.csv"] == (8, 0, 0)


def test_review_toml_differences_are_listed_but_not_the_coders(result):
    d = result.disagreements[result.disagreements["file"] == "review.toml"]
    assert list(d[["column", "value_a", "value_b"]].itertuples(index=False, name=None)) == [
        ("prisma.reports_not_retrieved", "2", "not recorded")]
    assert "assessed_by" not in set(result.agreement["column"])


def test_favours_unknown_gives_yi_in_one_coding_only(result):
    row = _row(result.agreement, "effects.csv", "favours")
    assert row["n_yi_one_side"] == 1 and math.isnan(row["max_abs_dyi"])


def test_summary_in_words(result):
    text = result.summary()
    assert "effects.csv: 11 rows in both codings, 1 only in A, 1 only in B." in text
    assert "effects.csv strategy: agree on 82% of 11 rows, Cohen's kappa 0.77" in text
    assert "sd_t" in text and "move the effect (yi) by up to 0.0441" in text
    assert repr(result) == text and "&lt;" not in result._repr_html_()


def test_identical_codings_agree(tmp_path):
    res = agree(A, A)
    assert res.identical and res.summary().endswith("The codings agree on every cell.")
    assert (res.agreement["n_disagree"] == 0).all()


def test_cli_writes_both_files_and_exits_1(tmp_path, capsys):
    assert main(["agree", str(A), str(B), "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Two codings of demo2027") and "disagreements.csv (26 rows)" in out
    dis = pd.read_csv(tmp_path / "out" / "disagreements.csv", keep_default_na=False)
    assert list(dis.columns) == ["file", "key", "column", "value_a", "value_b", "where_a", "where_b", "yi_a", "yi_b"]
    assert len(dis) == 26
    agr = pd.read_csv(tmp_path / "out" / "agreement.csv")
    assert list(agr.columns[:6]) == ["file", "column", "kind", "n", "n_disagree", "agree_pct"]
    strategy = agr[(agr["file"] == "effects.csv") & (agr["column"] == "strategy")].iloc[0]
    assert strategy["kappa"] == pytest.approx(0.773196, abs=1e-6)  # written with 6 significant digits


def test_cli_exit_0_when_codings_agree(tmp_path, capsys):
    assert main(["agree", str(A), str(A), "--out", str(tmp_path)]) == 0
    assert "agree on every cell" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "not_a_review", "unreadable", "other_review", "duplicate"])
def test_usage_errors_exit_2(tmp_path, capsys, case):
    b = shutil.copytree(B, tmp_path / "b" / "demo2027")
    if case == "missing":
        b = tmp_path / "nope"
    elif case == "not_a_review":
        (b / "review.toml").unlink()
    elif case == "unreadable":
        (b / "effects.csv").write_bytes(b"\xef\xbb\xbf" + (b / "effects.csv").read_bytes())
    elif case == "other_review":
        (b / "review.toml").write_text((b / "review.toml").read_text("utf-8").replace('id = "demo2027"',
                                                                                      'id = "other2027"'), "utf-8")
    else:
        text = (b / "effects.csv").read_text("utf-8")
        (b / "effects.csv").write_text(text.replace("ash2019_wl", "birch2020_wl", 1), "utf-8")
    with pytest.raises(CodingError):
        agree(A, b)
    assert main(["agree", str(A), str(b), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("whatworks: error: ") and "Traceback" not in err
    expected = {"missing": "not a folder", "not_a_review": "is not a review folder", "unreadable": "byte-order mark",
                "other_review": "different reviews", "duplicate": "is used twice"}[case]
    assert expected in err


@pytest.mark.parametrize("command", ["agree", "merge", "resolve", "import"])
def test_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: whatworks {command}")


def test_agree_needs_out(capsys):
    assert main(["agree", str(A), str(B)]) == 2
    assert "--out" in capsys.readouterr().err
