"""Shared pieces of the effect-size functions: the result type, input handling, Hedges' correction.

Everything here is pure: arrays in, arrays out. Input checks raise :class:`ValueError` naming the
argument, the problem and the offending (0-based, flattened) positions of the broadcast inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import gammaln

from whatworks._validation import as_float_array, check_finite, positions

__all__ = ["EffectSize", "hedges_correction"]


class EffectSize(NamedTuple):
    """Effect sizes and their sampling variances, as metafor's ``escalc`` returns them.

    Attributes
    ----------
    yi : numpy.ndarray
        Effect sizes (float, the broadcast shape of the inputs).
    vi : numpy.ndarray
        Sampling variances of ``yi`` (same shape).

    Examples
    --------
    >>> from whatworks.effects import EffectSize
    >>> es = EffectSize(yi=np.array([0.1, 0.2]), vi=np.array([0.01, 0.02]))
    >>> yi, vi = es
    >>> es.to_frame()
        yi    vi
    0  0.1  0.01
    1  0.2  0.02
    """

    yi: np.ndarray
    vi: np.ndarray

    def to_frame(self):  # -> pandas.DataFrame (pandas imported lazily to keep import fast)
        """Return a ``pandas.DataFrame`` with columns ``yi`` and ``vi`` (one row per element)."""
        import pandas as pd

        return pd.DataFrame({"yi": np.ravel(self.yi), "vi": np.ravel(self.vi)})


def _es(yi: object, vi: object) -> EffectSize:
    """Build the result, keeping 0-d inputs as 0-d float arrays (numpy turns them into scalars)."""
    return EffectSize(np.asarray(yi, dtype=float), np.asarray(vi, dtype=float))


def _arrays(**named: object) -> list[np.ndarray]:
    """Convert the named inputs to finite float arrays broadcast to one shape (writeable copies)."""
    arrays = {name: as_float_array(name, value, ndim=None) for name, value in named.items()}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {a.shape}" for name, a in arrays.items())
        raise ValueError(f"arguments cannot be broadcast to a common shape; got shapes {shapes}") from None
    out = [np.array(np.broadcast_to(a, shape), dtype=float) for a in arrays.values()]
    for name, a in zip(arrays, out):
        check_finite(name, a)
    return out


def _scalar(name: str, value: object) -> float:
    """Accept one finite number (an option such as ``add``)."""
    arr = as_float_array(name, value, ndim=None)
    if arr.size != 1 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be a single finite number, got {value!r}")
    return float(arr.reshape(()))


def _raise_where(bad: np.ndarray, message: str) -> None:
    """Raise ``ValueError(message + positions)`` if any element of ``bad`` is true."""
    if np.any(bad):
        raise ValueError(f"{message}; offending values at {positions(bad)}")


def _check_at_least(name: str, arr: np.ndarray, minimum: float, why: str) -> None:
    _raise_where(arr < minimum, f"{name} must be at least {minimum:g} ({why})")


def _check_between(name: str, arr: np.ndarray, low: float, high: float, *, closed: bool = True) -> None:
    if closed:
        _raise_where((arr < low) | (arr > high), f"{name} must lie in [{low:g}, {high:g}]")
    else:
        _raise_where((arr <= low) | (arr >= high), f"{name} must lie strictly between {low:g} and {high:g}")


def _check_interval(estimate_name: str, estimate: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
    """A reported confidence interval must have positive width and contain its point estimate."""
    _raise_where(high <= low, "ci_high must be greater than ci_low")
    _raise_where(
        (estimate < low) | (estimate > high),
        f"the interval must bracket the estimate (ci_low <= {estimate_name} <= ci_high)",
    )


def hedges_correction(df: object) -> np.ndarray:
    """Exact small-sample bias correction factor J(m) of Hedges (1981).

    ``J(m) = Gamma(m/2) / (sqrt(m/2) * Gamma((m-1)/2))``, computed on the log scale as metafor
    does (``metafor:::.cmicalc``). The familiar ``1 - 3/(4m - 1)`` is an approximation to it.

    Parameters
    ----------
    df : array_like
        Degrees of freedom m (``n1 + n2 - 2`` for two groups, ``n - 1`` for a mean change);
        must be greater than 1.

    Returns
    -------
    numpy.ndarray
        J(m), same shape as ``df``, in (0, 1).

    Raises
    ------
    ValueError
        If ``df`` is non-numeric, not finite, or not greater than 1 (with positions).

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics*, 6(2), 107-128.

    Examples
    --------
    >>> from whatworks.effects import hedges_correction
    >>> print(np.round(hedges_correction([10, 18, 100]), 6))
    [0.922746 0.957646 0.992478]
    """
    (m,) = _arrays(df=df)
    _raise_where(m <= 1, "df must be greater than 1 (Hedges' correction is undefined for df <= 1)")
    return np.asarray(np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2)), dtype=float)


def _smd_from_d(d: np.ndarray, n1: np.ndarray, n2: np.ndarray, *, correct: bool) -> EffectSize:
    """Hedges' g and its large-sample variance (escalc vtype "LS") from Cohen's d and group sizes."""
    yi = hedges_correction(n1 + n2 - 2) * d if correct else d
    vi = 1 / n1 + 1 / n2 + yi**2 / (2 * (n1 + n2))
    return _es(yi, vi)


def _check_group_sizes(n1: np.ndarray, n2: np.ndarray) -> None:
    _check_at_least("n1", n1, 2, "group size")
    _check_at_least("n2", n2, 2, "group size")
