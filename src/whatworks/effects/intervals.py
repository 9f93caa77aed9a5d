"""Effect sizes from a reported point estimate and its confidence interval.

The standard error is recovered from the interval width as the Cochrane Handbook describes
(Higgins, Li & Deeks, chapter 6 of the Cochrane Handbook for Systematic Reviews of Interventions,
version 6): SE = (upper - lower) / (2 q), with q the quantile that built the interval
(1.96 for a 95% normal interval, hence the Handbook's "divide by 3.92").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri, stdtrit

from whatworks._validation import check_level, check_option, check_positive
from whatworks.effects._core import EffectSize, _es, _arrays, _check_group_sizes, _check_interval, _smd_from_d

__all__ = ["log_or_from_ci", "md_from_ci", "smd_from_md_ci"]


def _z(level: float) -> float:
    return float(ndtri(1 - (1 - check_level(level)) / 2))


def md_from_ci(md: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, *, level: float = 0.95) -> EffectSize:
    """Raw mean difference and its variance from a reported confidence interval.

    ``yi = md`` and ``vi = ((ci_high - ci_low) / (2 z))**2`` with z the standard normal quantile
    for ``level`` (Cochrane Handbook, section 6.3.1, absolute measures; a large-sample interval).

    Parameters
    ----------
    md : array_like
        Reported mean difference (group 1 minus group 2).
    ci_low, ci_high : array_like
        Reported confidence limits; they must bracket ``md``.
    level : float, default 0.95
        Confidence level of the reported interval (0.95 or 95 both accepted).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, ``ci_high <= ci_low``, or an interval that does not
        contain ``md`` (with positions).

    Examples
    --------
    >>> from whatworks.effects import md_from_ci
    >>> yi, vi = md_from_ci([3.8, -1.0], [1.2, -2.96], [6.4, 0.96])
    >>> print(yi, np.round(vi, 4))
    [ 3.8 -1. ] [1.7597 1.    ]
    """
    md, lo, hi = _arrays(md=md, ci_low=ci_low, ci_high=ci_high)
    _check_interval("md", md, lo, hi)
    return _es(md, ((hi - lo) / (2 * _z(level))) ** 2)


def smd_from_md_ci(
    md: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, n1: ArrayLike, n2: ArrayLike,
    *, level: float = 0.95, dist: str = "t",
) -> EffectSize:
    """Standardised mean difference (Hedges' g) from a raw mean difference, its CI and group sizes.

    Cochrane Handbook, section 6.5.2.3 (obtaining standard deviations from confidence intervals
    for differences in means): ``SE = (ci_high - ci_low) / (2 q)`` with q the t quantile on
    ``n1 + n2 - 2`` df (``dist="t"``, the Handbook's advice for small trials) or the normal
    quantile (``dist="z"``); the pooled within-group SD is ``SE / sqrt(1/n1 + 1/n2)``;
    ``d = md / SD``; then Hedges' correction and the variance as in :func:`smd`
    (escalc "SMD", ``vtype="LS"``).

    Parameters
    ----------
    md : array_like
        Reported mean difference (group 1 minus group 2).
    ci_low, ci_high : array_like
        Its confidence limits; they must bracket ``md``.
    n1, n2 : array_like
        Group sizes (at least 2 each).
    level : float, default 0.95
        Confidence level of the reported interval.
    dist : {"t", "z"}, default "t"
        Distribution the interval was built with.

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Bad values (with positions), an interval that does not contain ``md``, unknown ``dist``.

    Examples
    --------
    A trial with 25 and 22 participants, mean difference 3.8 (95% CI 1.2 to 6.4, t-based):

    >>> from whatworks.effects import smd_from_md_ci
    >>> yi, vi = smd_from_md_ci(3.8, 1.2, 6.4, n1=25, n2=22)
    >>> print(np.round(yi, 4), np.round(vi, 4))
    0.8461 0.0931
    """
    md, lo, hi, n1, n2 = _arrays(md=md, ci_low=ci_low, ci_high=ci_high, n1=n1, n2=n2)
    check_option("dist", dist, ("t", "z"))
    level = check_level(level)
    _check_interval("md", md, lo, hi)
    _check_group_sizes(n1, n2)
    q = stdtrit(n1 + n2 - 2, 1 - (1 - level) / 2) if dist == "t" else _z(level)
    sd_pooled = (hi - lo) / (2 * q) / np.sqrt(1 / n1 + 1 / n2)
    return _smd_from_d(md / sd_pooled, n1, n2, correct=True)


def log_or_from_ci(
    odds_ratio: ArrayLike, ci_low: ArrayLike, ci_high: ArrayLike, *, level: float = 0.95
) -> EffectSize:
    """Log odds ratio and its variance from a reported odds ratio and confidence interval.

    ``yi = log(odds_ratio)``, ``vi = ((log(ci_high) - log(ci_low)) / (2 z))**2`` (Cochrane Handbook,
    section 6.3.2, ratio measures: the interval is symmetric on the log scale). The width is used,
    not the distance to one limit, so a rounded, slightly asymmetric reported interval is fine.

    Parameters
    ----------
    odds_ratio : array_like
        Reported odds ratio (> 0).
    ci_low, ci_high : array_like
        Its confidence limits (> 0); they must bracket ``odds_ratio``.
    level : float, default 0.95
        Confidence level of the reported interval.

    Returns
    -------
    EffectSize
        ``(yi, vi)`` on the log odds ratio scale, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-positive or non-finite values, ``ci_high <= ci_low``, or an interval that does not
        contain the odds ratio (with positions).

    Examples
    --------
    >>> from whatworks.effects import log_or_from_ci
    >>> yi, vi = log_or_from_ci([2.0, 0.5], [1.2, 0.25], [3.33, 1.0])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [ 0.6931 -0.6931] [0.0678 0.1251]
    """
    odds, lo, hi = _arrays(odds_ratio=odds_ratio, ci_low=ci_low, ci_high=ci_high)
    for name, arr in (("odds_ratio", odds), ("ci_low", lo), ("ci_high", hi)):
        check_positive(name, arr)
    _check_interval("odds_ratio", odds, lo, hi)
    return _es(np.log(odds), ((np.log(hi) - np.log(lo)) / (2 * _z(level))) ** 2)
