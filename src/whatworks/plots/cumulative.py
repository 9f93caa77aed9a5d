"""Cumulative forest plot: the pooled estimate and CI as studies are added one at a time (metafor's
``forest(cumul(fit))``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import MetaResult

PLOT_WIDTH = 3.0  # inches of the axes
GAP = 10.0  # points between text columns


def cumulative_forest_plot(
    result: MetaResult,
    order: Sequence[int] | np.ndarray | None = None,
    *,
    ax: Axes | None = None,
    favours: tuple[str, str] | None = ("Favours intervention", "Favours control"),
    xlabel: str = "Effect size",
    label_header: str = "Study added",
    title: str | None = None,
) -> Axes:
    """Draw a cumulative forest plot: row j is the meta-analysis of the first j + 1 studies in ``order``.

    Parameters
    ----------
    result : MetaResult
        A fit from :func:`whatworks.meta_analyze`; every step is refitted with its method and test by
        :func:`whatworks.cumulative`.
    order : sequence of int, optional
        0-based positions of the studies in the order they are added, e.g.
        ``numpy.argsort(year, kind="stable")``; default the result's order.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a figure sized to the rows.
    favours, xlabel, label_header, title
        Texts under the axis (negative effects left), the axis label, the header of the label column and
        an optional title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import meta_analyze
    >>> from whatworks.plots import cumulative_forest_plot
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07],
    ...                    labels=["A 2001", "B 2005", "C 2010", "D 2015", "E 2020"])
    >>> ax = cumulative_forest_plot(fit)
    >>> len(ax.findobj(lambda a: a.get_gid() == "cumulative-points")[0].get_offsets())
    5
    """
    from matplotlib.collections import LineCollection

    from ..influence import cumulative

    cum = cumulative(result, order)
    k = len(cum)
    pct = f"{100 * result.level:g}%"
    labels = [f"+ {lab}" for lab in cum["label"]]
    right = [st.interval(e, lo, hi) for e, lo, hi in zip(cum["estimate"], cum["ci_low"], cum["ci_high"], strict=True)]
    heads = (label_header, f"Estimate [{pct} CI]")
    left_w = max(st.text_width(s) for s in [*labels, heads[0]]) + GAP
    right_w = max(st.text_width(s) for s in [*right, heads[1]]) + GAP
    if ax is None:
        top = 0.15 + (0.3 if title else 0.0)
        ax, _ = st.new_axes(0.3 + (left_w + right_w) / 72 + PLOT_WIDTH, top + (k + 1) * st.ROW_HEIGHT + 0.75)
        st.place_axes(ax, left=0.15 + left_w / 72, right=right_w / 72 + 0.15, bottom=0.75, top=top)
    fs = st.FONT_SIZE
    ys = -np.arange(1, k + 1, dtype=float)
    lo, hi = st.nice_limits(float(np.nanmin(cum["ci_low"])), float(np.nanmax(cum["ci_high"])), 0.0)
    st.table_axes(ax, (lo, hi), ys[-1] - 0.6)
    ax.set_ylim(ys[-1] - 0.6, 0.6)
    ax.plot([0, 0], [ys[-1] - 0.6, 0.5], color=st.GREY, lw=0.8, zorder=1, gid="cumulative-null")
    ax.plot([result.estimate] * 2, [ys[-1] - 0.6, 0.5], color=st.LINE_COLOUR, lw=0.7, ls=(0, (2, 2)), zorder=1,
            gid="cumulative-final")
    segs = [[(max(a, lo), y), (min(b, hi), y)] for a, b, y in zip(cum["ci_low"], cum["ci_high"], ys, strict=True)]
    ax.add_collection(LineCollection(segs, colors=st.LINE_COLOUR, linewidths=0.9, zorder=2, gid="cumulative-ci"))
    ax.scatter(cum["estimate"], ys, s=24, marker="D", color=st.POOLED_COLOUR, zorder=3, gid="cumulative-points")
    for y, text, est in zip([0.0, *ys], [heads[0], *labels], [heads[1], *right], strict=True):
        bold = "bold" if y == 0 else "normal"
        ax.text(0, y, text, transform=st.offset_points(ax, -left_w), ha="left", va="center", fontsize=fs,
                fontweight=bold, clip_on=False)
        ax.text(1, y, est, transform=st.offset_points(ax, GAP), ha="left", va="center", fontsize=fs, fontweight=bold,
                clip_on=False)
    st.axis_texts(ax, xlabel, favours, 0.0, gid="cumulative-favours")
    if title:
        st.title_above(ax, title, left_w)
    return ax
