"""Report section: the strategy finding (:func:`section_finding`): verdict, pooling, contrasts, sensitivity, claims.

A section function (see :mod:`whatworks.report.api`): it computes and draws, and returns HTML, results
rows, figures and CSV tables (``claims.csv`` among them); the report writes them.
"""

from __future__ import annotations

import pandas as pd

from ..api import (
    ReportContext,
    ReportFigure,
    SectionOutput,
    esc,
    figure_ref,
    html_table,
)
from ...finding import FindingResult, run_finding
from ...plots._style import figure_of

#: CSV files the section contributes (name without ".csv" -> what).
TABLES = {
    "claims": "claims C1-C5 with verdicts and grades",
    "finding_strategies": "pooled g per strategy",
    "finding_contrasts": "social_cognition vs each strategy and all combined, model-based and CR2",
    "finding_sensitivity": "sensitivity analyses",
    "finding_comparison": "ours vs published subgroup estimates",
    "finding_selection": "every coded row, in or out of the primary analysis, and why",
    "summary_of_findings": "GRADE certainty of the contrast and of each strategy against control",
}


def _figures(res: FindingResult) -> list[ReportFigure]:
    from ...finding.plots import comparison_plot, contrast_plot

    figs = []
    ax = contrast_plot(res.contrast, extra=res.dependence.table)
    figs.append(ReportFigure("finding_contrasts", figure_of(ax),
                             "Difference in g, social_cognition minus each comparison (model-based and CR2); the "
                             f"grey band is +/- {res.contrast.delta:g} (smallest meaningful difference)."))
    if res.comparison is not None:
        ax = comparison_plot(res.comparison)
        figs.append(ReportFigure("finding_vs_published", figure_of(ax),
                                 "Our pooled g per strategy (diamond) next to the published subgroup estimates "
                                 "(dots; open = no CI printed). Standardised metrics only."))
    return figs


def section_finding(ctx: ReportContext) -> SectionOutput | None:
    """Report section: the strategy finding (issue 5): verdict, pooling, contrasts, sensitivity, claims.

    Returns ``None`` when the data hold no social_cognition rows to test the claim with.
    """
    effects = ctx.effects
    if effects.empty or not (effects["strategy"] == "social_cognition").fillna(False).any():
        return None
    ctx.log("finding: pooling, contrasts, sensitivity, claims")
    opts = ctx.options
    res = run_finding(effects, ctx.pooled, catalogue=ctx.catalogue, method=opts.method, test=opts.test)
    ctx.results["finding"] = res
    figs = _figures(res)

    strat = res.pooling.to_frame()[["strategy", "k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                    "tau2", "i2", "note"]]
    contr = pd.concat([res.contrast.to_frame(), res.dependence.to_frame()], ignore_index=True)
    contr_show = contr[["comparison", "inference", "k_reference", "k_comparison", "difference", "ci_low", "ci_high",
                        "pvalue", "verdict"]]
    sens = res.sensitivity.to_frame()
    claims = res.claims.to_frame()
    parts = [
        f"<p><strong>{esc(res.headline)}</strong></p>",
        "<p>Primary analysis: randomised trials, Hedges' g (negative = less lonely), one effect per independent "
        f"comparison ({len(res.primary)} effects from {res.primary['study_id'].nunique()} trials); a trial coded "
        "by several reviews is counted once (living review first). Methods: docs/methods.md.</p>",
        "<h3>Pooled g per strategy</h3>", html_table(strat),
        "<p>Forest plot, funnel plots and small-study tests of these rows: the section above.</p>",
        "<h3>The contrast</h3>", html_table(contr_show), figure_ref("finding_contrasts"),
        "".join(f"<p>{esc(n)}</p>" for n in res.dependence.notes),
        "<h3>Sensitivity analyses</h3>", html_table(sens),
        "<h3>Claims</h3>", html_table(claims),
    ]
    tables = [("claims", claims), ("finding_strategies", res.pooling.to_frame()),
              ("finding_contrasts", contr), ("finding_sensitivity", sens),
              ("finding_selection", res.selection)]
    if res.certainty is not None:
        tables.append(("summary_of_findings", res.certainty.to_frame()))
    if res.comparison is not None:
        parts += ["<h3>Against the published reviews</h3>", html_table(res.comparison.to_frame()),
                  figure_ref("finding_vs_published")]
        tables.append(("finding_comparison", res.comparison.to_frame()))
    return SectionOutput(id="finding", title="What works better? Social cognition vs support, contact and skills",
                         html="\n".join(p for p in parts if p), rows=(), figures=tuple(figs),
                         tables=tuple(tables))
