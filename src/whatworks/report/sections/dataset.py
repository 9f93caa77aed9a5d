"""Report section: the collection, one line per review, and why rows are not pooled."""

from __future__ import annotations

from ..api import ReportContext, SectionOutput, esc, html_table


def section_data(ctx: ReportContext) -> SectionOutput | None:
    """The collection: one line per review, and why rows are not pooled."""
    cat = ctx.catalogue[["review", "kind", "metric", "n_effects", "n_pooled_effects", "n_published", "title"]]
    reasons = ctx.effects.loc[~ctx.effects["pool"], "pool_reason"].fillna("").astype(str)
    kinds = reasons.str.split(":").str[0].str.strip().replace("", "unspecified")
    counts = kinds.value_counts().rename_axis("reason (first words)").reset_index(name="rows")
    counts = counts.sort_values(["rows", "reason (first words)"], ascending=[False, True])
    body = [f"<p>Data: {esc(ctx.data_root)}; {len(ctx.effects)} coded effects, "
            f"{int(ctx.effects['pool'].sum())} poolable, {len(ctx.pooled)} published pooled results.</p>",
            html_table(cat), "<h3>Rows not pooled</h3>", html_table(counts)]
    return SectionOutput("data", "The data", "\n".join(body))
