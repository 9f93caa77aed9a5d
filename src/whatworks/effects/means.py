"""Standardised mean differences (two groups) and standardised mean changes (pre-post).

All functions follow metafor's ``escalc()`` exactly (measures "SMD", "SMCC", "SMCR"; default
``vtype="LS"``; exact Hedges correction J), so their ``(yi, vi)`` equal escalc's to rounding error.
Group 1 is the treatment group: a positive ``yi`` means the treatment group scored higher.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from whatworks._validation import check_positive
from whatworks.effects._core import (
    EffectSize,
    _es,
    _arrays,
    _check_at_least,
    _check_between,
    _check_group_sizes,
    _raise_where,
    _smd_from_d,
    hedges_correction,
)

__all__ = ["smcc", "smcr", "smd", "smd_from_d", "smd_from_f", "smd_from_t"]


def smd(
    m1: ArrayLike, sd1: ArrayLike, n1: ArrayLike, m2: ArrayLike, sd2: ArrayLike, n2: ArrayLike,
    *, correct: bool = True,
) -> EffectSize:
    """Standardised mean difference (Hedges' g) from group means, SDs and sizes.

    Same as ``metafor::escalc(measure="SMD", m1i, sd1i, n1i, m2i, sd2i, n2i)``:
    ``d = (m1 - m2) / s_pooled`` with ``s_pooled**2 = ((n1-1) sd1**2 + (n2-1) sd2**2) / (n1+n2-2)``,
    ``yi = J(n1+n2-2) * d`` with the exact correction :func:`hedges_correction`, and
    ``vi = 1/n1 + 1/n2 + yi**2 / (2 (n1+n2))`` (escalc's default ``vtype="LS"``).

    Parameters
    ----------
    m1, sd1, n1 : array_like
        Mean, standard deviation and size of group 1 (treatment).
    m2, sd2, n2 : array_like
        The same for group 2 (control). All inputs broadcast against each other.
    correct : bool, default True
        Apply Hedges' correction. ``False`` gives Cohen's d with ``vi`` computed from d.

    Returns
    -------
    EffectSize
        ``(yi, vi)`` as float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, ``sd <= 0``, group size below 2, or shapes that do not
        broadcast; the message names the argument and the positions.

    References
    ----------
    Hedges, L. V. (1981). *Journal of Educational Statistics*, 6(2), 107-128.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software*, 36(3).

    Examples
    --------
    The first two studies of metadat's ``dat.normand1999`` (escalc gives the same numbers):

    >>> from whatworks.effects import smd
    >>> yi, vi = smd(m1=[55, 27], sd1=[47, 7], n1=[155, 31], m2=[75, 29], sd2=[64, 4], n2=[156, 32])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [-0.3552 -0.3479] [0.0131 0.0645]
    """
    m1, sd1, n1, m2, sd2, n2 = _arrays(m1=m1, sd1=sd1, n1=n1, m2=m2, sd2=sd2, n2=n2)
    check_positive("sd1", sd1)
    check_positive("sd2", sd2)
    _check_group_sizes(n1, n2)
    pooled = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    return _smd_from_d((m1 - m2) / pooled, n1, n2, correct=correct)


def smd_from_d(d: ArrayLike, n1: ArrayLike, n2: ArrayLike, *, already_hedges: bool = False) -> EffectSize:
    """Standardised mean difference from a reported Cohen's d (or Hedges' g) and group sizes.

    Matches ``metafor::escalc(measure="SMD", di=d, n1i=n1, n2i=n2)``, which treats ``di`` as an
    *uncorrected* Cohen's d: ``yi = J(n1+n2-2) * d`` and ``vi = 1/n1 + 1/n2 + yi**2/(2(n1+n2))``.
    If the paper already reports Hedges' g, pass ``already_hedges=True``: then ``yi = g`` (no second
    correction) and ``vi`` is the same formula, i.e. what escalc gives for the d behind that g.

    Parameters
    ----------
    d : array_like
        Cohen's d (group 1 minus group 2, pooled-SD standardised), or Hedges' g.
    n1, n2 : array_like
        Group sizes (at least 2 each).
    already_hedges : bool, default False
        ``True`` if ``d`` is already bias-corrected (Hedges' g).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, group size below 2, shapes that do not broadcast.

    Examples
    --------
    >>> from whatworks.effects import smd_from_d
    >>> yi, vi = smd_from_d([0.2, -0.45], n1=[20, 35], n2=[22, 30])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [ 0.1962 -0.4446] [0.0959 0.0634]
    """
    d, n1, n2 = _arrays(d=d, n1=n1, n2=n2)
    _check_group_sizes(n1, n2)
    return _smd_from_d(d, n1, n2, correct=not already_hedges)


def smd_from_t(t: ArrayLike, n1: ArrayLike, n2: ArrayLike) -> EffectSize:
    """Standardised mean difference from an independent-samples t statistic and group sizes.

    ``d = t * sqrt(1/n1 + 1/n2)``, then as :func:`smd_from_d`; identical to
    ``metafor::escalc(measure="SMD", ti=t, n1i=n1, n2i=n2)``. The sign of ``t`` must follow the
    convention group 1 minus group 2 (treatment minus control).

    Parameters
    ----------
    t : array_like
        Student's t from the pooled-variance two-sample t-test.
    n1, n2 : array_like
        Group sizes (at least 2 each).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, group size below 2, shapes that do not broadcast.

    Examples
    --------
    >>> from whatworks.effects import smd_from_t
    >>> yi, vi = smd_from_t([0.85, -2.10], n1=[20, 35], n2=[22, 30])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [ 0.2577 -0.5162] [0.0962 0.064 ]
    """
    t, n1, n2 = _arrays(t=t, n1=n1, n2=n2)
    _check_group_sizes(n1, n2)
    return _smd_from_d(t * np.sqrt(1 / n1 + 1 / n2), n1, n2, correct=True)


def smd_from_f(f: ArrayLike, n1: ArrayLike, n2: ArrayLike, *, sign: ArrayLike) -> EffectSize:
    """Standardised mean difference from a two-group F statistic (1 numerator df) and group sizes.

    With one numerator degree of freedom ``F = t**2``, so ``t = sign * sqrt(F)`` and the result is
    :func:`smd_from_t`. An F statistic carries no direction: ``sign`` is required and must say, for
    every study, whether group 1 (treatment) scored higher (``+1``) or lower (``-1``) than group 2,
    as read from the paper's means or text. Only valid for a one-way comparison of two groups
    (numerator df = 1, denominator df = n1 + n2 - 2).

    Parameters
    ----------
    f : array_like
        F statistics, ``>= 0``.
    n1, n2 : array_like
        Group sizes (at least 2 each).
    sign : array_like
        ``+1`` or ``-1`` per study: direction of group 1 minus group 2.

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Negative F, ``sign`` other than +1/-1, group size below 2, non-numeric or non-finite
        input, shapes that do not broadcast.

    Examples
    --------
    >>> from whatworks.effects import smd_from_f
    >>> yi, vi = smd_from_f([4.41, 4.41], n1=35, n2=30, sign=[1, -1])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [ 0.5162 -0.5162] [0.064 0.064]
    """
    f, n1, n2, sign = _arrays(f=f, n1=n1, n2=n2, sign=sign)
    check_positive("f", f, strict=False)
    _raise_where((sign != 1) & (sign != -1), "sign must be +1 or -1 (direction of group 1 minus group 2)")
    _check_group_sizes(n1, n2)
    t = sign * np.sqrt(f)
    return _smd_from_d(t * np.sqrt(1 / n1 + 1 / n2), n1, n2, correct=True)


def _smc_from_d(d: np.ndarray, n: np.ndarray, v0: np.ndarray, *, correct: bool) -> EffectSize:
    """A standardised mean change from the uncorrected one: ``yi = J(n-1) d`` (or ``d``) and
    ``vi = v0 + yi**2/(2n)``, ``v0`` being the measure's first variance term (escalc ``vtype="LS"``)."""
    yi = hedges_correction(n - 1) * d if correct else d
    return _es(yi, v0 + yi**2 / (2 * n))


def _check_change_inputs(n: np.ndarray, r: np.ndarray, correct: bool) -> None:
    if correct:
        _check_at_least("n", n, 3, "Hedges' correction needs n - 1 > 1")
    else:
        _check_at_least("n", n, 2, "sample size")
    _check_between("r", r, -1, 1)


def smcc(
    m_post: ArrayLike, m_pre: ArrayLike, sd_post: ArrayLike, sd_pre: ArrayLike, n: ArrayLike, r: ArrayLike,
    *, correct: bool = True,
) -> EffectSize:
    """Standardised mean change with change-score standardisation (pre-post, one group).

    Same as ``metafor::escalc(measure="SMCC", m1i=m_post, m2i=m_pre, sd1i=sd_post, sd2i=sd_pre,
    ni=n, ri=r)``: ``sd_change = sqrt(sd_post**2 + sd_pre**2 - 2 r sd_post sd_pre)``,
    ``yi = J(n-1) * (m_post - m_pre) / sd_change`` and ``vi = 1/n + yi**2/(2n)`` (metafor 3.8's
    ``vtype="LS"``; checked against metafor 3.8.1).

    Parameters
    ----------
    m_post, m_pre : array_like
        Post-test and pre-test means.
    sd_post, sd_pre : array_like
        Post-test and pre-test standard deviations (> 0).
    n : array_like
        Number of participants measured at both times (>= 3 with the correction).
    r : array_like
        Pre-post correlation, in [-1, 1].
    correct : bool, default True
        Apply Hedges' correction J(n - 1).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Bad values (with positions), including SDs and r that imply a zero SD of the change scores.

    References
    ----------
    Gibbons, R. D., Hedeker, D. R., & Davis, J. M. (1993). Estimation of effect size from a series
    of experiments involving paired comparisons. *Journal of Educational Statistics*, 18(3), 271-279.

    Examples
    --------
    Two treatment groups from Morris (2008) (escalc gives the same numbers):

    >>> from whatworks.effects import smcc
    >>> yi, vi = smcc(m_post=[38.5, 26.8], m_pre=[30.6, 23.5], sd_post=[11.6, 4.1],
    ...               sd_pre=[15.0, 3.1], n=[20, 50], r=[0.47, 0.64])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [0.5417 1.0198] [0.0573 0.0304]
    """
    m_post, m_pre, sd_post, sd_pre, n, r = _arrays(
        m_post=m_post, m_pre=m_pre, sd_post=sd_post, sd_pre=sd_pre, n=n, r=r
    )
    check_positive("sd_post", sd_post)
    check_positive("sd_pre", sd_pre)
    _check_change_inputs(n, r, correct)
    var_change = sd_post**2 + sd_pre**2 - 2 * r * sd_post * sd_pre
    _raise_where(
        var_change <= 1e-12 * (sd_post**2 + sd_pre**2),
        "sd_post, sd_pre and r imply a zero SD of the change scores (r = 1 with equal SDs)",
    )
    return _smc_from_d((m_post - m_pre) / np.sqrt(var_change), n, 1 / n, correct=correct)


def smcr(
    m_post: ArrayLike, m_pre: ArrayLike, sd_pre: ArrayLike, n: ArrayLike, r: ArrayLike,
    *, correct: bool = True,
) -> EffectSize:
    """Standardised mean change with raw-score (pre-test SD) standardisation (pre-post, one group).

    Same as ``metafor::escalc(measure="SMCR", m1i=m_post, m2i=m_pre, sd1i=sd_pre, ni=n, ri=r)``:
    ``yi = J(n-1) * (m_post - m_pre) / sd_pre`` and ``vi = 2 (1 - r)/n + yi**2/(2n)``.

    Parameters
    ----------
    m_post, m_pre : array_like
        Post-test and pre-test means.
    sd_pre : array_like
        Pre-test standard deviation (> 0).
    n : array_like
        Number of participants measured at both times (>= 3 with the correction).
    r : array_like
        Pre-post correlation, in [-1, 1].
    correct : bool, default True
        Apply Hedges' correction J(n - 1).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, ``sd_pre <= 0``, too small ``n``, ``r`` outside [-1, 1].

    References
    ----------
    Becker, B. J. (1988). Synthesizing standardized mean-change measures. *British Journal of
    Mathematical and Statistical Psychology*, 41(2), 257-278.
    Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group designs.
    *Organizational Research Methods*, 11(2), 364-386.

    Examples
    --------
    Two treatment groups from Morris (2008) (escalc gives the same numbers):

    >>> from whatworks.effects import smcr
    >>> yi, vi = smcr(m_post=[38.5, 26.8], m_pre=[30.6, 23.5], sd_pre=[15.0, 3.1], n=[20, 50], r=[0.47, 0.64])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [0.5056 1.0481] [0.0594 0.0254]
    """
    m_post, m_pre, sd_pre, n, r = _arrays(m_post=m_post, m_pre=m_pre, sd_pre=sd_pre, n=n, r=r)
    check_positive("sd_pre", sd_pre)
    _check_change_inputs(n, r, correct)
    return _smc_from_d((m_post - m_pre) / sd_pre, n, 2 * (1 - r) / n, correct=correct)
