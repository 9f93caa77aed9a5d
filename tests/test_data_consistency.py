"""Printed es_se / p_value / df that contradict the row's other numbers are validation warnings
(whatworks.data.consistency; issue 11, item 9).

Each case sets cells of the valid fixture tests/fixtures/reviews/demo_smd (row 5: t = -2.1 on 66 df,
p = 0.04, n = 35 + 33; row 7: MD -5.2 [-9.1, -1.3], n = 28 + 27; row 8: OR 0.55 [0.31, 0.98]) and checks
the warning (file, row, column) or its absence. The expected values are worked out by hand in each
comment, from the normal and t distributions, not by the code under test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_data_validate import EFFECTS, both, make_review, set_cell
from whatworks.data import validate
from whatworks.data.table import resolution


def _warnings(tmp_path, *mutations):
    folder = make_review(tmp_path, effects=both(*mutations))
    problems = validate(folder)
    assert not [p for p in problems if p.is_error], problems
    return {(p.row, p.column): p.message for p in problems if p.severity == "warning" and p.file == EFFECTS}


def test_the_fixture_is_consistent(tmp_path):
    # row 5: 2 * t_sf(2.1, 66) = 0.0396, printed 0.04
    assert _warnings(tmp_path) == {}


@pytest.mark.parametrize(("p", "warned"), [("0.04", False), ("0.05", True), ("0.4", True), ("0.035", False)])
def test_p_against_t_allows_only_rounding(tmp_path, p, warned):
    # t printed -2.1 is in [-2.15, -2.05]: two-sided p in [0.035, 0.044] (t on 66 df) or [0.032, 0.040]
    # (normal); 0.05 (= [0.045, 0.055]) is outside both, 0.035 inside.
    w = _warnings(tmp_path, set_cell(5, "p_value", p))
    assert ((5, "p_value") in w) == warned
    if warned:
        assert "t = -2.1 on 66 df" in w[(5, "p_value")]


def test_df_larger_than_the_arms_allow(tmp_path):
    w = _warnings(tmp_path, set_cell(5, "df", "100"))  # n 35 + 33 - 2 = 66
    assert "df = 100 exceeds n_treatment + n_control - 2 = 66" in w[(5, "df")]
    assert (5, "df") not in _warnings(tmp_path / "b", set_cell(5, "df", "64"))  # e.g. ANCOVA: fewer df is fine


@pytest.mark.parametrize(("se", "warned"), [("2.0", False), ("1.95", False), ("0.9", True), ("2.2", True)])
def test_se_against_the_ci(tmp_path, se, warned):
    # CI [-9.1, -1.3]: width 7.8 (+-0.1 for rounding) / (2 * 1.96) = 1.99 (1.96 to 2.01) with the normal
    # quantile, / (2 * t(0.975, 53) = 2 * 2.006) = 1.94 (1.92 to 1.97) with t: 1.95 and 2.0 fit, 2.2 not.
    w = _warnings(tmp_path, set_cell(7, "es_se", se))
    assert ((7, "es_se") in w) == warned


def test_p_against_an_odds_ratio_ci(tmp_path):
    # log(0.55) = -0.598, SE = (log 0.98 - log 0.31) / 3.92 = 0.294, z = 2.03: p = 0.042
    assert (8, "p_value") not in _warnings(tmp_path, set_cell(8, "p_value", "0.04"))
    w = _warnings(tmp_path / "b", set_cell(8, "p_value", "0.5"))
    assert "es = 0.55 with its 95% CI [0.31, 0.98]" in w[(8, "p_value")]


def test_p_against_es_and_se(tmp_path):
    # es -5.2, SE 2.0: z = 2.6, p = 0.0093 (normal), 0.012 (t, 53 df); 0.01 fits, 0.2 does not
    assert (7, "p_value") not in _warnings(tmp_path, set_cell(7, "es_se", "2.0"), set_cell(7, "p_value", "0.01"))
    w = _warnings(tmp_path / "b", set_cell(7, "es_se", "2.0"), set_cell(7, "p_value", "0.2"))
    assert "es = -5.2 with es_se = 2" in w[(7, "p_value")]


def test_resolution_of_printed_numbers():
    assert resolution("0.21") == 0.01
    assert resolution("30") == 1.0
    assert resolution("-1.50") == 0.01  # trailing zeros count: the cell text is read, not the float
    assert resolution("1.5e-3") == 1e-4


def test_rows_without_an_effect_size_are_not_checked(tmp_path):
    """stat_type other gives no yi, so its printed numbers cannot reach an analysis (living row nguyen2025a_b
    prints SE 0.273 beside a CI implying 0.84, as the coder notes)."""
    from whatworks.data import validate

    folder = tmp_path / "living"
    shutil.copytree(Path(__file__).parent.parent / "data" / "reviews" / "living", folder)
    assert not [p for p in validate(folder) if p.column == "es_se"]
    text = (folder / "effects.csv").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("living,nguyen2025a_b,"))
    (folder / "effects.csv").write_text(text.replace(row, row.replace(",other,", ",md_ci,", 1)), encoding="utf-8")
    assert [p for p in validate(folder) if p.column == "es_se"]
