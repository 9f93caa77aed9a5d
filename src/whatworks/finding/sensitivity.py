"""Sensitivity analyses of the contrast (reference strategy vs the others combined), one row each.

Estimator, inference, control type, borderline coding, second-hand numbers, leave-one-out, design,
age band, dependence (CR2), the effect-size assumptions (pre-post correlation, post-only g, ICC, baseline
imbalance, uncorrected cluster trials: :mod:`whatworks.finding.sensitivity_design`) and small-study
effects per strategy (Egger's test, trim and fill).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _dist
from ..data.recompute import settings_of
from ..data.settings import EffectSettings
from ..influence import _batch_fit
from ..regression import RegressionResult
from ..results import _fmt, frame_to_html, int_counts
from .contrast import (
    DELTA,
    ContrastResult,
    strategy_contrasts,
    verdict,
)
from .select import MASI_STRATEGIES, primary_frame
from .sensitivity_bias import adjusted_contrast_row, bias_rows, rob_rows
from .sensitivity_design import design_rows
from .strategies import StrategyPooling

#: Columns of :meth:`SensitivityResult.to_frame`.
SENSITIVITY_COLUMNS = (
    "analysis", "setting", "quantity", "k", "k_reference", "k_comparison", "estimate", "ci_low", "ci_high",
    "pvalue", "verdict", "note",
)  # fmt: skip

#: Control types counted as passive (no active comparison treatment).
PASSIVE_CONTROLS = ("waitlist", "usual_care", "no_treatment")

#: Leave-one-out refits are fitted in batches of at most this many effects in all (refits x k).
LOO_CHUNK = 1_000_000
#: Up to this k every leave-one-out refit re-estimates tau² (k fits of k rows: O(k²) work); above it the
#: refits keep the full-data tau² (exact deletion formulas, O(k)), and the table row says so.
LOO_EXACT_MAX_K = 1_000


@dataclass(frozen=True)
class SensitivityResult:
    """Result of :func:`sensitivity_analyses`: the table and the leave-one-out detail.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per analysis (:data:`SENSITIVITY_COLUMNS`). ``estimate`` is the difference
        g(reference) - g(others) for contrast rows, Egger's slope or the trim-and-fill estimate otherwise
        (``quantity`` says which).
    leave_one_out : pandas.DataFrame
        The combined contrast with each row left out: ``left_out``, ``strategy``, ``difference``,
        ``ci_low``, ``ci_high``, ``pvalue``, ``verdict``.
    """

    table: pd.DataFrame = field(repr=False)
    leave_one_out: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())
        object.__setattr__(self, "leave_one_out", self.leave_one_out.copy())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        cols = ["analysis", "setting", "k", "estimate", "ci_low", "ci_high", "pvalue", "verdict"]
        return "Sensitivity analyses\n\n" + self.table[cols].to_string(index=False, float_format=_fmt, na_rep="NA")

    def __repr__(self) -> str:
        return f"SensitivityResult(rows={len(self.table)})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, "Sensitivity analyses")


def _combined_row(analysis: str, setting: str, fit: Callable[[], ContrastResult], note: str = "") -> dict:
    try:
        r = fit().combined()
    except ValueError as e:
        return dict(analysis=analysis, setting=setting, quantity="difference", note=f"not estimable: {e}")
    extra = [note] if note else []
    if "too few" in r["reason"] or "no trials" in r["reason"]:
        extra.append(r["reason"])
    return dict(analysis=analysis, setting=setting, quantity="difference", k=r["k"], k_reference=r["k_reference"],
                k_comparison=r["k_comparison"], estimate=r["difference"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                pvalue=r["pvalue"], verdict=r["verdict"], note="; ".join(extra))


def _subset(frame: pd.DataFrame, mask: object) -> pd.DataFrame:
    return frame.loc[np.asarray(mask, dtype=bool)]


def _leave_one_out(contrast: ContrastResult, *, min_k: int = 2) -> pd.DataFrame:
    """The combined contrast refitted with each row left out, in one batch of the engine (fit_batch)."""
    cols = ["left_out", "strategy", "difference", "ci_low", "ci_high", "pvalue", "verdict"]
    fit, rows = contrast.model_combined, contrast.rows
    if fit is None:
        return pd.DataFrame(columns=cols)
    k = fit.k
    label = rows["study"].astype(str) if "study" in rows.columns else pd.Series(rows.index.astype(str))
    is_cmp = fit.X[:, 1] > 0
    k_refs = (~is_cmp).sum() - ~is_cmp  # reference and comparison rows left when row i is out
    k_cmps = is_cmp.sum() - is_cmp
    # both arms left and residual df (k - 1 > p): else the refit's design is singular (not estimable)
    fittable = np.flatnonzero((k_refs > 0) & (k_cmps > 0) & (k - 1 > fit.X.shape[1]))
    coef, se, crit, pvalue = (np.full(k, np.nan) for _ in range(4))
    if k > LOO_EXACT_MAX_K:  # k refits of k rows each would take O(k^2): deletion formulas at fixed tau²
        coef[fittable], se[fittable], crit[fittable], pvalue[fittable] = _deletion_fixed_tau2(fit, fittable)
        fittable = fittable[:0]
    step = max(1, LOO_CHUNK // max(k, 1))  # bounded memory: `step` refits of k rows at a time
    for start in range(0, fittable.size, step):
        idx = fittable[start:start + step]
        present = np.ones((idx.size, k), dtype=bool)
        present[np.arange(idx.size), idx] = False
        f = _batch_fit(fit, present, X=fit.X)
        vb = f["vb"][:, 1, 1]
        with np.errstate(divide="ignore", invalid="ignore"):  # SE 0 (identical effects): p and CI undefined
            coef[idx], se[idx] = f["beta"][:, 1], np.sqrt(np.where(vb > 0, vb, np.nan))
            crit[idx] = f["crit"]
            pvalue[idx] = _dist.two_sided_p(coef[idx] / se[idx], f["df"], fit.test)
    out = []
    for i in range(k):
        k_ref, k_cmp = int(k_refs[i]), int(k_cmps[i])
        lo, hi = -(coef[i] + crit[i] * se[i]), -(coef[i] - crit[i] * se[i])
        if np.isnan(coef[i]):
            out.append(dict(left_out=label.iloc[i], strategy=rows["strategy"].iloc[i], verdict="not estimable"))
            continue
        v, _ = verdict(-coef[i], lo, hi, k_reference=k_ref, k_comparison=k_cmp, delta=contrast.delta, min_k=min_k)
        out.append(dict(left_out=label.iloc[i], strategy=rows["strategy"].iloc[i], difference=-coef[i], ci_low=lo,
                        ci_high=hi, pvalue=pvalue[i], verdict=v))
    table = pd.DataFrame(out, columns=cols)
    table.attrs["refits"] = "exact" if k <= LOO_EXACT_MAX_K else "fixed tau2"
    return table


def _deletion_fixed_tau2(fit: RegressionResult, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """Coefficient 1 with each of ``rows`` left out, tau² held at the fit's estimate: exact weighted
    least-squares deletion formulas (Sherman-Morrison; Belsley, Kuh & Welsch 1980), O(k p²).

    With W = diag(1 / (vi + tau²)), M = (X'WX)^-1, residuals e and leverages h_i = w_i x_i' M x_i:
    beta_(i) = beta - M x_i w_i e_i / (1 - h_i), M_(i) = M + M x_i x_i' M w_i / (1 - h_i), and for
    test="knha" the scale s2w_(i) = (sum w e² - w_i e_i² / (1 - h_i)) / (k - 1 - p).
    Returns (coef, se, crit, pvalue) for ``rows``.
    """
    X, y = np.asarray(fit.X, dtype=float), np.asarray(fit.yi, dtype=float)
    w = 1.0 / (np.asarray(fit.vi, dtype=float) + fit.tau2)
    k, p = X.shape
    M = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = M @ (X.T @ (w * y))
    e = y - X @ beta
    Mx = X @ M  # row i: (M x_i)'
    h = w * np.einsum("ij,ij->i", Mx, X)
    with np.errstate(divide="ignore", invalid="ignore"):  # h = 1: the refit's design is singular (NaN)
        g = w / (1.0 - h)
        coef = beta[1] - Mx[rows, 1] * g[rows] * e[rows]
        var = M[1, 1] + Mx[rows, 1] ** 2 * g[rows]
        df = float(k - 1 - p)
        if fit.test == "knha":
            s2w = ((w * e**2).sum() - g[rows] * e[rows] ** 2) / df
            var = var * s2w
            crit = np.full(rows.size, _dist.t_ppf(0.5 + fit.level / 2, df) if df > 0 else np.nan)
        else:
            crit = np.full(rows.size, _dist.norm_ppf(0.5 + fit.level / 2))
        se = np.sqrt(np.where(var > 0, var, np.nan))
        pvalue = _dist.two_sided_p(coef / se, df if fit.test == "knha" else np.inf, fit.test)
    return coef, se, crit, pvalue


def sensitivity_analyses(
    frame: pd.DataFrame,
    *,
    reviews: pd.DataFrame | None = None,
    pooling: StrategyPooling | None = None,
    contrast: ContrastResult | None = None,
    dependence: pd.DataFrame | None = None,
    reference: str = "social_cognition",
    others: tuple[str, ...] = MASI_STRATEGIES[1:],
    method: str = "REML",
    test: str = "knha",
    delta: float = DELTA,
    settings: EffectSettings | None = None,
    flagged: Sequence[str] | None = None,
    small_study: Mapping[str, pd.DataFrame] | None = None,
    precision: RegressionResult | None = None,
) -> SensitivityResult:
    """Every sensitivity analysis of the combined contrast, as one table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The primary rows (:func:`whatworks.finding.primary_frame`).
    reviews : pandas.DataFrame, optional
        All loaded rows (``load_reviews``), for the design analysis (non-randomised rows); without it
        the design row says it was not run.
    pooling : StrategyPooling, optional
        Per-strategy fits for the small-study-effect rows (computed from ``frame`` if absent).
    contrast : ContrastResult, optional
        The primary contrast with these options (computed from ``frame`` if absent).
    dependence : pandas.DataFrame, optional
        The table of :func:`whatworks.finding.dependence_analysis`; its combined rows are added.
    reference, others, method, test, delta
        As in :func:`whatworks.finding.strategy_contrasts`.
    settings : EffectSettings, optional
        The effect-size settings of the primary analysis (default: those ``reviews`` was loaded with);
        the pre-post correlation and ICC rows vary them (needs ``reviews``).
    flagged : sequence of str, optional
        ``study_id`` of the trials flagged as outliers or influential
        (:func:`whatworks.finding.outliers.strategy_outliers`); a row refits without them.
    small_study : mapping of str -> DataFrame, optional
        :func:`whatworks.small_study_summary` per strategy (computed where absent).
    precision : RegressionResult, optional
        :func:`whatworks.finding.contrast.precision_model` of the primary contrast (fitted when absent).

    Returns
    -------
    SensitivityResult

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"strategy": ["social_cognition"] * 4 + ["social_support"] * 4,
    ...                    "yi": [-0.7, -0.5, -0.9, -0.6, -0.1, 0.0, -0.2, -0.1],
    ...                    "vi": [0.03, 0.04, 0.05, 0.03, 0.03, 0.04, 0.05, 0.02]})
    >>> sens = sensitivity_analyses(df, others=("social_support",))
    >>> sens.table["analysis"].iloc[0]
    'primary'
    """
    from .strategies import pool_strategies

    rows: list[dict] = []

    def contrasts(data: pd.DataFrame, m: str, t: str) -> ContrastResult:
        return strategy_contrasts(data, method=m, test=t, reference=reference, others=others, delta=delta)

    def refit(data: pd.DataFrame, m: str = method, t: str = test) -> Callable[[], ContrastResult]:
        return lambda: contrasts(data, m, t)

    base = settings if settings is not None else settings_of(reviews if reviews is not None else frame)
    primary = contrast if contrast is not None else contrasts(frame, method, test)
    rows.append(_combined_row("primary", f"{method}, {test}", lambda: primary, note=f"effects: {base.label()}"))
    for m in ("DL", "PM", "REML"):
        if m != method:
            rows.append(_combined_row("estimator", f"{m}, {test}", refit(frame, m)))
    rows.append(_combined_row("inference", f"{method}, z (no Knapp-Hartung)" if test == "knha" else f"{method}, knha",
                              refit(frame, method, "z" if test == "knha" else "knha")))
    if dependence is not None:
        name = " + ".join(others)
        for r in dependence[dependence["comparison"] == name].itertuples():
            rows.append(dict(analysis="dependence", setting=r.inference + " (clusters = trials)", quantity="difference",
                             k=r.k, k_reference=r.k_reference, k_comparison=r.k_comparison, estimate=r.difference,
                             ci_low=r.ci_low, ci_high=r.ci_high, pvalue=r.pvalue, verdict=r.verdict,
                             note=f"df {r.df:.1f}"))

    control = frame["control"].astype("string") if "control" in frame.columns else pd.Series(pd.NA, index=frame.index)
    passive = control.isin(PASSIVE_CONTROLS).fillna(False).to_numpy(dtype=bool)
    rows.append(_combined_row("control", "passive controls only (" + ", ".join(PASSIVE_CONTROLS) + ")",
                              refit(_subset(frame, passive))))
    rows.append(_combined_row("control", "active or attention controls excluded (unknown kept)",
                              refit(_subset(frame, ~control.isin(("active", "attention")).fillna(False)))))
    if "borderline" in frame.columns:
        rows.append(_combined_row("borderline", "borderline-coded trials excluded",
                                  refit(_subset(frame, ~frame["borderline"].fillna(False).astype(bool)))))
    if "hand" in frame.columns:
        rows.append(_combined_row("second-hand numbers", "first-hand rows only",
                                  refit(_subset(frame, (frame["hand"] == "first").fillna(False)))))

    rows += rob_rows(frame, refit, _combined_row, _subset)
    if flagged is not None:
        out = frame["study_id"].astype(str).isin([str(f) for f in flagged]).to_numpy(dtype=bool)
        compared = frame["strategy"].isin([reference, *others]).fillna(False).to_numpy(dtype=bool)
        gone = sorted(set(frame.loc[out & compared, "study_id"].astype(str)))
        note = f"left out: {', '.join(gone)}" if gone else "no compared trial flagged: same as the primary analysis"
        rows.append(_combined_row("outliers", "outlier or influential trials excluded (per strategy)",
                                  refit(_subset(frame, ~out)), note=note))

    loo = _leave_one_out(primary)
    fitted = loo.dropna(subset=["difference"])
    if len(fitted):
        counts = fitted["verdict"].value_counts()
        tested = fitted["verdict"].isin(("supported", "not supported", "inconclusive"))  # not "cannot be tested"
        changes = fitted.loc[tested & (fitted["verdict"] != primary.combined()["verdict"]), "left_out"].tolist()
        fixed = loo.attrs.get("refits") == "fixed tau2"
        shown = ", ".join(changes[:20]) + (f" and {len(changes) - 20} more" if len(changes) > 20 else "")
        rows.append(dict(analysis="leave-one-out", setting=f"{len(fitted)} refits, one row left out each"
                         + (f" (tau² held at the full-data estimate: k > {LOO_EXACT_MAX_K})" if fixed else ""),
                         quantity="range of the difference", k=len(fitted), estimate=np.nan,
                         ci_low=fitted["difference"].min(), ci_high=fitted["difference"].max(),
                         verdict=", ".join(f"{v} ({n})" for v, n in counts.items()),
                         note=("ci_low/ci_high hold the smallest and largest difference, not a CI; verdict changes "
                               f"when leaving out: {shown}" if changes else
                               "ci_low/ci_high hold the smallest and largest difference, not a CI; no single row "
                               "changes the verdict")))

    if reviews is not None:
        nonrand = primary_frame(reviews, design="non_randomised")
        if len(nonrand):
            both = pd.concat([frame, nonrand], ignore_index=True)
            rows.append(_combined_row("design", "RCTs plus non-randomised comparisons", refit(both),
                                      note=f"{len(nonrand)} non-randomised row(s) added"))
        else:
            rows.append(dict(analysis="design", setting="RCTs plus non-randomised comparisons",
                             quantity="difference", note="no poolable non-randomised SMD rows in the data"))
    else:
        rows.append(dict(analysis="design", setting="RCTs plus non-randomised comparisons", quantity="difference",
                         note="not run: pass reviews= (all loaded rows)"))

    if "age_band" in frame.columns:
        age = frame["age_band"].astype("string")
        for setting, bands in (("older adults only", ("older_adults",)),
                               ("adults under older age only (adults, young adults)", ("adults", "young_adults"))):
            rows.append(_combined_row("age band", setting, refit(_subset(frame, age.isin(bands).fillna(False)))))

    rows += design_rows(frame, reviews, base, lambda a, s, data, note: _combined_row(a, s, refit(data), note=note))

    pooling = pooling if pooling is not None else pool_strategies(frame, method=method, test=test)
    rows += bias_rows(pooling, (reference, *others), small_study)
    rows.append(adjusted_contrast_row(primary, precision))
    table = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
    for col in ("k", "k_reference", "k_comparison"):  # counts, missing where a row has none
        table[col] = int_counts(table[col])
    table["note"] = table["note"].fillna("")
    table["verdict"] = table["verdict"].fillna("")
    return SensitivityResult(table=table, leave_one_out=loo)
