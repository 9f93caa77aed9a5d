"""Tests for whatworks.effects.prepost: Morris's (2008) d_ppc2 and the cluster design effect.

References
----------
- Published: Morris SB (2008), *Organizational Research Methods* 11:364-386, Table 5, column d_ppc2
  (five training studies of Carlson & Schmidt 1999), as reproduced on metafor's website,
  https://www.metafor-project.org/doku.php/analyses:morris2008 ("Alternative Estimates"): yi = 0.77,
  0.80, 1.20, 1.05, 0.44, and with the large-sample variance used there vi = 0.11, 0.04, 0.14, 0.07,
  0.16 (the page notes that Morris's own variances, eq. 25, differ slightly from these).
- R: tests/reference/prepost.json, written by tests/reference/prepost.R (Morris's eq. 8 and eq. 25
  written out in his unsimplified form, metafor's exact correction ``.cmicalc``; cluster cases through
  metafor 3.8.1 ``escalc`` with effective arm sizes).

Tolerances: the printed values are rounded to 2 decimals, so |difference| <= 0.005. The R values are
the same closed-form expressions in IEEE doubles (Morris's form of eq. 25 versus the algebraically
equal one in whatworks), so RTOL = 1e-10 relative leaves orders of magnitude of headroom while any
formula difference (e.g. the J approximation, ~1e-4) fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks.effects import design_effect, smd, smd_ppc2

RTOL = 1e-10
PRINTED = 0.005 + 1e-12  # half a unit in the second decimal
MORRIS_TABLE5_D_PPC2 = [0.77, 0.80, 1.20, 1.05, 0.44]
METAFOR_PAGE_VI = [0.11, 0.04, 0.14, 0.07, 0.16]


def _ppc2(case: dict, **kw) -> tuple[np.ndarray, np.ndarray]:
    return smd_ppc2(case["m_post_t"], case["m_pre_t"], case["sd_pre_t"], case["n_t"],
                    case["m_post_c"], case["m_pre_c"], case["sd_pre_c"], case["n_c"], case["r"], **kw)


def test_morris_2008_table5_published_values():
    case = reference("prepost")["morris2008"]
    yi, vi_ls = _ppc2(case, vtype="LS")
    np.testing.assert_allclose(yi, MORRIS_TABLE5_D_PPC2, rtol=0, atol=PRINTED)
    np.testing.assert_allclose(vi_ls, METAFOR_PAGE_VI, rtol=0, atol=PRINTED)


@pytest.mark.parametrize("case", ["morris2008", "extra"])
def test_equal_to_the_r_computation(case):
    ref = reference("prepost")[case]
    yi, vi = _ppc2(ref)
    np.testing.assert_allclose(yi, ref["yi"], rtol=RTOL)
    np.testing.assert_allclose(vi, ref["vi_mo"], rtol=RTOL)
    np.testing.assert_allclose(_ppc2(ref, vtype="LS").vi, ref["vi_ls"], rtol=RTOL)


def test_a_baseline_gap_is_not_an_effect():
    """Both arms change by the same amount: d_ppc2 = 0 whatever the baseline gap (post-only g is not 0)."""
    yi, _ = smd_ppc2(6.0, 6.5, 3.62, 63, 8.0, 8.5, 2.49, 56, 0.5)
    assert yi == 0.0
    assert smd(6.0, 3.5, 63, 8.0, 2.32, 56).yi < -0.5


def test_swapping_the_arms_negates_yi_and_keeps_vi():
    ref = reference("prepost")["extra"]
    a = _ppc2(ref)
    b = smd_ppc2(ref["m_post_c"], ref["m_pre_c"], ref["sd_pre_c"], ref["n_c"],
                 ref["m_post_t"], ref["m_pre_t"], ref["sd_pre_t"], ref["n_t"], ref["r"])
    np.testing.assert_allclose(b.yi, -a.yi, rtol=1e-14)
    np.testing.assert_allclose(b.vi, a.vi, rtol=1e-14)


@pytest.mark.parametrize("vtype", ["MO", "LS"])
def test_higher_correlation_smaller_variance_and_finite_at_one(vtype):
    r = np.linspace(-1, 1, 21)
    yi, vi = smd_ppc2(40.0, 35.0, 10.0, 30, 36.0, 35.5, 10.5, 28, r, vtype=vtype)
    assert np.all(np.isfinite(vi)) and np.all(vi > 0)
    assert np.all(np.diff(vi) < 0)
    assert np.ptp(yi) == 0  # r enters the variance only


def test_vectorised_and_broadcast():
    yi, vi = smd_ppc2([40, 41], 35, 10, 30, 36, 35.5, 10.5, 28, [0.2, 0.8])
    assert yi.shape == vi.shape == (2,)
    one = smd_ppc2(41, 35, 10, 30, 36, 35.5, 10.5, 28, 0.8)
    assert yi[1] == one.yi and vi[1] == one.vi and one.yi.shape == ()


@pytest.mark.parametrize("kw, match", [
    (dict(sd_pre_t=0), "sd_pre_t"),
    (dict(r=1.2), "r must lie in"),
    (dict(n_t=2, n_c=2), "must exceed 4"),
    (dict(n_c=1), "n2 must be at least 2"),
    (dict(vtype="SMCR"), "unknown vtype"),
])
def test_bad_input_is_named(kw, match):
    args = dict(m_post_t=40, m_pre_t=35, sd_pre_t=10, n_t=30, m_post_c=36, m_pre_c=35, sd_pre_c=10, n_c=28, r=0.5)
    with pytest.raises(ValueError, match=match):
        smd_ppc2(**(args | kw))


def test_n_of_four_is_allowed_for_the_large_sample_variance():
    yi, vi = smd_ppc2(40, 35, 10, 2, 36, 35, 10, 2, 0.5, vtype="LS")
    assert np.isfinite(yi) and vi > 0


def test_design_effect():
    ref = reference("prepost")["cluster"]
    m = (ref["n_t"] + ref["n_c"]) / ref["n_clusters"]
    assert design_effect(m, ref["icc"]) == pytest.approx(ref["design_effect"], rel=RTOL)
    np.testing.assert_allclose(design_effect([1, 20, 20], [0.3, 0.0, 0.1]), [1.0, 1.0, 2.9], rtol=1e-15)
    with pytest.raises(ValueError, match="cluster_size must be at least 1"):
        design_effect(0.5, 0.05)
    with pytest.raises(ValueError, match="icc must lie in"):
        design_effect(10, -0.1)


def test_effective_sample_sizes_equal_escalc():
    """Handbook 23.1.4: the reported means and SDs with arm sizes divided by the design effect."""
    ref = reference("prepost")["cluster"]
    de = ref["design_effect"]
    c = ref["means_post"]
    es = smd(c["m_t"], c["sd_t"], ref["n_t"] / de, c["m_c"], c["sd_c"], ref["n_c"] / de)
    assert es.yi == pytest.approx(c["yi"], rel=RTOL) and es.vi == pytest.approx(c["vi"], rel=RTOL)
    assert es.vi / c["vi_uncorrected"] == pytest.approx(de, rel=0.01)  # the variance grows by ~DE
