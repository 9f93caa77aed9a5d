"""GOSH, the graphical display of study heterogeneity (Olkin et al. 2012): :func:`gosh`, as metafor's
``gosh()``.

The model is refitted to every subset of the studies (all 2^k - 1 when that is at most
``max_subsets``, otherwise a seeded random sample of subsets, each study in with probability 1/2 as in
metafor), each subset one row of a chunked :func:`whatworks.model.fit_batch` batch (subsets of about
the same size together, packed to their size, so the batches hold sum(k_subset) cells). Clusters in the
estimate-against-I² plot point to influential studies or subgroups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._chunks import CHUNK_CELLS
from ._shown import Shown
from .estimators import Batch
from .influence import _check_fit
from .model import fit_batch
from .results import MetaResult, _freeze

#: Columns of :meth:`GoshResult.to_frame`.
GOSH_COLUMNS = ("k", "estimate", "tau2", "i2", "h2", "q")


@dataclass(frozen=True, repr=False)
class GoshResult(Shown):
    """Result of :func:`gosh`: one fit per subset of the studies.

    Attributes
    ----------
    incl : ndarray of bool, shape (n_subsets, k)
        Which studies each subset contains (rows in metafor's order when exact: by size, then with the
        first study varying fastest).
    k_subset, estimate, tau2, i2, h2, q : ndarray
        Per subset: its number of studies, pooled estimate, tau², I² (percent), H² and Q. For "EE" and
        "DL", I² and H² are computed from Q as in metafor's ``gosh()`` (``100 (Q - df) / Q``, ``Q / df``).
    exact, seed : bool, int or None
        All subsets, or a random sample drawn with ``seed``.
    labels : tuple of str
        Study labels (columns of ``incl``).
    """

    incl: np.ndarray = field(repr=False)
    k_subset: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    tau2: np.ndarray = field(repr=False)
    i2: np.ndarray = field(repr=False)
    h2: np.ndarray = field(repr=False)
    q: np.ndarray = field(repr=False)
    exact: bool
    seed: int | None
    k: int
    method: str
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def n_subsets(self) -> int:
        """Number of subsets fitted."""
        return int(self.incl.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """One row per subset: k, estimate, tau2, i2, h2, q (see :data:`GOSH_COLUMNS`)."""
        return pd.DataFrame({"k": self.k_subset, "estimate": self.estimate, "tau2": self.tau2, "i2": self.i2,
                             "h2": self.h2, "q": self.q})  # fmt: skip

    def summary(self) -> str:
        """The title and the distribution of the estimate and I² over the subsets (not every row)."""
        desc = self.to_frame()[["estimate", "i2", "tau2"]].describe().round(4).to_string()
        return f"{self._title()}\n\n{desc}"

    def _title(self) -> str:
        how = "all subsets" if self.exact else f"random subsets, seed = {self.seed}"
        return f"GOSH: {self.n_subsets:,} fits ({how}) of {self.k} studies, {self.method}"

    def __repr__(self) -> str:
        return f"GoshResult(k={self.k}, n_subsets={self.n_subsets}, exact={self.exact}, method={self.method!r})"


def _subsets(k: int, max_subsets: int, seed: int | None) -> tuple[np.ndarray, bool]:
    n_all = 2**k - 1
    if n_all <= max_subsets:
        ids = np.arange(1, n_all + 1, dtype=np.int64)[:, None]
        incl = ((ids >> np.arange(k)) & 1).astype(bool)  # expand.grid order: the first study fastest
        return incl[np.argsort(incl.sum(1), kind="stable")], True
    rng = np.random.default_rng(seed)
    incl = rng.random((max_subsets, k)) < 0.5
    empty = ~incl.any(1)
    while empty.any():  # a subset needs a study (metafor draws sizes from Binomial(k, 1/2) given >= 1)
        incl[empty] = rng.random((int(empty.sum()), k)) < 0.5
        empty = ~incl.any(1)
    return incl, False


def gosh(fit: MetaResult, *, max_subsets: int = 10**6, seed: int | None = None) -> GoshResult:
    """Fit the model to subsets of the studies, as metafor's ``gosh(fit)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` (k >= 2); its method is used for every subset.
    max_subsets : int
        All 2^k - 1 subsets are fitted when there are at most this many (metafor's default limit
        10^6); otherwise this many random subsets.
    seed : int, optional
        Seed of the random subsets (``numpy.random.default_rng``).

    Returns
    -------
    GoshResult

    Examples
    --------
    >>> from whatworks import meta_analyze, gosh
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07])
    >>> g = gosh(fit)
    >>> g.n_subsets, g.exact, g.to_frame().columns.tolist()
    (31, True, ['k', 'estimate', 'tau2', 'i2', 'h2', 'q'])
    >>> gosh(fit, max_subsets=10, seed=1).n_subsets
    10
    """
    fit = _check_fit(fit, 2, "gosh")
    if max_subsets < 2:
        raise ValueError(f"max_subsets must be >= 2, got {max_subsets}")
    k = fit.k
    incl, exact = _subsets(k, int(max_subsets), seed)
    sizes = incl.sum(1)
    by_size = np.argsort(sizes, kind="stable")  # exact subsets are in this order already
    keys = ("beta", "tau2", "i2", "h2", "q", "q_df")
    parts: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    start = 0
    while start < incl.shape[0]:
        # a chunk of subsets of about the same size, each packed to the left into width = its largest size:
        # the batch holds sum(k_subset) cells, not n_subsets * k (half as many for all subsets)
        width = int(sizes[by_size[min(start + CHUNK_CELLS // k, incl.shape[0]) - 1]])
        rows = by_size[start : start + max(1, CHUNK_CELLS // width)]
        start += rows.size
        pres = incl[rows]
        cols = np.argsort(~pres, axis=1, kind="stable")[:, : int(sizes[rows].max())]
        batch = Batch.make(fit.yi[cols], fit.vi[cols], present=np.take_along_axis(pres, cols, axis=1))
        with np.errstate(divide="ignore", invalid="ignore"):  # one-study subsets: no df, set below
            f = fit_batch(batch, method=fit.method, test="z", level=fit.level)
        f["beta"] = f["beta"][:, 0]
        for key in keys:
            parts[key].append(np.broadcast_to(f[key], (rows.size,)))
    back = np.empty_like(by_size)
    back[by_size] = np.arange(by_size.size)
    r = {key: np.concatenate(parts[key]).astype(float)[back] for key in keys}
    df = r["q_df"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if fit.method in ("EE", "DL"):  # metafor's fast path for these: I² and H² from Q
            r["i2"] = np.maximum(0.0, 100 * (r["q"] - df) / r["q"])
            r["h2"] = r["q"] / df
    one = df == 0  # a single study: tau2 = 0, Q = 0, I² = 0, H² = 1 (metafor)
    r["tau2"][one], r["q"][one], r["i2"][one], r["h2"][one] = 0.0, 0.0, 0.0, 1.0
    return GoshResult(incl, sizes, r["beta"], r["tau2"], r["i2"], r["h2"], r["q"], exact,
                      None if exact else seed, k, fit.method, tuple(fit.labels))  # fmt: skip
