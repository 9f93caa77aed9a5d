"""Leave-one-out, influence diagnostics and cumulative meta-analysis, vectorised.

Each function refits the model many times in one call of :func:`whatworks.model.fit_batch`: the
``k`` leave-one-out datasets (or the ``k`` cumulative ones) are one batch in the layouts
``Batch.leave_one_out`` / ``Batch.prefixes``, which share the effects and compute every sum at each
dataset's own tau² in O(k) (see :mod:`whatworks._batch`), so there is no Python loop of fits and no
``k x k`` array: k = 10,000 takes about a second. Definitions are metafor's (3.8) ``leave1out``,
``influence.rma.uni`` and ``cumul`` for models without moderators.

A statistic that divides by a standard error of 0 (identical effects under Knapp-Hartung, whose
scale factor is then 0) is NaN, as in metafor and :func:`whatworks.meta_analyze`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _dist
from .estimators import Batch
from .model import fit_batch
from .results import MetaResult, _fmt, _freeze, frame_to_html

if TYPE_CHECKING:  # pragma: no cover
    from .regression import RegressionResult

#: Columns of :func:`leave_one_out` and :func:`cumulative` (after ``label``).
LOO_COLUMNS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "q", "q_pvalue", "tau2", "i2", "h2")

#: Columns of :meth:`InfluenceResult.to_frame` (after ``label``).
INFLUENCE_COLUMNS = (
    "rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight", "dfbetas", "inf",
)  # fmt: skip


def _check_fit(fit: object, k_min: int, what: str, why: str = "") -> MetaResult:
    """``fit`` if it is a MetaResult with at least ``k_min`` effects (``why``: the reason, in the message)."""
    if not isinstance(fit, MetaResult):
        raise ValueError(f"{what} needs a MetaResult (from meta_analyze), got {type(fit).__name__}")
    if fit.k < k_min:
        raise ValueError(f"{what} needs at least k = {k_min} effects{why}; the fit has k = {fit.k}")
    return fit


_REFITS = " (each refit keeps k - 1 >= 2)"


def _batch_fit(fit: MetaResult | RegressionResult, present: np.ndarray, X: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Fit every dataset ``present[i]`` of the fit's effects (model matrix ``X``, if any) with its method,
    test and level; ``fit`` may be any result with ``yi``, ``vi``, ``k``, ``method``, ``test`` and ``level``."""
    m = present.shape[0]
    batch = Batch.make(np.broadcast_to(fit.yi, (m, fit.k)), np.broadcast_to(fit.vi, (m, fit.k)), present=present, X=X)
    return fit_batch(batch, method=fit.method, test=fit.test, level=fit.level)


def _fit_layout(fit: MetaResult, batch: Batch) -> dict[str, np.ndarray]:
    """Fit every dataset of ``batch`` with the fit's method, test and level."""
    return fit_batch(batch, method=fit.method, test=fit.test, level=fit.level)


