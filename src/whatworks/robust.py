"""Cluster-robust (sandwich) inference for fitted meta-analytic models: :func:`robust`.

Two estimators, each exactly as the R implementation researchers use:

- ``kind="CR1"``: metafor's ``robust(fit, cluster)`` (default ``adjust=TRUE``). With the model weights
  ``W = V^-1`` and ``M = (X'WX)^-1``, ``vcov = n/(n - p) M [sum_j X_j' W_j e_j e_j' W_j X_j] M`` over
  the ``n`` clusters ``j``; t tests on ``n - p`` df.
- ``kind="CR2"``: the bias-reduced linearisation of clubSandwich (Pustejovsky & Tipton 2018), as
  ``robust(fit, cluster, clubSandwich=TRUE)`` or ``coef_test(fit, vcov="CR2")``. The working model is
  the fitted one, so each cluster's residuals are adjusted by ``A_j = C_j' G_j^(-1/2) C_j`` with
  ``V_j = C_j' C_j`` (Cholesky) and ``G_j = C_j (V_j - X_j M X_j') C_j'``; every coefficient gets its
  own Satterthwaite df, computed in O(n p²) without forming an n x n matrix.

The working covariance ``V`` is block diagonal by cluster: ``diag(vi + tau2)`` for single-level fits
(:func:`whatworks.meta_analyze`, :func:`whatworks.regression.meta_regress`) and the compound-symmetric
blocks of a three-level fit. Per-cluster work is done on stacks of equally sized clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from .multilevel import MultilevelResult, check_cluster
from .regression import RegressionResult
from .results import _fmt, _freeze, _pval, frame_to_html

if TYPE_CHECKING:  # pragma: no cover
    from .results import MetaResult

__all__ = ["robust", "RobustResult"]

KINDS = ("CR2", "CR1")
#: A robust variance below this multiple of the model-based variance (X'V^-1 X)^-1 is 0 up to rounding:
#: residuals that are 0 in exact arithmetic leave float64 noise of about 1e-16 relative, squared 1e-32.
DEGENERATE_VAR = 1e-16


@dataclass(frozen=True)
class RobustResult:
    """Cluster-robust inference for a fitted model (result of :func:`robust`).

    Attributes
    ----------
    coef, se, stat, df, pvalue, ci_low, ci_high : ndarray
        Coefficients of the fitted model (unchanged), robust standard errors, t statistics, degrees of
        freedom (``n - p`` for CR1, Satterthwaite per coefficient for CR2), two-sided p-values and
        t-based confidence intervals at ``level``.
    vcov : ndarray
        Robust covariance matrix of the coefficients. coef_names : tuple of str.
    kind : {"CR2", "CR1"}
        Estimator. n_clusters : int. k : int. level : float.
    model : str
        Class name of the fit it was computed from.
    notes : tuple of str
        Remarks, e.g. coefficients with very few effective degrees of freedom.
    """

    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray = field(repr=False)
    coef_names: tuple[str, ...] = ()
    kind: str = "CR2"
    n_clusters: int = 0
    k: int = 0
    level: float = 0.95
    model: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, se, stat, df, pvalue, ci_low, ci_high."""
        return pd.DataFrame({
            "term": list(self.coef_names), "coef": self.coef, "se": self.se, "stat": self.stat,
            "df": self.df, "pvalue": self.pvalue, "ci_low": self.ci_low, "ci_high": self.ci_high})  # fmt: skip

    def _title(self) -> str:
        how = "Satterthwaite df" if self.kind == "CR2" else "df = n - p"
        return (f"Cluster-robust inference ({self.kind}, {how}) for {self.model}: "
                f"k = {self.k} effects in {self.n_clusters} clusters")  # fmt: skip

    def summary(self) -> str:
        """Plain-text table of the robust tests."""
        fr = self.to_frame()
        fr["pvalue"] = [_pval(p) for p in fr["pvalue"]]
        lines = [self._title(), "", fr.to_string(index=False, float_format=_fmt)]
        return "\n".join(lines + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}={_fmt(c)} (se {_fmt(s)}, df {_fmt(d, 2)})"
                          for n, c, s, d in zip(self.coef_names, self.coef, self.se, self.df))  # fmt: skip
        return f"RobustResult(kind={self.kind!r}, n_clusters={self.n_clusters}, {parts})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), self._title(), [f"Note: {n}" for n in self.notes])


# --------------------------------------------------------------------------------------------------
# the working model of each kind of fit


