"""Henmi & Copas (2010) confidence interval: :func:`henmi_copas`, as metafor's ``hc(fit)``.

The point estimate is the common-effect (inverse-variance) mean, which small-study effects pull less than
the random-effects mean; its standard error allows for heterogeneity (DerSimonian-Laird tau², computed
here whatever the fit's method, as metafor), and the interval's width comes from the exact distribution
of the standardised estimate given Q (a gamma approximation of Q's conditional distribution) instead of
the normal quantile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ._shown import Shown
from .influence import _check_fit
from .results import MetaResult


@dataclass(frozen=True, repr=False)
class HenmiCopasResult(Shown):
    """Result of :func:`henmi_copas` (metafor ``hc()``): the common-effect ``estimate``, its ``se``
    allowing for ``tau2`` (DerSimonian-Laird), the Henmi-Copas CI at ``level``, and the fit's own
    estimate and CI for comparison."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    estimate_fit: float
    ci_low_fit: float
    ci_high_fit: float
    k: int
    level: float
    method_fit: str

    def to_frame(self) -> pd.DataFrame:
        """Two rows, "Henmi-Copas" (tau2 by DL) and the fit's method: estimate, se, ci_low, ci_high, tau2."""
        return pd.DataFrame([
            {"method": "Henmi-Copas", "estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
             "ci_high": self.ci_high, "tau2": self.tau2},
            {"method": self.method_fit, "estimate": self.estimate_fit, "se": np.nan, "ci_low": self.ci_low_fit,
             "ci_high": self.ci_high_fit, "tau2": np.nan},
        ])  # fmt: skip

    def _title(self) -> str:
        return f"Henmi-Copas confidence interval (k = {self.k}, {100 * self.level:g}%)"

    def _key(self) -> tuple[str, ...]:
        return ("estimate", "ci_low", "ci_high")


def henmi_copas(fit: MetaResult) -> HenmiCopasResult:
    """Henmi & Copas' robust confidence interval for the pooled effect, as metafor's ``hc(fit)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` with k >= 2 (its ``yi``, ``vi``, ``level``).

    Returns
    -------
    HenmiCopasResult

    Examples
    --------
    >>> from whatworks import meta_analyze, henmi_copas
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> hc = henmi_copas(fit)
    >>> bool(hc.ci_low < hc.estimate < hc.ci_high), bool(hc.ci_high - hc.ci_low > 2 * 1.96 * hc.se)
    (True, True)
    """
    from scipy import integrate, optimize  # slow to import: only for this analysis

    fit = _check_fit(fit, 2, "henmi_copas")
    yi, vi, k = fit.yi, fit.vi, fit.k
    w = 1 / vi
    W1 = w.sum()
    W2, W3, W4 = (w**2).sum() / W1, (w**3).sum() / W1, (w**4).sum() / W1
    beta = float(np.sum(w * yi) / W1)
    Q = float(np.sum(w * (yi - beta) ** 2))
    tau2 = max(0.0, (Q - (k - 1)) / (W1 - W2))
    se = float(np.sqrt((tau2 * W2 + 1) / W1))
    VR = 1 + tau2 * W2
    SDR = np.sqrt(VR)

    def eq(r):  # E[Q | r] and Var[Q | r] (Henmi & Copas 2010, appendix)
        c = r**2 / VR**2 - 1 / VR
        return (k - 1) + tau2 * (W1 - W2) + tau2**2 * c * (W3 - W2**2)

    def vq(r):
        c = r**2 / VR**2 - 1 / VR
        return (2 * (k - 1) + 4 * tau2 * (W1 - W2) + 2 * tau2**2 * (W1 * W2 - 2 * W3 + W2**2)
                + 4 * tau2**2 * c * (W3 - W2**2) + 4 * tau2**3 * c * (W4 - 2 * W2 * W3 + W2**3)
                + 2 * tau2**4 * (1 / VR**2 - 2 * r**2 / VR**3) * (W3 - W2**2) ** 2)  # fmt: skip

    def finv(f):
        return (W1 / W2 - 1) * (f**2 - 1) + (k - 1)

    alpha = 1 - fit.level

    def eqn(x: float) -> float:
        if x == 0:
            return 0.5 - alpha / 2
        def integrand(r):
            e, var = eq(SDR * r), vq(SDR * r)
            return special.gammainc(e**2 / var, finv(r / x) / (var / e)) * np.exp(-r * r / 2) / np.sqrt(2 * np.pi)
        return integrate.quad(integrand, x, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)[0] - alpha / 2

    t0 = optimize.brentq(eqn, 0.0, 2.0, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500)
    u0 = SDR * t0
    return HenmiCopasResult(beta, se, beta - u0 * se, beta + u0 * se, tau2, fit.estimate, fit.ci_low, fit.ci_high, k,
                            fit.level, fit.method)  # fmt: skip
