"""Published pooled results recomputed from the coded rows of data/reviews/.

The reference numbers are the ones the reviews printed (cited per test); the rows are the dataset's,
turned into yi/vi by the library. The same checks are tabulated in docs/data.md
("Published vs recomputed").
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from whatworks import md_from_ci, meta_analyze
from whatworks.data import load_reviews


@pytest.fixture(scope="module")
def effects():
    return load_reviews()


def test_meier2026_reproduces_every_printed_digit(effects):
    # Meier et al. 2026, JMIR 28:e80059; repository Lukas-Novak/The-effectiveness-of-technology-based-
    # interventions-on-the-reduction-of-loneliness-meta-analysis @2ec9b3a, data_and_code/main.html:
    # rma(yi, vi, method="REML", test="knha"): k = 7; estimate -0.2101, se 0.1536, t(6) = -1.3683,
    # p = 0.2202, CI -0.5859 to 0.1656; tau2 = 0.0759 (SE 0.0774); I2 = 57.44 %; H2 = 2.35;
    # Q(6) = 13.6839, p = 0.0334.
    rows = effects[(effects.review == "meier2026") & effects["pool"]]
    fit = meta_analyze(rows.yi, rows.vi, method="REML", test="knha")
    assert fit.k == 7 and fit.q_df == 6
    printed = {
        "estimate": -0.2101, "se": 0.1536, "stat": -1.3683, "pvalue": 0.2202, "ci_low": -0.5859,
        "ci_high": 0.1656, "tau2": 0.0759, "se_tau2": 0.0774, "q": 13.6839, "q_pvalue": 0.0334,
    }  # fmt: skip
    for name, value in printed.items():
        assert round(getattr(fit, name), 4) == value, name
    assert round(fit.i2, 2) == 57.44 and round(fit.h2, 2) == 2.35


# Teoh, Letchumanan & Lee 2021, Front Psychol 12:633319, Table 3 (per trial MD, 95% CI) and Table 4
# (main analysis: wait-list controls, UCLA-R; Creswell 2012, Dodds 2015, Mascaro 2018):
# MD -6.33 (-9.39, -3.26), I2 = 0 %.
TEOH_MAIN = ("creswell2012", "dodds2015", "mascaro2018")
TEOH_PUBLISHED = (-6.33, -9.39, -3.26)
#: Half a unit in the last printed digit of Table 3 (two decimals).
ROUNDING = 0.005
#: The documented gap between Table 4 and what Table 3 gives (0.067 MD points on the estimate, 1 % of
#: the CI width); it is larger than rounding can explain (see the strict xfail below), so it is
#: recorded as a discrepancy of the publication, not absorbed into a loose tolerance elsewhere.
TEOH_GAP = 0.1


def _teoh_rows(effects):
    rows = effects[(effects.review == "teoh2021") & effects.study_id.isin(TEOH_MAIN)]
    assert sorted(rows.study_id) == sorted(TEOH_MAIN)
    return rows


def _rounding_envelope(rows):
    """Pooled estimate and CI over every +/- ROUNDING perturbation of the printed MD and CI bounds."""
    base = rows[["es", "es_ci_low", "es_ci_high"]].to_numpy(float)
    out = []
    for signs in itertools.product((-ROUNDING, ROUNDING), repeat=base.size):
        md, lo, hi = (base + np.reshape(signs, base.shape)).T
        yi, vi = md_from_ci(md, lo, hi)
        fit = meta_analyze(yi, vi, method="EE")  # I2 = 0, tau2 = 0: EE and RE coincide
        out.append((fit.estimate, fit.ci_low, fit.ci_high))
    return np.min(out, axis=0), np.max(out, axis=0)


def test_teoh2021_main_analysis_recomputed(effects):
    rows = _teoh_rows(effects)
    assert (rows.metric == "MD").all()
    fit = meta_analyze(rows.yi, rows.vi, method="DL")
    assert fit.tau2 == 0 and fit.i2 == 0  # as published: I2 = 0 %
    got = (fit.estimate, fit.ci_low, fit.ci_high)
    np.testing.assert_allclose(got, TEOH_PUBLISHED, atol=TEOH_GAP)
    assert TEOH_PUBLISHED[1] < fit.estimate < TEOH_PUBLISHED[2]


@pytest.mark.xfail(strict=True, reason="Teoh 2021 Table 4 is not reproducible from its Table 3 within rounding")
def test_teoh2021_main_analysis_within_rounding(effects):
    low, high = _rounding_envelope(_teoh_rows(effects))
    # the envelope is about [-6.269, -6.256] for the estimate: -6.33 lies outside it
    assert np.all((low - 0.005 <= TEOH_PUBLISHED) & (TEOH_PUBLISHED <= high + 0.005))
