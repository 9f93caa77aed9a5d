"""Between-study variance (tau²) estimators, vectorised over many datasets at once.

Every function works on a :class:`~whatworks._batch.Batch` of ``m`` meta-analyses (``Batch.make`` for
datasets given as ``(m, k)`` arrays with a ``present`` mask; ``Batch.leave_one_out`` and
``Batch.prefixes`` for the subsets of one set of effects that leave-one-out, influence and cumulative
analyses fit). Each estimator is written once, on the weighted cross-products ``T_r(t)`` of the batch
(see :mod:`whatworks._batch`): the weighted least-squares fit, Q, the (restricted) likelihood and the
traces of P = W - W X (X'WX)^-1 X'W are all ``p x p`` algebra on them, so nothing forms a ``k x k``
matrix and an iteration costs O(k p²).

The definitions are metafor's (``rma.uni``), Viechtbauer (2005) and the references given per method.
These are the building blocks of :func:`whatworks.meta_analyze`; they validate nothing (the model
module is the one validation gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _dist
from ._batch import Batch
from ._wls import _e2, _quad, _split, _trp, _trpp, _wls, heterogeneity, loglik, q_stat, wls, wls_fit

__all__ = ["METHODS", "Batch", "Tau2Fit", "estimate_tau2", "fit_tau2", "loglik", "q_stat", "solve_q", "wls", "wls_fit",
           "heterogeneity"]

METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence tolerance on tau², relative to max(tau², min vi) so that it does not depend on the units
#: of the effects: far tighter than metafor's absolute default 1e-5; results agree with metafor run at
#: ``threshold=1e-12`` to ~1e-10.
TOL = 1e-11
MAXITER = 500
#: tau2 below BOUNDARY * min(vi), with a negative score, is taken to be the boundary 0.
BOUNDARY = 1e-10
#: Datasets whose largest / smallest sampling variance reach this ratio get a global search of the
#: likelihood over a log grid of tau² (a badly scaled likelihood can have more than one maximum, and
#: Newton steps from the usual start can stall far from the optimum); see :func:`_suspect` for the
#: other reasons to search.
GRID_RATIO = 100.0
#: Grid points per decade of tau² in that search.
GRID_PER_DECADE = 4


@dataclass(frozen=True)
class Tau2Fit:
    """Result of a tau² estimation for every dataset of a batch."""

    tau2: np.ndarray
    se_tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


# --------------------------------------------------------------------------------------------------
# closed-form estimators


def _ee(b: Batch) -> Tau2Fit:
    z = np.zeros(b.m)
    return Tau2Fit(z, np.full_like(z, np.nan), z.astype(int), np.ones_like(z, dtype=bool))


def _closed(tau2: np.ndarray, se: np.ndarray) -> Tau2Fit:
    return Tau2Fit(np.maximum(tau2, 0.0), se, np.zeros(tau2.shape, int), np.ones(tau2.shape, bool))


def _q_type(b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Q, tr(P) and tr(PP) with W = diag(1/vi)."""
    T1, T2, T3 = b.moments(np.zeros(b.m), (1, 2, 3))
    _, M, q = _wls(b, T1)
    return q, _trp(b, M, T1, T2), _trpp(b, M, T2, T3, T2, T2)


