"""The built-in sections of the report: what works by strategy, each review, the data, the methods.

Each is a function ``ReportContext -> SectionOutput | None`` (see :mod:`whatworks._report_api`).
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import TYPE_CHECKING

import pandas as pd

from ._report_api import (
    FUNNEL_MIN_K,
    METRIC_LABELS,
    ReportContext,
    ReportFigure,
    SectionOutput,
    esc,
    figure_ref,
    fit_rows,
    html_table,
    participants,
    pct,
    result_row,
    row_columns,
    strategy_rows,
)
from .plots import _style as st
from .plots import forest_plot, funnel_plot, summary_plot, summary_table
from .results import int_counts

if TYPE_CHECKING:  # pragma: no cover
    from ._report_api import ReportOptions
    from .results import MetaResult

ESTIMATORS = {
    "REML": "restricted maximum-likelihood estimator (Viechtbauer, 2005)",
    "ML": "maximum-likelihood estimator",
    "DL": "DerSimonian-Laird estimator (DerSimonian & Laird, 1986)",
    "PM": "Paule-Mandel estimator (Paule & Mandel, 1982)",
    "EB": "empirical Bayes estimator (Morris, 1983)",
    "HS": "Hunter-Schmidt estimator",
    "SJ": "Sidik-Jonkman estimator (Sidik & Jonkman, 2005)",
    "HE": "Hedges estimator (Hedges & Olkin, 1985)",
    "EE": "common-effect (equal-effects) model, without tau\u00b2",
}


def _funnel(ctx: ReportContext, fit: MetaResult, name: str, what: str,
            xlabel: str) -> tuple[ReportFigure, dict[str, object]]:
    """Funnel with trim-and-fill, and Egger's test; a figure and a row of the bias table."""
    from .bias import egger_test, trim_and_fill

    eg, tf = egger_test(fit), trim_and_fill(fit)
    ax = funnel_plot(fit, trimfill=tf, xlabel=xlabel, title=f"Funnel plot: {what}")
    caption = (f"Contour-enhanced funnel plot, {what} (k = {fit.k}). Open circles: {tf.k0} effect(s) imputed by "
               f"trim and fill (L0, {tf.side} side).")
    stat = "t" if fit.test == "knha" else "z"
    row = {"analysis": what, "k": fit.k, "Egger's test": f"{stat} = {st.num(eg.stat)}, {st.pval(eg.pvalue)}",
           "limit estimate": st.interval(eg.limit_estimate, eg.ci_low, eg.ci_high),
           "trim and fill k0": f"{tf.k0} ({tf.side})",
           "adjusted estimate": st.interval(tf.fit.estimate, tf.fit.ci_low, tf.fit.ci_high)}
    return ReportFigure(name, st.figure_of(ax), caption), row


def section_strategies(ctx: ReportContext) -> SectionOutput | None:
    """Pooled effect per strategy (subgroup analysis), the summary chart, the stratified forest, funnels."""
    from .subgroups import by_subgroup

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
    figures = []
    ax = summary_plot(table, xlabel="Hedges' g (negative = less lonely)", title="What works against loneliness",
                      level=o.level)
    figures.append(ReportFigure("summary", st.figure_of(ax),
                                f"Pooled Hedges' g per strategy, {o.method} with {o.test}: {pct(o.level)} CI (thick) "
                                f"and prediction interval (thin). k = effects, n = participants."))
    blocks = [rows[rows["strategy"] == lev] for lev in sub.groups]
    cols = pd.concat([row_columns(b) for b in blocks], ignore_index=True)
    labels_ok = [str(x) for b in blocks for x in b["study"]] == [lab for f in sub.groups.values() for lab in f.labels]
    ax = forest_plot(sub, columns=cols if labels_ok else None, sort="estimate", xlabel="Hedges' g", max_label_chars=70,
                     title="Randomised trials by strategy")
    figures.append(ReportFigure("forest_strategy", st.figure_of(ax),
                                "Forest plot stratified by strategy: one diamond per strategy, the overall diamond "
                                "and the test for subgroup differences under the plot."))
    per_strategy = []  # one forest per strategy as well, for readers who want a single strategy's trials
    for lev, fit, block in zip(sub.groups, sub.groups.values(), blocks):
        ax = forest_plot(fit, columns=row_columns(block) if labels_ok else None, sort="estimate",
                         xlabel="Hedges' g", max_label_chars=70, title=f"Randomised trials: {st.pretty(lev)}")
        name = f"forest_strategy_{lev}"
        figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot, {st.pretty(lev)} ({o.method}, {o.test})."))
        per_strategy.append(figure_ref(name))
    bias_rows = []
    if sub.overall.k >= FUNNEL_MIN_K:
        fig, brow = _funnel(ctx, sub.overall, "funnel_strategy", "all strategies", "Hedges' g")
        figures.append(fig)
        bias_rows.append(brow)
    for lev, fit in sub.groups.items():
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = _funnel(ctx, fit, f"funnel_strategy_{lev}", st.pretty(lev), "Hedges' g")
            figures.append(fig)
            bias_rows.append(brow)

    frame = sub.to_frame()[["subgroup", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2",
                            "q_pvalue", "note"]]
    ns = [participants(rows[rows["strategy"] == s] if s != "overall" else rows)[0] for s in frame["subgroup"]]
    frame.insert(2, "n", int_counts(ns))
    between = (f"Test for subgroup differences: Q = {sub.q_between:.2f}, df = {sub.q_between_df}, "
               f"{st.pval(sub.q_between_pvalue)}. {sub.definition}")
    body = [f"<p>{esc(rule)}</p>", figure_ref("summary"), html_table(frame), f"<p>{esc(between)}</p>",
            figure_ref("forest_strategy"),
            "<details><summary>One forest plot per strategy</summary>", *per_strategy, "</details>"]
    if bias_rows:
        body += ["<h3>Small-study effects</h3>", html_table(pd.DataFrame(bias_rows))]
        body += [figure_ref(f.name) for f in figures if f.name.startswith("funnel")]
    else:
        body.append(f"<p>No funnel plot: fewer than {FUNNEL_MIN_K} effects.</p>")
    return SectionOutput("strategies", title, "\n".join(body), tuple(out_rows), tuple(figures))


