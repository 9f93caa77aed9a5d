"""Outliers and influential trials per strategy (whatworks.finding.outliers).

The diagnostics are metafor's (influence(), checked against R in tests/test_influence.py); these tests pin
the flagging rule and the bookkeeping around it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from whatworks import influence, meta_analyze
from whatworks.finding import pool_strategies
from whatworks.finding.outliers import RSTUDENT_LIMIT, strategy_outliers

ROWS = pd.DataFrame({
    "strategy": ["social_support"] * 6 + ["social_cognition"] * 2,
    "study_id": [f"s{i}2020" for i in range(8)], "study": [f"Study {i}" for i in range(8)],
    "yi": [-0.9, -0.2, -1.4, 0.1, -0.6, 2.5, -0.3, -0.5], "vi": [0.04, 0.09, 0.1, 0.05, 0.07, 0.05, 0.04, 0.05],
})


def test_flags_follow_the_rule():
    res = strategy_outliers(ROWS, pool_strategies(ROWS))
    sup = ROWS[ROWS["strategy"] == "social_support"]
    inf = influence(meta_analyze(sup["yi"], sup["vi"], method="REML", test="knha"))  # pool_strategies defaults
    t = res.table
    assert list(t["study_id"]) == list(sup["study_id"])
    assert list(t["outlier"]) == list(abs(inf.rstudent) > RSTUDENT_LIMIT)
    assert list(t["flagged"]) == list((abs(inf.rstudent) > RSTUDENT_LIMIT) | inf.inf)
    assert t["rstudent"].tolist() == pytest.approx(inf.rstudent.tolist())
    assert res.flagged["study"].tolist() == ["Study 5"]
    assert res.not_assessed == ("social_cognition",)  # two trials: no diagnostics
    assert "Study 5" in res.summary() and "<table" in res._repr_html_()


def test_no_strategy_large_enough():
    small = ROWS[ROWS["strategy"] == "social_cognition"]
    res = strategy_outliers(small, pool_strategies(small))
    assert res.table.empty and res.flagged.empty and "none flagged" in res.summary()


def test_sensitivity_rows_leave_out_flagged_and_high_risk_trials():
    from whatworks.finding import sensitivity_analyses

    fixture = pd.read_csv(__import__("pathlib").Path(__file__).parent / "reference" / "finding_fixture.csv")
    rows = fixture.assign(rob_overall=["high"] * 3 + ["low"] * (len(fixture) - 3))
    first = rows["study_id"].iloc[0]
    table = sensitivity_analyses(rows, flagged=[first, "not_in_the_data2020"]).to_frame().set_index("setting")
    assert table.loc["outlier or influential trials excluded (per strategy)", "k"] == len(rows) - 1
    assert table.loc["outlier or influential trials excluded (per strategy)", "note"] == f"left out: {first}"
    assert table.loc["trials at high risk of bias excluded", "k"] == len(rows) - 3
    assert table.loc["trials at low risk of bias only", "k"] == len(rows) - 3
    plain = sensitivity_analyses(fixture).to_frame().set_index("setting")
    assert plain.loc["trials at high risk of bias excluded", "note"].startswith("not run")
    assert "outlier or influential trials excluded (per strategy)" not in plain.index


def test_leave_one_out_does_not_count_untestable_refits_as_changes():
    """With two trials per arm every refit leaves one arm with a single trial ("cannot be tested"): that is
    not a change of verdict."""
    from whatworks.finding import sensitivity_analyses

    rows = pd.DataFrame({"strategy": ["social_cognition"] * 2 + ["social_support"] * 2,
                         "study_id": ["a2020", "b2020", "c2020", "d2020"], "study": list("abcd"),
                         "yi": [-0.5, -0.45, -0.1, -0.05], "vi": [0.01, 0.012, 0.011, 0.01]})
    table = sensitivity_analyses(rows, others=("social_support",)).to_frame().set_index("analysis")
    assert table.loc["primary", "verdict"] == "supported"
    loo = table.loc["leave-one-out"]
    assert "cannot be tested (4)" in loo["verdict"] and "no single row changes the verdict" in loo["note"]
