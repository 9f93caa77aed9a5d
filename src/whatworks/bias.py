"""Small-study effects and publication bias: Egger's regression test, Begg's rank test, trim and fill.

Definitions are metafor's (3.8): ``regtest`` (default ``model="rma"``, ``predictor="sei"``),
``ranktest`` and ``trimfill`` (estimator ``"L0"``). Each function takes a fitted
:class:`~whatworks.results.MetaResult` and refits through the same single fit path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _validation as v
from .estimators import Batch
from .influence import _check_fit
from .model import fit_batch, meta_analyze
from .regression import fit_mods
from .results import MetaResult, _fmt, _freeze, _pval, frame_to_html

SIDES = ("left", "right")
TF_ESTIMATORS = ("L0", "R0", "Q0")


@dataclass(frozen=True)
class EggerResult:
    """Result of :func:`egger_test` (metafor ``regtest(fit)``).

    Attributes
    ----------
    stat, pvalue : float
        z (or t for "knha") statistic and two-sided p-value of the slope on the standard error.
    df : float
        t df (k - 2) for "knha", ``inf`` for "z".
    slope, slope_se : float
        Coefficient of ``sqrt(vi)`` and its standard error.
    limit_estimate, ci_low, ci_high : float
        The intercept: the estimate as the standard error goes to 0, with its CI.
    tau2 : float
        Residual tau² of the regression model.
    """

    stat: float
    pvalue: float
    df: float
    slope: float
    slope_se: float
    limit_estimate: float
    ci_low: float
    ci_high: float
    tau2: float
    k: int
    method: str
    test: str
    level: float

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of every field."""
        return pd.DataFrame([{f: getattr(self, f) for f in self.__dataclass_fields__}])

    def summary(self) -> str:
        stat = "z" if self.test == "z" else "t"
        dfs = "" if self.test == "z" else f"(df = {self.df:g})"
        pct = f"{100 * self.level:g}%"
        return "\n".join([
            f"Regression test for funnel plot asymmetry (Egger; predictor sqrt(vi), {self.method}, k = {self.k})",
            f"test for asymmetry: {stat}{dfs} = {_fmt(self.stat)}, p = {_pval(self.pvalue)}",
            f"limit estimate (as se -> 0): {_fmt(self.limit_estimate)}, "
            f"{pct} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
        ])  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"EggerResult(stat={_fmt(self.stat)}, pvalue={_fmt(self.pvalue)}, "
            f"limit_estimate={_fmt(self.limit_estimate)})"
        )

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), "Egger regression test")


