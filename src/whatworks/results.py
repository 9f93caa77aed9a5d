"""Frozen result objects. They hold numbers and show themselves; they compute nothing new.

``to_frame()`` is the single source of every display: ``summary()`` (plain text), ``__repr__`` and
``_repr_html_`` (escaped HTML for Jupyter) are all derived from it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, overload

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed import DataclassInstance

#: Columns of :meth:`MetaResult.to_frame`, in display order.
META_COLUMNS = (
    "k", "estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "pi_low", "pi_high",
    "tau2", "se_tau2", "tau2_ci_low", "tau2_ci_high", "i2", "i2_ci_low", "i2_ci_high", "h2", "h2_ci_low",
    "h2_ci_high", "q", "q_df", "q_pvalue",
    "method", "test", "level",
)  # fmt: skip


def _freeze(obj: DataclassInstance) -> None:
    """Make every numpy array field of a frozen dataclass read-only."""
    for f in fields(obj):
        val = getattr(obj, f.name)
        if isinstance(val, np.ndarray):
            val = val.copy()
            val.setflags(write=False)
            object.__setattr__(obj, f.name, val)


def _fmt(x: object, digits: int = 4) -> str:
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return "NA"
        if x != 0 and abs(x) < 10 ** (-digits):
            return f"{x:.{digits}e}"
        return f"{x:.{digits}f}"
    return str(x)


def _pval(p: float) -> str:
    return "<.0001" if p < 1e-4 else f"{p:.4f}"


def int_counts(values: object) -> pd.api.extensions.ExtensionArray:
    """Counts (k, n) as a nullable integer column: whole numbers print as integers, missing stays missing."""
    return pd.array([None if pd.isna(x) else int(x) for x in values], dtype="Int64")  # type: ignore[attr-defined]


#: Columns holding counts: shown as integers in HTML even when stored as floats (a whole number, or missing).
COUNT_COLUMNS = frozenset({"k", "n", "q_df", "qm_df", "qe_df", "k0", "n_clusters", "n_reviews", "n_studies",
                           "n_inclusions", "k_reference", "k_comparison", "n_reference", "n_comparison", "n_shared",
                           "downgrades"})


def _counts_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col in COUNT_COLUMNS and pd.api.types.is_float_dtype(out[col]):
            vals = out[col].to_numpy(dtype=float)
            finite = vals[np.isfinite(vals)]
            if np.all(finite == np.round(finite)):
                out[col] = int_counts(vals)
    return out


def frame_to_html(frame: pd.DataFrame, title: str, lines: Sequence[str] = ()) -> str:
    """Escaped HTML for ``_repr_html_``: a bold title, the summary's lines that are not in the table
    (``lines``: model statistics, notes), then the table (counts as integers, floats as in ``summary()``)."""
    body = _counts_as_integers(frame).to_html(escape=True, float_format=lambda x: _fmt(x), na_rep="NA")
    notes = "".join(f"<div>{html.escape(line)}</div>" for line in lines if line.strip())
    return f"<div><strong>{html.escape(title)}</strong>{notes}{body}</div>"


class StudyLabels(Sequence[str]):
    """The default study labels "Study 1" ... "Study k", made on demand (a million effects need no
    million strings until a table or plot asks for them)."""

    __slots__ = ("_k",)

    def __init__(self, k: int) -> None:
        self._k = int(k)

    def __len__(self) -> int:
        return self._k

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [f"Study {j + 1}" for j in range(*i.indices(self._k))]
        j = range(self._k)[i]  # IndexError and negative indices as for a tuple
        return f"Study {j + 1}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StudyLabels):
            return self._k == other._k
        return isinstance(other, Sequence) and list(self) == list(other)

    def __hash__(self) -> int:
        return hash(("StudyLabels", self._k))

    def __repr__(self) -> str:
        return f"StudyLabels({self._k})"


@dataclass(frozen=True)
class MetaResult:
    """Result of :func:`whatworks.meta_analyze` (metafor's ``rma.uni`` with ``confint`` and ``predict``).

    Attributes
    ----------
    k : int
        Number of effects.
    estimate, se, stat, pvalue : float
        Pooled effect, its standard error, the z (or t for "t", "knha", "adhoc") statistic and two-sided
        p-value.
    ci_low, ci_high : float
        Confidence interval of the pooled effect at ``level``.
    tau2, se_tau2 : float
        Between-study variance and its standard error (metafor's formulas).
    tau2_ci_low, tau2_ci_high : float
        Q-profile confidence interval of tau² (NaN for the common-effect model).
    i2 : float
        I², in percent. h2 : H².
    i2_ci_low, i2_ci_high, h2_ci_low, h2_ci_high : float
        Confidence intervals of I² (percent) and H², from the Q-profile tau² bounds as metafor's
        ``confint()``: ``100 tau2 / (vt + tau2)`` and ``1 + tau2 / vt`` with vt the typical within-study
        variance (NaN for the common-effect model and for k = 1).
    q, q_df, q_pvalue : float, int, float
        Cochran's Q test of heterogeneity.
    pi_low, pi_high : float
        Prediction interval for the true effect in a new study (equals the CI when tau² = 0 or "EE").
    df : float
        Degrees of freedom of the t distribution (k - 1 for "t", "knha", "adhoc"), ``inf`` for "z".
    weights : ndarray
        Study weights in percent.
    yi, vi : ndarray
        The input effects and variances. labels : sequence of str ("Study i" unless given).
    method, test, level : str, str, float
        Options as given.
    iterations, converged : int, bool
        Convergence information of iterative estimators.
    notes : tuple of str
        Plain-language remarks (k = 1, tau² at the boundary, ...).
    """

    k: int
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
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    pi_low: float
    pi_high: float
    df: float
    weights: np.ndarray = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    labels: Sequence[str] = field(repr=False)
    method: str = "REML"
    test: str = "z"
    level: float = 0.95
    iterations: int = 0
    converged: bool = True
    notes: tuple[str, ...] = ()
    i2_ci_low: float = np.nan
    i2_ci_high: float = np.nan
    h2_ci_low: float = np.nan
    h2_ci_high: float = np.nan

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def tau(self) -> float:
        """Square root of tau²."""
        return float(np.sqrt(self.tau2))

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the pooled result (columns :data:`META_COLUMNS`)."""
        return pd.DataFrame([{c: getattr(self, c) for c in META_COLUMNS}])

    def study_frame(self) -> pd.DataFrame:
        """One row per study: label, yi, vi, se, CI at ``level`` (normal quantile) and weight (%)."""
        from scipy import stats

        se = np.sqrt(self.vi)
        z = stats.norm.ppf(0.5 + self.level / 2)
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "yi": self.yi,
                "vi": self.vi,
                "se": se,
                "ci_low": self.yi - z * se,
                "ci_high": self.yi + z * se,
                "weight": self.weights,
            }
        )

    def summary(self) -> str:
        """Plain-text summary in the spirit of metafor's ``print.rma``."""
        r = self.to_frame().iloc[0]
        model = "Common-effect (EE)" if self.method == "EE" else f"Random-effects ({self.method})"
        stat = "z" if self.test == "z" else "t"
        dfs = "" if self.test == "z" else f"(df = {self.df:g})"
        pct = f"{100 * self.level:g}%"
        i2_ci = h2_ci = ""
        if not np.isnan(r.i2_ci_low):
            i2_ci = f" {pct} CI [{_fmt(r.i2_ci_low, 2)}, {_fmt(r.i2_ci_high, 2)}]"
            h2_ci = f" {pct} CI [{_fmt(r.h2_ci_low, 2)}, {_fmt(r.h2_ci_high, 2)}]"
        lines = [
            f"{model} model (k = {self.k}); test = {self.test!r}",
            "",
            f"tau^2 = {_fmt(r.tau2)} (SE = {_fmt(r.se_tau2)}), {pct} CI [{_fmt(r.tau2_ci_low)}, {_fmt(r.tau2_ci_high)}]",
            f"I^2 = {_fmt(r.i2, 2)}%{i2_ci}, H^2 = {_fmt(r.h2, 2)}{h2_ci}",
            f"Q(df = {self.q_df}) = {_fmt(r.q)}, p = {_pval(r.q_pvalue)}",
            "",
            f"estimate = {_fmt(r.estimate)}, se = {_fmt(r.se)}, {stat}{dfs} = {_fmt(r.stat)}, p = {_pval(r.pvalue)}",
            f"{pct} CI [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}], {pct} PI [{_fmt(r.pi_low)}, {_fmt(r.pi_high)}]",
        ]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"MetaResult(k={self.k}, method={self.method!r}, test={self.test!r}, "
            f"estimate={_fmt(self.estimate)}, ci=[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}], "
            f"tau2={_fmt(self.tau2)}, i2={_fmt(self.i2, 1)}%)"
        )

    def _repr_html_(self) -> str:
        title = f"{'Common-effect' if self.method == 'EE' else 'Random-effects'} meta-analysis (k = {self.k})"
        return frame_to_html(self.to_frame(), title, [f"Note: {n}" for n in self.notes])


