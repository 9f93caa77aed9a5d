"""Funnel plot with trim and fill and Egger's test: one figure and one row of a small-study table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...plots import _style as st
from ...plots import funnel_plot
from ..api import ReportContext, ReportFigure

if TYPE_CHECKING:  # pragma: no cover
    from ...results import MetaResult


def funnel_figure(ctx: ReportContext, fit: MetaResult, name: str, what: str,
            xlabel: str, colour: str | None = None) -> tuple[ReportFigure, dict[str, object]]:
    """Funnel with trim-and-fill, and Egger's test; a figure and a row of the bias table."""
    from ...bias import egger_test, trim_and_fill

    eg, tf = egger_test(fit), trim_and_fill(fit)
    ax = funnel_plot(fit, trimfill=tf, xlabel=xlabel, title=f"Funnel plot: {what}", colour=colour or st.STUDY_COLOUR)
    caption = (f"Contour-enhanced funnel plot, {what} (k = {fit.k}). Open circles: {tf.k0} effect(s) imputed by "
               f"trim and fill (L0, {tf.side} side).")
    stat = "t" if fit.test == "knha" else "z"
    row = {"analysis": what, "k": fit.k, "Egger's test": f"{stat} = {st.num(eg.stat)}, {st.pval(eg.pvalue)}",
           "limit estimate": st.interval(eg.limit_estimate, eg.ci_low, eg.ci_high),
           "trim and fill k0": f"{tf.k0} ({tf.side})",
           "adjusted estimate": st.interval(tf.fit.estimate, tf.fit.ci_low, tf.fit.ci_high)}
    return ReportFigure(name, st.figure_of(ax), caption), row
