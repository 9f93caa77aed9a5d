"""Three-level random-effects model: effects nested in clusters, as metafor's ``rma.mv``.

The model is ``yi = X b + u_cluster + w_effect + e``, with ``u ~ N(0, sigma2[0])`` shared by the
effects of a cluster (between-cluster variance), ``w ~ N(0, sigma2[1])`` per effect (within-cluster
variance) and ``e ~ N(0, vi)``: metafor's ``rma.mv(yi, vi, mods, random = ~ 1 | cluster/es_id)``.

The marginal covariance is block diagonal with one compound-symmetric block per cluster,
``V_c = diag(vi + sigma2[1]) + sigma2[0] 11'``. Each block is inverted with the Sherman-Morrison
formula, so the (restricted) log-likelihood and its gradient cost O(k p²); no k x k matrix is formed.
The variance components maximise the (restricted) log-likelihood: L-BFGS-B on the log-variance scale
from several starts, a Newton polish on the variance scale, and an explicit comparison with the
boundary models (a component fixed at 0), so an estimate of exactly 0 is found and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._validation import check_effects
from .results import MultilevelResult

__all__ = ["fit_three_level", "MultilevelResult", "check_cluster"]

METHODS = ("REML", "ML")
TESTS = ("z", "t")
_LOG2PI = np.log(2 * np.pi)

def check_cluster(cluster: Sequence[object] | np.ndarray, k: int, name: str = "cluster") -> tuple[np.ndarray, np.ndarray]:
    """Validate cluster identifiers; return integer codes (0..n-1, sorted labels) and the labels.

    Raises :class:`ValueError` for a length other than ``k`` or missing identifiers (None/NaN),
    naming the positions.
    """
    if isinstance(cluster, (str, bytes)) or not hasattr(cluster, "__len__"):
        raise ValueError(f"{name} must be a sequence with one identifier per effect")
    arr = np.asarray(pd.Series(list(cluster), dtype=object))
    if len(arr) != k:
        raise ValueError(f"{name} must have one entry per effect; got {len(arr)} for k={k}")
    missing = pd.isna(arr)
    if missing.any():
        raise ValueError(f"{name} has missing identifiers at {v.positions(missing)}")
    codes, labels = pd.factorize(arr, sort=True)
    return codes.astype(np.intp), np.asarray(labels, dtype=object)


class _Blocks:
    """Data sorted by cluster, with the per-cluster sums the likelihood needs (internal)."""

    def __init__(self, y: np.ndarray, vi: np.ndarray, X: np.ndarray, codes: np.ndarray) -> None:
        order = np.argsort(codes, kind="stable")
        self.y, self.vi, self.X = y[order], vi[order], X[order]
        c = codes[order]
        self.starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        self.idx = np.cumsum(np.r_[False, c[1:] != c[:-1]])  # 0..n-1 per row
        self.k, self.p = X.shape
        self.logdet_xx = np.linalg.slogdet(X.T @ X)[1]

    def seg(self, a: np.ndarray) -> np.ndarray:
        return np.add.reduceat(a, self.starts, axis=0)

    def evaluate(self, s: np.ndarray, reml: bool, grad: bool = True) -> dict:
        """Log-likelihood (metafor's, incl. the 1/2 log|X'X| term of the full REML), gradient, GLS fit."""
        s1, s2 = float(s[0]), float(s[1])
        w = 1.0 / (self.vi + s2)
        a = self.seg(w)
        c = s1 / (1.0 + s1 * a)
        Xw = self.X * w[:, None]
        bx = self.seg(Xw)
        xvx = self.X.T @ Xw - (bx.T * c) @ bx
        xvy = Xw.T @ self.y - bx.T @ (c * self.seg(w * self.y))
        M = np.linalg.inv(xvx)
        beta = M @ xvy
        e = self.y - self.X @ beta
        be = self.seg(w * e)
        r = w * e - w * (c * be)[self.idx]  # V^-1 e
        logdet_v = -np.log(w).sum() + np.log1p(s1 * a).sum()
        out = {"beta": beta, "vb": M, "e": e}
        if reml:
            ll = -0.5 * ((self.k - self.p) * _LOG2PI + logdet_v + np.linalg.slogdet(xvx)[1] - self.logdet_xx + e @ r)
        else:
            ll = -0.5 * (self.k * _LOG2PI + logdet_v + e @ r)
        out["ll"] = float(ll)
        if grad:
            g2 = (w.sum() - (c * self.seg(w * w)).sum()) - r @ r
            g1 = (a / (1.0 + s1 * a)).sum() - (self.seg(r) ** 2).sum()
            if reml:
                U = Xw - w[:, None] * (c[:, None] * bx)[self.idx]  # V^-1 X
                u = bx / (1.0 + s1 * a)[:, None]  # X_c' V_c^-1 1 per cluster
                g2 -= np.einsum("ij,ji->", M, U.T @ U)
                g1 -= np.einsum("ij,ji->", M, u.T @ u)
            out["grad"] = -0.5 * np.array([g1, g2])
        return out


def _optimise(b: _Blocks, free: np.ndarray, reml: bool, starts: list[np.ndarray], hi: float) -> tuple[np.ndarray, bool]:
    """Maximise over the free components (others fixed at 0); return sigma2 and a convergence flag."""
    if not free.any():
        return np.zeros(2), True
    lo = hi * 1e-14

    def negll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        s = np.zeros(2)
        s[free] = np.exp(theta)
        f = b.evaluate(s, reml)
        return -f["ll"], -f["grad"][free] * s[free]

    from scipy import optimize  # imported here: scipy.optimize is slow to import

    fits = [optimize.minimize(negll, np.log(np.clip(s0[free], lo, hi)), jac=True, method="L-BFGS-B",
                              bounds=[(np.log(lo), np.log(hi))] * int(free.sum()),
                              options={"ftol": 1e-12, "gtol": 1e-9, "maxiter": 500})
            for s0 in starts]  # fmt: skip
    best = min(fits, key=lambda res: res.fun)  # the first of the lowest, as a strict "<" scan
    s = np.zeros(2)
    s[free] = np.exp(best.x)
    return _newton(b, s, free, reml)


def _newton(b: _Blocks, s: np.ndarray, free: np.ndarray, reml: bool) -> tuple[np.ndarray, bool]:
    """Polish with Newton steps on the variance scale (Hessian by central differences of the gradient)."""
    f = b.evaluate(s, reml)
    for _ in range(50):
        g = f["grad"][free]
        H = _hessian(b, s, free, reml)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.any(np.linalg.eigvalsh(H) >= 0):
            break  # not locally concave: keep the quasi-Newton optimum
        t = 1.0
        while t > 1e-6:
            cand = s.copy()
            cand[free] = s[free] + t * step
            if np.all(cand[free] > 0):
                fc = b.evaluate(cand, reml)
                if fc["ll"] >= f["ll"] - 1e-12 * max(1.0, abs(f["ll"])):
                    break
            t /= 2
        else:
            break
        s, f = cand, fc
        if np.all(np.abs(t * step) <= 1e-13 * np.maximum(s[free], 1e-300) + 1e-300):
            break
    grad_log = np.abs(f["grad"][free] * s[free])
    return s, bool(np.all(grad_log <= 1e-6 * max(1.0, abs(f["ll"]))))


def _hessian(b: _Blocks, s: np.ndarray, free: np.ndarray, reml: bool) -> np.ndarray:
    ids = np.flatnonzero(free)
    H = np.empty((ids.size, ids.size))
    for j, i in enumerate(ids):
        h = 1e-5 * s[i]
        sp, sm = s.copy(), s.copy()
        sp[i] += h
        sm[i] -= h
        H[:, j] = (b.evaluate(sp, reml)["grad"][ids] - b.evaluate(sm, reml)["grad"][ids]) / (2 * h)
    return (H + H.T) / 2


def _fit_sigma2(b: _Blocks, reml: bool) -> tuple[np.ndarray, bool, list[str]]:
    """Global maximiser over sigma2 >= 0: interior fit from several starts, then the boundary models
    (a component fixed at 0) whenever the interior fit drifts towards a bound or does not converge."""
    notes: list[str] = []
    spread = float(np.var(b.y)) + float(np.mean(b.vi))
    total = max(float(np.var(b.y)) - float(np.mean(b.vi)), 0.05 * spread)
    hi = 1e4 * spread
    starts = [total * np.array(f) for f in ((0.5, 0.5), (0.9, 0.1), (0.1, 0.9))]
    s, ok = _optimise(b, np.array([True, True]), reml, starts, hi)
    candidates = [(b.evaluate(s, reml, grad=False)["ll"], 2, s, ok)]
    if not ok or s.min() < 1e-3 * s.sum() or s.sum() < 1e-6 * spread:
        for free in ([True, False], [False, True], [False, False]):
            fr = np.array(free)
            sb, okb = _optimise(b, fr, reml, [np.full(2, max(s.sum(), total))], hi)
            candidates.append((b.evaluate(sb, reml, grad=False)["ll"], int(fr.sum()), sb, okb))
    lls = np.array([c[0] for c in candidates])
    if not np.all(np.isfinite(lls)):
        raise ArithmeticError("the log-likelihood is not finite for these data; check yi and vi")
    # highest log-likelihood; among (numerically) equal ones prefer fewer free components (boundary)
    top = lls.max() - 1e-9 * max(1.0, abs(lls.max()))
    _, _, s, ok = min((c for c in candidates if c[0] >= top), key=lambda c: (c[1], -c[0]))
    if np.any(s >= hi * 0.999):
        notes.append("a variance component reached the search bound; the likelihood is flat in that direction.")
        ok = False
    if np.all(s > 0):
        H = _hessian(b, s, np.array([True, True]), reml) * np.outer(s, s)  # curvature on the log scale
        ev = np.linalg.eigvalsh(-H)
        if ev.min() < 1e-6 * max(1.0, ev.max()):
            notes.append("the likelihood is nearly flat in sigma2: the split between the two levels is poorly "
                         "determined by these data (few effects per cluster or few clusters).")  # fmt: skip
    return s, ok, notes


def _heterogeneity(b: _Blocks) -> tuple[float, float]:
    """Cochran's QE (weights 1/vi) and metafor's 'typical' within-study variance (k - p) / tr(P)."""
    w = 1.0 / b.vi
    Xw = b.X * w[:, None]
    M = np.linalg.inv(b.X.T @ Xw)
    e = b.y - b.X @ (M @ (Xw.T @ b.y))
    tr_p = w.sum() - np.einsum("ij,ji->", M, Xw.T @ Xw)
    return float((w * e**2).sum()), float((b.k - b.p) / tr_p)


def fit_three_level(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    cluster: Sequence[object] | np.ndarray,
    *,
    X: np.ndarray | None = None,
    coef_names: Sequence[str] | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> MultilevelResult:
    """Fit a three-level meta-analysis (effects nested in clusters), as metafor's ``rma.mv``.

    Equivalent to ``rma.mv(yi, vi, mods = X, random = ~ 1 | cluster/es_id, method, test)`` with one
    ``es_id`` per row.

    Parameters
    ----------
    yi, vi : array_like, shape (k,)
        Effect sizes and their sampling variances (strictly positive).
    cluster : sequence, shape (k,)
        Cluster identifier per effect (e.g. the study or trial id); any hashable values, no missing.
    X : array_like, shape (k, p), optional
        Model matrix (include the intercept column yourself); default: intercept only.
    coef_names : sequence of str, optional
        Names of the columns of ``X``; default ``intrcpt`` (intercept only) or ``x0, x1, ...``.
    method : {"REML", "ML"}
        Restricted or full maximum likelihood for the variance components.
    test : {"z", "t"}
        Wald z inference, or t with k - p df (metafor's ``test="t"``).
    level : float
        Confidence level for the CIs and the prediction interval (0.95 or 95).

    Returns
    -------
    MultilevelResult
        ``sigma2 = (between-cluster, within-cluster)``, the I² per level, QE, estimate(s), se, CI,
        p-value, the prediction interval (intercept-only models) and the log-likelihood.

    Raises
    ------
    ValueError
        Invalid effects, variances or cluster ids; an unknown method or test; fewer than two clusters,
        or every cluster holding a single effect (the two levels cannot then be told apart); a model
        matrix of the wrong shape or without full column rank.

    Examples
    --------
    >>> from whatworks.multilevel import fit_three_level
    >>> yi = [0.3, 0.5, 0.1, 0.8, 0.7, -0.1, 0.2, 0.4]
    >>> vi = [0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05, 0.03]
    >>> res = fit_three_level(yi, vi, cluster=["a", "a", "b", "b", "b", "c", "c", "d"])
    >>> res.n_clusters, res.method, len(res.sigma2)
    (4, 'REML', 2)
    >>> res.ci_low < res.estimate < res.ci_high
    True
    """
    y, s = check_effects(yi, vi)
    method = v.check_option("method (three-level model)", method, METHODS)
    test = v.check_option("test (three-level model)", test, TESTS)
    level = v.check_level(level)
    k = y.size
    codes, labels = check_cluster(cluster, k)
    n = labels.size
    if n < 2:
        raise ValueError("cluster has a single level: the between-cluster variance cannot be estimated")
    if n == k:
        raise ValueError("every cluster holds a single effect: between- and within-cluster variance cannot be "
                         "separated; fit meta_analyze(yi, vi) without cluster")  # fmt: skip
    intercept_only = X is None
    Xm = np.ones((k, 1)) if X is None else v.as_float_array("X", X, ndim=2)
    if Xm.shape[0] != k:
        raise ValueError(f"X must have one row per effect; got {Xm.shape[0]} rows for k={k}")
    bad = ~np.isfinite(Xm).all(axis=1)
    if bad.any():
        raise ValueError(f"X has NaN or infinite values in rows at {v.positions(bad)}")
    p = Xm.shape[1]
    if np.linalg.matrix_rank(Xm) < p or p >= k:
        raise ValueError(f"X (k={k}, p={p}) must have full column rank and fewer columns than effects")
    if coef_names is None:
        coef_names = ["intrcpt"] if intercept_only else [f"x{j}" for j in range(p)]
    coef_names = tuple(str(c) for c in coef_names)
    if len(coef_names) != p:
        raise ValueError(f"coef_names must name the {p} columns of X; got {len(coef_names)} names")

    b = _Blocks(y, s, Xm, codes)
    reml = method == "REML"
    sigma2, converged, notes = _fit_sigma2(b, reml)
    f = b.evaluate(sigma2, reml, grad=False)
    beta, vb = f["beta"], f["vb"]
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    df = float(k - p) if test == "t" else np.inf
    crit = float(_dist.t_ppf(0.5 + level / 2, df))  # df = inf: the normal quantile
    pvalue = 2 * _dist.t_sf(np.abs(stat), df)
    q, vt = _heterogeneity(b)
    btt = np.arange(1, p) if p > 1 and np.all(Xm[:, 0] == 1) else np.arange(p)  # metafor's default btt
    qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
    if test == "t":
        qm /= btt.size
        qm_pvalue = float(_dist.f_sf(qm, btt.size, k - p))
    else:
        qm_pvalue = float(_dist.chi2_sf(qm, btt.size))
    total = float(sigma2.sum())
    i2_levels = (float(100 * sigma2[0] / (total + vt)), float(100 * sigma2[1] / (total + vt)))
    for name, x in zip(("between-cluster", "within-cluster"), sigma2):
        if x == 0:
            notes.append(f"the {name} variance is estimated at its boundary 0.")
    if not converged:
        notes.append("the optimiser did not reach a stationary point to the requested tolerance.")
    if intercept_only:
        half = crit * np.sqrt(se[0] ** 2 + total)
        pi = (float(beta[0] - half), float(beta[0] + half))
    else:
        pi = (np.nan, np.nan)

    def out(a: np.ndarray) -> float | np.ndarray:
        return float(a[0]) if intercept_only else a

    return MultilevelResult(
        k=k,
        n_clusters=int(n),
        estimate=out(beta),
        se=out(se),
        stat=out(stat),
        pvalue=out(pvalue),
        ci_low=out(beta - crit * se),
        ci_high=out(beta + crit * se),
        sigma2=(float(sigma2[0]), float(sigma2[1])),
        i2_levels=i2_levels,
        i2=float(100 * total / (total + vt)),
        q=q,
        q_df=k - p,
        q_pvalue=float(_dist.chi2_sf(q, k - p)),
        qm=qm,
        qm_df=int(btt.size),
        qm_pvalue=qm_pvalue,
        pi_low=pi[0],
        pi_high=pi[1],
        df=df,
        loglik=f["ll"],
        vcov=vb,
        coef_names=coef_names,
        yi=y,
        vi=s,
        X=Xm,
        cluster=codes,
        cluster_labels=labels,
        method=method,
        test=test,
        level=level,
        converged=converged,
        notes=tuple(notes),
    )