def _summaries(fit: MetaResult, f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The leave-one-out / cumulative columns from a :func:`fit_batch` result."""
    est = f["beta"][:, 0]
    se = np.sqrt(f["vb"][:, 0, 0])
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0: identical effects under knha
        stat = est / se
    return {
        "estimate": est, "se": se, "stat": stat, "pvalue": _dist.two_sided_p(stat, f["df"], fit.test),
        "ci_low": est - f["crit"] * se, "ci_high": est + f["crit"] * se,
        "q": f["q"], "q_pvalue": f["q_pvalue"], "tau2": f["tau2"], "i2": f["i2"], "h2": f["h2"],
    }  # fmt: skip


def leave_one_out(fit: MetaResult) -> pd.DataFrame:
    """Leave-one-out meta-analyses, as metafor's ``leave1out(fit)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` with k >= 3.

    Returns
    -------
    pandas.DataFrame
        One row per omitted study, in input order: ``label`` (the omitted study), ``estimate, se,
        stat, pvalue, ci_low, ci_high, q, q_pvalue, tau2, i2, h2`` of the fit without it (same method,
        test and level; i2 in percent).

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.influence import leave_one_out
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07],
    ...                    labels=["A", "B", "C", "D", "E"])
    >>> loo = leave_one_out(fit)
    >>> loo.shape, loo["label"].tolist()[0]
    ((5, 12), 'A')
    """
    fit = _check_fit(fit, 3, "leave_one_out", _REFITS)
    cols = _summaries(fit, _fit_layout(fit, Batch.leave_one_out(fit.yi, fit.vi)))
    return pd.DataFrame({"label": list(fit.labels), **cols})


def cumulative(fit: MetaResult, order: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """Cumulative meta-analysis, as metafor's ``cumul(fit, order=...)``.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze`.
    order : sequence of int, optional
        Positions (0-based) of the studies in the order in which they are added, e.g.
        ``numpy.argsort(year, kind="stable")`` (R's ``order(year)``). Default: input order.

    Returns
    -------
    pandas.DataFrame
        Row ``j`` is the meta-analysis of the first ``j + 1`` studies in ``order``; ``label`` is the
        study added at that step. The first row (k = 1) is that study alone: tau² = 0, Q = 0, I² = 0,
        H² = 1 and a z test, as metafor.

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.influence import cumulative
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07])
    >>> cum = cumulative(fit, order=[4, 3, 2, 1, 0])
    >>> cum["label"].tolist()[0], round(float(cum["estimate"].iloc[-1] - fit.estimate), 12)
    ('Study 5', 0.0)
    """
    fit = _check_fit(fit, 1, "cumulative")
    order = np.arange(fit.k) if order is None else np.asarray(order)
    if order.dtype.kind not in "iu" or sorted(order.tolist()) != list(range(fit.k)):
        raise ValueError(f"order must be a permutation of the positions 0..{fit.k - 1}; got {order.tolist()}")
    first = order[0]
    se0 = float(np.sqrt(fit.vi[first]))
    crit0 = _dist.norm_ppf(0.5 + fit.level / 2)
    row0 = {
        "estimate": fit.yi[first], "se": se0, "stat": fit.yi[first] / se0,
        "pvalue": 2 * _dist.norm_sf(abs(fit.yi[first]) / se0), "ci_low": fit.yi[first] - crit0 * se0,
        "ci_high": fit.yi[first] + crit0 * se0, "q": 0.0, "q_pvalue": 1.0, "tau2": 0.0, "i2": 0.0, "h2": 1.0,
    }  # fmt: skip
    cols = {c: np.array([row0[c]], dtype=float) for c in LOO_COLUMNS}
    if fit.k > 1:
        steps = Batch.prefixes(fit.yi[order], fit.vi[order], np.arange(2, fit.k + 1))
        rest = _summaries(fit, _fit_layout(fit, steps))
        cols = {c: np.concatenate([cols[c], rest[c]]) for c in LOO_COLUMNS}
    return pd.DataFrame({"label": [fit.labels[int(i)] for i in order], **cols})


@dataclass(frozen=True)
class InfluenceResult:
    """Result of :func:`influence` (metafor ``influence.rma.uni``), one entry per study.

    Attributes
    ----------
    rstudent : ndarray
        Externally studentised residuals (yi minus the leave-one-out estimate, over its SE).
    dffits, cook_d, cov_r : ndarray
        DFFITS, Cook's distance and the covariance ratio.
    tau2_del, qe_del : ndarray
        tau² and Q of the model without the study.
    hat, weight : ndarray
        Leverage (a proportion) and weight (percent).
    dfbetas : ndarray
        DFBETAS of the intercept.
    inf : ndarray of bool
        metafor's "influential" flag: |dffits| > 3 sqrt(p/(k-p)), or P(chi²₁ <= cook_d) > 0.5, or
        hat > 3p/k, or |dfbetas| > 1 (p = 1).
    """

    labels: Sequence[str]
    rstudent: np.ndarray
    dffits: np.ndarray
    cook_d: np.ndarray
    cov_r: np.ndarray
    tau2_del: np.ndarray
    qe_del: np.ndarray
    hat: np.ndarray
    weight: np.ndarray
    dfbetas: np.ndarray
    inf: np.ndarray
    k: int = field(default=0)
    method: str = "REML"
    test: str = "z"

    def __post_init__(self) -> None:
        _freeze(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per study: label and every diagnostic."""
        return pd.DataFrame({"label": list(self.labels), **{c: getattr(self, c) for c in INFLUENCE_COLUMNS}})

    def summary(self) -> str:
        flagged = [lab for lab, f in zip(self.labels, self.inf) if f]
        head = f"Influence diagnostics ({self.method}, test = {self.test!r}, k = {self.k}); influential: "
        table = self.to_frame().to_string(index=False, float_format=_fmt)
        return head + (", ".join(flagged) if flagged else "none") + "\n\n" + table

    def __repr__(self) -> str:
        return f"InfluenceResult(k={self.k}, influential={int(self.inf.sum())})"

    def _repr_html_(self) -> str:
        flagged = [lab for lab, f in zip(self.labels, self.inf) if f]
        return frame_to_html(self.to_frame(), f"Influence diagnostics ({self.method}, test = {self.test!r}, k = {self.k})",
                             [f"influential: {', '.join(flagged) if flagged else 'none'}"])


def influence(fit: MetaResult) -> InfluenceResult:
    """Case-deletion diagnostics, as metafor's ``influence(fit)`` for a model without moderators.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` with k >= 3.

    Returns
    -------
    InfluenceResult

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.influence import influence
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.05])
    >>> inf = influence(fit)
    >>> inf.inf.tolist()
    [False, False, False, False, False, True]
    """
    fit = _check_fit(fit, 3, "influence", _REFITS)
    k, p = fit.k, 1
    loo = Batch.leave_one_out(fit.yi, fit.vi)
    f = _fit_layout(fit, loo)
    beta_del, vb_del = f["beta"][:, 0], f["vb"][:, 0, 0]
    tau2_del, s2w_del = f["tau2"], f["s2w"]
    vb = fit.se**2
    w = 1 / (fit.vi + fit.tau2)
    hat = w / w.sum()

    resid = fit.yi - beta_del
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    # sum over all k studies of 1 / (vi + tau2_del): the leave-one-out sum plus the study's own weight
    sw_full_del = loo.moments(tau2_del, (1,))[0][:, 0, 0] + 1 / (fit.vi + tau2_del)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero scale (identical effects, knha): NaN
        rstudent = resid / np.sqrt(fit.vi * s2w_del + vb_del + tau2_del * s2w_del)
        dfb = fit.estimate - beta_del
        dffits = dfb / np.sqrt(s2w_del * hat * (tau2_del + fit.vi))
        dfbetas = dfb / np.sqrt(s2w_del / sw_full_del)
        cook_d = dfb**2 / vb
        cov_r = vb_del / vb
    inf = (
        (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
        | (_dist.chi2_cdf(cook_d, 1) > 0.5)
        | (hat > 3 * p / k)
        | (np.abs(dfbetas) > 1)
    )
    return InfluenceResult(
        labels=fit.labels, rstudent=rstudent, dffits=dffits, cook_d=cook_d, cov_r=cov_r, tau2_del=tau2_del,
        qe_del=f["q"], hat=hat, weight=100 * hat, dfbetas=dfbetas, inf=inf, k=k, method=fit.method, test=fit.test,
    )  # fmt: skip
