"""Report section: the strategy contrast in detail: the model, the differences, dependence and sensitivity.

A section function (see :mod:`whatworks.report.api`): it computes and draws, and returns HTML, figures and
CSV tables; the report writes them. The claims and the comparison with the published reviews have their
own sections; per-strategy pooling is in the strategies section (one table, not two).
"""

from __future__ import annotations

import pandas as pd

from ...plots._style import figure_of
from ..api import ReportContext, ReportFigure, SectionOutput, esc, figure_ref, finding_of, html_table, refs_of
from ..format import Markup, interval, label, num, words

#: CSV files the section contributes (name without ".csv" -> what).
TABLES = {
    "finding_strategies": "pooled g per strategy",
    "finding_contrasts": "social_cognition vs each strategy and all combined, model-based and CR2",
    "finding_sensitivity": "sensitivity analyses",
    "finding_selection": "every coded row, in or out of the primary analysis, and why",
}

TITLE = "Does social cognition beat support, contact and skills? The contrast in detail"


def _inference(x: object) -> str:
    return {"knha": "Knapp-Hartung (model-based)", "z": "Wald z (model-based)",
            "CR2": "cluster-robust CR2, trials as clusters"}.get(str(x), words(x))


def contrast_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The contrast table for people: comparison in words, trials per arm, difference [CI], p, verdict."""
    return pd.DataFrame({
        "comparison": [label(c) for c in table["comparison"]],
        "inference": [_inference(i) for i in table["inference"]],
        "k_reference": table["k_reference"], "k_comparison": table["k_comparison"],
        "difference": table["difference"], "ci_low": table["ci_low"], "ci_high": table["ci_high"],
        "pvalue": table["pvalue"], "verdict": [str(v).capitalize() for v in table["verdict"]]})


def sensitivity_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sensitivity table split for people: contrast rows (difference, verdict) and small-study rows."""
    small = table["analysis"] == "small-study effects"
    rows = []
    for r in table[~small].itertuples():
        if r.analysis == "leave-one-out":
            diff = f"range {num(r.ci_low)} to {num(r.ci_high)} (not a CI)"
        else:
            diff = interval(r.estimate, r.ci_low, r.ci_high)
        note = str(r.note).replace("ci_low/ci_high hold the smallest and largest difference, not a CI; ", "")
        rows.append(dict(analysis=Markup(f"<b>{esc(r.analysis.capitalize())}</b>"), setting=words(r.setting),
                         k=r.k, difference=Markup(esc(diff)), pvalue=r.pvalue,
                         verdict=str(r.verdict).capitalize() if r.verdict else "", note=note))
    bias = []
    for r in table[small].itertuples():
        est = interval(r.estimate, r.ci_low, r.ci_high) if "trim" in str(r.quantity) else num(r.estimate)
        bias.append(dict(strategy=label(r.setting), quantity=r.quantity, k=r.k, value=Markup(esc(est)),
                         pvalue=r.pvalue, note=r.note))
    return pd.DataFrame(rows), pd.DataFrame(bias)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else text


def _figures(res: object) -> list[ReportFigure]:
    from ...finding.plots import contrast_plot

    ax = contrast_plot(res.contrast, extra=res.dependence.table,  # type: ignore[attr-defined]
                       title="Social cognition against each strategy: difference in g")
    delta = res.contrast.delta  # type: ignore[attr-defined]
    return [ReportFigure("finding_contrasts", figure_of(ax),
                         "Difference in Hedges' g, social cognition minus each comparison, with 95% CIs "
                         "(model-based and cluster-robust CR2); left of zero favours social cognition. The grey "
                         f"band is ±{delta:g}, the smallest difference taken to matter.")]


def section_finding(ctx: ReportContext) -> SectionOutput | None:
    """The contrast: meta-regression per comparison and combined, dependence (CR2), sensitivity analyses.

    Returns ``None`` when the data hold no social cognition rows to test the claim with.
    """
    res = finding_of(ctx)
    if res is None:
        return None
    refs = refs_of(ctx)
    contr = pd.concat([res.contrast.to_frame(), res.dependence.to_frame()], ignore_index=True)
    sens = res.sensitivity.to_frame()
    sens_main, sens_bias = sensitivity_rows(sens)
    r = res.contrast.combined()
    parts = [
        f"<p>Mixed-effects meta-regression of the {len(res.contrast.rows)} trials of the four strategies "
        f"({esc(res.method)}, {'Knapp-Hartung' if res.test == 'knha' else 'Wald z'}; "
        f"{refs.method('knapp2003')}), social cognition as the reference: the difference is g(social cognition) "
        "minus g(comparison), so a negative difference means social cognition reduces loneliness more. One "
        "residual τ² is shared by the strategies in the model.</p>",
        html_table(contrast_rows(contr), caption="Social cognition against each strategy and against the three "
                   "combined (difference in g, negative favours social cognition)."),
        figure_ref("finding_contrasts"),
        "".join(f"<p>{esc(_sentence(words(n)))}</p>" for n in res.dependence.notes),
        "<h3>Sensitivity analyses</h3>",
        f"<p>The combined contrast ({esc(interval(r['difference'], r['ci_low'], r['ci_high']))}) refitted under "
        "other choices. Every row keeps the verdict rule of the bottom line.</p>",
        html_table(sens_main, caption="Sensitivity of the combined contrast to estimator, inference, dependence, "
                   "controls, coding, provenance, single trials, design and age.",
                   headers={"difference": "Difference in g [95% CI]"}, merge=False),
        "<h3>Small-study effects per strategy</h3>",
        html_table(sens_bias, caption="Egger's regression test and trim and fill per strategy (fewer than 10 trials: "
                   "low power, not interpreted).", headers={"value": "Value", "quantity": "Quantity"}, merge=False)
        if len(sens_bias) else "",
    ]
    tables = [("finding_strategies", res.pooling.to_frame()), ("finding_contrasts", contr),
              ("finding_sensitivity", sens), ("finding_selection", res.selection)]
    refs.method("pustejovsky2018")
    return SectionOutput(id="finding", title=TITLE, html="\n".join(p for p in parts if p), rows=(),
                         figures=tuple(_figures(res)), tables=tuple(tables))
