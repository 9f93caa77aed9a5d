"""Selection models for publication bias: :func:`selection_model`, as metafor 3.8's ``selmodel()``.

The observed effects are modelled as ``yi ~ N(mu, vi + tau2)`` seen through a selection function
``w(p)`` of each study's one-sided (or two-sided) p-value: the likelihood of study i is
``w(p_i) phi(yi; mu, vi + tau2) / A_i`` with ``A_i = integral of w(p(y)) phi(y; mu, vi + tau2) dy``.

- ``type="stepfun"`` (Vevea & Hedges 1995): ``w(p) = delta_j`` for ``steps[j-1] < p <= steps[j]``,
  ``delta_1 = 1``; one step (``steps=(0.025,)``) is the three-parameter selection model (3PSM). ``A_i``
  is a sum of normal probabilities, so the likelihood and its gradient are exact.
- ``type="beta"`` (Citkowicz & Vevea 2017): ``w(p) = p^(delta_1 - 1) (1 - p)^(delta_2 - 1)``, p-values
  censored to [1e-5, 1 - 1e-5] as metafor.
- ``type="halfnorm"`` (Preston et al. 2004): ``w(p) = exp(-delta p^2)``.

For "beta" and "halfnorm" ``A_i`` is a fixed composite Gauss-Legendre quadrature (metafor uses adaptive
``integrate()``). Parameters are bounded as metafor (``0 <= delta <= 100``; beta: ``1e-5 <= delta``).
The model is fitted by maximum likelihood, started from the ML random-effects fit (which is refitted
with :func:`whatworks.model.fit_batch`); standard errors come from the inverse Hessian of the
log-likelihood; the likelihood-ratio test compares with the ML fit without selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._selection_lik import _hessian, _maximise, _Model
from ._shown import Shown
from .estimators import Batch, loglik
from .influence import _check_fit
from .model import fit_batch
from .results import MetaResult, _freeze

TYPES = ("stepfun", "beta", "halfnorm")
ALTERNATIVES = ("greater", "less", "two.sided")
DELTA_MAX = 100.0
_DMIN = {"stepfun": 0.0, "beta": 1e-5, "halfnorm": 0.0}  # metafor's delta.min
_H0 = {"stepfun": 1.0, "beta": 1.0, "halfnorm": 0.0}  # delta under "no selection"


@dataclass(frozen=True, repr=False)
class SelectionResult(Shown):
    """Result of :func:`selection_model` (metafor ``selmodel()``).

    Attributes
    ----------
    estimate, se, stat, pvalue, ci_low, ci_high : float
        The pooled effect adjusted for selection, its SE, Wald z test and CI at ``level``.
    tau2, se_tau2, tau2_ci_low, tau2_ci_high : float
        Between-study variance under the selection model (0 for a common-effect fit) with a Wald CI
        truncated at 0.
    delta, se_delta, delta_ci_low, delta_ci_high, delta_pvalue : ndarray
        Selection-function parameters (stepfun: relative likelihood of selection per p-value interval,
        the first fixed at 1), their SEs, Wald CIs (bounded below as metafor) and tests of "no
        selection" (stepfun, beta: delta = 1; halfnorm: delta = 0). NaN where a delta is fixed.
    lrt, lrt_df, lrt_pvalue : float, int, float
        Likelihood-ratio test of the selection model against the ML model without selection.
    loglik, loglik0 : float
        Maximised log-likelihood with and without selection.
    steps : ndarray
        Cutpoints of the step function, ending at 1 (stepfun), or the halfnorm step (0 by default).
    k_per_interval : ndarray of int
        Number of p-values in each interval (stepfun; empty otherwise).
    warnings : tuple of str
        metafor's warnings: a delta at (or almost at) its bound, a Hessian that cannot be inverted.
    """

    estimate: float
    se: float
    stat: float
    pvalue: float
    ci_low: float
    ci_high: float
    tau2: float
    se_tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    delta: np.ndarray
    se_delta: np.ndarray
    delta_ci_low: np.ndarray
    delta_ci_high: np.ndarray
    delta_pvalue: np.ndarray
    lrt: float
    lrt_df: int
    lrt_pvalue: float
    loglik: float
    loglik0: float
    steps: np.ndarray
    k_per_interval: np.ndarray
    k: int
    type: str
    alternative: str
    level: float
    pvalues: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per parameter (``mu``, ``tau2``, ``delta_1``...): term, interval (stepfun), k in it,
        estimate, se, stat, pvalue, ci_low, ci_high; then the LRT columns, repeated on every row."""
        z = self.tau2 / self.se_tau2 if self.se_tau2 > 0 else np.nan
        rows = [("mu", "", np.nan, self.estimate, self.se, self.stat, self.pvalue, self.ci_low, self.ci_high),
                ("tau2", "", np.nan, self.tau2, self.se_tau2, z, np.nan, self.tau2_ci_low, self.tau2_ci_high)]
        lows = np.concatenate([[0.0], self.steps[:-1]])
        for j, d in enumerate(self.delta):
            stepfun = self.type == "stepfun"
            rows.append((f"delta_{j + 1}", f"{lows[j]:g} < p <= {self.steps[j]:g}" if stepfun else "",
                         self.k_per_interval[j] if stepfun else np.nan, d, self.se_delta[j],
                         (d - _H0[self.type]) / self.se_delta[j], self.delta_pvalue[j], self.delta_ci_low[j],
                         self.delta_ci_high[j]))  # fmt: skip
        cols = ["term", "interval", "k_interval", "estimate", "se", "stat", "pvalue", "ci_low", "ci_high"]
        frame = pd.DataFrame(rows, columns=cols)
        frame["k_interval"] = frame["k_interval"].astype("Int64")  # counts as integers, missing stays NA
        return frame.assign(lrt=self.lrt, lrt_df=self.lrt_df, lrt_pvalue=self.lrt_pvalue, k=self.k)

    def _title(self) -> str:
        return (f"Selection model ({self.type}, alternative = {self.alternative!r}, k = {self.k}); "
                f"LRT for selection: chi2({self.lrt_df}) = {self.lrt:.4f}, p = {self.lrt_pvalue:.4f}")  # fmt: skip

    def _key(self) -> tuple[str, ...]:
        return ("estimate", "ci_low", "ci_high", "lrt_pvalue")

    def _lines(self) -> list[str]:
        return [f"Warning: {w}" for w in self.warnings]


