"""Meta-regression (mixed-effects models): :func:`meta_regress`, as metafor's ``rma(yi, vi, mods=...)``.

The model is fitted by :func:`whatworks.model.fit_batch` with a model matrix, the same single fit path
as :func:`whatworks.meta_analyze`. Inference follows metafor 3.8: Wald z tests and a chi-square omnibus
test QM, or with ``test="knha"`` t tests on k - p df and an F(m, k - p) omnibus test; QE is the test of
residual heterogeneity; R² is metafor's default (``r2def="1"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._frames import check_frame, describe_missing, design, effects_missing
from .estimators import METHODS, Batch
from .model import TESTS, check_effects, fit_batch, tau2_qprofile
from .results import _fmt, _freeze, _pval, frame_to_html

if TYPE_CHECKING:  # meta_regress(cluster=...) returns the three-level model's result
    from .multilevel import MultilevelResult

#: Columns of :meth:`RegressionResult.to_frame`.
COEF_COLUMNS = ("term", "coef", "se", "stat", "pvalue", "ci_low", "ci_high")


def fit_mods(
    yi: np.ndarray,
    vi: np.ndarray,
    X: np.ndarray,
    *,
    method: str,
    test: str,
    level: float,
    intercept: bool,
) -> dict:
    """Fit ``rma(yi, vi, mods=X, intercept=FALSE)`` (X includes the intercept column if any).

    The building block shared by :func:`meta_regress`, :func:`whatworks.subgroups.by_subgroup`
    (common tau²) and :func:`whatworks.bias.egger_test`; not part of the public API. Inputs are
    assumed valid (finite, vi > 0, X of full column rank, k > p). Returns a dict of plain numbers and
    arrays: every field of :class:`RegressionResult` except names and data, plus ``crit``.
    """
    k, p = X.shape
    batch = Batch.make(yi, vi, X=X)
    f = fit_batch(batch, method=method, test=test, level=level)
    beta, vb = f["beta"][0], f["vb"][0]
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 only for degenerate knha data
        stat = beta / se
    df = float(f["df"][0])
    pvalue = _dist.two_sided_p(stat, df, test)
    crit = float(f["crit"][0])

    # omnibus test of the moderators: every coefficient but the intercept (all of them without one,
    # and the intercept itself in an intercept-only model), as metafor's default btt
    btt = np.arange(1, p) if intercept and p > 1 else np.arange(p)
    b = beta[btt]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
    except np.linalg.LinAlgError:  # zero residual variance under knha: no test is possible
        qm = np.nan
    m = btt.size
    if test != "z":  # "t", "knha", "adhoc": F test on (m, k - p) df, as metafor
        qm /= m
        qm_df2: int | None = k - p
        qm_pvalue = float(_dist.f_sf(qm, m, k - p))
    else:
        qm_df2 = None
        qm_pvalue = float(_dist.chi2_sf(qm, m))

    tau2 = float(f["tau2"][0])
    if method == "EE":
        tau2_ci = (np.nan, np.nan)
    else:
        lo, hi = tau2_qprofile(batch, level)
        tau2_ci = (float(lo[0]), float(hi[0]))
    r2 = _r2(yi, vi, X, tau2, method=method, test=test, level=level) if intercept and p > 1 else np.nan
    return {
        "coef": beta,
        "se": se,
        "stat": stat,
        "pvalue": pvalue,
        "ci_low": beta - crit * se,
        "ci_high": beta + crit * se,
        "vcov": vb,
        "df": df,
        "tau2": tau2,
        "se_tau2": float(f["se_tau2"][0]),
        "tau2_ci_low": tau2_ci[0],
        "tau2_ci_high": tau2_ci[1],
        "qm": qm,
        "qm_df": int(m),
        "qm_df2": qm_df2,
        "qm_pvalue": qm_pvalue,
        "qe": float(f["q"][0]),
        "qe_df": int(f["q_df"][0]),
        "qe_pvalue": float(f["q_pvalue"][0]),
        "r2": r2,
        "i2": float(f["i2"][0]),
        "h2": float(f["h2"][0]),
        "crit": crit,
        "iterations": int(f["iterations"][0]),
        "converged": bool(f["converged"][0]),
    }


def _r2(yi: np.ndarray, vi: np.ndarray, X: np.ndarray, tau2: float, *, method: str, test: str, level: float) -> float:
    """metafor's default R² (percent).

    Random effects: ``max(0, 100 (tau2_RE - tau2) / tau2_RE)`` with tau2_RE from the intercept-only
    model fitted with the same method (0 when tau2_RE = 0). Common effect (EE): ``max(0, 100 adj. R²)``
    of the weighted least-squares regression of yi on X with weights 1/vi, as metafor.
    """
    k, p = X.shape
    if method == "EE":
        w = 1 / vi
        sw = np.sqrt(w)
        beta = np.linalg.lstsq(X * sw[:, None], yi * sw, rcond=None)[0]
        rss = float(np.sum(w * (yi - X @ beta) ** 2))
        tss = float(np.sum(w * (yi - np.sum(w * yi) / np.sum(w)) ** 2))
        if tss == 0:  # all yi equal (metafor: identical(var(yi), 0))
            return 0.0
        adj = 1 - (rss / tss) * (k - 1) / (k - p)
        return max(0.0, 100 * adj)
    tau2_re = float(fit_batch(Batch.make(yi, vi), method=method, test=test, level=level)["tau2"][0])
    if tau2_re == 0:
        return 0.0
    return max(0.0, 100 * (tau2_re - tau2) / tau2_re)


@dataclass(frozen=True)
class RegressionResult:
    """Result of :func:`meta_regress` (metafor's ``rma(yi, vi, mods=...)``).

    Attributes
    ----------
    names : tuple of str
        Column names of the model matrix (patsy's names, intercept first as ``"Intercept"``).
    coef, se, stat, pvalue, ci_low, ci_high : ndarray
        Per coefficient, in design-matrix order: estimate, standard error, z (or t for "knha")
        statistic, two-sided p-value and confidence interval at ``level``.
    vcov : ndarray, shape (p, p)
        Variance-covariance matrix of the coefficients (Knapp-Hartung-scaled for "knha").
    df : float
        Degrees of freedom of the t tests ("knha": k - p), ``inf`` for "z".
    tau2, se_tau2, tau2_ci_low, tau2_ci_high : float
        Residual between-study variance, its standard error and Q-profile CI (NaN for "EE").
    qm, qm_df, qm_df2, qm_pvalue : float, int, int or None, float
        Omnibus test of the moderators (all coefficients but the intercept): chi-square on ``qm_df``
        df for "z"; for "knha" an F statistic on (``qm_df``, ``qm_df2``) df.
    qe, qe_df, qe_pvalue : float, int, float
        Test of residual heterogeneity.
    r2 : float
        Percent of heterogeneity accounted for (metafor's default definition); NaN without an
        intercept or without moderators.
    i2, h2 : float
        Residual I² (percent) and H².
    k, p : int
        Number of effects used and of coefficients.
    dropped : tuple of (label, reason)
        Rows of the input frame left out because a used column was missing, with the reason.
    """

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray = field(repr=False)
    df: float
    tau2: float
    se_tau2: float
    tau2_ci_low: float
    tau2_ci_high: float
    qm: float
    qm_df: int
    qm_df2: int | None
    qm_pvalue: float
    qe: float
    qe_df: int
    qe_pvalue: float
    r2: float
    i2: float
    h2: float
    k: int
    p: int
    method: str
    test: str
    level: float
    formula: str = ""
    X: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    yi: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    vi: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    dropped: tuple[tuple[str, str], ...] = ()
    iterations: int = 0
    converged: bool = True
    design_info: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _freeze(self)

    def predict(self, newdata: pd.DataFrame) -> pd.DataFrame:
        """Predicted average effects for new moderator values, as metafor's ``predict(fit, newmods)``.

        ``newdata`` holds the moderator columns of the formula (categorical levels must be among the
        fitted ones). Returns one row per row of ``newdata``: ``pred, se, ci_low, ci_high, pi_low,
        pi_high``; the prediction interval adds tau² (so equals the CI for "EE"), with the t quantile
        on k - p df for "knha".

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"yi": [-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
        ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004],
        ...                    "lat": [44, 55, 42, 52, 13, 44, 19, 13]})
        >>> res = meta_regress(df, "~ lat")
        >>> res.predict(pd.DataFrame({"lat": [10, 50]})).columns.tolist()
        ['pred', 'se', 'ci_low', 'ci_high', 'pi_low', 'pi_high']
        """
        import patsy

        if self.design_info is None:
            raise ValueError("this result has no formula to build new model rows from")
        try:
            (X,) = patsy.build_design_matrices([self.design_info], newdata)
        except patsy.PatsyError as e:
            raise ValueError(f"cannot build model rows for {self.formula!r} from newdata: {e}") from None
        X = np.asarray(X, dtype=float)
        pred = X @ self.coef
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, self.vcov, X))
        q = 0.5 + self.level / 2
        crit = _dist.norm_ppf(q) if self.test == "z" else _dist.t_ppf(q, self.df)
        half_pi = crit * np.sqrt(se**2 + self.tau2)
        return pd.DataFrame({"pred": pred, "se": se, "ci_low": pred - crit * se, "ci_high": pred + crit * se,
                             "pi_low": pred - half_pi, "pi_high": pred + half_pi})  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, coef, se, stat, pvalue, ci_low, ci_high."""
        return pd.DataFrame({c: (list(self.names) if c == "term" else getattr(self, c)) for c in COEF_COLUMNS})

    def _title(self) -> str:
        model = "Common-effect (EE)" if self.method == "EE" else f"Mixed-effects ({self.method})"
        return f"{model} meta-regression {self.formula} (k = {self.k}, p = {self.p}); test = {self.test!r}"

    def _model_lines(self) -> list[str]:
        """The model-level lines of :meth:`summary` (residual tau², I², H², R², QE, QM), shared by the HTML."""
        if self.test != "z":
            qm = f"F(df1 = {self.qm_df}, df2 = {self.qm_df2}) = {_fmt(self.qm)}"
        else:
            qm = f"QM(df = {self.qm_df}) = {_fmt(self.qm)}"
        lines = []
        if self.method != "EE":
            lines.append(
                f"tau^2 (residual) = {_fmt(self.tau2)} (SE = {_fmt(self.se_tau2)}), "
                f"I^2 = {_fmt(self.i2, 2)}%, H^2 = {_fmt(self.h2, 2)}, R^2 = {_fmt(self.r2, 2)}%"
            )
        return [*lines, f"QE(df = {self.qe_df}) = {_fmt(self.qe)}, p = {_pval(self.qe_pvalue)}",
                f"Test of moderators: {qm}, p = {_pval(self.qm_pvalue)}"]

    def summary(self) -> str:
        """Plain-text summary in the spirit of metafor's ``print.rma``."""
        lines = [self._title(), "", *self._model_lines(), "",
                 self.to_frame().to_string(index=False, float_format=_fmt)]
        lines += [f"Dropped row {lab}: {why}" for lab, why in self.dropped]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"RegressionResult(formula={self.formula!r}, k={self.k}, p={self.p}, method={self.method!r}, "
            f"test={self.test!r}, qm={_fmt(self.qm)}, qm_pvalue={_fmt(self.qm_pvalue)}, tau2={_fmt(self.tau2)})"
        )

    def _repr_html_(self) -> str:
        dropped = [f"Dropped row {lab}: {why}" for lab, why in self.dropped]
        return frame_to_html(self.to_frame(), self._title(), [*self._model_lines(), *dropped])


