"""Sensitivity rows for bias: risk of bias (RoB 2) and small-study effects (Egger, trim and fill, 3PSM,
PET-PEESE per strategy; the contrast adjusted for precision). Used by :func:`sensitivity_analyses`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..bias import egger_test, trim_and_fill
from ..regression import RegressionResult
from ..results import MetaResult
from ..smallstudy import small_study_summary
from .contrast import ContrastResult, coef_difference, precision_model, verdict
from .strategies import StrategyPooling

#: Minimum k for Egger's test and trim and fill per strategy.
BIAS_MIN_K = 3


def rob_rows(frame: pd.DataFrame, refit: Callable[[pd.DataFrame], Callable[[], ContrastResult]],
             combined_row: Callable[..., dict], subset: Callable[[pd.DataFrame, object], pd.DataFrame]) -> list[dict]:
    """The contrast without trials at high overall risk of bias, and with low-risk trials only (RoB 2)."""
    if "rob_overall" not in frame.columns:
        return [dict(analysis="risk of bias", setting="trials at high risk of bias excluded", quantity="difference",
                     note="not run: the rows carry no risk-of-bias assessment")]
    rob = frame["rob_overall"].astype("string")
    high = rob.eq("high").fillna(False).to_numpy(dtype=bool)
    low = rob.eq("low").fillna(False).to_numpy(dtype=bool)
    return [
        combined_row("risk of bias", "trials at high risk of bias excluded", refit(subset(frame, ~high)),
                      note=f"{int(high.sum())} trial(s) at high risk left out" if high.any()
                      else "no trial is at high risk of bias: same as the primary analysis"),
        combined_row("risk of bias", "trials at low risk of bias only", refit(subset(frame, low)),
                      note=f"{int(low.sum())} trial(s) at low risk"),
    ]


def bias_rows(pooling: StrategyPooling, strategies: tuple[str, ...],
               small_study: Mapping[str, pd.DataFrame] | None = None) -> list[dict]:
    out = []
    for s in strategies:
        fit = pooling.fits.get(s)
        k = 0 if fit is None else fit.k
        if fit is None or k < BIAS_MIN_K:
            out.append(dict(analysis="small-study effects", setting=s, quantity="Egger slope; trim and fill", k=k,
                            note=f"k = {k}: too few effects for Egger's test or trim and fill (need {BIAS_MIN_K})"))
            continue
        low_power = " (k < 10: low power, Sterne et al. 2011)" if k < 10 else ""
        if np.ptp(fit.vi) == 0:  # Egger's regression on sqrt(vi) needs differing variances
            out.append(dict(analysis="small-study effects", setting=s, quantity="Egger slope; trim and fill", k=k,
                            note="every effect has the same sampling variance: no small-study regression (Egger's "
                                 "test) and no funnel asymmetry to trim and fill"))
            continue
        eg = egger_test(fit)
        out.append(dict(analysis="small-study effects", setting=s, quantity="Egger slope (g per unit SE)", k=k,
                        estimate=eg.slope, pvalue=eg.pvalue,
                        note=f"Egger's regression test{low_power}; limit estimate {eg.limit_estimate:.2f} "
                             f"[{eg.ci_low:.2f}, {eg.ci_high:.2f}]"))
        tf = trim_and_fill(fit)
        out.append(dict(analysis="small-study effects", setting=s, quantity="trim-and-fill pooled g", k=tf.fit.k,
                        estimate=tf.fit.estimate, ci_low=tf.fit.ci_low, ci_high=tf.fit.ci_high,
                        pvalue=tf.fit.pvalue,
                        note=f"{tf.k0} effect(s) imputed on the {tf.side} side; unadjusted g {fit.estimate:.2f} "
                             f"[{fit.ci_low:.2f}, {fit.ci_high:.2f}]"))
        out += _adjusted_rows(fit, s, (small_study or {}).get(s))
    return out


def _adjusted_rows(fit: MetaResult, strategy: str, summary: pd.DataFrame | None = None) -> list[dict]:
    """3PSM and conditional PET-PEESE pooled g of one strategy (``summary``: its ``small_study_summary``)."""
    table = (summary if summary is not None else small_study_summary(fit)).set_index("method")
    out = []
    for method, what in (("3PSM", "3PSM (selection model) pooled g"), ("PET-PEESE", "PET-PEESE pooled g")):
        r = table.loc[method]
        if not bool(r["estimable"]):
            out.append(dict(analysis="small-study effects", setting=strategy, quantity=what, k=fit.k,
                            note=str(r["reason"])))
            continue
        out.append(dict(analysis="small-study effects", setting=strategy, quantity=what, k=int(r["k"]),
                        estimate=r["estimate"], ci_low=r["ci_low"], ci_high=r["ci_high"], pvalue=r["pvalue"],
                        note=(str(r["reason"]).rstrip(".") + "; " if r["reason"] else "") +
                             f"unadjusted g {fit.estimate:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}]"))
    return out


def adjusted_contrast_row(contrast: ContrastResult, precision: RegressionResult | None = None) -> dict:
    """The contrast at equal precision: minus the comparison coefficient of :func:`precision_model`
    (``rma(yi, vi, mods = ~ comparison + sqrt(vi))``; fitted here when not given). An Egger-type adjustment
    of a meta-regression: no selection model with moderators is implemented."""
    setting = "the contrast adjusted for sqrt(vi) (Egger-type meta-regression)"
    rows = contrast.rows
    base = dict(analysis="small-study effects", setting=setting, quantity="difference")
    if len(rows) < 10 or contrast.model_combined is None:
        return {**base, "note": f"k = {len(rows)}: fewer than 10 trials, not estimated"}
    fit, why = (precision, "") if precision is not None else precision_model(contrast)
    if fit is None:
        return {**base, "note": f"not estimable: {why}"}
    k_ref = int((rows["strategy"].astype(str) == contrast.reference).sum())
    j = fit.names.index("_comparison")
    est = coef_difference(fit, j, inference=contrast.test, tau2=fit.tau2, k=fit.k)
    v, _ = verdict(est["difference"], est["ci_low"], est["ci_high"], k_reference=k_ref, k_comparison=len(rows) - k_ref,
                   delta=contrast.delta)
    return {**base, "k": fit.k, "k_reference": k_ref, "k_comparison": len(rows) - k_ref,
            "estimate": est["difference"], "ci_low": est["ci_low"], "ci_high": est["ci_high"], "pvalue": est["pvalue"],
            "verdict": v, "note": "the difference expected between trials of equal precision"}
