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
    fit_rows,
    forest_table,
    html_table,
    result_row,
    row_columns,
    too_many_rows,
)
from ._funnel import funnel_figure


def section_reviews(ctx: ReportContext) -> SectionOutput | None:
    """One random-effects fit and forest plot per review with poolable rows, next to its published results."""
    o = ctx.options
    body, out_rows, figures, tables = [], [], [], []
    for review in sorted(ctx.effects["review"].unique()):
        rows = ctx.effects[(ctx.effects["review"] == review) & ctx.effects["pool"]].reset_index(drop=True)
        if rows.empty:
            body.append(f"<h3>{esc(review)}</h3><p>No poolable rows (see the data section for the reasons).</p>")
            continue
        metric = str(rows["metric"].iloc[0])
        ctx.log(f"review {review}: k = {len(rows)} ({metric})")
        fit = fit_rows(rows, o)
        out_rows.append(result_row(f"review:{review}", "overall", fit, rows))
        name = f"forest_review_{review}"
        body += [f"<h3>{esc(review)}</h3>", f"<pre>{esc(fit.summary())}</pre>"]
        if not draws_forest(fit.k):  # too many rows to draw: the rows go to a CSV table
            tables.append((name, forest_table(rows, fit, o.level, review=str(review))))
            body.append(too_many_rows(f"Forest plot of {review}", fit.k, f"{name}.csv"))
        else:
            ax = forest_plot(fit, columns=row_columns(rows), sort="estimate", xlabel=METRIC_LABELS.get(metric, metric),
                             max_label_chars=70, title=f"{review} ({metric}; {o.method}, {o.test})")
            figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot of the poolable rows coded from {review}."))
            body.append(figure_ref(name))
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = funnel_figure(ctx, fit, f"funnel_review_{review}", review, METRIC_LABELS.get(metric, metric))
            figures.append(fig)
            body += [html_table(pd.DataFrame([brow])), figure_ref(fig.name)]
        published = ctx.pooled[ctx.pooled["review"] == review]
        if not published.empty:
            cols = ["analysis", "design", "k", "metric", "estimate_norm", "ci_low_norm", "ci_high_norm", "i2",
                    "reliability"]
            body += ["<p>As published (sign normalised: negative = less lonely):</p>",
                     html_table(published[[c for c in cols if c in published.columns]])]
    if not out_rows:
        return SectionOutput("reviews", "Each review", "<p>No review has poolable rows.</p>")
    return SectionOutput("reviews", "Each review", "\n".join(body), tuple(out_rows), tuple(figures), tuple(tables))
