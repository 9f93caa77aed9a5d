"""Report section: the pooled effect per strategy (subgroup analysis), the summary chart, forests and funnels."""

from __future__ import annotations

import pandas as pd

from ...plots import _style as st
from ...plots import forest_plot, summary_plot, summary_table
from ...results import int_counts
from ..api import (
    FUNNEL_MIN_K,
    ReportContext,
    ReportFigure,
    SectionOutput,
    esc,
    draws_forest,
    figure_ref,
    forest_table,
    html_table,
    participants,
    pct,
    result_row,
    row_columns,
    strategy_rows,
    too_many_rows,
)
from ._funnel import funnel_figure


def section_strategies(ctx: ReportContext) -> SectionOutput | None:
    """Pooled effect per strategy (subgroup analysis), the summary chart, the stratified forest, funnels."""
    from ...subgroups import by_subgroup

    o = ctx.options
    rows, rule = strategy_rows(ctx.effects)
    title = "What works: pooled effect per strategy"
    if rows.empty or rows["strategy"].nunique() < 2:
        return SectionOutput("strategies", title, f"<p>Not enough data for a comparison of strategies: {esc(rule)}</p>")
    ctx.log(f"strategy analysis: k = {len(rows)} effects, {rows['strategy'].nunique()} strategies")
    sub = by_subgroup(rows, "strategy", method=o.method, test=o.test, level=o.level, label="study")
    ctx.results["strategy"], ctx.results["strategy_rows"] = sub, rows

    out_rows = [result_row("strategy", "overall", sub.overall, rows)]
    table = summary_table(sub)
    table["n"] = [participants(rows[rows["strategy"] == lev])[0] for lev in table["strategy"]]
    for lev, fit in sub.groups.items():
        out_rows.append(result_row("strategy", str(lev), fit, rows[rows["strategy"] == lev]))
    for s in sub.skipped:
        if s.kind == "subgroup":
            part = rows[rows["strategy"] == s.key]
            n, n_unknown = participants(part)
            out_rows.append({"analysis": "strategy", "subgroup": str(s.key), "k": len(part), "n": n,
                             "n_unknown": n_unknown, "method": o.method, "test": o.test})
    if not sub.groups:  # every strategy has a single trial: nothing to pool per strategy
        counts = ", ".join(f"{st.pretty(s.key)}: k = {(rows['strategy'] == s.key).sum()}" for s in sub.skipped
                           if s.kind == "subgroup")
        return SectionOutput("strategies", title, f"<p>{esc(rule)}</p><p>No strategy could be pooled: every strategy "
                             f"has fewer than two trials ({esc(counts)}).</p>", tuple(out_rows))
    figures = []
    ax = summary_plot(table, xlabel="Hedges' g (negative = less lonely)", title="What works against loneliness",
                      level=o.level)
    figures.append(ReportFigure("summary", st.figure_of(ax),
                                f"Pooled Hedges' g per strategy, {o.method} with {o.test}: {pct(o.level)} CI (thick) "
                                f"and prediction interval (thin). k = effects, n = participants."))
    blocks = [rows[rows["strategy"] == lev] for lev in sub.groups]
    labels_ok = [str(x) for b in blocks for x in b["study"]] == [lab for f in sub.groups.values() for lab in f.labels]
    tables: list[tuple[str, pd.DataFrame]] = []
    if not draws_forest(sub.overall.k):  # too many rows to draw: the rows go to forest_strategy.csv
        every = [forest_table(rows[rows["strategy"] == lev], sub.groups.get(lev), o.level, strategy=str(lev))
                 for lev in sub.levels]  # strategies too small to pool too, without weights
        tables.append(("forest_strategy", pd.concat(every, ignore_index=True)))
        stratified = too_many_rows("Forest plot stratified by strategy", sub.overall.k, "forest_strategy.csv")
    else:
        cols = pd.concat([row_columns(b) for b in blocks], ignore_index=True)
        ax = forest_plot(sub, columns=cols if labels_ok else None, sort="estimate", xlabel="Hedges' g",
                         max_label_chars=70, title="Randomised trials by strategy")
        figures.append(ReportFigure("forest_strategy", st.figure_of(ax),
                                    "Forest plot stratified by strategy: one diamond per strategy, the overall "
                                    "diamond and the test for subgroup differences under the plot."))
        stratified = figure_ref("forest_strategy")
    per_strategy = []  # one forest per strategy as well, for readers who want a single strategy's trials
    for lev, fit, block in zip(sub.groups, sub.groups.values(), blocks):
        if not draws_forest(fit.k):
            per_strategy.append(too_many_rows(st.pretty(lev), fit.k, "forest_strategy.csv"))
            continue
        ax = forest_plot(fit, columns=row_columns(block) if labels_ok else None, sort="estimate",
                         xlabel="Hedges' g", max_label_chars=70, title=f"Randomised trials: {st.pretty(lev)}")
        name = f"forest_strategy_{lev}"
        figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot, {st.pretty(lev)} ({o.method}, {o.test})."))
        per_strategy.append(figure_ref(name))
    bias_rows = []
    if sub.overall.k >= FUNNEL_MIN_K:
        fig, brow = funnel_figure(ctx, sub.overall, "funnel_strategy", "all strategies", "Hedges' g")
        figures.append(fig)
        bias_rows.append(brow)
    for lev, fit in sub.groups.items():
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = funnel_figure(ctx, fit, f"funnel_strategy_{lev}", st.pretty(lev), "Hedges' g")
            figures.append(fig)
            bias_rows.append(brow)

    frame = sub.to_frame()[["subgroup", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                            "q_pvalue", "note"]]
    ns = [participants(rows[rows["strategy"] == s] if s != "overall" else rows)[0] for s in frame["subgroup"]]
    frame.insert(2, "n", int_counts(ns))
    between = (f"Test for subgroup differences: Q = {sub.q_between:.2f}, df = {sub.q_between_df}, "
               f"{st.pval(sub.q_between_pvalue)}. {sub.definition}" if sub.q_between == sub.q_between
               else f"No test for subgroup differences: {sub.q_between_note}.")
    body = [f"<p>{esc(rule)}</p>", figure_ref("summary"), html_table(frame), f"<p>{esc(between)}</p>",
            stratified,
            "<details><summary>One forest plot per strategy</summary>", *per_strategy, "</details>"]
    if bias_rows:
        body += ["<h3>Small-study effects</h3>", html_table(pd.DataFrame(bias_rows))]
        body += [figure_ref(f.name) for f in figures if f.name.startswith("funnel")]
    else:
        body.append(f"<p>No funnel plot: fewer than {FUNNEL_MIN_K} effects.</p>")
    return SectionOutput("strategies", title, "\n".join(body), tuple(out_rows), tuple(figures), tuple(tables))
