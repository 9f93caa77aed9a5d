"""Between-study variance (tau²) estimators, vectorised over many datasets at once.

Every function works on a *batch*: ``yi`` and ``vi`` of shape ``(m, k)`` hold ``m`` meta-analyses of
``k`` effects each, ``present`` (same shape, bool) marks which effects take part in each dataset (so
leave-one-out, bootstrap or subset analyses of different sizes run in one call), and ``X`` is the model
matrix, ``(k, p)`` shared by all datasets or ``(m, k, p)``. Nothing here forms a ``k x k`` matrix: every
trace below is computed from ``p x p`` cross-products, so an iteration costs O(k p²).

The definitions are metafor's (``rma.uni``), Viechtbauer (2005) and the references given per method.
These are the building blocks of :func:`whatworks.meta_analyze`; they validate nothing (the model
module is the one validation gate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")

#: Convergence tolerance on tau² (absolute, scaled by max(1, tau²)); far tighter than metafor's default
#: 1e-5, so results agree with metafor run at ``threshold=1e-12`` to ~1e-10.
TOL = 1e-11
MAXITER = 500
#: tau2 below this, with a negative score, is taken to be the boundary 0.
BOUNDARY = 1e-10


@dataclass(frozen=True)
class Batch:
    """Effects of ``m`` meta-analyses prepared for estimation (internal).

    ``X is None`` means intercept only, which takes fast paths (plain weighted sums).
    """

    yi: np.ndarray  # (m, k), zero where absent
    vi: np.ndarray  # (m, k), one where absent
    present: np.ndarray  # (m, k) float 0/1
    X: np.ndarray | None  # (m, k, p) (a broadcast view when shared), or None for intercept only

    @property
    def k(self) -> np.ndarray:
        return self.present.sum(axis=-1)

    @property
    def p(self) -> int:
        return 1 if self.X is None else self.X.shape[-1]

    @classmethod
    def make(cls, yi, vi, present=None, X=None) -> "Batch":
        yi = np.atleast_2d(np.asarray(yi, dtype=float))
        vi = np.atleast_2d(np.asarray(vi, dtype=float))
        m, k = yi.shape
        pres = np.ones((m, k)) if present is None else np.atleast_2d(present).astype(float)
        if X is not None:
            X = np.asarray(X, dtype=float)
            X = np.broadcast_to(X, (m,) + X.shape[-2:]) if X.ndim == 2 else X
        on = pres > 0
        return cls(np.where(on, yi, 0.0), np.where(on, vi, 1.0), pres, X)

    def subset(self, rows: np.ndarray) -> "Batch":
        """The datasets at ``rows`` (indices into the first axis)."""
        X = None if self.X is None else self.X[rows]
        return Batch(self.yi[rows], self.vi[rows], self.present[rows], X)

    def repeat(self, times: int) -> "Batch":
        """The datasets ``times`` times over (to solve several equations per dataset in one batch)."""
        return self.subset(np.tile(np.arange(self.yi.shape[0]), times))


@dataclass(frozen=True)
class Tau2Fit:
    """Result of a tau² estimation for every dataset of a batch."""

    tau2: np.ndarray
    se_tau2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


# --------------------------------------------------------------------------------------------------
# weighted least squares and the traces of P = W - W X (X'WX)^-1 X'W, without forming P


def _gram(b: Batch, d: np.ndarray) -> np.ndarray:
    """X' diag(d) X for every dataset: (m, p, p)."""
    if b.X is None:
        return d.sum(-1)[:, None, None]
    return np.einsum("mki,mk,mkj->mij", b.X, d, b.X, optimize=True)


def _xt(b: Batch, u: np.ndarray) -> np.ndarray:
    """X' u for every dataset: (m, p)."""
    return u.sum(-1)[:, None] if b.X is None else np.einsum("mki,mk->mi", b.X, u)


def _x(b: Batch, beta: np.ndarray) -> np.ndarray:
    """X beta for every dataset: (m, k)."""
    return np.broadcast_to(beta, b.yi.shape) if b.X is None else np.einsum("mki,mi->mk", b.X, beta)


