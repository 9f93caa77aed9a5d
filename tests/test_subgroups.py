"""by_subgroup against metafor 3.8.1 (tests/reference/subgroups.json, written by
tests/reference/metafor_reference.R): dat.bcg by alloc and dat.molloy2014 by design, REML/DL x z/knha,
tau2 "separate" (one rma() per group, Q-between = QE of an EE fit of the group estimates) and "common"
(rma(yi, vi, mods = ~ factor(group)), Q-between = QM; group estimates from ~ factor(group) - 1).

Tolerance: RTOL = 1e-6 relative (metafor run at threshold 1e-12; measured agreement ~4e-10).
ATOL = 1e-9 for values that are 0 on one side: molloy2014 "cross-sectional" with REML has tau2 = 0 here
and 8.2e-14 in metafor (its Fisher scoring stops short of the boundary), which gives I² = 1.5e-9 %:
I² = 100 tau2 / (tau2 + vt) magnifies a tau2 gap by 100 / vt (vt = 0.005 here), so I² (percent) gets
ATOL_I2 = 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import examples, reference
from whatworks import meta_analyze
from whatworks.subgroups import SubgroupResult, by_subgroup

RTOL, ATOL, ATOL_I2 = 1e-6, 1e-9, 1e-6
CASES = reference("subgroups")["cases"]
GROUP_FIELDS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "tau2", "se_tau2", "tau2_ci_low",
                "tau2_ci_high", "i2", "h2", "q", "q_pvalue", "pi_low", "pi_high")  # fmt: skip
MODEL_FIELDS = ("coef", "se", "stat", "pvalue", "ci_low", "ci_high", "vcov", "tau2", "se_tau2", "tau2_ci_low",
                "tau2_ci_high", "qm", "qm_pvalue", "qe", "qe_pvalue", "r2", "i2", "h2")  # fmt: skip


def _id(case: dict) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}"


def _frame(case: dict) -> pd.DataFrame:
    return pd.DataFrame({"yi": case["yi"], "vi": case["vi"], case["group_var"]: case["group"]})


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_separate_matches_metafor(case):
    res = by_subgroup(_frame(case), case["group_var"], method=case["method"], test=case["test"], tau2="separate")
    assert list(res.groups) == case["levels"] and res.skipped == ()
    for lev, ref in case["separate"]["groups"].items():
        got = res.groups[lev]
        assert got.k == ref["k"] and got.q_df == ref["q_df"]
        for name in GROUP_FIELDS:
            if name == "tau2_ci_high" and ref["k"] == 2 and ref[name] == 100:
                continue  # metafor's search cap tau2.max = 100 for k = 2, not a real bound (reference README)
            atol = ATOL_I2 if name == "i2" else ATOL
            np.testing.assert_allclose(getattr(got, name), ref[name], rtol=RTOL, atol=atol, err_msg=f"{lev}: {name}")
        np.testing.assert_allclose(got.weights, ref["weights"], rtol=RTOL, atol=ATOL)
    qb = case["separate"]["q_between"]
    np.testing.assert_allclose([res.q_between, res.q_between_pvalue], [qb["q"], qb["pvalue"]], rtol=RTOL, atol=ATOL)
    assert res.q_between_df == qb["df"] and res.q_between_df2 is None
    assert res.tau2_mode == "separate" and "EE" in res.definition and res.model is None


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_common_matches_metafor(case):
    res = by_subgroup(_frame(case), case["group_var"], method=case["method"], test=case["test"], tau2="common")
    ref = case["common"]
    for name in MODEL_FIELDS:
        atol = ATOL_I2 if name == "i2" else ATOL
        np.testing.assert_allclose(getattr(res.model, name), ref[name], rtol=RTOL, atol=atol, err_msg=name)
    ge = ref["group_estimates"]
    assert list(res.groups) == ge["levels"]
    for name in ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high"):
        got = [getattr(res.groups[lev], name) for lev in ge["levels"]]
        np.testing.assert_allclose(got, ge[name], rtol=RTOL, atol=ATOL, err_msg=name)
    for lev in ge["levels"]:
        assert res.groups[lev].tau2 == res.model.tau2 and np.isnan(res.groups[lev].i2)
    np.testing.assert_allclose([res.q_between, res.q_between_pvalue], [ref["qm"], ref["qm_pvalue"]], rtol=RTOL)
    assert res.q_between_df == ref["qm_df"]
    assert res.q_between_df2 == (ref["qm_df2"] if case["test"] == "knha" else None)
    assert "QM" in res.definition


@pytest.mark.parametrize("mode", ["separate", "common"])
def test_overall_is_meta_analyze_of_all_rows(mode):
    case = CASES[0]
    res = by_subgroup(_frame(case), case["group_var"], method="REML", tau2=mode)
    fit = meta_analyze(case["yi"], case["vi"], method="REML")
    assert res.overall.estimate == pytest.approx(fit.estimate, rel=1e-12)
    assert res.to_frame()["subgroup"].tolist() == [*case["levels"], "overall"]


# ---- invariants ----------------------------------------------------------------------------------

rows = st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1), st.sampled_from("abc")), min_size=3, max_size=15)


@settings(max_examples=examples(30), deadline=None)
@given(rows, st.sampled_from(["REML", "DL", "EE"]), st.sampled_from(["z", "knha"]))
@example([(0.0, 1.0, "a")] * 3, "REML", "knha")  # found by the long profile: se = 0, z = 0/0 warned
def test_one_level_equals_meta_analyze(data, method, test):
    df = pd.DataFrame(data, columns=["yi", "vi", "g"]).assign(g="only")
    fit = meta_analyze(df["yi"], df["vi"], method=method, test=test)
    for mode in ("separate", "common"):
        res = by_subgroup(df, "g", method=method, test=test, tau2=mode)
        got = res.groups["only"]
        np.testing.assert_allclose([got.estimate, got.se, got.ci_low, got.ci_high, got.tau2, got.q],
                                   [fit.estimate, fit.se, fit.ci_low, fit.ci_high, fit.tau2, fit.q],
                                   rtol=1e-9, atol=1e-10)
        assert np.isnan(res.q_between) and res.q_between_df == 0


@settings(max_examples=examples(30), deadline=None)
@given(rows, st.sampled_from(["REML", "PM"]))
def test_separate_groups_are_meta_analyses_of_their_rows(data, method):
    df = pd.DataFrame(data, columns=["yi", "vi", "g"])
    res = by_subgroup(df, "g", method=method)
    for lev, got in res.groups.items():
        sub = df[df["g"] == lev]
        fit = meta_analyze(sub["yi"], sub["vi"], method=method)
        assert got.estimate == pytest.approx(fit.estimate, rel=1e-12, abs=1e-14)
    fitted_or_skipped = set(res.groups) | {s.key for s in res.skipped}
    assert fitted_or_skipped == set(df["g"])


@settings(max_examples=examples(30), deadline=None)
@given(rows)
@example([(0.0, 1.0, "a"), (0.0, 1.0, "a"), (1e-176, 1.0, "b")])  # total sum of squares underflows to 0
def test_common_effect_q_partition(data):
    """With EE, Q_total = Q_between + sum of Q_within (both recipes give the same Q_between)."""
    df = pd.DataFrame(data, columns=["yi", "vi", "g"])
    if df["g"].nunique() < 2 or len(df) <= df["g"].nunique():
        return
    sep = by_subgroup(df, "g", method="EE", tau2="separate")
    com = by_subgroup(df, "g", method="EE", tau2="common")
    q_within = sum(r.q for r in com.groups.values())
    assert sep.overall.q == pytest.approx(com.q_between + q_within, rel=1e-8, abs=1e-8)
    assert sep.q_between == pytest.approx(com.q_between, rel=1e-8, abs=1e-8)


# ---- nothing dropped silently, bad input ------------------------------------------------------------


def test_missing_rows_and_small_groups_are_reported():
    df = pd.DataFrame({
        "yi": [-0.9, -0.2, -1.4, 0.1, -0.6, np.nan, 0.3],
        "vi": [0.04, 0.09, 0.1, 0.05, 0.07, 0.1, 0.05],
        "g": ["a", "a", "a", "b", "b", "a", None],
        "study": list("ABCDEFG"),
    })  # fmt: skip
    df.loc[3, "g"] = "c"  # b has one usable row left
    sep = by_subgroup(df, "g", label="study")
    assert [(s.kind, s.key) for s in sep.skipped] == [("row", 5), ("row", 6), ("subgroup", "b"), ("subgroup", "c")]
    assert sep.skipped[0].reason == "missing yi" and sep.skipped[1].reason == "missing g"
    assert "k = 1" in sep.skipped[2].reason
    frame = sep.to_frame()
    assert frame["subgroup"].tolist() == ["a", "b", "c", "overall"]
    assert frame.loc[1, "k"] == 1 and np.isnan(frame.loc[1, "estimate"]) and "too small" in frame.loc[1, "note"]
    assert sep.overall.k == 5 and sep.groups["a"].labels == ("A", "B", "C")
    assert "Skipped row 5: missing yi" in sep.summary()
    com = by_subgroup(df, "g", tau2="common")  # k = 1 levels are estimable in the common model
    assert list(com.groups) == ["a", "b", "c"] and [s.kind for s in com.skipped] == ["row", "row"]


def test_ee_keeps_single_study_groups():
    df = pd.DataFrame({"yi": [0.1, 0.3, 0.5], "vi": [0.1, 0.1, 0.2], "g": ["a", "a", "b"]})
    res = by_subgroup(df, "g", method="EE")
    assert res.groups["b"].estimate == 0.5 and res.skipped == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"by": "arm"}, r"by column 'arm' not in the frame; available columns: \['yi', 'vi', 'g'\]"),
        ({"by": "g", "vi": "var"}, r"vi column 'var' not in the frame"),
        ({"by": "g", "label": "name"}, r"label column 'name' not in the frame"),
        ({"by": "g", "tau2": "pooled"}, r"unknown tau2='pooled'; expected one of 'separate', 'common'"),
        ({"by": "g", "method": "reml"}, r"unknown method='reml'"),
        ({"by": "g", "test": "hksj"}, r"unknown test='hksj'"),
    ],
)
def test_bad_input_names_the_problem(kwargs, message):
    df = pd.DataFrame({"yi": [0.1, 0.3, 0.5], "vi": [0.1, 0.1, 0.2], "g": ["a", "a", "b"]})
    with pytest.raises(ValueError, match=message):
        by_subgroup(df, **kwargs)


def test_common_needs_more_effects_than_groups():
    df = pd.DataFrame({"yi": [0.1, 0.3], "vi": [0.1, 0.1], "g": ["a", "b"]})
    with pytest.raises(ValueError, match="too few effects for a common-tau2 model: k = 2 for 2 subgroups"):
        by_subgroup(df, "g", tau2="common")


def test_result_is_frozen_and_shows_itself():
    case = next(c for c in CASES if c["test"] == "knha")
    res = by_subgroup(_frame(case), case["group_var"], method=case["method"], test="knha", tau2="common")
    assert isinstance(res, SubgroupResult)
    with pytest.raises(AttributeError):
        res.q_between = 0.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        res.groups["x"] = res.overall  # type: ignore[index]
    text = res.summary()
    assert res.definition in text and "F(df1 = 2, df2 = 10)" in text
    assert list(res.to_frame().columns)[:3] == ["subgroup", "k", "estimate"]
    assert "<table" in res._repr_html_() and "tau2_mode='common'" in repr(res)


def test_identical_effects_with_knha_have_no_test_of_differences():
    """Issue 11.1: with test='knha' identical effects give a subgroup SE of 0 (as metafor: se 0.0000),
    so the EE meta-analysis of the subgroup estimates would weight by 1/0 (it was a divide-by-zero
    RuntimeWarning); Q-between is NaN and q_between_note says why."""
    df = pd.DataFrame({"yi": [-0.5, -0.5, -0.2, -0.3], "vi": [0.05, 0.05, 0.05, 0.04], "g": ["a", "a", "b", "b"]})
    res = by_subgroup(df, "g", method="REML", test="knha")
    assert res.groups["a"].se < 1e-8
    assert np.isnan(res.q_between) and np.isnan(res.q_between_pvalue)
    assert "standard error of subgroup(s) a is 0" in res.q_between_note
    assert "No test of subgroup differences: the standard error" in res.summary()
    assert np.isfinite(by_subgroup(df, "g", method="REML", test="z").q_between)  # the z test weights by vi
