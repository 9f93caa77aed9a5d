"""Fail-safe N: :func:`fail_safe_n`, as metafor's ``fsn()`` (Rosenthal 1979, Orwin 1983, Rosenberg 2005).

The number of unpublished null studies that would have to exist to bring the combined result down to
non-significance (Rosenthal, Rosenberg) or to a target effect (Orwin). It assumes the missing studies
average a null effect and ignores heterogeneity, and the Cochrane Handbook does not recommend it (version
5.1, section 10.4.4.3). Reported for completeness and comparison with older reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._shown import Shown
from .influence import _check_fit
from .results import MetaResult

METHODS = ("Rosenthal", "Orwin", "Rosenberg")


@dataclass(frozen=True, repr=False)
class FailSafeResult(Shown):
    """Result of :func:`fail_safe_n` (metafor ``fsn()``).

    ``fsn`` is the fail-safe number (``inf`` when Orwin's target is 0); ``pvalue`` the combined
    one-sided (Rosenthal, Stouffer's z) or two-sided (Rosenberg, common-effect z) p-value of the
    observed studies; ``mean_effect`` and ``target`` Orwin's and Rosenberg's average effect and
    Orwin's target (NaN where not used).
    """

    method: str
    fsn: float
    alpha: float
    pvalue: float
    mean_effect: float
    target: float
    k: int

    def to_frame(self) -> pd.DataFrame:
        """One row: method, fsn, alpha, pvalue, mean_effect, target, k."""
        cols = ("method", "fsn", "alpha", "pvalue", "mean_effect", "target", "k")
        return pd.DataFrame([{c: getattr(self, c) for c in cols}])

    def _title(self) -> str:
        return f"Fail-safe N ({self.method}): {self.fsn:g} (k = {self.k})"

    def _key(self) -> tuple[str, ...]:
        return ("method", "fsn", "pvalue")


def fail_safe_n(
    fit: MetaResult,
    method: str = "Rosenthal",
    *,
    alpha: float = 0.05,
    target: float | None = None,
    weighted: bool = False,
) -> FailSafeResult:
    """Fail-safe N, as metafor's ``fsn(yi, vi, type=method)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` (its ``yi`` and ``vi`` are used).
    method : {"Rosenthal", "Orwin", "Rosenberg"}
        Rosenthal: Stouffer's combined z against the one-sided ``alpha``. Orwin: the number of null
        studies that bring the mean effect to ``target``. Rosenberg: the weighted (common-effect) mean
        against the two-sided ``alpha``.
    alpha : float
        Significance level (Rosenthal, Rosenberg).
    target : float, optional
        Orwin's target effect; default half the mean effect (metafor), with the mean's sign.
    weighted : bool
        Orwin: inverse-variance weighted mean instead of the unweighted one (metafor's default False).

    Returns
    -------
    FailSafeResult

    Examples
    --------
    >>> from whatworks import meta_analyze, fail_safe_n
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> fail_safe_n(fit, "Orwin").fsn
    10.0
    """
    fit = _check_fit(fit, 1, "fail_safe_n")
    method = v.check_option("method", method, METHODS)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    yi, vi, k = fit.yi, fit.vi, fit.k
    pvalue = mean = tgt = np.nan
    if method == "Rosenthal":
        z_avg = abs(np.sum(yi / np.sqrt(vi)) / np.sqrt(k))
        pvalue = float(_dist.norm_sf(z_avg))
        n = max(0.0, k * (z_avg / _dist.norm_ppf(1 - alpha)) ** 2 - k)
    elif method == "Orwin":
        mean = float(np.sum(yi / vi) / np.sum(1 / vi)) if weighted else float(np.mean(yi))
        tgt = mean / 2 if target is None else float(target)
        if tgt == 0:
            n = np.inf
        else:
            tgt = -tgt if np.sign(tgt) != np.sign(mean) else tgt
            n = max(0.0, k * (mean - tgt) / tgt)
    else:
        w = 1 / vi
        mean = float(np.sum(w * yi) / np.sum(w))
        pvalue = float(2 * _dist.norm_sf(abs(mean / np.sqrt(1 / np.sum(w)))))
        wp = (np.sum(w * yi) / _dist.norm_ppf(1 - alpha / 2)) ** 2 - np.sum(w)
        n = max(0.0, k * wp / np.sum(w))
    if np.isfinite(n):  # metafor: round up unless n is (numerically) a whole number
        n = float(np.ceil(n) if abs(n - round(n)) >= np.finfo(float).eps ** 0.5 else round(n))
    return FailSafeResult(method, float(n), alpha, pvalue, mean, tgt, k)
