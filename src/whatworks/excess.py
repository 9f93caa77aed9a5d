"""Test of excess significance (Ioannidis & Trikalinos 2007): :func:`excess_significance`, as metafor's
``tes(fit)``.

Each study's power to reach significance is computed at the pooled estimate (and, when tau² > 0,
averaged over the distribution of true effects ``N(theta, tau2)``, integrated over theta +- 5 tau as
metafor does); the observed number of significant studies O is compared with the expected number
E = sum(power) by an exact Poisson-binomial test, or a chi-square test when the exact one would need
more than 10^6 terms (metafor's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._shown import Shown
from .influence import _check_fit
from .results import MetaResult, _freeze

ALTERNATIVES = ("two.sided", "greater", "less")
TESTS = ("exact", "chi2", "binom")
_GL_X, _GL_W = np.polynomial.legendre.leggauss(200)


@dataclass(frozen=True, repr=False)
class ExcessResult(Shown):
    """Result of :func:`excess_significance` (metafor ``tes()``).

    Attributes
    ----------
    observed, expected, ratio : int, float, float
        Number of significant studies, the number expected from their power, and O / E.
    test : {"exact", "chi2", "binom"}
        The test of O against E; ``stat`` is the chi-square statistic (NaN for the other tests).
    pvalue : float
        p-value of the test (``tes_alternative``: "greater" tests for excess significance).
    power, significant : ndarray
        Per study: power at ``theta`` (and tau2), and whether the study is significant.
    theta, tau2 : float
        The effect and heterogeneity at which power is computed (the fit's).
    """

    observed: int
    expected: float
    ratio: float
    test: str
    stat: float
    pvalue: float
    power: np.ndarray
    significant: np.ndarray
    theta: float
    tau2: float
    k: int
    alpha: float
    alternative: str
    tes_alternative: str
    labels: tuple[str, ...] = field(repr=False, default=())

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row: k, observed, expected, ratio, test, stat, pvalue, theta, tau2."""
        cols = ("k", "observed", "expected", "ratio", "test", "stat", "pvalue", "theta", "tau2")
        return pd.DataFrame([{c: getattr(self, c) for c in cols}])

    def study_frame(self) -> pd.DataFrame:
        """One row per study: label, power, significant."""
        return pd.DataFrame({"label": list(self.labels), "power": self.power, "significant": self.significant})

    def _title(self) -> str:
        return (f"Test of excess significance: {self.observed} significant studies observed, "
                f"{self.expected:.2f} expected (k = {self.k}; {self.test} test, p = {self.pvalue:.4f})")  # fmt: skip

    def _key(self) -> tuple[str, ...]:
        return ("observed", "expected", "pvalue")


def _power(theta: float, tau2: float, sei: np.ndarray, crit: float, alternative: str, h0: float) -> np.ndarray:
    def pw(x):  # power of each study at true effect x (broadcast)
        m = (x - h0) / sei
        if alternative == "two.sided":
            return _dist.norm_sf(crit - m) + _dist.norm_cdf(-crit - m)
        return _dist.norm_sf(crit - m) if alternative == "greater" else _dist.norm_cdf(crit - m)

    if tau2 <= 0:
        return pw(theta)
    tau = np.sqrt(tau2)
    x = theta + 5 * tau * _GL_X  # metafor integrates over theta +- 5 tau
    dens = np.exp(-0.5 * ((x - theta) / tau) ** 2) / (tau * np.sqrt(2 * np.pi))
    return (pw(x[:, None]) * (dens * _GL_W * 5 * tau)[:, None]).sum(0)


def _poisson_binomial(p: np.ndarray) -> np.ndarray:
    """P(X = j), j = 0..k, for X a sum of independent Bernoulli(p_i)."""
    pmf = np.zeros(p.size + 1)
    pmf[0] = 1.0
    for i, pi in enumerate(p):
        pmf[1 : i + 2] = pmf[1 : i + 2] * (1 - pi) + pmf[: i + 1] * pi
        pmf[0] *= 1 - pi
    return pmf


def excess_significance(
    fit: MetaResult,
    *,
    alpha: float = 0.05,
    alternative: str = "two.sided",
    tes_alternative: str = "greater",
    test: str | None = None,
    h0: float = 0.0,
) -> ExcessResult:
    """Test of excess significance, as metafor's ``tes(fit)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze`: power is computed at its estimate and tau².
    alpha, alternative : float, {"two.sided", "greater", "less"}
        When a study counts as significant: the level and direction of its z test of ``h0``.
    tes_alternative : {"greater", "two.sided", "less"}
        Direction of the test of O against E; "greater" (metafor's default) tests for more
        significant studies than expected.
    test : {"exact", "chi2", "binom"}, optional
        Default: exact when the sum over outcomes has at most 10^6 terms, else chi-square (metafor).
    h0 : float
        The null value of the studies' tests.

    Returns
    -------
    ExcessResult

    Examples
    --------
    >>> from whatworks import meta_analyze, excess_significance
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> res = excess_significance(fit)
    >>> res.observed, res.test
    (5, 'exact')
    """
    fit = _check_fit(fit, 1, "excess_significance")
    alternative = v.check_option("alternative", alternative, ALTERNATIVES)
    tes_alternative = v.check_option("tes_alternative", tes_alternative, ALTERNATIVES)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    sei = np.sqrt(fit.vi)
    crit = float(_dist.norm_ppf(1 - alpha / 2 if alternative == "two.sided" else 1 - alpha))
    if alternative == "less":
        crit = -crit
    zi = (fit.yi - h0) / sei
    sig = np.abs(zi) >= crit if alternative == "two.sided" else (zi >= crit if alternative == "greater" else zi <= crit)
    power = _power(fit.estimate, fit.tau2, sei, crit, alternative, h0)
    k, O, E = fit.k, int(sig.sum()), float(power.sum())
    js = range(O, k + 1) if tes_alternative == "greater" else range(0, O + 1) if tes_alternative == "less" else range(k + 1)
    if test is None:
        test = "exact" if sum(comb(k, j) for j in js) <= 10**6 else "chi2"
    test = v.check_option("test", test, TESTS)
    stat = np.nan
    if test == "exact":
        pmf = _poisson_binomial(power)
        if tes_alternative == "two.sided":
            p = float(pmf[pmf <= pmf[O] + np.finfo(float).eps ** 0.5].sum())
        else:
            p = float(pmf[list(js)].sum())
    elif test == "chi2":  # R's prop.test(O, k, p = E/k, correct = FALSE)
        pe = E / k
        stat = (O - E) ** 2 / (E * (1 - pe))
        z = np.sign(O / k - pe) * np.sqrt(stat)
        p = float(_dist.chi2_sf(stat, 1) if tes_alternative == "two.sided"
                  else _dist.norm_sf(z) if tes_alternative == "greater" else _dist.norm_cdf(z))  # fmt: skip
    else:
        from scipy import stats  # slow to import: only for this test

        p = float(stats.binomtest(O, k, E / k, alternative=tes_alternative).pvalue)
    return ExcessResult(O, E, O / E, test, float(stat), min(p, 1.0), power, sig, fit.estimate, fit.tau2, k, alpha,
                        alternative, tes_alternative, tuple(fit.labels))  # fmt: skip