def selection_model(
    fit: MetaResult,
    type: str = "stepfun",
    *,
    steps: Sequence[float] | None = None,
    alternative: str = "greater",
    delta: Sequence[float] | None = None,
) -> SelectionResult:
    """Fit a selection model for publication bias, as metafor's ``selmodel(fit, type, steps, ...)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze`. A random-effects fit (any method) is refitted by ML
        first, as metafor does; a common-effect fit ("EE") keeps tau2 = 0.
    type : {"stepfun", "beta", "halfnorm"}
        Selection function (see the module docstring).
    steps : sequence of float, optional
        stepfun: the cutpoints of the p-value intervals (1 is appended); default ``(0.025,)``, the 3PSM
        (two-sided 0.05 in the direction of ``alternative``). halfnorm: one step below which w = 1
        (default 0). Not used by beta.
    alternative : {"greater", "less", "two.sided"}
        Direction of the p-values on which selection acts (metafor's default "greater": small p for
        large positive effects). In this project's data negative g favours the intervention, so
        selection for "significant benefit" is ``alternative="less"``.
    delta : sequence of float, optional
        Fixed values of the selection parameters instead of estimates (stepfun: one per interval,
        the first must be 1; NaN entries are estimated), e.g. Vevea & Woods (2005) sensitivity analyses.

    Returns
    -------
    SelectionResult

    Raises
    ------
    ValueError
        For an unknown option, steps outside (0, 1), fewer studies than parameters, or (stepfun) an
        interval after the first with no observed p-value, which metafor refuses as well.

    Notes
    -----
    Agreement with metafor 3.8.1 run with a tight optimiser (``reltol = 1e-13``) is about 1e-7
    relative for stepfun (exact likelihood); metafor's default ``reltol = 1e-8`` itself stops about
    1e-5 short of the maximum. When a delta ends at its bound (an empty first interval sends delta_2 to
    100) or tau2 at 0, the estimates agree with metafor only to its optimiser's precision and
    ``warnings`` says so. At tau2 = 0 the standard errors are those with tau2 held at 0 (metafor's
    numerical Hessian straddles the boundary and differs).

    Examples
    --------
    >>> from whatworks import meta_analyze, selection_model
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> sel = selection_model(fit, steps=(0.025,))
    >>> float(sel.delta[0]), sel.k_per_interval.tolist(), sel.lrt_df
    (1.0, [5, 5], 1)
    >>> bool(sel.estimate < fit.estimate)
    True
    """
    fit = _check_fit(fit, 2, "selection_model")
    type = v.check_option("type", type, TYPES)
    alternative = v.check_option("alternative", alternative, ALTERNATIVES)
    if type == "stepfun":
        steps = (0.025,) if steps is None else steps
        if len(steps) == 0:
            raise ValueError("type='stepfun' needs steps, e.g. steps=(0.025,)")
        st = np.unique(v.as_float_array("steps", steps))
        if np.any((st <= 0) | (st > 1)):
            raise ValueError(f"steps must lie in (0, 1]; got {list(steps)}")
        st = st if st[-1] == 1 else np.append(st, 1.0)
        n_delta = st.size
    elif type == "halfnorm":
        st = np.atleast_1d(v.as_float_array("steps", 0.0 if steps is None else steps))
        if st.size != 1 or not 0 <= st[0] < 1:
            raise ValueError(f"type='halfnorm' takes a single step in [0, 1); got {list(st)}")
        n_delta = 1
    else:
        st, n_delta = np.array([]), 2
    fixed = np.full(n_delta, np.nan) if delta is None else v.as_float_array("delta", delta).copy()
    if fixed.size != n_delta:
        raise ValueError(f"delta must have {n_delta} entries for this selection model; got {fixed.size}")
    if type == "stepfun":
        if not np.isnan(fixed[0]) and fixed[0] != 1:
            raise ValueError("the first delta of a step function is fixed at 1")
        fixed[0] = 1.0
    has_tau2 = fit.method != "EE"
    n_par = 1 + has_tau2 + int(np.isnan(fixed).sum())
    if fit.k < n_par:
        raise ValueError(f"k = {fit.k} is too small to fit this selection model ({n_par} parameters)")

    model = _Model(fit.yi, fit.vi, type, st, alternative, fixed, has_tau2)
    if type == "stepfun":
        empty = (model.counts == 0) & np.isnan(fixed)
        if empty.any():
            j = int(np.flatnonzero(empty)[0])
            lo = 0.0 if j == 0 else st[j - 1]
            raise ValueError(f"no observed p-value in the interval {lo:g} < p <= {st[j]:g}: the step function "
                             f"cannot be fitted (metafor stops too); choose other steps")  # fmt: skip

    batch = Batch.make(fit.yi, fit.vi)
    ml = fit_batch(batch, method="ML" if has_tau2 else "EE", test="z", level=fit.level)
    tau2_ml = float(ml["tau2"][0])
    ll0 = float(loglik(batch, np.array([tau2_ml]), reml=False)[0])
    dmin = _DMIN[type]
    start = np.where(np.isnan(fixed), 1.0, fixed)[model.free]
    x0 = np.concatenate([[ml["beta"][0, 0]], [tau2_ml + 0.001] if has_tau2 else [], start])
    lower = np.array([-np.inf] + [0.0] * has_tau2 + [max(dmin, 1e-12)] * start.size)
    upper = np.array([np.inf] * (1 + has_tau2) + [DELTA_MAX] * start.size)
    x = _maximise(model, x0, lower, upper)
    nll, grad = model.nll(x)
    mu, tau2, dl = model.unpack(x)
    return _result(model, x, grad, nll, ll0, mu, tau2, dl, fit, st, type, alternative, dmin)


