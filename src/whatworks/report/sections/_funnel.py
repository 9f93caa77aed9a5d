"""Funnel plot with trim and fill and Egger's test: one figure and one row of a small-study table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...plots import _style as st
from ...plots import funnel_plot
from .. import api
from ..api import ReportContext, ReportFigure

if TYPE_CHECKING:  # pragma: no cover
    from ...results import MetaResult


def funnel_figure(ctx: ReportContext, fit: MetaResult, name: str, what: str,
            xlabel: str, colour: str | None = None) -> tuple[ReportFigure, dict[str, object]]:
    """Funnel with trim-and-fill, and Egger's test; a figure and a row of the bias table."""
    from ...bias import egger_test, trim_and_fill

    # Egger's regression on sqrt(vi), and trim and fill's choice of side, need differing variances
    differ = bool(np.ptp(fit.vi) > 0)
    eg, tf = (egger_test(fit), trim_and_fill(fit)) if differ else (None, None)
    ax = funnel_plot(fit, trimfill=tf, xlabel=xlabel, title=f"Funnel plot: {what}", colour=colour or st.STUDY_COLOUR)
    for points in ax.collections:  # thousands of markers: one image inside the SVG, not one path each
        if np.shape(points.get_offsets())[0] > api.RASTER_MIN_POINTS:
            points.set_rasterized(True)
    caption = (f"Contour-enhanced funnel plot, {what} (k = {fit.k}). " + (
        f"Open circles: {tf.k0} effect(s) imputed by trim and fill (L0, {tf.side} side)." if tf else
        "Every effect has the same standard error: no asymmetry to test or to fill."))
    stat = "t" if fit.test == "knha" else "z"
    same = "not defined: every effect has the same sampling variance"
    row = {"analysis": what, "k": fit.k,
           "Egger's test": f"{stat} = {st.num(eg.stat)}, {st.pval(eg.pvalue)}" if eg else same,
           "limit estimate": st.interval(eg.limit_estimate, eg.ci_low, eg.ci_high) if eg else same,
           "trim and fill k0": f"{tf.k0} ({tf.side})" if tf else same,
           "adjusted estimate": st.interval(tf.fit.estimate, tf.fit.ci_low, tf.fit.ci_high) if tf else same}
    return ReportFigure(name, st.figure_of(ax), caption), row