def wls(b: Batch, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares per dataset: coefficients (m, p), residuals (m, k), inv(X'WX) (m, p, p)."""
    w = w * b.present
    A = _gram(b, w)
    M = 1.0 / A if b.X is None else np.linalg.inv(A)
    beta = np.einsum("mij,mj->mi", M, _xt(b, w * b.yi))
    return beta, (b.yi - _x(b, beta)) * b.present, M


def _tr(A: np.ndarray) -> np.ndarray:
    return np.einsum("mii->m", A)


def tr_pd(b: Batch, w: np.ndarray, M: np.ndarray, d: np.ndarray) -> np.ndarray:
    """tr(P D) for diagonal D = diag(d)."""
    w = w * b.present
    if b.X is None:  # intercept only: M is 1 / sum(w), no matrix products
        wd = w * d
        return wd.sum(-1) - (w * wd).sum(-1) * M[:, 0, 0]
    return (w * d).sum(-1) - _tr(M @ _gram(b, w**2 * d))


def tr_pdpd(b: Batch, w: np.ndarray, M: np.ndarray, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """tr(P A P C) for diagonal A = diag(a), C = diag(c) (P symmetric)."""
    w = w * b.present
    if b.X is None:  # intercept only: the same traces from weighted sums
        m0, w2 = M[:, 0, 0], w * w
        w2a, w2c = w2 * a, w2 * c
        return (w2a * c).sum(-1) - 2 * m0 * (w * w2a * c).sum(-1) + m0**2 * w2a.sum(-1) * w2c.sum(-1)
    ga, gc = _gram(b, w**2 * a), _gram(b, w**2 * c)
    return (w**2 * a * c).sum(-1) - 2 * _tr(M @ _gram(b, w**3 * a * c)) + _tr(M @ ga @ M @ gc)


def q_stat(b: Batch, tau2: np.ndarray) -> np.ndarray:
    """Generalised Q: sum of w (y - X beta_w)² with w = 1 / (vi + tau2)."""
    w = b.present / (b.vi + np.asarray(tau2)[:, None])
    _, e, _ = wls(b, w)
    return (w * e**2).sum(-1)


def loglik(b: Batch, tau2: np.ndarray, *, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood of the random-effects model at ``tau2`` (metafor's ``ll``)."""
    tau2 = np.asarray(tau2, dtype=float)
    w = b.present / (b.vi + tau2[:, None])
    _, e, M = wls(b, w)
    ll = -0.5 * (np.log(b.vi + tau2[:, None]) * b.present).sum(-1) - 0.5 * (w * e**2).sum(-1)
    if reml:
        logdet = np.log(M[:, 0, 0]) if b.X is None else np.linalg.slogdet(M)[1]
        return ll - 0.5 * (b.k - b.p) * np.log(2 * np.pi) + 0.5 * logdet
    return ll - 0.5 * b.k * np.log(2 * np.pi)


# --------------------------------------------------------------------------------------------------
# closed-form estimators


def _ee(b: Batch) -> Tau2Fit:
    z = np.zeros(b.yi.shape[0])
    return Tau2Fit(z, np.full_like(z, np.nan), z.astype(int), np.ones_like(z, dtype=bool))


def _closed(tau2: np.ndarray, se: np.ndarray) -> Tau2Fit:
    return Tau2Fit(np.maximum(tau2, 0.0), se, np.zeros(tau2.shape, int), np.ones(tau2.shape, bool))


def _q_type_se(b: Batch, w: np.ndarray, M: np.ndarray, tau2: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """metafor's SE of a Q-based estimator (tau2 - c) / scale with W = diag(1/vi):
    sqrt(2 (k - p) + 4 tau2 tr(P) + 2 tau2² tr(PP)) / scale, tau2 truncated at 0."""
    one = np.ones_like(w)
    t = np.maximum(tau2, 0)
    return np.sqrt(2 * (b.k - b.p) + 4 * t * tr_pd(b, w, M, one) + 2 * t**2 * tr_pdpd(b, w, M, one, one)) / scale


def _dl(b: Batch) -> Tau2Fit:
    """DerSimonian & Laird (1986): (Q - (k - p)) / tr(P), W = diag(1/vi)."""
    w = b.present / b.vi
    _, e, M = wls(b, w)
    trp = tr_pd(b, w, M, np.ones_like(w))
    tau2 = ((w * e**2).sum(-1) - (b.k - b.p)) / trp
    return _closed(tau2, _q_type_se(b, w, M, tau2, trp))


def _hs(b: Batch) -> Tau2Fit:
    """Hunter & Schmidt (2004), as metafor: (Q - k) / sum(1/vi)."""
    w = b.present / b.vi
    _, e, M = wls(b, w)
    sw = w.sum(-1)
    tau2 = ((w * e**2).sum(-1) - b.k) / sw
    return _closed(tau2, _q_type_se(b, w, M, tau2, sw))


def _he_parts(b: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hedges (1983) / Hedges & Olkin (1985) estimator before truncation at zero, with the OLS weights and
    inv(X'X) it was computed from: (RSS_ols - tr(P_ols V)) / (k - p)."""
    w = b.present.copy()
    _, e, M = wls(b, w)
    return ((e**2).sum(-1) - tr_pd(b, w, M, b.vi)) / (b.k - b.p), w, M


def _he(b: Batch) -> Tau2Fit:
    tau2, w, M = _he_parts(b)
    t = np.maximum(tau2, 0)
    kp = b.k - b.p
    se = np.sqrt((2 * tr_pdpd(b, w, M, b.vi, b.vi) + 4 * t * tr_pd(b, w, M, b.vi) + 2 * t**2 * kp) / kp**2)
    return _closed(tau2, se)


def _sj(b: Batch) -> Tau2Fit:
    """Sidik & Jonkman (2005), metafor's non-iterative version started at var(yi) (k - 1) / k."""
    k = b.k
    mean = b.yi.sum(-1) / k
    tau0 = (((b.yi - mean[:, None]) ** 2) * b.present).sum(-1) / k
    w = b.present / (b.vi + tau0[:, None])
    _, e, M = wls(b, w)
    tau2 = tau0 * (w * e**2).sum(-1) / (k - b.p)
    t = np.maximum(tau2, 0)
    one = np.ones_like(w)
    var = tau0**2 / (k - b.p) ** 2 * (
        2 * tr_pdpd(b, w, M, b.vi, b.vi) + 4 * t * tr_pdpd(b, w, M, b.vi, one) + 2 * t**2 * tr_pdpd(b, w, M, one, one)
    )
    return _closed(tau2, np.sqrt(var))


# --------------------------------------------------------------------------------------------------
# Q-equation estimators (Paule-Mandel, empirical Bayes) and the Q-profile


def solve_q(b: Batch, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve Q(tau2) = target for tau2 >= 0 in every dataset; 0 where Q(0) <= target.

    Q(tau2) is decreasing in tau2, so Newton's method started at 0 climbs monotonically to the root;
    any dataset where it has not converged is finished by Brent's method on a doubling bracket.
    Returns the roots and the iteration counts.
    """
    target = np.broadcast_to(np.asarray(target, dtype=float), b.yi.shape[:1]).copy()
    tau2 = np.zeros(b.yi.shape[0])
    iters = np.zeros(tau2.shape, int)
    active = np.ones(tau2.shape, bool)
    for _ in range(100):
        w = b.present / (b.vi + tau2[:, None])
        _, e, _ = wls(b, w)
        f = (w * e**2).sum(-1) - target
        active &= f > 0
        if not active.any():
            break
        slope = -((w * e) ** 2).sum(-1)  # dQ/dtau2 (envelope theorem: beta minimises Q)
        step = np.where(active, -f / np.where(slope < 0, slope, -1.0), 0.0)
        tau2 = tau2 + step
        iters += active
        active &= np.abs(step) > TOL * np.maximum(1.0, tau2)
    f = q_stat(b, tau2) - target
    bad = np.flatnonzero((f > 1e-9 * np.maximum(1, target)) | ~np.isfinite(tau2))
    for i in bad:
        tau2[i] = _brent_root(lambda t, i=i: float(q_stat(_take(b, i), np.array([t]))[0] - target[i]))
    return tau2, iters


def _take(b: Batch, i: int | np.integer) -> Batch:
    return b.subset(np.array([i]))


def _brent_root(f) -> float:
    """Root of a decreasing function on [0, inf): 0 if f(0) <= 0, else Brent's method on a doubling bracket."""
    if f(0.0) <= 0:
        return 0.0
    hi = 1.0
    while f(hi) > 0:
        hi *= 2.0
        if hi > 1e12:
            raise ArithmeticError("no root below tau2 = 1e12; the data are degenerate")
    from scipy import optimize  # only for this rare fallback: scipy.optimize is slow to import

    return optimize.brentq(f, 0.0, hi, xtol=1e-15, rtol=1e-15, maxiter=500)


def _pm(b: Batch) -> Tau2Fit:
    """Paule & Mandel (1982): the tau2 at which generalised Q equals its expectation k - p."""
    tau2, iters = solve_q(b, b.k - b.p)
    w = b.present / (b.vi + tau2[:, None])
    se = np.sqrt(2 * b.k**2 / (b.k - b.p)) / w.sum(-1)
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
    w = b.present / (b.vi + tau2[:, None])
    _, e, M = wls(b, w)
    u = w * e  # P y
    pu = w * u - w * _x(b, np.einsum("mij,mj->mi", M, _xt(b, w * u)))  # P P y
    ype, upu = (u * u).sum(-1), (u * pu).sum(-1)
    if reml:
        one = np.ones_like(w)
        trpp = tr_pdpd(b, w, M, one, one)
        return ype - tr_pd(b, w, M, one), 2 * upu - trpp, trpp
    sw2 = (w * w).sum(-1)
    return ype - w.sum(-1), 2 * upu - sw2, sw2


def _likelihood(b: Batch, reml: bool) -> Tau2Fit:
    """ML / REML: Newton steps (Fisher scoring where the likelihood is not concave) from the Hedges
    estimate, as metafor starts; a step that would cross tau2 = 0 is halved (metafor's rule, so a
    boundary maximum does not trap an interior one), and step-halving on the likelihood; Brent's
    method on the score for any dataset still not converged; then metafor's check that tau2 = 0 is not
    better. Only the datasets still iterating are recomputed."""
    m = b.yi.shape[0]
    tau2 = np.maximum(_he_parts(b)[0], 0.0)
    ll_all = loglik(b, tau2, reml=reml)
    iters = np.zeros(m, int)
    active = np.arange(m)
    for _ in range(MAXITER):
        if active.size == 0:
            break
        sub, t, ll = b.subset(active), tau2[active], ll_all[active]
        g, H, F = _score_terms(sub, t, reml)
        step = g / np.where(H > 0, H, F)
        for _ in range(60):  # metafor's rule: halve a step that would make tau2 negative ...
            neg = t + step < 0
            if not neg.any():
                break
            step = np.where(neg, step / 2, step)
        # ... and settle on the boundary once tau2 is numerically 0 with the score pointing below it
        step = np.where((t + step < BOUNDARY) & (g < 0), -t, step)
        for _ in range(30):  # step-halving while the likelihood would drop
            ll_new = loglik(sub, t + step, reml=reml)
            worse = ll_new < ll - 1e-13 * np.abs(ll)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        else:
            ll_new = loglik(sub, t + step, reml=reml)
        tau2[active], ll_all[active] = t + step, ll_new
        iters[active] += 1
        active = active[np.abs(step) > TOL * np.maximum(1.0, t + step)]
    converged = np.ones(m, bool)
    for i in active:  # pragma: no cover - a safety net; Newton with step-halving converges in practice
        bi = _take(b, i)
        tau2[i] = _brent_root(lambda t: float(_score_terms(bi, np.array([t]), reml)[0][0]))
    at0 = loglik(b, np.zeros_like(tau2), reml=reml) > loglik(b, tau2, reml=reml) + 1e-12
    tau2 = np.where(at0, 0.0, tau2)
    _, _, F = _score_terms(b, tau2, reml)
    return Tau2Fit(tau2, np.sqrt(2 / F), iters, converged)


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
    batch = Batch.make(yi, vi, present, X)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = _ESTIMATORS[method](batch)
    none_left = batch.k <= batch.p  # no residual df: tau2 is not estimable and is 0 (as metafor, k = 1)
    if none_left.any():
        fit = Tau2Fit(
            np.where(none_left, 0.0, fit.tau2), np.where(none_left, np.nan, fit.se_tau2), fit.iterations, fit.converged
        )
    return fit