#: Model-level columns of :meth:`MultilevelResult.to_frame` (after the per-coefficient ones).
MODEL_COLUMNS = (
    "k", "n_clusters", "sigma2_between", "sigma2_within", "i2_between", "i2_within", "i2",
    "q", "q_df", "q_pvalue", "qm", "qm_df", "qm_pvalue", "pi_low", "pi_high", "loglik", "method",
    "test", "level",
)  # fmt: skip


@dataclass(frozen=True)
class MultilevelResult:
    """Result of :func:`fit_three_level` (metafor's ``rma.mv`` with ``random = ~ 1 | cluster/es_id``).

    Attributes
    ----------
    k, n_clusters : int
        Number of effects and of clusters.
    estimate, se, stat, pvalue, ci_low, ci_high : float or ndarray
        Pooled effect (intercept-only model: floats) or coefficients (with ``X``: arrays in column
        order), standard errors, z or t statistics, two-sided p-values and CI at ``level``.
    sigma2 : tuple of float
        Variance components (between-cluster, within-cluster).
    i2_levels : tuple of float
        Share of total variance per level, percent: ``100 sigma2_l / (sum(sigma2) + vt)`` with vt the
        typical within-study variance (Cheung 2014; metafor FAQ). ``i2`` is their sum.
    q, q_df, q_pvalue : float, int, float
        Test of residual heterogeneity (metafor's QE).
    qm, qm_df, qm_pvalue : float, int, float
        Omnibus test of the coefficients (all but an intercept column of ones), metafor's QM: Wald
        chi-square on qm_df df, or for ``test="t"`` an F statistic on (qm_df, k - p) df.
    pi_low, pi_high : float
        Prediction interval for a new effect, ``estimate ± crit sqrt(se² + sum(sigma2))`` as
        ``predict.rma.mv``; NaN for models with moderators.
    df : float
        t degrees of freedom (k - p) for ``test="t"``, ``inf`` for "z".
    loglik : float
        Maximised (restricted) log-likelihood, as metafor's ``logLik``.
    vcov : ndarray
        Model-based covariance of the coefficients. coef_names : tuple of str.
    yi, vi, X, cluster, cluster_labels : ndarray
        Inputs; ``cluster`` holds integer codes into ``cluster_labels``.
    method, test, level, converged, notes
        Options, convergence flag and plain-language remarks (boundary estimates, flat likelihood).
    """

    k: int
    n_clusters: int
    estimate: float | np.ndarray
    se: float | np.ndarray
    stat: float | np.ndarray
    pvalue: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    sigma2: tuple[float, float]
    i2_levels: tuple[float, float]
    i2: float
    q: float
    q_df: int
    q_pvalue: float
    qm: float
    qm_df: int
    qm_pvalue: float
    pi_low: float
    pi_high: float
    df: float
    loglik: float
    vcov: np.ndarray = field(repr=False)
    coef_names: tuple[str, ...] = field(repr=False)
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    cluster: np.ndarray = field(repr=False)
    cluster_labels: np.ndarray = field(repr=False)
    method: str = "REML"
    test: str = "z"
    level: float = 0.95
    converged: bool = True
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def coef(self) -> np.ndarray:
        """Coefficients as an array (length 1 for the intercept-only model)."""
        return np.atleast_1d(np.asarray(self.estimate, dtype=float))

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient (term, estimate, se, stat, df, pvalue, ci_low, ci_high), followed by
        the model-level columns :data:`MODEL_COLUMNS`, repeated on every row."""
        model = {"k": self.k, "n_clusters": self.n_clusters, "sigma2_between": self.sigma2[0],
                 "sigma2_within": self.sigma2[1], "i2_between": self.i2_levels[0], "i2_within": self.i2_levels[1]}
        model |= {c: getattr(self, c) for c in MODEL_COLUMNS[len(model):]}  # fmt: skip
        coefs = pd.DataFrame({
            "term": list(self.coef_names), "estimate": self.coef, "se": np.atleast_1d(self.se),
            "stat": np.atleast_1d(self.stat), "df": self.df, "pvalue": np.atleast_1d(self.pvalue),
            "ci_low": np.atleast_1d(self.ci_low), "ci_high": np.atleast_1d(self.ci_high)})  # fmt: skip
        return coefs.assign(**model)

    def summary(self) -> str:
        """Plain-text summary in the spirit of metafor's ``print.rma.mv``."""
        fr = self.to_frame()
        r = fr.iloc[0]
        pct = f"{100 * self.level:g}%"
        lines = [
            f"Three-level model ({self.method}; k = {self.k} effects in {self.n_clusters} clusters); "
            f"test = {self.test!r}",
            "",
            f"sigma^2 between clusters = {_fmt(r.sigma2_between)} (I^2 = {_fmt(r.i2_between, 2)}%)",
            f"sigma^2 within clusters  = {_fmt(r.sigma2_within)} (I^2 = {_fmt(r.i2_within, 2)}%)",
            f"total I^2 = {_fmt(r.i2, 2)}%; QE(df = {self.q_df}) = {_fmt(r.q)}, p = {_pval(r.q_pvalue)}",
            f"test of moderators: {'F' if self.test == 't' else 'QM'}(df = {self.qm_df}) = {_fmt(r.qm)}, "
            f"p = {_pval(r.qm_pvalue)}; logLik = {_fmt(r.loglik)}",
            "",
        ]
        for _, c in fr.iterrows():
            lines.append(f"{c.term}: estimate = {_fmt(c.estimate)}, se = {_fmt(c.se)}, "
                         f"{'t' if self.test == 't' else 'z'} = {_fmt(c.stat)}, p = {_pval(c.pvalue)}, "
                         f"{pct} CI [{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]")  # fmt: skip
        if not np.isnan(self.pi_low):
            lines.append(f"{pct} PI [{_fmt(r.pi_low)}, {_fmt(r.pi_high)}]")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        est = _fmt(self.estimate) if np.ndim(self.estimate) == 0 else f"<{self.coef.size} coefficients>"
        return (f"MultilevelResult(k={self.k}, n_clusters={self.n_clusters}, method={self.method!r}, "
                f"estimate={est}, sigma2=({_fmt(self.sigma2[0])}, {_fmt(self.sigma2[1])}), "
                f"i2={_fmt(self.i2, 1)}%)")  # fmt: skip

    def _repr_html_(self) -> str:
        title = f"Three-level meta-analysis (k = {self.k}, {self.n_clusters} clusters)"
        return frame_to_html(self.to_frame(), title, [f"Note: {n}" for n in self.notes])