def _working_model(
    fit: MetaResult | RegressionResult | MultilevelResult,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...], Callable[[np.ndarray], np.ndarray]]:
    """(yi, X, coef, names, V_block) for a fitted model; ``V_block(rows)`` is its marginal covariance
    over the given rows (a dense block; zero between different model clusters)."""
    if isinstance(fit, MultilevelResult):
        s1, s2 = fit.sigma2
        vi, mc = fit.vi, fit.cluster

        def block(rows: np.ndarray) -> np.ndarray:
            same = mc[rows][..., :, None] == mc[rows][..., None, :]
            return s1 * same + _diag(vi[rows] + s2)

        return fit.yi, fit.X, fit.coef, fit.coef_names, block
    if hasattr(fit, "tau2") and hasattr(fit, "yi") and hasattr(fit, "vi"):
        tau2 = float(fit.tau2)
        vi = np.asarray(fit.vi)
        if isinstance(fit, RegressionResult):  # meta-regression
            X, coef, names = np.asarray(fit.X), np.asarray(fit.coef), tuple(fit.names)
        else:  # MetaResult
            X, coef, names = np.ones((vi.size, 1)), np.array([fit.estimate]), ("intrcpt",)
        return np.asarray(fit.yi), X, coef, names, lambda rows: _diag(vi[rows] + tau2)
    raise ValueError(
        f"robust() needs a fit from meta_analyze, meta_regress or fit_three_level; got {type(fit).__name__}"
    )


def _diag(d: np.ndarray) -> np.ndarray:
    out = np.zeros(d.shape + d.shape[-1:])
    idx = np.arange(d.shape[-1])
    out[..., idx, idx] = d
    return out


