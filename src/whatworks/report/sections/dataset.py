"""Report section: the collection, one line per review, and why rows are not pooled."""

from __future__ import annotations

from ..api import ReportContext, SectionOutput, esc, html_table, refs_of


def section_data(ctx: ReportContext) -> SectionOutput | None:
    """The collection: one line per review (cited, linked), and why rows are not pooled."""
    refs = refs_of(ctx)
    cat = ctx.catalogue[["review", "kind", "metric", "n_effects", "n_pooled_effects", "n_published", "title"]]
    reasons = ctx.effects.loc[~ctx.effects["pool"], "pool_reason"].fillna("").astype(str)
    kinds = reasons.str.split(":").str[0].str.strip().replace("", "unspecified")
    counts = kinds.value_counts().rename_axis("reason").reset_index(name="rows")
    counts = counts.sort_values(["rows", "reason"], ascending=[False, True])
    run = dict(ctx.run)
    fp = run.get("fingerprint", "")
    body = [f"<p>Data: {esc(ctx.data_root)}; {len(ctx.effects):,} coded effects, "
            f"{int(ctx.effects['pool'].sum()):,} poolable, {len(ctx.pooled):,} published pooled results"
            + (f"; SHA-256 fingerprint of the collection <code>{esc(fp)}</code>" if fp else "") + ".</p>",
            html_table(cat, caption="The review folders of the collection.", refs=refs,
                       headers={"kind": "Kind", "metric": "Metric of the effects"}),
            "<h3>Rows not pooled</h3>",
            html_table(counts, caption="Why coded rows are not pooled (first words of each row's reason).",
                       headers={"reason": "Reason"})]
    return SectionOutput("data", "The data", "\n".join(body))