@overload
def meta_regress(
    frame: pd.DataFrame,
    mods: str,
    *,
    yi: str = ...,
    vi: str = ...,
    method: str = ...,
    test: str = ...,
    level: float = ...,
    cluster: None = ...,
) -> RegressionResult: ...


@overload
def meta_regress(
    frame: pd.DataFrame,
    mods: str,
    *,
    yi: str = ...,
    vi: str = ...,
    method: str = ...,
    test: str = ...,
    level: float = ...,
    cluster: str,
) -> MultilevelResult: ...


def meta_regress(
    frame: pd.DataFrame,
    mods: str,
    *,
    yi: str = "yi",
    vi: str = "vi",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    cluster: str | None = None,
) -> RegressionResult | MultilevelResult:
    """Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods=..., method, test)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per effect, holding ``yi``, ``vi`` and the moderators.
    mods : str
        A patsy formula of the moderators, e.g. ``"~ C(strategy) + year"``. The intercept comes first
        (drop it with ``"- 1"``); categorical variables get treatment coding with the first sorted
        level as reference, like R's ``factor()``.
    yi, vi : str
        Column names of the effect sizes and sampling variances.
    method : {"REML", "ML", "DL", "PM", "EB", "HS", "SJ", "HE", "EE"}
        tau² estimator (metafor's names); "EE" fits a common-effect (fixed-effects) meta-regression.
    test : {"z", "t", "knha", "adhoc"}
        Wald z / chi-square tests; or t tests on k - p df and F(m, k - p) for QM, with the model-based
        covariance ("t"), Knapp-Hartung-scaled ("knha") or scaled by max(1, s2w) ("adhoc"), as metafor.
    level : float
        Confidence level (0.95 or 95).
    cluster : str, optional
        Column of cluster ids (e.g. the trial). When given, the moderators are fitted in the
        three-level model ``rma.mv(yi, vi, mods, random = ~ 1 | cluster/es_id)`` by
        :func:`whatworks.multilevel.fit_three_level`, which returns a ``MultilevelResult``; ``method``
        must then be "REML" or "ML" and ``test`` "z" or "t". Dropped rows are listed in its ``notes``.

    Returns
    -------
    RegressionResult
        Coefficients (design-matrix order), tau², QM, QE, R², I², H² (``MultilevelResult`` with
        ``cluster``).

    Raises
    ------
    ValueError
        Unknown column names (the message lists the available ones), a formula patsy cannot
        evaluate, unknown options, infinite or non-positive ``vi``, a model matrix that is not of
        full column rank (names the columns), or fewer effects than k = p + 1.

    Notes
    -----
    Rows with a missing value (NaN/None) in ``yi``, ``vi`` or a moderator are left out, as metafor's
    default ``na.action``, but never silently: ``dropped`` lists each such row (index label) with the
    missing columns, and :meth:`RegressionResult.summary` prints them.

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.regression import meta_regress
    >>> df = pd.DataFrame({"yi": [-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004],
    ...                    "lat": [44, 55, 42, 52, 13, 44, 19, 13]})
    >>> res = meta_regress(df, "~ lat", method="REML")
    >>> res.names
    ('Intercept', 'lat')
    >>> bool(res.coef[1] < 0), res.k, res.qm_df
    (True, 8, 1)
    """
    frame = check_frame(frame, (yi, "yi"), (vi, "vi"), *(() if cluster is None else ((cluster, "cluster"),)))
    if not isinstance(mods, str):
        raise ValueError(f"mods must be a formula string such as '~ C(strategy) + year', got {mods!r}")
    method = v.check_option("method", method, METHODS)
    test = v.check_option("test", test, TESTS if cluster is None else ("z", "t"))
    level = v.check_level(level)
    if cluster is not None and pd.isna(frame[cluster]).any():
        raise ValueError(f"cluster column {cluster!r} has missing ids at {v.positions(pd.isna(frame[cluster]))}")

    _, missing = design(frame, mods)
    for i, cols in effects_missing(frame, yi, vi).items():
        missing.setdefault(i, [])
        missing[i] = [c for c in (yi, vi) if c in cols] + [c for c in missing[i] if c not in (yi, vi)]
    keep = np.setdiff1d(np.arange(len(frame)), list(missing))
    if keep.size == 0:
        raise ValueError("no rows left: every row has a missing value in yi, vi or a moderator")
    used = frame.iloc[keep]
    dm, _ = design(used, mods)  # rebuilt on the kept rows, so unused factor levels get no column
    y, s = check_effects(used[yi].to_numpy(), used[vi].to_numpy())
    v.warn_variance_ratio(s)  # as metafor's rma.uni
    X = dm.to_numpy(dtype=float)
    names = tuple(dm.columns)
    k, p = X.shape
    if p == 0:
        raise ValueError(f"mods={mods!r} gives an empty model matrix")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(
            f"the model matrix of {mods!r} is not of full column rank (redundant columns among {list(names)})"
        )
    if k <= p:
        raise ValueError(f"too few effects: k = {k} for p = {p} coefficients; need k > p")
    intercept = any(len(term.factors) == 0 for term in dm.design_info.terms)
    if cluster is not None:  # moderators in the three-level model
        from dataclasses import replace

        from .multilevel import fit_three_level

        ml = fit_three_level(y, s, used[cluster].to_numpy(), X=X, coef_names=names, method=method, test=test,
                             level=level)  # fmt: skip
        dropped = tuple(f"dropped row {lab}: {why}" for lab, why in describe_missing(frame, missing))
        return replace(ml, notes=ml.notes + dropped)
    res = fit_mods(y, s, X, method=method, test=test, level=level, intercept=intercept)
    res.pop("crit")
    return RegressionResult(
        names=names,
        k=k,
        p=p,
        method=method,
        test=test,
        level=level,
        formula=mods.strip(),
        X=X,
        yi=y,
        vi=s,
        dropped=describe_missing(frame, missing),
        design_info=dm.design_info,
        **res,
    )