def section_reviews(ctx: ReportContext) -> SectionOutput | None:
    """One random-effects fit and forest plot per review with poolable rows, next to its published results."""
    o = ctx.options
    body, out_rows, figures = [], [], []
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
        ax = forest_plot(fit, columns=row_columns(rows), sort="estimate", xlabel=METRIC_LABELS.get(metric, metric),
                         max_label_chars=70,
                         title=f"{review} ({metric}; {o.method}, {o.test})")
        figures.append(ReportFigure(name, st.figure_of(ax), f"Forest plot of the poolable rows coded from {review}."))
        body += [f"<h3>{esc(review)}</h3>", f"<pre>{esc(fit.summary())}</pre>", figure_ref(name)]
        if fit.k >= FUNNEL_MIN_K:
            fig, brow = _funnel(ctx, fit, f"funnel_review_{review}", review, METRIC_LABELS.get(metric, metric))
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
    return SectionOutput("reviews", "Each review", "\n".join(body), tuple(out_rows), tuple(figures))


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


def section_overlap(ctx: ReportContext) -> SectionOutput | None:
    """Which trials appear in which review folders (by ``study_id``), and the corrected covered area."""
    from .overlap import review_overlap

    effects = ctx.effects.dropna(subset=["study_id"])
    if effects["review"].nunique() < 2:
        return None
    ov = review_overlap(effects)
    shared = ov.study_frame()
    shared = shared[shared["n_reviews"] > 1].sort_values(["n_reviews", "study"], ascending=[False, True])
    pairs = ov.pairwise[ov.pairwise["n_shared"] > 0]
    body = [f"<p>{esc(ov.summary().splitlines()[0])}. CCA = (N - r) / (r c - r), in percent (Pieper et al., "
            f"2014): N inclusions of r distinct trials in c review folders; 0-5 % slight, 6-10 % moderate, "
            f"11-15 % high, over 15 % very high overlap. The living review re-codes trials of the other "
            f"folders on purpose, so its pairs overlap by design; a trial is never pooled twice (see the "
            f"selection rule above).</p>",
            "<h3>Trials coded in more than one folder</h3>", html_table(shared),
            "<h3>Pairs of folders that share trials</h3>", html_table(pairs)]
    tables = (("overlap_trials", ov.study_frame()), ("overlap_pairs", ov.pairwise))
    return SectionOutput("overlap", "Overlap between reviews", "\n".join(body), tables=tables)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - the report runs from an installed whatworks
        return "not installed"


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages the numbers and figures depend on."""
    names = ("whatworks", "numpy", "scipy", "pandas", "matplotlib")
    return {"Python": platform.python_version(), **{n: _version(n) for n in names}}


def methods_text(options: ReportOptions) -> str:
    """The methods paragraph, in the spirit of metafor's ``reporter()``."""
    o = options
    if o.method == "EE":
        model = "A common-effect (equal-effects) model was fitted to the data."
    else:
        model = (f"A random-effects model was fitted to the data; the amount of heterogeneity (tau\u00b2) was "
                 f"estimated with the {ESTIMATORS.get(o.method, o.method)}, with a Q-profile confidence interval "
                 f"(Viechtbauer, 2007).")
    ci = ("Tests and confidence intervals of the pooled effect use the Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) "
          "adjustment with a t distribution on k - 1 degrees of freedom (Knapp & Hartung, 2003)"
          if o.test == "knha" else "Tests and confidence intervals of the pooled effect are Wald-type (normal "
                                   "distribution)")
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
    return (f"Effects are standardised mean differences (Hedges' g) unless a review's metric says otherwise; every "
            f"effect is signed so that negative values mean less loneliness in the intervention arm. {model} "
            f"{ci}. The Q-test for heterogeneity (Cochran, 1954) and I\u00b2 (Higgins & Thompson, 2002) are "
            f"reported, and a {pct(o.level)} prediction interval for the true effect in a new setting (Riley et al., "
            f"2011). Subgroup differences are tested with Q-between from separate models per subgroup. With at "
            f"least {FUNNEL_MIN_K} effects, funnel-plot asymmetry is tested with Egger's regression test (Egger et "
            f"al., 1997) and trim and fill (Duval & Tweedie, 2000) is shown. n sums the analysed participants of "
            f"the pooled comparisons; a control arm shared by two comparisons is counted twice, and n_unknown in "
            f"results.csv counts the effects without a reported n. Analyses were carried out with {versions}; "
            f"the estimators are tested against R's metafor.")


def section_methods(ctx: ReportContext) -> SectionOutput | None:
    """Methods paragraph and software versions."""
    from .data import settings_of

    o = ctx.options
    opts = f"method = {o.method!r}, test = {o.test!r}, level = {o.level:g}"
    effects = f"<p>Effect sizes: {esc(settings_of(ctx.effects).describe())}</p>"
    return SectionOutput("methods", "Methods", f"<p>{esc(methods_text(o))}</p>{effects}<p>Options: {esc(opts)}.</p>")

