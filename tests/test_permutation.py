"""permutation_test against metafor 3.8.1 ``permutest(exact = TRUE)`` (tests/reference/resampling.json,
written by tests/reference/publication_bias.R): sign flips without moderators (2^k fits: normand1999 REML
z/knha, bcg DL, hackshaw1998 rows 1-10 EE, molloy2014 DL knha) and row permutations with moderators
(bcg ~ random allocation: 13!/(7! 6!) = 1716; bcg rows 1-7 ~ ablat, with a tie: 7!/2 = 2520).

Exact p-values are proportions of the same finite set, so they must agree to rounding (1e-12); the
observed statistics at 1e-6 relative. Random permutations are checked for seeding and against the exact
p-value (binomial tolerance).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import reference
from whatworks import meta_analyze, meta_regress, permutation_test
from whatworks.permutation import _row_orders

REF = reference("resampling")


def _fit(case: dict):
    if case["mods"] is None:
        d = REF["datasets"][case["dataset"]]
        return meta_analyze(d["yi"], d["vi"], method=case["method"], test=case["test"])
    X = np.array(case["X"])
    frame = pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "x": X[:, 1]})
    return meta_regress(frame, "~ x", method=case["method"], test=case["test"])


@pytest.mark.parametrize("case", REF["permutest"], ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}-{c['mods']}")
def test_exact_matches_permutest(case):
    res = permutation_test(_fit(case), exact=True)
    assert res.exact and res.n_iter == case["n_iter"]
    np.testing.assert_allclose(res.pvalue, case["pvalue"], atol=1e-12)
    assert res.qm_pvalue == pytest.approx(case["qm_pvalue"], abs=1e-12)
    np.testing.assert_allclose(res.stat, case["stat"], rtol=1e-6)
    assert res.qm == pytest.approx(case["qm"], rel=1e-6)


def test_exact_when_it_needs_no_more_fits_than_n_iter():
    case = REF["permutest"][0]  # normand1999: 2^9 = 512 sign patterns
    assert permutation_test(_fit(case), n_iter=512).exact
    res = permutation_test(_fit(case), n_iter=511, seed=7)
    assert not res.exact and res.n_iter == 511 and res.seed == 7


def test_random_permutations_are_seeded_and_near_the_exact_p_value():
    case = next(c for c in REF["permutest"] if c["dataset"] == "bcg" and c["mods"] is None)  # p = 0.0017
    fit = _fit(case)
    a, b = permutation_test(fit, n_iter=4000, seed=11), permutation_test(fit, n_iter=4000, seed=11)
    assert np.array_equal(a.stat_perm, b.stat_perm) and a.pvalue[0] == b.pvalue[0]
    assert not np.array_equal(a.stat_perm, permutation_test(fit, n_iter=4000, seed=12).stat_perm)
    p = case["pvalue"][0]
    assert abs(a.pvalue[0] - p) < 4 * np.sqrt(p * (1 - p) / 4000) + 1 / 4000  # 4 binomial SEs
    assert a.stat_perm[0, 0] == pytest.approx(fit.stat)  # the first is the observed data (metafor)
    m = next(c for c in REF["permutest"] if c["mods"] == "~ random" and c["test"] == "z")
    r = permutation_test(_fit(m), n_iter=1000, seed=3)
    assert not r.exact and abs(r.qm_pvalue - m["qm_pvalue"]) < 4 * np.sqrt(0.2 * 0.8 / 1000) + 1e-3


def test_row_orders_are_the_distinct_permutations():
    codes = np.array([0, 1, 0, 2, 1])
    orders = _row_orders(codes)
    assert orders.shape == (30, 5)  # 5! / (2! 2! 1!)
    assert len({tuple(codes[o]) for o in orders}) == 30
    assert all(sorted(o) == list(range(5)) for o in orders.tolist())


def test_display_and_limits():
    case = REF["permutest"][0]
    res = permutation_test(_fit(case), exact=True)
    assert res.to_frame().columns.tolist() == ["term", "coef", "stat", "pvalue", "qm", "qm_pvalue", "n_iter", "exact"]
    assert "exact" in res.summary() and "<table" in res._repr_html_() and "PermutationResult(" in repr(res)
    with pytest.raises(ValueError, match="n_iter must be"):
        permutation_test(_fit(case), n_iter=1)
    big = meta_analyze(np.linspace(-1, 1, 30), np.full(30, 0.1))
    with pytest.raises(ValueError, match="an exact test needs"):
        permutation_test(big, exact=True)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(3, 9).flatmap(lambda k: st.tuples(st.lists(st.floats(-2, 2), min_size=k, max_size=k),
                                                     st.lists(st.floats(0.01, 1.0), min_size=k, max_size=k))))
def test_exact_p_value_is_sign_symmetric_and_a_multiple_of_two_over_2k(data):
    yi, vi = map(np.array, data)
    a = permutation_test(meta_analyze(yi, vi, method="DL"), exact=True)
    b = permutation_test(meta_analyze(-yi, vi, method="DL"), exact=True)
    assert a.pvalue[0] == b.pvalue[0]
    assert 2 / 2 ** len(yi) - 1e-12 <= a.pvalue[0] <= 1  # the observed pattern and its mirror image count
    assert (a.pvalue[0] * 2 ** len(yi)) % 2 == pytest.approx(0, abs=1e-9)