def _result(model, x, grad, nll, ll0, mu, tau2, dl, fit, st, type, alternative, dmin) -> SelectionResult:
    warnings: list[str] = []
    free_d = dl[model.free]
    if np.any(free_d <= dmin + np.finfo(float).eps ** 0.25) or np.any(free_d >= DELTA_MAX - 100 * np.finfo(float).eps ** 0.25):
        warnings.append("one or more delta estimates are (almost) equal to their lower or upper bound; treat the "
                        "results with caution (metafor warns the same)")  # fmt: skip
    inner = np.ones(x.size, bool)
    if model.has_tau2 and tau2 <= 1e-12 and grad[1] >= 0:
        inner[1] = False  # tau2 on its boundary: standard errors with tau2 held at 0
        warnings.append("tau2 is estimated at its boundary 0: the standard errors hold it at 0, and tau2 has none")
    cov = np.full((x.size, x.size), np.nan)
    try:
        H = _hessian(model, x)[np.ix_(inner, inner)]
        cov[np.ix_(inner, inner)] = np.linalg.inv(H)
        if np.any(np.diag(cov)[inner] <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov[:] = np.nan
        warnings.append("the Hessian could not be inverted: no standard errors (metafor warns the same)")
    se_all = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    crit = float(_dist.norm_ppf(0.5 + fit.level / 2))
    se = float(se_all[0])
    se_tau2 = float(se_all[1]) if model.has_tau2 and inner[1] else np.nan
    se_d = np.full(dl.size, np.nan)
    se_d[model.free] = se_all[1 + model.has_tau2 :]
    d_lo = np.where(np.isnan(se_d), np.nan, np.maximum(dl - crit * se_d, 0.0))  # metafor: delta.lb = 0
    d_pv = 2 * _dist.norm_sf(np.abs((dl - _H0[type]) / se_d))
    ll = -float(nll)
    lrt = max(0.0, 2 * float(ll - ll0))
    n_free = int(model.free.size)
    return SelectionResult(
        estimate=mu, se=se, stat=mu / se, pvalue=float(2 * _dist.norm_sf(abs(mu / se))), ci_low=mu - crit * se,
        ci_high=mu + crit * se, tau2=tau2, se_tau2=se_tau2, tau2_ci_low=max(0.0, tau2 - crit * se_tau2) if model.has_tau2 else np.nan,
        tau2_ci_high=tau2 + crit * se_tau2, delta=dl, se_delta=se_d, delta_ci_low=d_lo, delta_ci_high=dl + crit * se_d,
        delta_pvalue=d_pv, lrt=lrt, lrt_df=n_free, lrt_pvalue=float(_dist.chi2_sf(lrt, n_free)) if n_free else np.nan,
        loglik=ll, loglik0=ll0, steps=st, k_per_interval=model.counts if type == "stepfun" else np.array([], int),
        k=fit.k, type=type, alternative=alternative, level=fit.level, pvalues=model.p, warnings=tuple(warnings),
    )  # fmt: skip
