"""Conversions between effect-size scales: log odds ratio <-> SMD (logit method) and r -> Fisher z."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from whatworks._validation import check_positive
from whatworks.effects._core import EffectSize, _es, _arrays, _check_at_least, _check_between

__all__ = ["fisher_z", "or_to_smd", "smd_to_log_or"]

_LOGIT = np.sqrt(3) / np.pi  # SD of the standard logistic distribution is pi / sqrt(3)


def or_to_smd(yi: ArrayLike, vi: ArrayLike) -> EffectSize:
    """Convert log odds ratios to standardised mean differences (logit method).

    ``d = yi * sqrt(3) / pi`` and ``v_d = vi * 3 / pi**2`` (Hasselblad & Hedges, 1995; Borenstein
    et al., 2009, chapter 7). Equal to metafor's ``escalc(measure="OR2DL")`` for a 2x2 table.

    Parameters
    ----------
    yi : array_like
        Log odds ratios.
    vi : array_like
        Their sampling variances (> 0).

    Returns
    -------
    EffectSize
        ``(yi, vi)`` on the SMD scale, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, ``vi <= 0``.

    References
    ----------
    Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic tests.
    *Psychological Bulletin*, 117(1), 167-178.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009). *Introduction to
    Meta-Analysis*, chapter 7. Wiley.

    Examples
    --------
    >>> from whatworks.effects import or_to_smd
    >>> d, v = or_to_smd([0.9069], [0.0676])
    >>> print(np.round(d, 4), np.round(v, 4))
    [0.5] [0.0205]
    """
    yi, vi = _arrays(yi=yi, vi=vi)
    check_positive("vi", vi)
    return _es(yi * _LOGIT, vi * _LOGIT**2)


def smd_to_log_or(yi: ArrayLike, vi: ArrayLike) -> EffectSize:
    """Convert standardised mean differences to log odds ratios (logit method).

    ``log OR = yi * pi / sqrt(3)`` and ``v = vi * pi**2 / 3`` (Hasselblad & Hedges, 1995; Borenstein
    et al., 2009, chapter 7). Applied to Cohen's d with its ``vtype="LS"`` variance this equals
    metafor's ``escalc(measure="D2ORL")``; Hedges' g may be passed as well.

    Parameters
    ----------
    yi : array_like
        Standardised mean differences.
    vi : array_like
        Their sampling variances (> 0).

    Returns
    -------
    EffectSize
        ``(yi, vi)`` on the log odds ratio scale, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, ``vi <= 0``.

    References
    ----------
    See :func:`or_to_smd`.

    Examples
    --------
    >>> from whatworks.effects import smd_to_log_or
    >>> lor, v = smd_to_log_or([0.5], [0.0205])
    >>> print(np.round(lor, 4), np.round(v, 4))
    [0.9069] [0.0674]
    """
    yi, vi = _arrays(yi=yi, vi=vi)
    check_positive("vi", vi)
    return _es(yi / _LOGIT, vi / _LOGIT**2)


def fisher_z(r: ArrayLike, n: ArrayLike) -> EffectSize:
    """Fisher's r-to-z transformed correlation, as ``metafor::escalc(measure="ZCOR", ri, ni)``.

    ``yi = atanh(r) = log((1 + r)/(1 - r)) / 2`` and ``vi = 1/(n - 3)``.

    Parameters
    ----------
    r : array_like
        Correlation coefficients, strictly between -1 and 1.
    n : array_like
        Sample sizes, greater than 3 (at least 4).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        ``|r| >= 1``, ``n < 4``, non-numeric or non-finite input (with positions).

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from a
    small sample. *Metron*, 1, 3-32.

    Examples
    --------
    >>> from whatworks.effects import fisher_z
    >>> yi, vi = fisher_z([0.5, -0.2], [100, 28])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [ 0.5493 -0.2027] [0.0103 0.04  ]
    """
    r, n = _arrays(r=r, n=n)
    _check_between("r", r, -1, 1, closed=False)
    _check_at_least("n", n, 4, "vi = 1/(n - 3) needs n > 3")
    return _es(np.arctanh(r), 1 / (n - 3))
