"""Report section: which trials appear in which review folders, and the corrected covered area."""

from __future__ import annotations

from ..api import ReportContext, SectionOutput, bounded_table, esc, html_table, refs_of
from ..format import Markup


def section_overlap(ctx: ReportContext) -> SectionOutput | None:
    """Which trials appear in which review folders (by ``study_id``), and the corrected covered area."""
    from ...overlap import review_overlap

    effects = ctx.effects.dropna(subset=["study_id"])
    if effects["review"].nunique() < 2:
        return None
    ov = review_overlap(effects)
    shared = ov.study_frame()
    shared = shared[shared["n_reviews"] > 1].sort_values(["n_reviews", "study"], ascending=[False, True])
    pairs = ov.pairwise[ov.pairwise["n_shared"] > 0]
    refs = refs_of(ctx)
    shared = shared.assign(reviews=[Markup(", ".join(refs.cite(r.strip()) for r in str(x).split(",")))
                                    for x in shared["reviews"]])
    body = [f"<p>{esc(ov.summary().splitlines()[0])}. CCA = (N − r) / (r c − r), in percent "
            f"({refs.method('pieper2014')}): N inclusions of r distinct trials in c review folders; 0–5% slight, "
            f"6–10% moderate, 11–15% high, over 15% very high overlap. The living review re-codes trials of the other "
            f"folders on purpose, so its pairs overlap by design; a trial is never pooled twice (see the "
            f"selection rule above).</p>",
            "<h3>Trials coded in more than one folder</h3>",
            bounded_table(shared, "overlap_trials.csv", caption="Trials coded in more than one review folder.",
                          refs=refs),
            "<h3>Pairs of folders that share trials</h3>",
            html_table(pairs, caption="Pairs of review folders that share trials (CCA of the pair, %).", refs=refs,
                       headers={"n_union": "Trials in either"})]
    tables = (("overlap_trials", ov.study_frame()), ("overlap_pairs", ov.pairwise))
    return SectionOutput("overlap", "Overlap between reviews", "\n".join(body), tables=tables)
