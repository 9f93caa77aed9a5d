"""pet_peese against R's ``lm(yi ~ sqrt(vi), weights = 1/vi)`` and ``lm(yi ~ vi, weights = 1/vi)``
(tests/reference/smallstudy.json, written by tests/reference/publication_bias.R; six metadat datasets),
and small_study_summary.

Tolerance: RTOL = 1e-6 relative (closed-form weighted least squares; measured agreement ~1e-13).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks import meta_analyze, pet_peese, selection_model, small_study_summary
from whatworks.smallstudy import SUMMARY_COLUMNS

RTOL = 1e-6
CASES = reference("smallstudy")["cases"]


def _fit(case: dict, **kw):
    return meta_analyze(case["yi"], case["vi"], **kw)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["dataset"])
def test_pet_and_peese_match_lm(case):
    res = pet_peese(_fit(case))
    for mine, ref in ((res.pet, case["pet"]), (res.peese, case["peese"])):
        got = [mine.estimate, mine.se, mine.stat, mine.pvalue, mine.ci_low, mine.ci_high, mine.slope, mine.slope_se,
               mine.slope_pvalue, mine.sigma]
        want = [ref["coef"][0], ref["se"][0], ref["stat"][0], ref["pvalue"][0], ref["ci_low"][0], ref["ci_high"][0],
                ref["coef"][1], ref["se"][1], ref["pvalue"][1], ref["sigma"]]  # fmt: skip
        np.testing.assert_allclose(got, want, rtol=RTOL, err_msg=mine.model)
        assert mine.df == ref["df"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["dataset"])
def test_conditional_rule(case):
    res = pet_peese(_fit(case))
    significant = case["pet"]["pvalue"][0] < 0.10
    assert res.chosen == ("PEESE" if significant else "PET")
    assert ("is significant" if significant else "is not significant") in res.rule and "Stanley" in res.rule
    pick = case["peese" if significant else "pet"]
    assert res.estimate == pytest.approx(pick["coef"][0], rel=RTOL)
    assert res.to_frame()["chosen"].tolist() == [not significant, significant]


def test_one_sided_rule_halves_the_p_value_in_its_direction():
    case = next(c for c in CASES if c["dataset"] == "bcg")
    p = case["pet"]["pvalue"][0]
    stat = case["pet"]["stat"][0]
    res = pet_peese(_fit(case), alternative="less" if stat < 0 else "greater", alpha=p * 0.6)
    assert res.chosen == "PEESE" and "one-sided" in res.rule  # p/2 < 0.6 p
    assert pet_peese(_fit(case), alpha=p * 0.6).chosen == "PET"


def test_needs_differing_variances_and_k3():
    with pytest.raises(ValueError, match="differ"):
        pet_peese(meta_analyze([0.1, 0.3, 0.5], [0.1, 0.1, 0.1]))
    with pytest.raises(ValueError, match="at least k = 3"):
        pet_peese(meta_analyze([0.1, 0.3], [0.1, 0.2]))


def test_small_study_summary_rows_and_reasons():
    case = next(c for c in CASES if c["dataset"] == "hackshaw1998")
    fit = _fit(case)
    tab = small_study_summary(fit)
    assert tuple(tab.columns) == SUMMARY_COLUMNS
    assert tab["method"].tolist() == ["random-effects model", "3PSM", "PET", "PEESE", "PET-PEESE"]
    assert tab["estimable"].all() and (tab["k"] == 37).all()
    sel = selection_model(fit, steps=(0.025,), alternative="greater")  # hackshaw: positive log odds ratios
    assert tab["estimate"].iloc[1] == pytest.approx(sel.estimate) and tab["ci_low"].iloc[1] == pytest.approx(sel.ci_low)
    assert tab["estimate"].iloc[2] == pytest.approx(case["pet"]["coef"][0], rel=RTOL)
    assert "PET's intercept" in tab["reason"].iloc[4]
    few = small_study_summary(meta_analyze(case["yi"][:6], case["vi"][:6]))
    assert not few["estimable"].iloc[1:].any() and few["estimable"].iloc[0]
    assert few["reason"].iloc[1] == "not estimable: k = 6, fewer than 10 studies"
    assert np.isnan(few["estimate"].iloc[1:]).all()


def test_small_study_summary_says_why_3psm_fails():
    bcg = next(c for c in CASES if c["dataset"] == "bcg")
    fit = _fit(bcg)
    tab = small_study_summary(fit, min_k=0, alternative="greater")  # no p < 0.025 for benefit > 0: delta at 100
    assert not tab["estimable"].iloc[1] and "bound" in tab["reason"].iloc[1]
    tab = small_study_summary(fit, min_k=0, steps=(0.025, 0.0251))  # an empty interval: metafor refuses it too
    assert not tab["estimable"].iloc[1] and "no observed p-value" in tab["reason"].iloc[1]
    assert small_study_summary(fit, min_k=0)["estimable"].iloc[1]  # default: the direction of the estimate ("less")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

effects = st.integers(3, 15).flatmap(lambda k: st.tuples(
    st.lists(st.floats(-2, 2), min_size=k, max_size=k), st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k)))


@settings(max_examples=40, deadline=None, derandomize=True)
@given(effects, st.floats(-3, 3))
def test_pet_peese_shift_equivariance(data, shift):
    """Adding a constant to every effect moves both intercepts by it and leaves slopes and SEs alone."""
    yi, vi = map(np.array, data)
    if np.ptp(vi) < 1e-3:
        return
    a, b = pet_peese(meta_analyze(yi, vi)), pet_peese(meta_analyze(yi + shift, vi))
    for x, y in ((a.pet, b.pet), (a.peese, b.peese)):
        assert y.estimate == pytest.approx(x.estimate + shift, abs=1e-8)
        assert y.slope == pytest.approx(x.slope, rel=1e-6, abs=1e-8) and y.se == pytest.approx(x.se, rel=1e-6)
