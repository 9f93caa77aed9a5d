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
from scipy import special

from . import _dist
from . import _validation as v
from ._shown import Shown
from .estimators import Batch, loglik
from .influence import _check_fit
from .model import fit_batch
from .results import MetaResult, _freeze

TYPES = ("stepfun", "beta", "halfnorm")
ALTERNATIVES = ("greater", "less", "two.sided")
DELTA_MAX = 100.0
_PMIN = {"stepfun": 0.0, "beta": 1e-5, "halfnorm": 0.0}  # metafor's pval.min
_DMIN = {"stepfun": 0.0, "beta": 1e-5, "halfnorm": 0.0}  # metafor's delta.min
_H0 = {"stepfun": 1.0, "beta": 1.0, "halfnorm": 0.0}  # delta under "no selection"
_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)


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


def _pvals(y: np.ndarray, sd: np.ndarray, alternative: str) -> np.ndarray:
    z = y / sd
    if alternative == "two.sided":
        return 2 * _dist.norm_sf(np.abs(z))
    return _dist.norm_sf(z) if alternative == "greater" else _dist.norm_cdf(z)


def _regions(sd: np.ndarray, steps: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (2, k, N) of the y-regions in which a study's p-value falls in each interval
    ``steps[j-1] < p <= steps[j]`` (the second region is empty for one-sided p-values)."""
    lower = np.concatenate([[0.0], steps[:-1]])
    if alternative == "less":
        lo, hi = special.ndtri(lower)[None, :], special.ndtri(steps)[None, :]
    elif alternative == "greater":
        lo, hi = special.ndtri(1 - steps)[None, :], special.ndtri(1 - lower)[None, :]
    else:
        lo, hi = special.ndtri(1 - steps / 2)[None, :], special.ndtri(1 - lower / 2)[None, :]
    lo, hi = sd[:, None] * lo, sd[:, None] * hi
    if alternative == "two.sided":
        return np.stack([lo, -hi]), np.stack([hi, -lo])
    return np.stack([lo, lo]), np.stack([hi, lo])


def _cdf_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Phi(b) - Phi(a) for a <= b, from the upper tails when a > 0 (no cancellation)."""
    up = a > 0
    return np.where(up, special.ndtr(-a) - special.ndtr(-b), special.ndtr(b) - special.ndtr(a))


def _phi_terms(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """phi(a) and a phi(a), both 0 at a = +-inf."""
    fin = np.isfinite(a)
    af = np.where(fin, a, 0.0)
    ph = np.where(fin, np.exp(-0.5 * af**2) / np.sqrt(2 * np.pi), 0.0)
    return ph, af * ph


class _Model:
    """The log-likelihood of one selection model on one dataset, in x = (mu, [tau2], free deltas)."""

    def __init__(self, yi, vi, type_, steps, alternative, delta_fixed, has_tau2):
        self.y, self.v, self.sd = yi, vi, np.sqrt(vi)
        self.type, self.steps, self.alt, self.has_tau2 = type_, steps, alternative, has_tau2
        self.p = np.clip(_pvals(yi, self.sd, alternative), _PMIN[type_], 1 - _PMIN[type_])
        self.fixed = delta_fixed  # NaN where estimated
        self.free = np.flatnonzero(np.isnan(delta_fixed))
        if type_ == "stepfun":
            self.grp = np.searchsorted(steps, self.p, side="left")  # first j with p <= steps[j]
            self.counts = np.bincount(self.grp, minlength=steps.size)
            self.lo, self.hi = _regions(self.sd, steps, alternative)

    def unpack(self, x: np.ndarray) -> tuple[float, float, np.ndarray]:
        tau2 = float(x[1]) if self.has_tau2 else 0.0
        delta = self.fixed.copy()
        delta[self.free] = x[2 if self.has_tau2 else 1 :]
        return float(x[0]), tau2, delta

    def nll(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood and its gradient (exact for stepfun, central differences otherwise)."""
        if self.type == "stepfun":
            return self._step(x)
        f0 = self._cont(x)
        h = 1e-6 * np.maximum(np.abs(x), 1e-2)
        grad = np.array([(self._cont(x + e) - self._cont(x - e)) / (2 * e[i]) for i, e in enumerate(np.diag(h))])
        return f0, grad

    def _step(self, x):
        mu, tau2, delta = self.unpack(x)
        s2 = self.v + tau2
        s = np.sqrt(s2)[None, :, None]
        a_lo, a_hi = (self.lo - mu) / s, (self.hi - mu) / s
        P = _cdf_diff(a_lo, a_hi).sum(0)  # (k, N)
        ph_lo, aph_lo = _phi_terms(a_lo)
        ph_hi, aph_hi = _phi_terms(a_hi)
        dP_mu = ((ph_lo - ph_hi) / s).sum(0)
        dP_t = ((aph_lo - aph_hi) / (2 * s**2)).sum(0)
        A = P @ delta
        e = self.y - mu
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(delta[self.grp])) - 0.5 * np.sum(np.log(2 * np.pi * s2) + e**2 / s2) - np.sum(np.log(A))
        g_mu = np.sum(e / s2) - np.sum((dP_mu @ delta) / A)
        g_t = np.sum(-0.5 / s2 + 0.5 * e**2 / s2**2) - np.sum((dP_t @ delta) / A)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_d = self.counts / delta - (P / A[:, None]).sum(0)
        grad = [g_mu] + ([g_t] if self.has_tau2 else []) + list(g_d[self.free])
        return -ll, -np.array(grad)

    def weight(self, p: np.ndarray, delta: np.ndarray) -> np.ndarray:
        p = np.clip(p, _PMIN[self.type], 1 - _PMIN[self.type])
        if self.type == "beta":
            return p ** (delta[0] - 1) * (1 - p) ** (delta[1] - 1)
        return np.where(p <= self.steps[0], 1.0, np.exp(-delta[0] * (p**2 - self.steps[0] ** 2)))

    def _cont(self, x: np.ndarray) -> float:
        mu, tau2, delta = self.unpack(x)
        s = np.sqrt(self.v + tau2)
        # panels in u = Phi((y - mu) / s): uniform, plus the images of y = sd * z for z = -8, -7.5, ..., 8 and of the
        # p-value censoring points, so the steep part of w(p(y)) is resolved whatever tau2 is
        zs = np.arange(-8.0, 8.25, 0.5)
        if self.type == "beta":
            zs = np.concatenate([zs, special.ndtri([_PMIN["beta"], 1 - _PMIN["beta"]])])
        cuts = special.ndtr((self.sd[:, None] * zs[None, :] - mu) / s[:, None])
        u = np.sort(np.concatenate([np.broadcast_to(np.linspace(0, 1, 17), (self.y.size, 17)), cuts], 1), 1)
        a, b = u[:, :-1, None], u[:, 1:, None]
        nodes = a + (b - a) * (_GL_X + 1) / 2  # (k, panels, 16)
        yq = mu + s[:, None, None] * special.ndtri(np.clip(nodes, 1e-300, 1 - 1e-16))
        w = self.weight(_pvals(yq, self.sd[:, None, None], self.alt), delta)
        A = np.sum(w * (b - a) / 2 * _GL_W, axis=(1, 2))
        with np.errstate(divide="ignore"):
            ll = np.sum(np.log(self.weight(self.p, delta))) - 0.5 * np.sum(
                np.log(2 * np.pi * s**2) + (self.y - mu) ** 2 / s**2) - np.sum(np.log(A))  # fmt: skip
        return float(-ll) if np.isfinite(ll) else np.inf


def _maximise(model: _Model, x0: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Maximum of the likelihood on the box [lower, upper].

    stepfun (exact gradient): Levenberg-Marquardt-damped Newton steps with a numerical Hessian, on the
    parameters not held at a bound, projected back into the box; it converges to machine precision in a
    few steps from the ML start. The selection functions with a quadrature: L-BFGS-B.
    """
    x = np.clip(x0, lower, upper)
    if model.type != "stepfun":
        from scipy import optimize  # slow to import: only when such a model is fitted

        res = optimize.minimize(model.nll, x, jac=True, method="L-BFGS-B", bounds=list(zip(lower, upper)),
                                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})  # fmt: skip
        return res.x
    f, g = model.nll(x)
    lam = 0.0
    for _ in range(500):
        free = _inner(x, g, lower, upper)
        if not free.any():
            break
        H = _hessian(model, x)[np.ix_(free, free)]
        scale = np.maximum(np.abs(np.diag(H)), 1e-12)
        while True:
            try:
                L = np.linalg.cholesky(H + lam * np.diag(scale))
                break
            except np.linalg.LinAlgError:
                lam = max(10 * lam, 1e-6)
        step = -np.linalg.solve(L.T, np.linalg.solve(L, g[free]))
        xn = x.copy()
        xn[free] += step
        xn = np.clip(xn, lower, upper)
        fn, gn = model.nll(xn)
        if not fn <= f:
            lam = max(10 * lam, 1e-6)
            if lam > 1e12:
                break
            continue
        done = np.max(np.abs(xn - x) / np.maximum(np.abs(x), 1e-3)) < 1e-12 or f - fn < 1e-15 * abs(f)
        x, f, g, lam = xn, fn, gn, lam / 10 if lam > 1e-6 else 0.0
        if done:
            break
    return x


def _inner(x: np.ndarray, g: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Parameters not held at a bound (a bound holds a parameter whose gradient pushes against it)."""
    return ~(((x <= lower + 1e-14) & (g > 0)) | ((x >= upper - 1e-14) & (g < 0)))


def _hessian(model: _Model, x: np.ndarray) -> np.ndarray:
    """Hessian of the negative log-likelihood by central differences of its gradient (the likelihood
    extends smoothly a little beyond tau2 = 0 and delta = 100, so bounds need no one-sided rule)."""
    if model.type != "stepfun":
        return _hessian_f(model, x)
    h = 1e-5 * np.maximum(np.abs(x), 1e-3)
    cols = [(model.nll(x + e)[1] - model.nll(x - e)[1]) / (2 * h[i]) for i, e in enumerate(np.diag(h))]
    H = np.array(cols).T
    return (H + H.T) / 2


def _hessian_f(model: _Model, x: np.ndarray) -> np.ndarray:
    n = x.size
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    f = model._cont
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
    return H


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
