"""Report section: one random-effects fit and forest plot per review, next to its published results."""

from __future__ import annotations

import pandas as pd

from ...plots import _style as st
from ...plots import forest_plot
from ..api import (
    FUNNEL_MIN_K,
    METRIC_LABELS,
    ReportContext,
    ReportFigure,
    SectionOutput,
    esc,
    draws_forest,
    figure_ref,
    forest_table,
    fit_rows,
    html_table,
    participants,
    refs_of,
    result_row,
    row_columns,
    too_many_rows,
)
from ._funnel import funnel_figure


def section_reviews(ctx: ReportContext) -> SectionOutput | None:
    """One random-effects fit and forest plot per review with poolable rows, next to its published results."""
    o = ctx.options
    refs = refs_of(ctx)
    how = "Knapp-Hartung" if o.test == "knha" else "Wald z"
    body, out_rows, figures, tables = [], [], [], []
    for review in sorted(ctx.effects["review"].unique()):
        rows = ctx.effects[(ctx.effects["review"] == review) & ctx.effects["pool"]].reset_index(drop=True)
        head = f"<h3>{esc(refs.short(review))}</h3><p class=\"meta\">{refs.cite(review)}; folder {esc(review)}</p>"
        if rows.empty:
            body.append(f"{head}<p>No poolable rows (see the data section for the reasons).</p>")
            continue
        metric = str(rows["metric"].iloc[0])
        ctx.log(f"each review: {refs.short(review)}, {len(rows)} effects ({METRIC_LABELS.get(metric, metric)})")
        fit = fit_rows(rows, o)
        out_rows.append(result_row(f"review:{review}", "overall", fit, rows))
        name = f"forest_review_{review}"
        if draws_forest(fit.k):
            ax = forest_plot(fit, columns=row_columns(rows), sort="estimate", xlabel=METRIC_LABELS.get(metric, metric),
                             max_label_chars=70,
                             title=f"{refs.short(review)} ({METRIC_LABELS.get(metric, metric)}; {o.method}, {how})")
            figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot of the poolable rows coded from "
                                        f"{refs.short(review)}: each effect with its 95% CI and weight, the pooled "
                                        f"diamond ({o.method}, {how}); negative = less lonely."))
            forest = figure_ref(name)
        else:  # too many rows to draw: every row goes to a CSV table
            tables.append((name, forest_table(rows, fit, o.level, review=str(review))))
            forest = too_many_rows(f"Forest plot of {refs.short(review)}", fit.k, f"{name}.csv")
        one = fit.to_frame()[["k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q",
                               "q_pvalue"]]
        one.insert(1, "n", participants(rows)[0])
        body += [head, html_table(one, caption=f"Random-effects fit of {refs.short(review)}'s poolable rows "
                                  f"({METRIC_LABELS.get(metric, metric)}).", level=o.level), forest]
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = funnel_figure(ctx, fit, f"funnel_review_{review}", review, METRIC_LABELS.get(metric, metric))
            figures.append(fig)
            body += [html_table(pd.DataFrame([brow]), caption=f"Funnel-plot asymmetry, {refs.short(review)}."),
                     figure_ref(fig.name)]
        published = ctx.pooled[ctx.pooled["review"] == review]
        if not published.empty:
            cols = ["analysis", "design", "k", "metric", "estimate_norm", "ci_low_norm", "ci_high_norm", "i2",
                    "reliability"]
            shown = published[[c for c in cols if c in published.columns]].rename(
                columns={"estimate_norm": "estimate", "ci_low_norm": "ci_low", "ci_high_norm": "ci_high"})
            body += [html_table(shown, caption=f"As {refs.short(review)} published them (sign normalised: "
                                "negative = less lonely).")]
    if not out_rows:
        return SectionOutput("reviews", "Each review", "<p>No review has poolable rows.</p>")
    return SectionOutput("reviews", "Each review", "\n".join(body), tuple(out_rows), tuple(figures), tuple(tables))