def _q_type_se(b: Batch, trp: np.ndarray, trpp: np.ndarray, tau2: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """metafor's SE of a Q-based estimator (tau2 - c) / scale with W = diag(1/vi):
    sqrt(2 (k - p) + 4 tau2 tr(P) + 2 tau2² tr(PP)) / scale, tau2 truncated at 0."""
    t = np.maximum(tau2, 0)
    return np.sqrt(2 * (b.k - b.p) + 4 * t * trp + 2 * t**2 * trpp) / scale


def _dl(b: Batch) -> Tau2Fit:
    """DerSimonian & Laird (1986): (Q - (k - p)) / tr(P), W = diag(1/vi)."""
    q, trp, trpp = _q_type(b)
    tau2 = (q - (b.k - b.p)) / trp
    return _closed(tau2, _q_type_se(b, trp, trpp, tau2, trp))


def _hs(b: Batch) -> Tau2Fit:
    """Hunter & Schmidt (2004), as metafor: (Q - k) / sum(1/vi)."""
    q, trp, trpp = _q_type(b)
    sw = b.moments(np.zeros(b.m), (1,))[0][:, 0, 0]
    tau2 = (q - b.k) / sw
    return _closed(tau2, _q_type_se(b, trp, trpp, tau2, sw))


def _he_parts(b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hedges (1983) / Hedges & Olkin (1985) estimator before truncation at zero,
    (RSS_ols - tr(P_ols V)) / (k - p), with RSS_ols, tr(P_ols V) and tr(P_ols V P_ols V)."""
    zero = np.zeros(b.m)
    (T0,), (T0v,), (T0vv,) = b.moments(zero, (0,)), b.moments(zero, (0,), 1), b.moments(zero, (0,), 2)
    _, M, rss = _wls(b, T0)
    trpv = _trp(b, M, T0v, T0v)
    trpvpv = _trpp(b, M, T0vv, T0vv, T0v, T0v)
    return (rss - trpv) / (b.k - b.p), rss, trpv, trpvpv


def _he(b: Batch) -> Tau2Fit:
    tau2, _, trpv, trpvpv = _he_parts(b)
    t = np.maximum(tau2, 0)
    kp = b.k - b.p
    return _closed(tau2, np.sqrt((2 * trpvpv + 4 * t * trpv + 2 * t**2 * kp) / kp**2))


def _sj(b: Batch) -> Tau2Fit:
    """Sidik & Jonkman (2005), metafor's non-iterative version started at var(yi) (k - 1) / k."""
    k = b.k
    (T0,) = b.moments(np.zeros(b.m), (0,))
    # unweighted sum of squares of the raw y = y_c + x'b0 about their mean, from the centred sums
    G, h, c, n = _split(b, T0)
    sy, sx = T0[:, 0, b.iy] / b.yscale, T0[:, 0, b.ix]  # (the y entry, unscaled as _split does)
    b0 = b.offset
    cx = G - sx[:, :, None] * sx[:, None, :] / n[:, None, None]
    ss = c - sy**2 / n + 2 * np.einsum("mi,mi->m", b0, h - sx * (sy / n)[:, None]) + _quad(b0, cx)
    tau0 = np.maximum(ss, 0.0) / k
    T1, T2, T3 = b.moments(tau0, (1, 2, 3))
    (T2v, T3v), (T2vv, T3vv) = b.moments(tau0, (2, 3), 1), b.moments(tau0, (2, 3), 2)
    _, M, rss = _wls(b, T1)
    tau2 = tau0 * rss / (k - b.p)
    t = np.maximum(tau2, 0)
    var = tau0**2 / (k - b.p) ** 2 * (
        2 * _trpp(b, M, T2vv, T3vv, T2v, T2v) + 4 * t * _trpp(b, M, T2v, T3v, T2v, T2) + 2 * t**2 * _trpp(b, M, T2, T3, T2, T2)
    )
    return _closed(tau2, np.sqrt(var))


# --------------------------------------------------------------------------------------------------
# Q-equation estimators (Paule-Mandel, empirical Bayes) and the Q-profile


def solve_q(b: Batch, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve Q(tau2) = target for tau2 >= 0 in every dataset; 0 where Q(0) <= target.

    Q(tau2) is decreasing and convex in tau2, so Newton's method started at 0 climbs monotonically to
    the root; any dataset where it has not converged is finished by Brent's method on a doubling
    bracket. Returns the roots and the iteration counts.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # non-finite steps go to Brent
        return _solve_q(b, target)


def _solve_q(b: Batch, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    target = np.broadcast_to(np.asarray(target, dtype=float), (b.m,)).copy()
    tau2 = np.zeros(b.m)
    iters = np.zeros(b.m, int)
    scale = b.vmin
    work = _Working(b)
    on = np.ones(b.m, bool)  # still iterating
    for _ in range(200):
        if not on.any():
            break
        sub, rows = work.batch(on)
        t = tau2[rows]
        T1, T2 = sub.moments(t, (1, 2))
        beta, _, q = _wls(sub, T1)
        f = q - target[rows]
        go = (f > 0) & on[rows]
        slope = -_e2(sub, T2, beta)[0]  # dQ/dtau2 (envelope theorem: beta minimises Q)
        step = np.where(go, -f / np.where(slope < 0, slope, -1.0), 0.0)
        t = t + step
        tau2[rows] = t
        iters[rows] += go
        on[rows] = go & np.isfinite(t) & (np.abs(step) > TOL * np.maximum(t, scale[rows]))
    f = q_stat(b, tau2) - target
    bad = np.flatnonzero((f > 1e-9 * np.maximum(1, target)) | ~np.isfinite(tau2))
    for i in bad:
        bi = b.subset(np.array([i]))
        tau2[i] = _brent_root(lambda t, bi=bi, i=i: float(q_stat(bi, np.array([t]))[0] - target[i]), scale[i])
    return tau2, iters


class _Working:
    """The datasets an iteration computes on: a superset of those still iterating, re-subset (a copy)
    only when that number has halved, so a large batch is not copied at every iteration."""

    def __init__(self, b: Batch) -> None:
        self.full, self.rows, self.sub = b, np.arange(b.m), b

    def batch(self, on: np.ndarray) -> tuple[Batch, np.ndarray]:
        n = int(on.sum())
        if n <= self.rows.size // 2:
            self.rows = np.flatnonzero(on)
            self.sub = self.full.subset(self.rows)
        return self.sub, self.rows


def _brent_root(f, scale: float = 1.0) -> float:  # noqa: ANN001
    """Root of a decreasing function on [0, inf): 0 if f(0) <= 0, else Brent's method on a doubling
    bracket started at ``scale``."""
    if f(0.0) <= 0:
        return 0.0
    hi = scale
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e15 * max(scale, 1.0):
            raise ArithmeticError("no root below tau2 = 1e15; the data are degenerate")
    from scipy import optimize  # only for this rare fallback: scipy.optimize is slow to import

    return optimize.brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


def _pm(b: Batch) -> Tau2Fit:
    """Paule & Mandel (1982): the tau2 at which generalised Q equals its expectation k - p."""
    tau2, iters = solve_q(b, b.k - b.p)
    sw = b.moments(tau2, (1,))[0][:, 0, 0]
    se = np.sqrt(2 * b.k**2 / (b.k - b.p)) / sw
    return Tau2Fit(tau2, se, iters, np.ones(tau2.shape, bool))


def _eb(b: Batch) -> Tau2Fit:
    """Empirical Bayes (Morris 1983; Berkey et al. 1995).

    metafor iterates tau2 <- tau2 + (Q k/(k-p) - k) / sum(w); its fixed point satisfies Q = k - p, i.e.
    it is the Paule-Mandel root (Viechtbauer et al. 2015), which is solved here directly and robustly.
    """
    return _pm(b)


# --------------------------------------------------------------------------------------------------
# likelihood estimators


def _score_terms(b: Batch, tau2: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Twice the score, the observed and the expected information (times two) of the (restricted)
    likelihood in tau2:  g = y'PPy - tr(P) (REML) or y'PPy - sum(w) (ML);  H = 2 y'PPPy - tr(PP)
    (REML) or 2 y'PPPy - sum(w²) (ML);  F = tr(PP) or sum(w²)."""
    _, g, H, F = _state(b, tau2, reml, with_ll=False)
    return g, H, F


def _state(b: Batch, tau2: np.ndarray, reml: bool, with_ll: bool = True) -> tuple[np.ndarray, ...]:
    """The log-likelihood (NaN unless ``with_ll``) and :func:`_score_terms` at ``tau2``, from one set of
    cross-products."""
    T1, T2, T3 = b.moments(tau2, (1, 2, 3))
    beta, M, rss = _wls(b, T1)
    ype, g2e = _e2(b, T2, beta)  # y'PPy = sum w² e², X'W²e
    w3e2, _ = _e2(b, T3, beta)
    upu = w3e2 - _quad(g2e, M)  # y'PPPy = sum w³ e² - e'W²X M X'W²e
    ll = np.full(b.m, np.nan)
    if with_ll:
        ll = -0.5 * b.logsum(tau2) - 0.5 * rss
        ll = ll - 0.5 * (b.k - b.p) * np.log(2 * np.pi) + 0.5 * np.linalg.slogdet(M)[1] if reml else \
            ll - 0.5 * b.k * np.log(2 * np.pi)
    if reml:
        trpp = _trpp(b, M, T2, T3, T2, T2)
        return ll, ype - _trp(b, M, T1, T2), 2 * upu - trpp, trpp
    sw2 = T2[:, 0, 0]
    return ll, ype - T1[:, 0, 0], 2 * upu - sw2, sw2


def _feasible(t: np.ndarray, step: np.ndarray, g: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """metafor's rule: halve a step that would make tau2 negative, and settle on the boundary once
    tau2 is numerically 0 with the score pointing below it."""
    step = np.where(np.isfinite(step), step, 0.0)
    neg = t + step < 0
    if neg.any():  # the number of halvings in closed form (60 from tau2 = 0, where any step would cross)
        with np.errstate(divide="ignore", invalid="ignore"):
            halvings = np.where(t > 0, np.ceil(np.log2(-step / t)), 60.0)
        step = np.where(neg, step / 2.0 ** np.clip(halvings, 0, 60), step)
        step = np.where(t + step < 0, step / 2, step)  # rounding at the edge
    return np.where((t + step < BOUNDARY * scale) & (g < 0), -t, step)


def _newton(b: Batch, start: np.ndarray, reml: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Maximise the (restricted) likelihood from ``start``: tau2, loglik, iterations, converged.

    Each iteration takes the better (by the likelihood) of the Newton step and the Fisher-scoring step
    (metafor's), halving it while the likelihood would drop; far below the optimum of a badly scaled
    likelihood (tiny sampling variances) Fisher scoring jumps where Newton creeps, near it Newton
    converges quadratically. Only the datasets still iterating are recomputed, and the likelihood and
    score at a point come from one set of sums.
    """
    m = b.m
    tau2 = np.where(np.isfinite(start), np.maximum(start, 0.0), 0.0)
    S = np.stack(_state(b, tau2, reml))  # (4, m): ll, g, H, F
    scale = b.vmin
    iters = np.zeros(m, int)
    converged = np.zeros(m, bool)
    on = np.ones(m, bool)  # still iterating
    work = _Working(b)
    for _ in range(MAXITER):
        if not on.any():
            break
        sub, active = work.batch(on)
        t, sc, live = tau2[active], scale[active], on[active]
        l0, g, H, F = S[:, active]
        step = np.where(live, _feasible(t, g / np.where(H > 0, H, F), g, sc), 0.0)
        fisher = np.where(live, _feasible(t, g / F, g, sc), 0.0)
        new = np.stack(_state(sub, t + step, reml))
        # Fisher scoring is worth a second evaluation only where it would go much further (far below the
        # optimum of a badly scaled likelihood); near the optimum Newton's step is the better one
        alt = np.flatnonzero(live & (np.abs(fisher) > 2 * np.abs(step))
                             & (np.abs(fisher - step) > TOL * np.maximum(t, sc)))
        if alt.size:
            s_alt = np.stack(_state(sub.subset(alt), t[alt] + fisher[alt], reml))
            better = s_alt[0] > new[0, alt]
            step[alt[better]], new[:, alt[better]] = fisher[alt[better]], s_alt[:, better]
        worse = np.flatnonzero(live & ~(new[0] >= l0 - 1e-13 * np.abs(l0)))  # NaN counts as worse
        for _ in range(60):  # step-halving while the likelihood would drop
            if worse.size == 0:
                break
            step[worse] /= 2
            new[:, worse] = np.stack(_state(sub.subset(worse), t[worse] + step[worse], reml))
            worse = worse[~(new[0, worse] >= l0[worse] - 1e-13 * np.abs(l0[worse]))]
        step[worse], new[:, worse] = 0.0, S[:, active[worse]]  # no ascent left: a numerical optimum
        tau2[active] = t + step
        S[:, active] = new
        iters[active] += live
        done = live & (np.abs(step) <= TOL * np.maximum(t + step, sc))
        converged[active[done]] = np.isfinite(g[done])
        on[active] = live & ~done & np.isfinite(g)
    return tau2, S, iters, converged


def _grid_search(b: Batch, tau2: np.ndarray, ll: np.ndarray, reml: bool) -> np.ndarray:
    """Indices of the datasets whose likelihood is higher somewhere on a log grid of tau² than at
    ``tau2``, and for each the best grid point: the brackets from which to climb again."""
    _, rss_ols, _, _ = _he_parts(b)
    lo = b.vmin * 1e-4
    hi = np.maximum(100 * rss_ols / np.maximum(b.k - b.p, 1), lo)
    n = int(np.clip(np.ceil(np.nanmax(np.log10(hi / lo)) * GRID_PER_DECADE), 2, 200)) + 1
    best_ll, best_t = ll.copy(), tau2.copy()
    for j in range(n):
        t = lo * (hi / lo) ** (j / (n - 1))
        llg = loglik(b, t, reml=reml)
        up = llg > best_ll + 1e-10 * np.abs(best_ll)
        best_ll, best_t = np.where(up, llg, best_ll), np.where(up, t, best_t)
    return np.where(best_t != tau2, best_t, np.nan)


def _suspect(b: Batch, tau2: np.ndarray) -> np.ndarray:
    """Datasets whose likelihood maximum deserves the global search: badly scaled (max vi / min vi >=
    GRID_RATIO), or tau2 outside its own 95% Q-profile interval (Q(tau2) beyond the chi² quantiles), or
    at the boundary 0 although Q(0) > k - p (a boundary maximum can hide an interior one)."""
    df = b.k - b.p
    q_t, q_0 = q_stat(b, tau2), q_stat(b, np.zeros(b.m))
    outside = (q_t > _dist.chi2_ppf(0.975, df)) | ((q_t < _dist.chi2_ppf(0.025, df)) & (tau2 > 0))
    return (b.vmax / b.vmin >= GRID_RATIO) | outside | ((tau2 == 0) & (q_0 > df))


def _likelihood(b: Batch, reml: bool, search: bool = False) -> Tau2Fit:
    """ML / REML: :func:`_newton` from the Hedges estimate (metafor's start); Brent's method on the score
    for a dataset still not converged; for the datasets :func:`_suspect` finds (all with ``search``) a
    log-grid search of the likelihood, climbing again from any better grid point; then metafor's check
    that tau2 = 0 is not better."""
    tau2, S, iters, converged = _newton(b, _he_parts(b)[0], reml)
    ll, F = S[0], S[3]  # F: the information at tau2, for the standard error
    redo = ~converged
    for i in np.flatnonzero(~converged):
        bi = b.subset(np.array([i]))
        tau2[i] = _brent_root(lambda t, bi=bi: float(_score_terms(bi, np.array([t]), reml)[0][0]), b.vmin[i])
        ll[i] = loglik(bi, tau2[i : i + 1], reml=reml)[0]
        converged[i] = True
    check = np.flatnonzero(_suspect(b, tau2) | search)
    if check.size:
        sub = b.subset(check)
        restart = _grid_search(sub, tau2[check], ll[check], reml)
        again = np.flatnonzero(np.isfinite(restart))
        if again.size:
            t2, S2, it2, conv2 = _newton(sub.subset(again), restart[again], reml)
            take = S2[0] > ll[check[again]]
            idx = check[again[take]]
            tau2[idx], ll[idx], F[idx], converged[idx] = t2[take], S2[0, take], S2[3, take], conv2[take]
            iters[check[again]] += it2
    at0 = loglik(b, np.zeros_like(tau2), reml=reml) > ll + 1e-12
    tau2 = np.where(at0, 0.0, tau2)
    redo = np.flatnonzero(redo | at0)
    if redo.size:
        F[redo] = _score_terms(b.subset(redo), tau2[redo], reml)[2]
    return Tau2Fit(tau2, np.sqrt(2 / F), iters, converged | at0)


_ESTIMATORS = {
    "EE": _ee,
    "DL": _dl,
    "HS": _hs,
    "HE": _he,
    "SJ": _sj,
    "PM": _pm,
    "EB": _eb,
    "REML": lambda b: _likelihood(b, reml=True),
    "ML": lambda b: _likelihood(b, reml=False),
}


def fit_tau2(batch: Batch, method: str = "REML", *, search: bool = False) -> Tau2Fit:
    """Estimate tau² for every dataset of ``batch`` (see :func:`estimate_tau2`); ``search`` runs the
    global grid search of the likelihood (REML, ML) on every dataset, not only the badly scaled ones."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fit = _likelihood(batch, method == "REML", True) if search and method in ("REML", "ML") else \
            _ESTIMATORS[method](batch)
    none_left = batch.k <= batch.p  # no residual df: tau2 is not estimable and is 0 (as metafor, k = 1)
    if none_left.any():
        fit = Tau2Fit(
            np.where(none_left, 0.0, fit.tau2), np.where(none_left, np.nan, fit.se_tau2), fit.iterations, fit.converged
        )
    return fit


def estimate_tau2(
    yi: np.ndarray,
    vi: np.ndarray,
    method: str = "REML",
    *,
    present: np.ndarray | None = None,
    X: np.ndarray | None = None,
) -> Tau2Fit:
    """Estimate tau² for one or many meta-analyses.

    Parameters
    ----------
    yi, vi : array_like, shape (k,) or (m, k)
        Effect sizes and sampling variances; a 2-D input is ``m`` datasets.
    method : {"EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB"}
        metafor's estimator names. "EE" returns zero.
    present : array_like of bool, shape (m, k), optional
        Which effects belong to each dataset (default: all).
    X : array_like, shape (k, p) or (m, k, p), optional
        Model matrix (default: intercept only).

    Returns
    -------
    Tau2Fit
        ``tau2``, ``se_tau2`` (metafor's standard errors), ``iterations`` and ``converged``, each an
        array with one entry per dataset.

    Examples
    --------
    >>> import numpy as np
    >>> yi = np.array([-0.9, -0.2, -1.4, 0.1, -0.6])
    >>> vi = np.array([0.04, 0.09, 0.1, 0.05, 0.07])
    >>> fit = estimate_tau2(yi, vi, "DL")
    >>> round(float(fit.tau2[0]), 4)
    0.2586
    >>> estimate_tau2(np.vstack([yi, -yi]), np.vstack([vi, vi]), "REML").tau2.shape
    (2,)
    """
    return fit_tau2(Batch.make(yi, vi, present, X), method)
