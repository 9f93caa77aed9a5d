"""The published reviews' own contrasts (whatworks.finding.published), on the numbers the reviews printed.

References: the printed subgroup estimates are published-table values (Fu Z, Yan M, Meng C 2022, Front
Psychol 13:935544, abstract: maladaptive social cognition SMD -1.04 [-1.98, -0.10], increasing social
support -0.47 [-0.77, -0.18]; Veronese N et al. 2021, Health Soc Care Community, doi 10.1111/hsc.13248,
abstract: social cognitive training -0.49 [-0.84, -0.13], social support -0.13 [-0.25, -0.01]). The
expected differences are the method of Altman & Bland (2003, BMJ 326:219), computed in R:

    f <- function(a, al, ah, b, bl, bh) { z <- qnorm(0.975)
      se <- sqrt(((ah - al) / (2 * z))^2 + ((bh - bl) / (2 * z))^2); d <- a - b
      c(d = d, se = se, lo = d - z * se, hi = d + z * se, p = 2 * pnorm(-abs(d / se))) }
    f(-1.04, -1.98, -0.10, -0.47, -0.77, -0.18)  # -0.57 0.5026638410 -1.5552030248 0.4152030248 0.2568119022
    f(-0.49, -0.84, -0.13, -0.13, -0.25, -0.01)  # -0.36 0.1911939410 -0.7347332385 0.0147332385 0.0597132630
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from whatworks.data import list_reviews, load_pooled
from whatworks.finding.published import difference_test, published_contrasts, se_from_ci

TOL = 1e-9  # closed-form arithmetic, same formula as the R lines above: agreement to rounding error

FU = dict(est_a=-1.04, lo_a=-1.98, hi_a=-0.10, est_b=-0.47, lo_b=-0.77, hi_b=-0.18)
VERONESE = dict(est_a=-0.49, lo_a=-0.84, hi_a=-0.13, est_b=-0.13, lo_b=-0.25, hi_b=-0.01)
R_FU = dict(difference=-0.57, se=0.5026638410, ci_low=-1.5552030248, ci_high=0.4152030248, pvalue=0.2568119022)
R_VERONESE = dict(difference=-0.36, se=0.1911939410, ci_low=-0.7347332385, ci_high=0.0147332385,
                  pvalue=0.0597132630)


@pytest.mark.parametrize("printed, expected", [(FU, R_FU), (VERONESE, R_VERONESE)], ids=["fu2022", "veronese2021"])
def test_difference_of_printed_estimates_matches_r(printed, expected):
    res = difference_test(**printed)
    for key, value in expected.items():
        assert res[key] == pytest.approx(value, abs=TOL), key


def test_se_from_ci_is_half_width_over_z():
    assert se_from_ci(-1.0, 1.0) == pytest.approx(1 / 1.959963984540054, abs=TOL)
    assert se_from_ci(-1.0, 1.0, level=0.9) == pytest.approx(1 / 1.6448536269514722, abs=TOL)
    with pytest.raises(ValueError, match="level"):
        se_from_ci(0, 1, level=95)


@pytest.fixture(scope="module")
def bundled():
    return published_contrasts(load_pooled(), catalogue=list_reviews())


def test_bundled_reviews_fu_veronese_tested_masi_not(bundled):
    t = bundled.to_frame().set_index(["review", "comparison"])
    fu = t.loc[("fu2022", "social_support")]
    assert fu["tested"] and fu["difference"] == pytest.approx(-0.57, abs=TOL)
    assert fu["pvalue"] == pytest.approx(R_FU["pvalue"], abs=1e-8)
    ver = t.loc[("veronese2021", "social_support")]
    assert ver["tested"] and ver["umbrella"] and ver["pvalue"] == pytest.approx(R_VERONESE["pvalue"], abs=1e-8)
    assert "umbrella review" in ver["note"]
    masi = t.loc[("masi2011", "social_support")]
    # Masi 2011 (second-hand point estimates -0.598 vs -0.162): a difference, no test
    assert not masi["tested"] and masi["difference"] == pytest.approx(-0.598 + 0.162, abs=TOL)
    assert np.isnan(masi["pvalue"]) and "second-hand" in masi["note"] and "not tested" in masi["note"]
    # a lost sign gives no difference; an MD row is not on the g scale
    assert np.isnan(t.loc[("masi2011", "social_access"), "difference"])
    assert "MD" in t.loc[("veronese2021", "mindfulness_acceptance"), "note"]
    assert list(bundled.tested()["review"]) == ["fu2022", "veronese2021"]


def test_only_same_classification_is_paired():
    rows = pd.DataFrame({
        "review": ["r"] * 3, "subgroup_variable": ["strategy", "strategy", "age"],
        "strategy": ["social_cognition", "social_support", "social_access"],
        "estimate_norm": [-0.5, -0.2, -0.1], "ci_low_norm": [-0.8, -0.4, -0.3], "ci_high_norm": [-0.2, 0.0, 0.1],
        "metric": ["SMD"] * 3, "hand": ["first"] * 3})
    res = published_contrasts(rows)
    assert list(res.to_frame()["comparison"]) == ["social_support"]
    assert "r vs social_support" in res.summary() and "PublishedContrasts(rows=1" in repr(res)
    assert "<table" in res._repr_html_()


def test_missing_columns_raise():
    with pytest.raises(ValueError, match="lacks column"):
        published_contrasts(pd.DataFrame({"review": ["x"]}))
