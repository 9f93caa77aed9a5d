"""excess_significance against metafor 3.8.1 ``tes(fit)`` (tests/reference/smallstudy.json, written by
tests/reference/publication_bias.R with ``rel.tol = 1e-11`` for the power integral), REML and EE fits on
six metadat datasets.

Tolerance: RTOL = 1e-6 relative. The power under tau2 > 0 is a 200-node Gauss-Legendre integral over
theta +- 5 tau (metafor's limits); measured agreement ~1e-12 (EE: closed form, ~1e-15).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import reference
from whatworks import excess_significance, meta_analyze
from whatworks.excess import _poisson_binomial

RTOL = 1e-6
CASES = [(c, t) for c in reference("smallstudy")["cases"] for t in c["tes"]]


@pytest.mark.parametrize(("case", "ref"), CASES, ids=lambda x: x.get("dataset", x.get("method")))
def test_matches_tes(case, ref):
    res = excess_significance(meta_analyze(case["yi"], case["vi"], method=ref["method"]))
    assert (res.observed, res.test) == (ref["observed"], ref["test"])
    assert res.significant.tolist() == ref["significant"]
    np.testing.assert_allclose(res.power, ref["power"], rtol=RTOL)
    np.testing.assert_allclose([res.expected, res.ratio, res.pvalue, res.theta],
                               [ref["expected"], ref["ratio"], ref["pvalue"], ref["theta"]], rtol=RTOL)
    if ref["stat"] is None:
        assert np.isnan(res.stat)
    else:
        assert res.stat == pytest.approx(ref["stat"], rel=RTOL)


@pytest.mark.parametrize("case", reference("smallstudy")["cases"], ids=lambda c: c["dataset"])
def test_chi2_test_matches_prop_test(case):
    ref = case["tes_chi2"]
    res = excess_significance(meta_analyze(case["yi"], case["vi"]), test="chi2")
    np.testing.assert_allclose([res.stat, res.pvalue, res.expected], [ref["stat"], ref["pvalue"], ref["expected"]],
                               rtol=RTOL)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_poisson_binomial_is_a_distribution_with_the_right_mean(p):
    pmf = _poisson_binomial(np.array(p))
    assert pmf.sum() == pytest.approx(1.0) and (pmf >= -1e-15).all()
    assert (np.arange(len(p) + 1) * pmf).sum() == pytest.approx(sum(p), abs=1e-9)


def test_alternatives_and_display():
    case = reference("smallstudy")["cases"][0]
    fit = meta_analyze(case["yi"], case["vi"])
    two = excess_significance(fit, tes_alternative="two.sided")
    less = excess_significance(fit, tes_alternative="less")
    greater = excess_significance(fit)
    assert greater.pvalue + less.pvalue >= 1 - 1e-12 and two.pvalue <= 1
    assert excess_significance(fit, alternative="less").observed <= excess_significance(fit).observed + fit.k
    binom = excess_significance(fit, test="binom")
    assert 0 < binom.pvalue <= 1 and np.isnan(binom.stat)
    assert "significant studies observed" in greater.summary() and "<table" in greater._repr_html_()
    assert greater.study_frame().shape == (fit.k, 3)
    with pytest.raises(ValueError, match="unknown test"):
        excess_significance(fit, test="fisher")
