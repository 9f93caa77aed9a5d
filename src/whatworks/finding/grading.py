"""Evidence grades in the spirit of umbrella-review credibility classes (Fusar-Poli & Radua 2018;
Ioannidis 2009). Pure functions of numbers; thresholds in :data:`THRESHOLDS`, documented in
``docs/methods.md``.

========  =====================================================================================
class     criteria (all must hold)
========  =====================================================================================
I         convincing: n > 1000, p < 1e-6, I² < 50 %, 95 % prediction interval excludes 0,
          no small-study effects (Egger p >= 0.10), the largest trial significant (p < 0.05)
II        highly suggestive: n > 1000, p < 1e-6, the largest trial significant (p < 0.05)
III       suggestive: n > 1000, p < 1e-3
IV        weak: p < 0.05
NS        not significant: p >= 0.05
========  =====================================================================================

A criterion that cannot be assessed (missing, e.g. a prediction interval for a difference between
strategies) counts as not met, so the grade is never raised by a missing number. Excess-significance
bias, part of the original class I, is not assessed (no observed/expected test is implemented) and is
named in every class-I reason.
"""

from __future__ import annotations

import numpy as np

from .. import _dist

#: Thresholds of the credibility classes.
THRESHOLDS = {
    "n": 1000,  # participants, more than
    "p_strong": 1e-6,
    "p_suggestive": 1e-3,
    "p_weak": 0.05,
    "i2": 50.0,  # percent, less than
    "egger_p": 0.10,  # small-study effects when Egger p below this
    "largest_p": 0.05,
}

#: Grades from strongest to weakest; "-" when the claim cannot be tested.
GRADES = ("I", "II", "III", "IV", "NS", "-")


def _ok(x: bool | None) -> bool:
    return bool(x) if x is not None and not (isinstance(x, float) and np.isnan(x)) else False


def grade(
    *,
    n: float,
    pvalue: float,
    i2: float | None = None,
    pi_excludes_null: bool | None = None,
    small_study: bool | None = None,
    largest_significant: bool | None = None,
) -> tuple[str, str]:
    """Credibility class of one pooled estimate.

    Parameters
    ----------
    n : float
        Participants in the analysis (NaN if unknown: counts as not more than 1000).
    pvalue : float
        p-value of the pooled estimate (or of the difference).
    i2 : float, optional
        I² in percent.
    pi_excludes_null : bool, optional
        Whether the 95 % prediction interval excludes 0.
    small_study : bool, optional
        True when small-study effects are present (Egger p < 0.10).
    largest_significant : bool, optional
        Whether the largest trial alone is significant at p < 0.05.

    Returns
    -------
    (str, str)
        The class (one of :data:`GRADES`) and the reason: which criteria fail. A missing (NaN) p-value
        gives "-" and "cannot be graded".

    Raises
    ------
    ValueError
        If ``pvalue`` is a number outside [0, 1].

    Examples
    --------
    >>> grade(n=5000, pvalue=1e-8, i2=20, pi_excludes_null=True, small_study=False, largest_significant=True)[0]
    'I'
    >>> grade(n=800, pvalue=0.01)[0]
    'IV'
    >>> grade(n=800, pvalue=0.2)[0]
    'NS'
    >>> grade(n=800, pvalue=float("nan"))
    ('-', 'cannot be graded: the p-value is not defined')
    """
    if pvalue is None or np.isnan(float(pvalue)):  # e.g. a standard error of 0 with a difference of 0
        return "-", "cannot be graded: the p-value is not defined"
    if not 0 <= float(pvalue) <= 1:
        raise ValueError(f"pvalue must be a number in [0, 1] (or NaN: cannot be graded), got {pvalue!r}")
    t = THRESHOLDS
    big = bool(np.isfinite(n) and n > t["n"])
    fails = []
    if not big:
        fails.append(f"n = {n:.0f} not above {t['n']}" if np.isfinite(n) else "n unknown")
    if pvalue >= t["p_weak"]:
        return "NS", f"p = {pvalue:.3g} >= {t['p_weak']}"
    if not big or pvalue >= t["p_suggestive"]:
        why = fails + ([f"p = {pvalue:.3g} not below {t['p_suggestive']}"] if pvalue >= t["p_suggestive"] else [])
        return "IV", "; ".join(why)
    if pvalue >= t["p_strong"] or not _ok(largest_significant):
        why = ([f"p = {pvalue:.3g} not below {t['p_strong']:g}"] if pvalue >= t["p_strong"] else [])
        why += [] if _ok(largest_significant) else ["largest trial not significant or not assessed"]
        return "III", "; ".join(why)
    crit = {
        f"I² < {t['i2']:g}%": i2 is not None and np.isfinite(i2) and i2 < t["i2"],
        "PI excludes 0": _ok(pi_excludes_null),
        "no small-study effects": small_study is not None and not small_study,
    }
    failed = [name for name, ok in crit.items() if not ok]
    if failed:
        return "II", "not met or not assessed: " + ", ".join(failed)
    return "I", "all class-I criteria met (excess-significance bias not assessed)"


def largest_trial_significant(yi: np.ndarray, vi: np.ndarray, n: np.ndarray, level: float = 0.95) -> bool | None:
    """Whether the largest trial (by n; by precision where n is missing everywhere) has a z-test p below
    ``1 - level``. ``None`` for no trials."""
    yi, vi, n = (np.asarray(a, dtype=float) for a in (yi, vi, n))
    if yi.size == 0:
        return None
    i = int(np.nanargmax(n)) if np.isfinite(n).any() else int(np.argmin(vi))
    p = 2 * _dist.norm_sf(abs(yi[i]) / np.sqrt(vi[i]))
    return bool(p < 1 - level)