def _inv_sqrt_psd(G: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root of a stack of PSD matrices; eigenvalues <= 1e-12 map to 0
    (clubSandwich's ``matrix_power(x, -1/2)``)."""
    ev, Q = np.linalg.eigh(G)
    keep = ev > 1e-12  # a cluster with leverage 1 has a zero eigenvalue
    pw = np.zeros_like(ev)
    pw[keep] = ev[keep] ** -0.5
    return (Q * pw[..., None, :]) @ np.swapaxes(Q, -1, -2)


def _sandwich(y, X, coef, block, codes, n, kind):
    """Robust vcov and df; loops over stacks of equally sized clusters."""
    k, p = X.shape
    e = y - X @ coef
    sizes = np.bincount(codes, minlength=n)
    order = np.argsort(codes, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    parts = []  # per stack: (Vinv X (m, s, p), e (m, s), V (m, s, s), X (m, s, p), rows)
    for s in np.unique(sizes):
        ids = np.flatnonzero(sizes == s)
        rows = order[starts[ids][:, None] + np.arange(s)]  # (m, s)
        V = block(rows)
        L = np.linalg.cholesky(V)
        Xs = X[rows]
        VinvX = np.linalg.solve(V, Xs)
        parts.append((VinvX, e[rows], L, Xs))
    xwx = sum(np.einsum("msi,msj->ij", VinvX, Xs) for VinvX, _, _, Xs in parts)
    M = np.linalg.inv(xwx)
    if kind == "CR1":
        u = np.concatenate([np.einsum("msi,ms->mi", VinvX, es) for VinvX, es, _, _ in parts])
        vcov = (n / (n - p)) * (M @ (u.T @ u) @ M)
        return vcov, np.full(p, float(n - p)), M
    # CR2 (clubSandwich, inverse-variance working weights): A = C' G^-1/2 C with C = L' (upper)
    Lm = np.linalg.cholesky(M)
    u_all, g_all, h_all = [], [], []
    for VinvX, es, L, Xs in parts:
        C = np.swapaxes(L, -1, -2)
        XMX = Xs @ M @ np.swapaxes(Xs, -1, -2)
        V = L @ C
        G = C @ (V - XMX) @ L
        A = L @ _inv_sqrt_psd(G) @ C
        E = np.swapaxes(VinvX, -1, -2) @ A  # X_j' W_j A_j, (m, p, s)
        u_all.append(np.einsum("mps,ms->mp", E, es))
        ME = M @ E
        g_all.append(((ME @ L) ** 2).sum(-1))  # (m, p): row sums of squares of M E_j C_j'
        h_all.append(ME @ Xs @ Lm)  # (m, p, p): H_j = M E_j X_j chol(M)
    u = np.concatenate(u_all)
    vcov = M @ (u.T @ u) @ M
    g = np.concatenate(g_all)
    H = np.concatenate(h_all)  # (n, p, p); h_ij = H[j, i, :]
    hh = (H**2).sum(-1)  # (n, p): |h_ij|²
    d = g - hh
    trace = d.sum(0)
    S = np.einsum("jia,jib->iab", H, H)  # per coefficient i: sum_j h_ij h_ij'
    frob = (S**2).sum((1, 2)) - (hh**2).sum(0) + (d**2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):  # frob = 0: no effective df (NaN, reported)
        df = np.where(frob > 0, trace**2 / np.where(frob > 0, frob, 1.0), np.nan)
    return vcov, df, M


def robust(
    fit: MetaResult | RegressionResult | MultilevelResult,
    cluster: Sequence[object] | np.ndarray,
    *,
    kind: str = "CR2",
) -> RobustResult:
    """Cluster-robust standard errors, t tests and CIs for a fitted model.

    Parameters
    ----------
    fit : MetaResult, RegressionResult or MultilevelResult
        A fit from :func:`whatworks.meta_analyze` (any method; its ``test`` is replaced by the robust
        t test), :func:`whatworks.regression.meta_regress` or a three-level fit.
    cluster : sequence, shape (k,)
        Cluster identifier per effect, in the order of the fit's effects. For a three-level fit the
        model's clusters must be nested in these (usually they are the same).
    kind : {"CR2", "CR1"}
        "CR2": clubSandwich's bias-reduced estimator with Satterthwaite df (recommended, also with few
        clusters); "CR1": metafor's default ``robust()`` with df = n - p.

    Returns
    -------
    RobustResult

    Raises
    ------
    ValueError
        Unknown ``kind``, a ``cluster`` of the wrong length or with missing ids, fewer than two
        clusters (CR1: not more clusters than coefficients), a three-level fit whose clusters are not
        nested in ``cluster``, or an unsupported fit.

    Notes
    -----
    metafor 3.8 computes CR1 for a ``test="knha"`` fit from the Knapp-Hartung-scaled covariance, which
    multiplies its robust SE by the Knapp-Hartung factor; here the robust covariance does not depend on
    the model's ``test`` (as clubSandwich). With very few effective df (below 4) CR2 tests are
    unreliable; ``notes`` says so.

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.robust import robust
    >>> yi = [0.3, 0.5, 0.1, 0.8, 0.7, -0.1, 0.2, 0.4]
    >>> vi = [0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.05, 0.03]
    >>> rr = robust(meta_analyze(yi, vi), cluster=[1, 1, 2, 2, 2, 3, 3, 4], kind="CR2")
    >>> rr.n_clusters, rr.coef_names
    (4, ('intrcpt',))
    >>> bool(rr.df[0] < 4)
    True
    """
    kind = v.check_option("kind", kind, KINDS)
    y, X, coef, names, block = _working_model(fit)
    k, p = X.shape
    codes, labels = check_cluster(cluster, k)
    n = labels.size
    if n < 2:
        raise ValueError("cluster has a single level: cluster-robust inference needs at least two clusters")
    if kind == "CR1" and n <= p:
        raise ValueError(f"CR1 needs more clusters ({n}) than coefficients ({p})")
    if isinstance(fit, MultilevelResult):
        per_model = pd.Series(codes).groupby(fit.cluster).nunique()
        if (per_model > 1).any():
            bad = fit.cluster_labels[per_model.index[per_model.to_numpy() > 1]]
            raise ValueError(
                "the three-level model's clusters must be nested in `cluster`; model clusters split across "
                f"robust clusters: {list(bad[:10])}"
            )
    vcov, df, M = _sandwich(y, X, coef, block, codes, n, kind)
    var = np.diag(vcov)
    # A robust variance that is 0 up to rounding (the residuals of the clusters informing a coefficient are
    # all 0, e.g. identical effects) or no effective df: the t test is not defined; NaN with the reason.
    zero = ~(var > DEGENERATE_VAR * np.diag(M))
    no_df = ~(np.isfinite(df) & (df > 0))
    ok = ~(zero | no_df)
    se = np.sqrt(np.where(ok, var, np.nan))
    df = np.where(no_df, np.nan, df)
    stat = coef / se
    level = float(getattr(fit, "level", 0.95))
    crit = _dist.t_ppf(0.5 + level / 2, np.where(ok, df, 1.0))
    notes = []
    if np.any(zero):
        notes.append(f"robust variance 0 for {', '.join(nm for nm, z in zip(names, zero) if z)}: the residuals of "
                     "the clusters informing it are all 0 (identical effects), so its SE, test and CI are not "
                     "defined (NaN)")
    if np.any(no_df & ~zero):
        notes.append(f"no effective degrees of freedom for {', '.join(nm for nm, d in zip(names, no_df) if d)} "
                     f"(too few clusters informing it: {n} clusters), so its test and CI are not defined (NaN)")
    if kind == "CR2" and np.any(df[ok] < 4):
        few = [nm for nm, d, good in zip(names, df, ok) if good and d < 4]
        notes.append(f"Satterthwaite df below 4 for {', '.join(few)}: robust tests are unreliable there "
                     "(Tipton 2015).")  # fmt: skip
    return RobustResult(
        coef=coef,
        se=se,
        stat=stat,
        df=df,
        pvalue=np.where(ok, 2 * _dist.t_sf(np.abs(np.where(ok, stat, 0.0)), np.where(ok, df, 1.0)), np.nan),
        ci_low=coef - crit * se,
        ci_high=coef + crit * se,
        vcov=vcov,
        coef_names=tuple(names),
        kind=kind,
        n_clusters=int(n),
        k=k,
        level=level,
        model=type(fit).__name__,
        notes=tuple(notes),
    )
