"""egger_test, rank_test and trim_and_fill against metafor 3.8.1 ``regtest``, ``ranktest`` and
``trimfill`` (tests/reference/bias.json, written by tests/reference/metafor_reference.R): dat.bcg,
dat.hackshaw1998 and dat.normand1999, each with REML and EE, test z.

Tolerance: RTOL = 1e-6 relative (metafor run at threshold 1e-12; measured agreement ~2e-11).
ATOL = 1e-9 for values that can be exactly 0. k0, side and the filled flags must be equal.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import examples, reference
from whatworks import meta_analyze
from whatworks.bias import EggerResult, RankResult, TrimFillResult, egger_test, rank_test, trim_and_fill

RTOL, ATOL = 1e-6, 1e-9
CASES = reference("bias")["cases"]
FIT_FIELDS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_pvalue",
              "pi_low", "pi_high")  # fmt: skip


def _id(case: dict) -> str:
    return f"{case['dataset']}-{case['method']}"


def _fit(case: dict, **kwargs):
    return meta_analyze(case["yi"], case["vi"], method=case["method"], **kwargs)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_egger_matches_regtest(case):
    ref = case["regtest"]
    res = egger_test(_fit(case))
    got = [res.stat, res.pvalue, res.limit_estimate, res.ci_low, res.ci_high, res.slope, res.slope_se, res.tau2]
    want = [ref["stat"], ref["pvalue"], ref["est"], ref["ci_low"], ref["ci_high"], ref["coef"][1], ref["se"][1],
            ref["tau2"]]  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
    assert ref["df"] is None and res.df == np.inf


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_rank_matches_ranktest(case):
    ref = case["ranktest"]
    res = rank_test(_fit(case))
    np.testing.assert_allclose([res.tau, res.pvalue], [ref["tau"], ref["pvalue"]], rtol=RTOL)
    assert res.exact  # no ties in these data: exact p-value, as R's cor.test(exact=TRUE)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_trim_and_fill_matches_trimfill(case):
    ref = case["trimfill"]
    res = trim_and_fill(_fit(case))
    assert (res.k0, res.side, res.estimator) == (ref["k0"], ref["side"], ref["estimator"])
    np.testing.assert_allclose(res.se_k0, ref["se_k0"], rtol=RTOL)
    np.testing.assert_allclose(res.yi, ref["yi_filled"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(res.vi, ref["vi_filled"], rtol=RTOL)
    assert res.filled.tolist() == ref["fill"]
    assert res.fit.k == ref["fit"]["k"]
    for name in FIT_FIELDS:
        np.testing.assert_allclose(getattr(res.fit, name), ref["fit"][name], rtol=RTOL, atol=ATOL, err_msg=name)


def test_trim_and_fill_without_missing_studies_returns_the_fit():
    case = next(c for c in CASES if c["trimfill"]["k0"] == 0)
    fit = _fit(case)
    res = trim_and_fill(fit)
    assert res.fit is fit and not res.filled.any()


def test_trim_and_fill_side_can_be_given():
    case = CASES[0]
    left = trim_and_fill(_fit(case), side="left")
    assert left.side == "left"
    assert np.isfinite(left.yi).all() and left.yi.size == len(case["yi"]) + left.k0
    assert left.to_frame()["filled"].sum() == left.k0


@pytest.mark.parametrize("estimator", ["R0", "Q0"])
def test_other_estimators_run(estimator):
    res = trim_and_fill(_fit(CASES[1]), estimator=estimator)
    assert res.estimator == estimator and res.k0 >= 0 and res.fit.k == len(CASES[1]["yi"]) + res.k0


# ---- invariants ----------------------------------------------------------------------------------

effects = st.lists(st.tuples(st.floats(-2, 2), st.floats(0.01, 1)), min_size=4, max_size=20, unique_by=lambda t: t[1])


@settings(max_examples=examples(30), deadline=None)
@given(effects)
@example([(0.0, 1.0), (0.0, 0.5), (0.0, 0.875), (0.0, 0.95254), (0.0, 0.375), (0.0, 0.4375), (1.0, 0.75)])  # var(Sr) < 0
def test_mirrored_data_give_mirrored_results(rows):
    """Flipping the sign of every effect flips Egger's statistic, Kendall's tau and the trim-and-fill side."""
    yi, vi = np.array(rows).T
    a, b = meta_analyze(yi, vi, method="EE"), meta_analyze(-yi, vi, method="EE")
    assert egger_test(a).stat == pytest.approx(-egger_test(b).stat, rel=1e-8, abs=1e-10)
    assert rank_test(a).tau == pytest.approx(-rank_test(b).tau, abs=1e-12)
    ta, tb = trim_and_fill(a), trim_and_fill(b)
    if abs(egger_test(a).slope) > 1e-8:
        assert ta.side != tb.side and ta.k0 == tb.k0


# ---- bad input, display ----------------------------------------------------------------------------


def test_bad_input_names_the_problem():
    fit = meta_analyze([0.1, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match="egger_test needs at least k = 3 effects; the fit has k = 2"):
        egger_test(fit)
    with pytest.raises(ValueError, match="needs a MetaResult"):
        rank_test([0.1, 0.2, 0.3])
    same = meta_analyze([0.1, 0.3, 0.2], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="all vi are equal"):
        egger_test(same)
    with pytest.raises(ValueError, match=r"unknown side='up'"):
        trim_and_fill(same, side="up")
    with pytest.raises(ValueError, match=r"unknown estimator='L1'"):
        trim_and_fill(same, side="left", estimator="L1")
    with pytest.raises(ValueError, match="pass side='left' or 'right'"):
        trim_and_fill(same)


def test_results_show_themselves():
    fit = _fit(CASES[0])
    pairs = ((egger_test(fit), EggerResult), (rank_test(fit), RankResult), (trim_and_fill(fit), TrimFillResult))
    for res, cls in pairs:
        assert isinstance(res, cls)
        assert isinstance(res.summary(), str) and cls.__name__ in repr(res)
        assert "<table" in res._repr_html_() and len(res.to_frame()) >= 1
        with pytest.raises(AttributeError):
            res.k0 = 3  # type: ignore[misc]


def test_trim_and_fill_down_to_one_study_matches_metafor():
    # Trimming leaves k = 1 (no residual df): tau2 must be 0, without a division warning.
    # metafor 3.8.1: trimfill(rma(c(-0.25,-0.1,-0.4), c(0.05679,0.02841,0.0833), method="DL"))
    # -> k0 = 2, estimate -0.1000000, CI -0.3016984 to 0.1016984
    res = trim_and_fill(meta_analyze([-0.25, -0.1, -0.4], [0.05679, 0.02841, 0.0833], method="DL"))
    assert res.k0 == 2
    np.testing.assert_allclose([res.fit.estimate, res.fit.ci_low, res.fit.ci_high], [-0.1, -0.3016984, 0.1016984], atol=5e-8)
