"""Baujat diagnostics (Baujat et al. 2002): :func:`baujat`, as metafor's ``baujat()``.

For each study: x, its contribution to the (residual) heterogeneity, ``(yi - fitted_i)^2 / (tau2 + vi)``;
y, its influence on the result, ``(fitted_i without the study - fitted_i)^2 / var(fitted_i without the
study)``. The k leave-one-out fits are rows of :func:`whatworks.model.fit_batch` batches (chunked, so
memory grows linearly with k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._chunks import rows_per_chunk
from ._shown import Shown
from .estimators import Batch
from .influence import _check_fit
from .model import fit_batch
from .regression import RegressionResult
from .results import MetaResult, StudyLabels, _freeze


@dataclass(frozen=True, repr=False)
class BaujatResult(Shown):
    """Result of :func:`baujat`: per study ``x`` (contribution to heterogeneity) and ``y`` (influence on
    the pooled result), as metafor's ``baujat()``."""

    labels: Sequence[str] = field(repr=False)
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    k: int
    method: str
    test: str
    mods: bool = False

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per study: label, x, y."""
        return pd.DataFrame({"label": list(self.labels), "x": self.x, "y": self.y})

    def _title(self) -> str:
        what = "residual heterogeneity" if self.mods else "heterogeneity"
        return f"Baujat diagnostics (k = {self.k}, {self.method}): x = contribution to {what}, y = influence"

    def __repr__(self) -> str:
        top = self.to_frame().sort_values("x", ascending=False)["label"].iloc[0]
        return f"BaujatResult(k={self.k}, most_heterogeneous={top!r})"


def baujat(fit: MetaResult | RegressionResult) -> BaujatResult:
    """Baujat plot coordinates, as metafor's ``baujat(fit)``.

    Parameters
    ----------
    fit : MetaResult or RegressionResult
        A fit from :func:`whatworks.meta_analyze` or :func:`whatworks.meta_regress` (k >= 3).

    Returns
    -------
    BaujatResult
        Plot it with :func:`whatworks.plots.baujat_plot`.

    Examples
    --------
    >>> from whatworks import meta_analyze, baujat
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.05],
    ...                    labels=list("ABCDEF"))
    >>> b = baujat(fit)
    >>> b.to_frame().sort_values("x")["label"].iloc[-1]
    'F'
    """
    labels: Sequence[str]
    if isinstance(fit, RegressionResult):
        X, beta, labels, mods = fit.X, fit.coef, StudyLabels(fit.k), True
        if fit.k < fit.p + 2:
            raise ValueError(f"baujat needs k >= p + 2 effects (each refit keeps k - 1 > p); the fit has k = {fit.k}")
    else:
        fit = _check_fit(fit, 3, "baujat", " (each refit keeps k - 1 >= 2)")
        X, beta, labels, mods = np.ones((fit.k, 1)), np.array([fit.estimate]), fit.labels, False
    k = fit.k
    pred_del, v_del = np.empty(k), np.empty(k)
    chunk = rows_per_chunk(k)  # the k leave-one-out fits, in batches of bounded size
    for start in range(0, k, chunk):
        rows = np.arange(start, min(start + chunk, k))
        pres = np.arange(k)[None, :] != rows[:, None]
        m = rows.size
        f = fit_batch(Batch.make(np.broadcast_to(fit.yi, (m, k)), np.broadcast_to(fit.vi, (m, k)), present=pres,
                                 X=X if mods else None), method=fit.method, test=fit.test, level=fit.level)  # fmt: skip
        pred_del[rows] = np.einsum("ip,ip->i", X[rows], f["beta"])
        v_del[rows] = np.einsum("ip,ipq,iq->i", X[rows], f["vb"], X[rows])
    pred_full = X @ beta
    y = (pred_del - pred_full) ** 2 / v_del
    x = (fit.yi - pred_full) ** 2 / (fit.tau2 + fit.vi)
    return BaujatResult(labels, x, y, k, fit.method, fit.test, mods)
