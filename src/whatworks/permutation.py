"""Permutation tests: :func:`permutation_test`, as metafor 3.8's ``permutest()``.

Without moderators the signs of the effects are permuted (the null: the average effect is 0); with
moderators the rows of the model matrix are permuted against the effects (the null: no moderator
effect). Every permuted dataset is one row of a batch fitted by :func:`whatworks.model.fit_batch` with
the fit's method and test; batches are chunked so memory stays bounded. The p-value is the share of
permutations whose statistic is at least as extreme as the observed one (metafor's ``comptol`` of
sqrt(machine epsilon) allows for rounding). The test is exact (every distinct permutation) when that
needs no more than ``n_iter`` fits or ``exact=True``; otherwise ``n_iter`` random permutations from
``seed``, the first replaced by the observed data, as metafor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial, prod

import numpy as np
import pandas as pd

from ._chunks import rows_per_chunk
from ._shown import Shown
from .estimators import Batch
from .influence import _check_fit
from .model import fit_batch
from .regression import RegressionResult
from .results import MetaResult, _freeze

#: Tolerance of the comparisons with the observed statistic (metafor's ``comptol``).
COMPTOL = np.finfo(float).eps ** 0.5
#: Largest number of fits of an exact test (the permutation distribution is kept: 8 bytes per fit and
#: coefficient); with moderators the distinct row orders are also held, so fewer.
MAX_EXACT = 2**22
MAX_EXACT_MODS = 2**20


@dataclass(frozen=True, repr=False)
class PermutationResult(Shown):
    """Result of :func:`permutation_test` (metafor ``permutest()``).

    Attributes
    ----------
    names : tuple of str
        Coefficient names ("intercept" without moderators).
    coef, stat : ndarray
        Observed coefficients and their z (or t) statistics.
    pvalue : ndarray
        Permutation p-value per coefficient (two-sided: ``|stat|`` at least as large as observed).
    qm, qm_pvalue : float
        Observed omnibus statistic (QM, or F for t tests) and its permutation p-value.
    n_iter, exact, seed : int, bool, int or None
        Number of permutations (all distinct ones when ``exact``) and the seed of random ones.
    stat_perm, qm_perm : ndarray
        The permutation distribution: statistics (n_iter, p) and QM (n_iter,).
    """

    names: tuple[str, ...]
    coef: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray
    qm: float
    qm_pvalue: float
    n_iter: int
    exact: bool
    seed: int | None
    k: int
    method: str
    test: str
    stat_perm: np.ndarray = field(repr=False)
    qm_perm: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, stat, pvalue (permutation), then qm, qm_pvalue, n_iter,
        exact (repeated on every row)."""
        return pd.DataFrame({"term": list(self.names), "coef": self.coef, "stat": self.stat, "pvalue": self.pvalue,
                             "qm": self.qm, "qm_pvalue": self.qm_pvalue, "n_iter": self.n_iter, "exact": self.exact})  # fmt: skip

    def _title(self) -> str:
        how = "exact" if self.exact else f"approximate, seed = {self.seed}"
        return (f"Permutation test ({self.n_iter:,} permutations, {how}; {self.method}, test = {self.test!r}, "
                f"k = {self.k})")  # fmt: skip

    def _key(self) -> tuple[str, ...]:
        return ("term", "pvalue", "qm_pvalue", "n_iter")


def _multiset_permutations(codes: np.ndarray) -> np.ndarray:
    """Every distinct ordering of ``codes`` (integers 0..g-1), as rows; k! / prod(n_g!) of them."""
    counts = np.bincount(codes)
    out = np.zeros((1, 0), dtype=np.int32)
    left = counts[None, :].copy()
    for _ in range(codes.size):
        rows, cls = np.nonzero(left > 0)
        out = np.column_stack([out[rows], cls.astype(np.int32)])
        left = left[rows].copy()
        left[np.arange(rows.size), cls] -= 1
    return out


def _row_orders(codes: np.ndarray) -> np.ndarray:
    """Turn orderings of row classes into row permutations: class c takes its rows in turn."""
    perms = _multiset_permutations(codes)
    rows_of = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
    out = np.empty_like(perms)
    for c, rows in enumerate(rows_of):
        hit = perms == c
        out[hit] = np.tile(rows, perms.shape[0])  # row-major order gives each class's rows in sequence
    return out


