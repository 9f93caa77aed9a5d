"""Report section: the pooled effect per strategy: the summary chart, one table (social cognition first,
single trials shown, not dropped), the numbers in words, the stratified forest and the funnels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...data.schema import STRATEGY_LABELS
from ...plots import _style as st
from ...plots import forest_plot, summary_plot
from ..api import (
    FUNNEL_MIN_K,
    ReportContext,
    ReportFigure,
    SectionOutput,
    draws_forest,
    esc,
    figure_ref,
    forest_table,
    html_table,
    pct,
    refs_of,
    result_row,
    row_columns,
    strategy_rows,
    too_many_rows,
)
from ..format import Markup, p_text, words
from ..interpret import diagnose
from ._funnel import funnel_figure

if TYPE_CHECKING:  # pragma: no cover
    from ...results import MetaResult

TITLE = "What works: the pooled effect of each strategy"


def _swatch(strategy: str) -> str:
    colour = st.STRATEGY_COLOURS.get(strategy)
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>' if colour else ""


def strategy_table(pooling: object) -> pd.DataFrame:
    """The summary chart's rows from a StrategyPooling, in the strategy order: every strategy, Masi's four
    even without trials (k = 0), a single trial labelled as not pooled."""
    from ...finding.select import MASI_STRATEGIES
    from ...finding.strategies import order_strategies

    t = pooling.to_frame()  # type: ignore[attr-defined]
    absent = [s for s in MASI_STRATEGIES if s not in set(t["strategy"])]
    if absent:
        t = pd.concat([t, pd.DataFrame({"strategy": absent, "k": 0, "n": 0, "note": "no trials in this synthesis"})],
                      ignore_index=True)
        t["k"] = t["k"].astype("Int64")
        t["n"] = t["n"].astype("Int64")
        order = {s: i for i, s in enumerate(order_strategies(t["strategy"]))}
        t = t.iloc[sorted(range(len(t)), key=lambda i: order[t["strategy"].iloc[i]])].reset_index(drop=True)
    label = [st.pretty(s) + (" (one trial, not pooled)" if k == 1 else " (no trials)" if k == 0 else "")
             for s, k in zip(t["strategy"], t["k"], strict=True)]
    return t.assign(label=label)


def section_strategies(ctx: ReportContext) -> SectionOutput | None:
    """Pooled effect per strategy: summary chart, one table, the numbers in words, forests and funnels."""
    from ...finding.strategies import pool_strategies

    o = ctx.options
    refs = refs_of(ctx)
    rows, rule = strategy_rows(ctx.effects)
    if rows.empty or rows["strategy"].nunique() < 2:
        return SectionOutput("strategies", TITLE, f"<p>Not enough data for a comparison of strategies: {esc(rule)}</p>")
    ctx.log(f"pooling each strategy: {len(rows)} trials in {rows['strategy'].nunique()} strategies")
    pooling = pool_strategies(rows, method=o.method, test=o.test, level=o.level, label="study")
    sub = pooling.subgroups
    ctx.results["strategy_pooling"], ctx.results["strategy_rows"] = pooling, rows
    if sub is not None:
        ctx.results["strategy"] = sub

    out_rows = []
    for s, fit in pooling.fits.items():
        part = rows[rows["strategy"] == s]
        if fit.k >= 2:
            out_rows.append(result_row("strategy", str(s), fit, part))
        else:  # a single trial: counted, not pooled (no random-effects estimate in results.csv)
            from ..api import participants

            n, n_unknown = participants(part)
            out_rows.append({"analysis": "strategy", "subgroup": str(s), "k": len(part), "n": n,
                             "n_unknown": n_unknown, "method": o.method, "test": o.test})
    if sub is not None:
        out_rows.append(result_row("strategy", "overall", sub.overall, rows))

    table = strategy_table(pooling)
    figures = []
    ax = summary_plot(table, order=None, xlabel="Hedges' g (negative = less lonely)",
                      title="What works against loneliness: pooled effect per strategy", level=o.level)
    figures.append(ReportFigure("summary", st.figure_of(ax),
                                f"Pooled Hedges' g per strategy, randomised trials ({o.method}, "
                                f"{'Knapp-Hartung' if o.test == 'knha' else 'Wald z'}): diamond and thick line = "
                                f"estimate and {pct(o.level)} CI, thin line = {pct(o.level)} prediction interval, "
                                "square = a single trial, not pooled; k = trials, n = participants. Negative = less "
                                "lonely."))

    shown = table.copy()
    shown["strategy"] = [Markup(_swatch(s) + esc(st.pretty(s))) for s in shown["strategy"]]
    shown.loc[shown["k"] <= 1, ["pi_low", "pi_high", "tau2", "i2", "q_pvalue"]] = float("nan")
    shown["note"] = ["one trial, not pooled: its own estimate (z interval)" if k == 1 else
                     "no trial with a usable effect in this synthesis" if k == 0 else n
                     for k, n in zip(table["k"], table["note"], strict=True)]
    cols = ["strategy", "k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q_pvalue",
            "note"]
    if sub is not None:
        overall = sub.overall
        from ..api import participants

        shown = pd.concat([shown[cols], pd.DataFrame([{
            "strategy": Markup("<b>All strategies</b>"), "k": overall.k, "n": participants(rows)[0],
            "estimate": overall.estimate, "ci_low": overall.ci_low, "ci_high": overall.ci_high,
            "pi_low": overall.pi_low, "pi_high": overall.pi_high, "tau2": overall.tau2, "i2": overall.i2,
            "q_pvalue": overall.q_pvalue, "note": "every trial above, one model"}])], ignore_index=True)
    body = [f"<p>{esc(words(rule))}</p>", figure_ref("summary"),
            html_table(shown[cols], caption=f"Pooled Hedges' g per strategy ({o.method}, "
                       f"{'Knapp-Hartung' if o.test == 'knha' else 'Wald z'}); negative = less lonely.", refs=refs,
                       level=o.level)]
    if sub is not None and sub.q_between == sub.q_between:
        body.append(f"<p>Test for subgroup differences (do the strategies differ at all?): Q = {sub.q_between:.2f}, "
                    f"df = {sub.q_between_df}, {p_text(sub.q_between_pvalue)}. {esc(words(sub.definition))}.</p>")
    elif sub is not None and sub.q_between_note:
        body.append(f"<p>No test for subgroup differences: {esc(sub.q_between_note)}.</p>")

    body.append("<h3>The numbers in words</h3>")
    items = []
    delta = 0.2
    res = ctx.results.get("finding")
    if res is not None:
        delta = res.contrast.delta
    for s, fit in pooling.fits.items():
        d = diagnose(fit, delta)
        items.append(f"<li>{_swatch(s)}<b>{esc(STRATEGY_LABELS.get(s, st.pretty(s)))}</b> ({fit.k} "
                     f"{'trial' if fit.k == 1 else 'trials'}): {esc(' '.join(d.sentences))}</li>")
    refs.method("viechtbauer2010b")
    refs.method("sterne2011")
    refs.method("duval2000")
    body.append(f'<ul class="interpretation">{"".join(items)}</ul>')

    tables: list[tuple[str, pd.DataFrame]] = []
    if sub is not None and not sub.groups:  # every strategy has a single trial: no forest to draw
        body += ["<h3>Every trial</h3>", "<p>No forest plot: no strategy has two or more trials to pool (each "
                 "trial's own estimate is in the chart and table above).</p>"]
    elif sub is not None:
        blocks = [rows[rows["strategy"] == lev] for lev in sub.groups]
        labels_ok = ([str(x) for b in blocks for x in b["study"]]
                     == [lab for f in sub.groups.values() for lab in f.labels])
        if not draws_forest(sub.overall.k):  # too many rows to draw: every row goes to forest_strategy.csv
            every = [forest_table(rows[rows["strategy"] == lev], sub.groups.get(lev), o.level, strategy=str(lev))
                     for lev in sub.levels]  # strategies too small to pool too, without weights
            tables.append(("forest_strategy", pd.concat(every, ignore_index=True)))
            stratified = too_many_rows("Forest plot stratified by strategy", sub.overall.k, "forest_strategy.csv")
        else:
            colframe = pd.concat([row_columns(b) for b in blocks], ignore_index=True)
            ax = forest_plot(sub, columns=colframe if labels_ok else None, sort="estimate", xlabel="Hedges' g",
                             max_label_chars=70, title="Randomised trials by strategy")
            figures.append(ReportFigure("forest_strategy", st.figure_of(ax),
                                        "Forest plot stratified by strategy: every trial with its g and 95% CI, one "
                                        "diamond per strategy, the overall diamond and the test for subgroup "
                                        "differences under the plot. Strategies with one trial are not pooled."))
            stratified = figure_ref("forest_strategy")
        per_strategy = []
        for lev, fit, block in zip(sub.groups, sub.groups.values(), blocks, strict=True):
            if not draws_forest(fit.k):
                per_strategy.append(too_many_rows(st.pretty(lev), fit.k, "forest_strategy.csv"))
                continue
            ax = forest_plot(fit, columns=row_columns(block) if labels_ok else None, sort="estimate",
                             xlabel="Hedges' g", max_label_chars=70, title=f"Randomised trials: {st.pretty(lev)}",
                             colour=st.strategy_colour(str(lev)))
            name = f"forest_strategy_{lev}"
            figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot, {st.pretty(lev)} ({o.method}, "
                                        f"{'Knapp-Hartung' if o.test == 'knha' else 'Wald z'}): each trial's g "
                                        "with its 95% CI and weight, the pooled diamond."))
            per_strategy.append(figure_ref(name))
        body += ["<h3>Every trial</h3>", stratified,
                 "<details><summary>One forest plot per strategy</summary>", *per_strategy, "</details>"]

    bias_rows, funnels = [], []
    fits: list[tuple[str, str, MetaResult, str | None]] = (
        [("all strategies", "funnel_strategy", sub.overall, None)] if sub is not None else [])
    fits += [(st.pretty(lev), f"funnel_strategy_{lev}", fit, st.strategy_colour(str(lev)))
             for lev, fit in pooling.fits.items()]
    for what, name, fit, colour in fits:
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = funnel_figure(ctx, fit, name, what, "Hedges' g", colour)
            figures.append(fig)
            funnels.append(figure_ref(fig.name))
            bias_rows.append(brow)
    body.append("<h3>Small-study effects</h3>")
    if bias_rows:
        body += [html_table(pd.DataFrame(bias_rows), caption=f"Funnel-plot asymmetry, analyses with at least "
                            f"{FUNNEL_MIN_K} trials."), *funnels]
    smaller = [st.pretty(s) for s, f in pooling.fits.items() if f.k < FUNNEL_MIN_K]
    if smaller:
        body.append(f"<p>No funnel plot for {esc(', '.join(smaller))}: fewer than {FUNNEL_MIN_K} trials, too few "
                    "to judge asymmetry (their Egger tests and trim and fill are in the words above and the "
                    "sensitivity table, not interpreted).</p>")
    return SectionOutput("strategies", TITLE, "\n".join(body), tuple(out_rows), tuple(figures), tuple(tables))