def egger_test(fit: MetaResult) -> EggerResult:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest(fit)``.

    The meta-regression ``rma(yi, vi, mods = ~ sqrt(vi))`` is fitted with the fit's method, test and
    level; the test is on the slope, and the intercept is the "limit estimate" (effect as se -> 0).

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` with k >= 3.

    Returns
    -------
    EggerResult

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.bias import egger_test
    >>> fit = meta_analyze([-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
    ...                    [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004])
    >>> res = egger_test(fit)
    >>> 0 <= res.pvalue <= 1, res.df
    (True, inf)
    """
    fit = _check_fit(fit, 3, "egger_test")
    if np.ptp(fit.vi) == 0:
        raise ValueError("egger_test needs sampling variances that differ: all vi are equal")
    X = np.column_stack([np.ones(fit.k), np.sqrt(fit.vi)])
    r = fit_mods(fit.yi, fit.vi, X, method=fit.method, test=fit.test, level=fit.level, intercept=True)
    return EggerResult(
        stat=float(r["stat"][1]), pvalue=float(r["pvalue"][1]), df=r["df"], slope=float(r["coef"][1]),
        slope_se=float(r["se"][1]), limit_estimate=float(r["coef"][0]), ci_low=float(r["ci_low"][0]),
        ci_high=float(r["ci_high"][0]), tau2=r["tau2"], k=fit.k, method=fit.method, test=fit.test, level=fit.level,
    )  # fmt: skip


@dataclass(frozen=True)
class RankResult:
    """Result of :func:`rank_test` (metafor ``ranktest``): Kendall's tau and its p-value."""

    tau: float
    pvalue: float
    exact: bool
    k: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: tau, pvalue, exact, k."""
        return pd.DataFrame([{"tau": self.tau, "pvalue": self.pvalue, "exact": self.exact, "k": self.k}])

    def summary(self) -> str:
        how = "exact" if self.exact else "normal approximation"
        return (
            f"Rank correlation test for funnel plot asymmetry (Begg): Kendall's tau = {_fmt(self.tau)}, "
            f"p = {_pval(self.pvalue)} ({how}, k = {self.k})"
        )

    def __repr__(self) -> str:
        return f"RankResult(tau={_fmt(self.tau)}, pvalue={_fmt(self.pvalue)}, exact={self.exact})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), "Begg rank correlation test")


def rank_test(fit: MetaResult) -> RankResult:
    """Begg & Mazumdar's rank correlation test, as metafor's ``ranktest(fit)``.

    The effects are standardised around the common-effect (inverse-variance) estimate,
    ``(yi - theta) / sqrt(vi - 1/sum(1/vi))`` (metafor uses these weights whatever the fit's method),
    and Kendall's tau with ``vi`` is tested with R's ``cor.test(method="kendall", exact=TRUE)``: the
    exact null distribution when there are no ties, otherwise the normal approximation with tie
    corrections (tau-b).

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.bias import rank_test
    >>> fit = meta_analyze([-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
    ...                    [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004])
    >>> res = rank_test(fit)
    >>> round(res.tau, 4), res.exact
    (0.0714, True)
    """
    fit = _check_fit(fit, 3, "rank_test")
    w = 1 / fit.vi
    theta = np.sum(w * fit.yi) / np.sum(w)
    ystar = (fit.yi - theta) / np.sqrt(fit.vi - 1 / np.sum(w))
    ties = np.unique(ystar).size < fit.k or np.unique(fit.vi).size < fit.k
    from scipy import stats  # imported here: scipy.stats is slow to import

    res = stats.kendalltau(ystar, fit.vi, method="asymptotic" if ties else "exact")
    return RankResult(tau=float(res.statistic), pvalue=float(res.pvalue), exact=not ties, k=fit.k)


@dataclass(frozen=True)
class TrimFillResult:
    """Result of :func:`trim_and_fill` (metafor ``trimfill``).

    Attributes
    ----------
    k0, se_k0 : int, float
        Estimated number of missing studies and its standard error.
    side : {"left", "right"}
        Side of the funnel on which studies are imputed.
    estimator : str
        "L0", "R0" or "Q0".
    fit : MetaResult
        Meta-analysis of the observed plus the ``k0`` imputed effects (the original fit if k0 = 0).
    yi, vi : ndarray
        Effects of ``fit``: the observed ones first, then the imputed ones.
    filled : ndarray of bool
        True for the imputed effects.
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    fit: MetaResult = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    filled: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per effect (observed, then imputed): label, yi, vi, filled."""
        return pd.DataFrame({"label": list(self.fit.labels), "yi": self.yi, "vi": self.vi, "filled": self.filled})

    def summary(self) -> str:
        return "\n".join([
            f"Trim and fill ({self.estimator}): estimated {self.k0} missing studies on the {self.side} side "
            f"(SE = {_fmt(self.se_k0)})",
            "",
            self.fit.summary(),
        ])  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"TrimFillResult(k0={self.k0}, side={self.side!r}, estimator={self.estimator!r}, "
            f"estimate={_fmt(self.fit.estimate)}, ci=[{_fmt(self.fit.ci_low)}, {_fmt(self.fit.ci_high)}])"
        )

    def _repr_html_(self) -> str:
        head = (f"Estimated {self.k0} missing studies on the {self.side} side (SE = {_fmt(self.se_k0)}); "
                f"the fit with them:")
        return frame_to_html(self.to_frame(), f"Trim and fill ({self.estimator}): k0 = {self.k0} ({self.side} side)",
                             [head, *(line for line in self.fit.summary().splitlines() if line.strip())])


def _k0_estimate(yc: np.ndarray, estimator: str) -> tuple[float, float]:
    """metafor's k0 estimators from the centred, sorted effects."""
    k = yc.size
    ranks = np.empty(k)
    ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)  # rank(ties.method="first")
    signed = np.sign(yc) * ranks
    if estimator == "R0":
        neg = -signed[signed < 0]
        k0 = k - (neg.max() if neg.size else -np.inf) - 1
        return k0, np.sqrt(2 * max(0, k0) + 2)
    sr = signed[signed > 0].sum()
    if estimator == "L0":
        k0 = (4 * sr - k * (k + 1)) / (2 * k - 1)
    else:  # Q0
        k0 = k - 0.5 - _sqrt(2 * k**2 - 4 * sr + 0.25)
    var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0**3 + 27 * k0**2 + 17 * k0 - 18 * k * k0**2 - 18 * k * k0
              + 6 * k**2 * k0) / 24  # fmt: skip
    if estimator == "L0":
        return k0, 4 * _sqrt(var_sr) / (2 * k - 1)
    return k0, 2 * _sqrt(var_sr) / _sqrt((k - 0.5) ** 2 - k0 * (2 * k - k0 - 1))


def _sqrt(x: float) -> float:
    """Square root that is NaN for a negative argument, as R's ``sqrt`` (without the warning)."""
    return float(np.sqrt(x)) if x >= 0 else np.nan


def trim_and_fill(
    fit: MetaResult, *, side: str | None = None, estimator: str = "L0", maxiter: int = 100
) -> TrimFillResult:
    """Duval & Tweedie's trim-and-fill method, as metafor's ``trimfill(fit)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` (k >= 2).
    side : {"left", "right"}, optional
        Side on which studies are missing. By default chosen as metafor does: from the sign of the
        slope of ``rma(yi, vi, mods = ~ sqrt(vi))`` with the fit's method ("right" if negative).
    estimator : {"L0", "R0", "Q0"}
        Estimator of the number of missing studies (metafor's default "L0").
    maxiter : int
        Maximum number of trim iterations.

    Returns
    -------
    TrimFillResult
        ``k0``, ``side`` and ``fit``, the meta-analysis including the imputed effects (mirror images
        of the ``k0`` most extreme effects around the trimmed estimate).

    Notes
    -----
    The filled model is fitted with the original fit's method, test and level. metafor 3.8 refits it
    with its default ``test="z"`` whatever the original test, so with ``test="knha"`` the two differ
    (by design here: the user's choice of test is kept).

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.bias import trim_and_fill
    >>> fit = meta_analyze([-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
    ...                    [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004])
    >>> tf = trim_and_fill(fit)
    >>> tf.side, tf.k0, tf.fit.k
    ('right', 1, 9)
    """
    fit = _check_fit(fit, 2, "trim_and_fill")
    estimator = v.check_option("estimator", estimator, TF_ESTIMATORS)
    if side is None:
        X = np.column_stack([np.ones(fit.k), np.sqrt(fit.vi)])
        if np.ptp(fit.vi) == 0 or fit.k < 3:
            raise ValueError(
                "cannot choose the side from the data (k < 3 or all vi equal); pass side='left' or 'right'"
            )
        slope = fit_batch(Batch.make(fit.yi, fit.vi, X=X), method=fit.method, test="z", level=fit.level)["beta"][0, 1]
        side = "right" if slope < 0 else "left"
    side = v.check_option("side", side, SIDES)

    sign = -1.0 if side == "right" else 1.0
    order = np.argsort(sign * fit.yi, kind="stable")
    y, s = sign * fit.yi[order], fit.vi[order]
    k = fit.k
    k0, k0_prev, se_k0 = 0, -1, np.nan
    for _ in range(maxiter):
        if k0 == k0_prev:
            break
        k0_prev = k0
        beta = float(fit_batch(Batch.make(y[: k - k0], s[: k - k0]), method=fit.method, test="z")["beta"][0, 0])
        raw, se_k0 = _k0_estimate(y - beta, estimator)
        if np.isnan(raw):
            raise ArithmeticError(f"the {estimator} estimate of k0 is undefined for these data; try estimator='L0'")
        k0 = int(max(0, np.round(raw)))  # R's round() is half-to-even, like numpy's
        se_k0 = max(0.0, se_k0) if not np.isnan(se_k0) else np.nan  # NaN when the variance is negative
    else:
        raise ArithmeticError(f"trim and fill did not converge in {maxiter} iterations")

    if k0 == 0:
        return TrimFillResult(0, se_k0, side, estimator, fit, fit.yi, fit.vi, np.zeros(k, bool))
    y_fill = sign * (2 * beta - y[k - k0 :])
    v_fill = s[k - k0 :]
    yi = np.concatenate([fit.yi, y_fill])
    vi = np.concatenate([fit.vi, v_fill])
    labels = list(fit.labels) + [f"Filled {i + 1}" for i in range(k0)]
    filled_fit = meta_analyze(yi, vi, method=fit.method, test=fit.test, level=fit.level, labels=labels)
    return TrimFillResult(k0, se_k0, side, estimator, filled_fit, yi, vi, np.arange(k + k0) >= k)