def _stats(f: dict[str, np.ndarray], btt: np.ndarray, t_test: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per dataset: the coefficients' statistics (m, p) and the omnibus QM (m,) of ``fit_batch`` output."""
    beta, vb = f["beta"], f["vb"]
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / np.sqrt(np.einsum("mii->mi", vb))
        b = beta[:, btt]
        V = vb[:, btt][:, :, btt]
        try:
            qm = np.einsum("mi,mi->m", b, np.linalg.solve(V, b[..., None])[..., 0])
        except np.linalg.LinAlgError:  # a singular permutation: metafor skips it (NA)
            qm = np.array([float(x @ np.linalg.pinv(A) @ x) for x, A in zip(b, V)])
    return stat, qm / btt.size if t_test else qm


def permutation_test(
    fit: MetaResult | RegressionResult,
    *,
    exact: bool = False,
    n_iter: int = 1000,
    seed: int | None = None,
) -> PermutationResult:
    """Permutation test of the pooled effect or of the moderators, as metafor's ``permutest(fit)``.

    Parameters
    ----------
    fit : MetaResult or RegressionResult
        From :func:`whatworks.meta_analyze` (the signs of the effects are permuted) or
        :func:`whatworks.meta_regress` (the rows of the model matrix are permuted).
    exact : bool
        Enumerate every distinct permutation (2^k sign patterns, or k! / prod(n_g!) row orders with
        n_g identical rows of the model matrix). Also used when that number is at most ``n_iter``.
    n_iter : int
        Number of random permutations otherwise (the first is the observed data).
    seed : int, optional
        Seed of the random permutations (``numpy.random.default_rng``); give one for a reproducible
        result.

    Returns
    -------
    PermutationResult

    Examples
    --------
    >>> from whatworks import meta_analyze, permutation_test
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, -0.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.06])
    >>> res = permutation_test(fit)
    >>> res.exact, res.n_iter, float(res.pvalue[0])
    (True, 64, 0.0625)
    >>> permutation_test(fit, exact=False, n_iter=20, seed=1).n_iter  # 2^6 > 20: random permutations
    20
    """
    if isinstance(fit, RegressionResult):
        k, X, names = fit.k, fit.X, tuple(fit.names)
        obs_coef, obs_stat, obs_qm = fit.coef, fit.stat, fit.qm
        intercept = bool(np.all(X[:, 0] == 1))
        btt = np.arange(1, X.shape[1]) if intercept and X.shape[1] > 1 else np.arange(X.shape[1])
        _, codes = np.unique(X, axis=0, return_inverse=True)
        codes = codes.ravel()
        n_exact = factorial(k) // prod(factorial(int(c)) for c in np.bincount(codes))
    else:
        fit = _check_fit(fit, 2, "permutation_test")
        k, X, names = fit.k, None, ("intercept",)
        obs_coef, obs_stat = np.array([fit.estimate]), np.array([fit.stat])
        obs_qm, btt = fit.stat**2, np.array([0])
        n_exact = 2**k
    if n_iter < 2:
        raise ValueError(f"n_iter must be >= 2, got {n_iter}")
    exact = bool(exact) or n_exact <= n_iter
    cap = MAX_EXACT if X is None else MAX_EXACT_MODS
    if exact and n_exact > cap:
        raise ValueError(f"an exact test needs {n_exact:,} fits (more than {cap:,}); use exact=False")
    total = n_exact if exact else int(n_iter)
    rng = np.random.default_rng(seed)  # used only for random permutations
    if X is not None and exact:
        orders = _row_orders(codes)
    t_test = fit.test != "z"
    chunk = rows_per_chunk(k)
    stats, qms = [], []
    for start in range(0, total, chunk):
        m = min(chunk, total - start)
        if X is None:
            if exact:
                idx = np.arange(start, start + m)[:, None]
                signs = 1 - 2 * ((idx >> np.arange(k)) & 1).astype(float)
            else:
                signs = rng.choice([-1.0, 1.0], size=(m, k))
            batch = Batch.make(signs * fit.yi, np.broadcast_to(fit.vi, (m, k)))
        else:
            rows = orders[start : start + m] if exact else np.argsort(rng.random((m, k)), axis=1)
            batch = Batch.make(np.broadcast_to(fit.yi, (m, k)), np.broadcast_to(fit.vi, (m, k)), X=X[rows])
        s, q = _stats(fit_batch(batch, method=fit.method, test=fit.test, level=fit.level), btt, t_test)
        stats.append(s)
        qms.append(q)
    stat_perm, qm_perm = np.concatenate(stats), np.concatenate(qms)
    if not exact:  # metafor: the first permutation is the observed data
        stat_perm[0], qm_perm[0] = obs_stat, obs_qm
    ok = np.isfinite(qm_perm)
    pvalue = np.mean(np.abs(stat_perm[ok]) >= np.abs(obs_stat) - COMPTOL, axis=0)
    qm_pvalue = float(np.mean(qm_perm[ok] >= obs_qm - COMPTOL))
    return PermutationResult(names, np.asarray(obs_coef, float), np.asarray(obs_stat, float), np.minimum(pvalue, 1),
                             float(obs_qm), qm_pvalue, total, exact, None if exact else seed, k, fit.method, fit.test,
                             stat_perm, qm_perm)  # fmt: skip
