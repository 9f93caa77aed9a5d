"""Report section: the published claim, reconciled: each review's own contrast from its printed numbers,
drawn beside this synthesis's, and our per-strategy estimates next to the published ones.

Writes ``published_contrasts.csv`` (:func:`whatworks.finding.published_contrasts`) and
``finding_comparison.csv`` (:func:`whatworks.finding.compare_published`).
"""

from __future__ import annotations

import pandas as pd

from ...finding.published import PublishedContrasts, published_contrasts
from ...plots._style import figure_of
from ..api import ReportContext, ReportFigure, SectionOutput, esc, figure_ref, finding_of, html_table, refs_of
from ..format import Markup, interval, label, num, p_text

TITLE = "The published claim, reconciled"


def published_of(ctx: ReportContext) -> PublishedContrasts:
    """The published contrasts of the collection, computed once (``ctx.results["published_contrasts"]``)."""
    res = ctx.results.get("published_contrasts")
    if res is None:
        res = published_contrasts(ctx.pooled, catalogue=ctx.catalogue)
        ctx.results["published_contrasts"] = res
    return res


def _review_sentence(r: pd.Series, cite: str) -> str:
    a = interval(r["reference_estimate"], r["reference_ci_low"], r["reference_ci_high"])
    b = interval(r["comparison_estimate"], r["comparison_ci_low"], r["comparison_ci_high"])
    what = f"social cognition {a} vs {label(r['comparison']).lower()} {b}"
    kind = " (an umbrella review: its estimates re-pool earlier meta-analyses)" if r["umbrella"] else ""
    hand = " (second-hand numbers, unverified)" if r["hand"] == "second" else ""
    if bool(r["tested"]):
        sig = ("the review's own numbers show a difference" if r["pvalue"] < 0.05 else
               "not statistically significant: the review's own numbers do not show that social cognition does "
               "better")
        return (f"{cite}{kind}{hand}: {esc(what)}; difference {esc(interval(r['difference'], r['ci_low'], r['ci_high']))}, "
                f"{esc(p_text(r['pvalue']))}: {sig}.")
    if pd.notna(r["difference"]):
        return (f"{cite}{kind}{hand}: {esc(what)}; a gap of {esc(num(abs(r['difference'])))} in the point "
                "estimates, but without confidence intervals it cannot be tested.")
    return f"{cite}{kind}{hand}: vs {esc(label(r['comparison']).lower())}: {esc(r['note'])}."


def section_published(ctx: ReportContext) -> SectionOutput | None:
    """The reviews' own contrasts (table, sentences, forest of differences) and ours vs published per strategy."""
    res = finding_of(ctx)
    pub = published_of(ctx)
    if res is None and pub.table.empty:
        return None
    refs = refs_of(ctx)
    names = {r: refs.short(r) for r in refs.reviews}
    table = pub.to_frame()
    parts = []
    figures = []
    if table.empty:
        parts.append("<p>No coded review printed estimates for social cognition and for another strategy.</p>")
    else:
        reviews = list(dict.fromkeys(table["review"]))
        n = len(reviews)
        count_words = {1: "One coded review", 2: "Two coded reviews", 3: "Three coded reviews",
                       4: "Four coded reviews"}.get(n, f"{n} coded reviews")
        parts.append(f"<p>{count_words} printed estimates for social cognition and for another "
                     f"strategy. Where both came with a confidence interval, the difference is computed here from "
                     f"the printed numbers: the standard error of each estimate from its CI (half-width / 1.96), "
                     f"combined as independent because the subgroups of one review hold different trials "
                     f"({refs.method('altman2003')}).</p>")
        items = [f"<li>{_review_sentence(r, refs.cite(str(r['review'])))}</li>" for _, r in table.iterrows()
                 if pd.notna(r["difference"])]
        skipped = table[table["difference"].isna()]
        if len(skipped):
            why = "; ".join(f"{refs.cite(str(r['review']))} vs {esc(label(r['comparison']).lower())} "
                            f"({esc(r['note'].split('; ')[-1])})" for _, r in skipped.iterrows())
            items.append(f"<li>No difference can be computed for {why}.</li>")
        parts.append(f"<ul>{''.join(items)}</ul>")
        shown = pd.DataFrame({
            "review": table["review"], "comparison": table["comparison"],
            "sc": [interval(*x) for x in zip(table["reference_estimate"], table["reference_ci_low"],
                                             table["reference_ci_high"], strict=True)],
            "other": [interval(*x) for x in zip(table["comparison_estimate"], table["comparison_ci_low"],
                                                table["comparison_ci_high"], strict=True)],
            "difference": table["difference"], "ci_low": table["ci_low"], "ci_high": table["ci_high"],
            "pvalue": table["pvalue"], "note": table["note"]})
        parts.append(html_table(shown, caption="The published reviews' own contrasts, computed from their printed "
                                "subgroup estimates (negative = social cognition better).", refs=refs,
                                headers={"sc": "Social cognition, as printed", "other": "Comparison, as printed"}))
        if res is not None and table["difference"].notna().any():
            from ...finding.plots import published_contrast_plot

            ax = published_contrast_plot(pub, res.contrast, names=names,
                                         title="Social cognition minus each comparison: this synthesis and the "
                                               "reviews' own numbers")
            figures.append(ReportFigure("published_contrasts", figure_of(ax),
                                        "Forest of differences: social cognition minus each comparison, this "
                                        "synthesis (diamonds) beside each review's own subgroups (dots: SE from its "
                                        "printed CIs; open: no CI printed, not tested). Left of zero favours social "
                                        "cognition."))
            parts.append(figure_ref("published_contrasts"))
    tables = [("published_contrasts", table)]
    if res is not None and res.comparison is not None:
        from ...finding.plots import comparison_plot

        cmp = res.comparison.to_frame()
        parts += ["<h3>Each strategy: our pooled g next to the published ones</h3>",
                  html_table(cmp[["strategy", "source", "analysis", "k", "estimate", "ci_low", "ci_high", "metric",
                                  "agreement", "explanation"]].assign(
                      strategy=[Markup(esc(label(s))) for s in cmp["strategy"]],
                      source=[x[:1].upper() + x[1:] if x == "this synthesis" else x for x in cmp["source"]]),
                      caption="This synthesis's pooled g per strategy next to every published subgroup estimate "
                              "(sign normalised: negative = less lonely).", refs=refs)]
        ax = comparison_plot(res.comparison, names=names, title="Each strategy: ours and the published estimates")
        figures.append(ReportFigure("finding_vs_published", figure_of(ax),
                                    "Our pooled g per strategy (diamond, strategy colour) next to the published "
                                    "subgroup estimates (grey dots; open = no CI printed). Standardised metrics only; "
                                    "negative = less lonely."))
        parts.append(figure_ref("finding_vs_published"))
        tables.append(("finding_comparison", cmp))
    return SectionOutput("published", TITLE, "\n".join(parts), figures=tuple(figures), tables=tuple(tables))
