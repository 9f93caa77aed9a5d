"""Forest plots of a :class:`~whatworks.MetaResult` or of a subgroup analysis (``SubgroupResult``).

Layout: text columns (label, optional extra columns) left of the axes, the effects in the axes, the
estimate with its CI and the weight right of it; under the axis the x label, the "favours" annotation and
the heterogeneity lines. Text positions are in points relative to the axes edges, so nothing depends on
the figure size; with ``ax=None`` the figure is sized to the content (its height grows with the rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _style as st
from ._forest_rows import Row, build_rows, is_subgroup

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..results import MetaResult
    from ..subgroups import SubgroupResult

SORTS = (None, "estimate", "weight", "label")
PLOT_WIDTH = 3.0  # inches of the axes holding the effects
GAP = 10.0  # points between text columns
FOOT_LINE = 11.0  # points per line under the plot


def forest_plot(
    result: MetaResult | SubgroupResult,
    *,
    ax: Axes | None = None,
    sort: str | None = None,
    columns: pd.DataFrame | None = None,
    labels: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    favours: tuple[str, str] | None = ("Favours intervention", "Favours control"),
    show_pi: bool = True,
    xlim: tuple[float, float] | None = None,
    xlabel: str = "Effect size",
    xscale: str = "linear",
    label_header: str = "Study",
    title: str | None = None,
    max_label_chars: int | None = None,
    colour: str | None = None,
) -> Axes:
    """Draw a forest plot: one row per study, the pooled diamond, the prediction interval.

    Parameters
    ----------
    result : MetaResult or SubgroupResult
        A fit from :func:`whatworks.meta_analyze`, or a subgroup analysis (anything with ``groups``, a
        dict level -> MetaResult, ``overall``, ``q_between``, ``q_between_df``, ``q_between_pvalue``
        and optionally ``definition`` and ``skipped``): then one block per subgroup with its own
        diamond, k, tau² and I², the overall diamond and the test for subgroup differences.
    ax : matplotlib Axes, optional
        Where to draw; text columns are placed outside its left and right edges. ``None`` creates a
        figure sized to the content.
    sort : {None, "estimate", "weight", "label"}
        Order of the study rows (within each subgroup); ``None`` keeps the result's order.
    columns : DataFrame, optional
        Extra text columns shown after the label (e.g. n, year, strategy), one row per study in the
        result's order (for a subgroup analysis: the groups in order, the studies of each in order).
    labels : sequence of str, optional
        Study labels replacing ``result.labels`` (same order as ``columns``).
    transform : callable, optional
        Applied to every effect and bound before drawing, e.g. ``np.exp`` for log ratios (combine
        with ``xscale="log"``); the null line is drawn at ``transform(0)``.
    favours : (str, str) or None
        Texts under the axis, left and right of the null line. Negative effects are left: in this
        project's data negative = less lonely = favours the intervention.
    show_pi : bool
        Draw the prediction interval under the overall diamond (when k >= 3).
    xlim : (float, float), optional
        x limits (after ``transform``); intervals beyond them end in an arrow.
    xlabel, xscale, label_header, title : str
        Axis label, axis scale, header of the label column, optional title.
    max_label_chars : int, optional
        Study labels longer than this are shortened with an ellipsis (default: never).
    colour : str, optional
        Colour of the study marks of a single analysis (e.g. its strategy's colour); a subgroup analysis
        colours each block by its strategy (:data:`whatworks.plots.STRATEGY_COLOURS`).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import meta_analyze
    >>> from whatworks.plots import forest_plot
    >>> res = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07], test="knha",
    ...                    labels=["A 2001", "B 2005", "C 2010", "D 2015", "E 2020"])
    >>> ax = forest_plot(res, sort="estimate", xlabel="Hedges' g")
    >>> len(ax.findobj(lambda a: (a.get_gid() or "").startswith("forest-diamond")))
    1
    """
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}, got {sort!r}")
    tf = transform if transform is not None else (lambda x: x)
    rows, foot, _ = build_rows(result, labels, columns, sort, show_pi, tf, colour)
    if max_label_chars is not None:
        for r in rows:
            if r.kind == "study" and len(r.cells[0]) > max_label_chars:
                r.cells[0] = r.cells[0][: max(max_label_chars - 1, 1)].rstrip() + "\u2026"
    first = next(iter(result.groups.values()), None) if is_subgroup(result) else result
    pct = f"{100 * first.level:g}%" if first is not None else "95%"
    headers = [label_header, *([] if columns is None else [str(c) for c in columns.columns])]
    right_headers = [f"Estimate [{pct} CI]", "Weight %"]
    rows.insert(0, Row("header", headers, right_headers))

    # column widths in points, from the texts themselves
    ncol = len(headers)
    spanning = [r for r in rows if r.kind in ("het", "group")]
    widths = [max(st.text_width(r.cells[j], bold=r.kind in ("header", "group")) for r in rows
                  if r.kind not in ("het", "group") or j > 0) for j in range(ncol)]
    left_total = sum(widths) + GAP * ncol
    left_total = max(left_total, *(st.text_width(r.cells[0], bold=r.kind == "group") + GAP for r in spanning),
                     0.0)
    rwidths = [max(st.text_width(r.right[j], bold=r.kind == "header") for r in rows if r.right)
               for j in range(2)]
    right_total = GAP + rwidths[0] + GAP + rwidths[1]
    foot_width = max((st.text_width(s) for s in foot), default=0.0)

    nrow = len(rows)
    foot_top = 44.0  # points under the axes: tick labels, x label, favours
    if ax is None:
        width = max(0.15 + left_total / 72 + PLOT_WIDTH + right_total / 72 + 0.15, foot_width / 72 + 0.3)
        bottom = (foot_top + FOOT_LINE * len(foot) + 8) / 72
        top = 0.15 + (0.3 if title else 0.0)
        ax, _ = st.new_axes(width, top + nrow * st.ROW_HEIGHT + bottom)
        st.place_axes(ax, left=0.15 + left_total / 72, right=right_total / 72 + 0.15, bottom=bottom, top=top)
    _draw(ax, rows, widths, right_total, left_total, foot, foot_top, tf, favours, xlim, xlabel, xscale)
    if title:
        st.title_above(ax, title, left_total)
    return ax


def _draw(ax: Axes, rows: list[Row], widths: list[float], right_total: float, left_total: float, foot: list[str],
          foot_top: float, tf: Callable, favours: tuple[str, str] | None, xlim: tuple[float, float] | None,
          xlabel: str, xscale: str) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon

    fs = st.FONT_SIZE
    ys = -np.arange(len(rows), dtype=float)
    null = float(tf(np.asarray(0.0)))
    ax.set_xscale(xscale)
    if xlim is None:
        # limits from the studies and the overall result: a wide subgroup diamond (small k with
        # Knapp-Hartung) is clipped with arrows rather than squeezing every study into a corner
        # (the prediction interval too, unless it is more than half as wide again as everything else)
        vals = [v for r in rows if r.kind == "study" or (r.overall and r.kind == "diamond") for v in (r.lo, r.hi)]
        vals = [v for v in vals if np.isfinite(v) and (xscale != "log" or v > 0)]
        if vals:
            lo0, hi0 = min(vals), max(vals)
            for r in rows:
                if r.kind == "pi":
                    vals += [v for v in (r.lo, r.hi) if np.isfinite(v) and lo0 - (hi0 - lo0) / 2 <= v
                             <= hi0 + (hi0 - lo0) / 2 and (xscale != "log" or v > 0)]
        if xscale == "log":
            lo, hi = (min(vals + [null]) / 1.1, max(vals + [null]) * 1.1) if vals else (0.5, 2.0)
        else:
            lo, hi = st.nice_limits(min(vals, default=null), max(vals, default=null), null)
        xlim = (lo, hi)
    xmin, xmax = xlim
    st.table_axes(ax, (xmin, xmax), ys[-1] - 0.6)

    first = next((y for r, y in zip(rows, ys, strict=True) if r.kind != "header"), -1.0)
    ax_w = ax.get_position().width * st.figure_of(ax).get_figwidth() * 72  # points; for the header rule only
    ax.plot([-left_total / ax_w, 1 + right_total / ax_w], [first + 0.5] * 2, color=st.LINE_COLOUR, lw=0.6,
            transform=st.offset_points(ax, 0), clip_on=False, gid="forest-rule")
    ax.plot([null, null], [ys[-1] - 0.6, first + 0.5], color=st.GREY, lw=0.8, zorder=1, gid="forest-null")

    # text columns: left of the axes (label left-aligned, extra columns right-aligned), right of it
    xs, acc = [], -left_total
    for w in widths:
        xs.append(acc)
        acc += w + GAP
    for r, y in zip(rows, ys, strict=True):
        bold = r.kind in ("header", "group")
        style = "italic" if r.kind in ("het", "pi") else "normal"
        for j, text in enumerate(r.cells):
            if not text:
                continue
            align_right = j > 0 and r.kind not in ("group",)
            x = xs[j] + (widths[j] if align_right else 0.0)
            ax.text(0, y, text, transform=st.offset_points(ax, x), ha="right" if align_right else "left",
                    va="center", fontsize=fs, fontweight="bold" if bold else "normal", fontstyle=style,
                    color=r.colour if r.kind == "group" else "black", clip_on=False)
        if r.right:
            ax.text(1, y, r.right[0], transform=st.offset_points(ax, GAP), ha="left", va="center",
                    fontsize=fs, fontweight="bold" if bold else "normal", fontstyle=style, clip_on=False)
            if len(r.right) > 1 and r.right[1]:
                ax.text(1, y, r.right[1], transform=st.offset_points(ax, right_total),
                        ha="right", va="center", fontsize=fs, fontweight="bold" if bold else "normal",
                        clip_on=False)

    # studies: CI lines (arrows where clipped) and weight-sized squares
    studies = [(r, y) for r, y in zip(rows, ys, strict=True) if r.kind == "study"]
    if studies:
        segs = [[(max(r.lo, xmin), y), (min(r.hi, xmax), y)] for r, y in studies]
        ax.add_collection(LineCollection(segs, colors=st.LINE_COLOUR, linewidths=0.9, zorder=2,
                                         gid="forest-study-ci"))
        wts = np.array([r.weight for r, _ in studies])
        wmax = np.nanmax(wts) if np.any(np.isfinite(wts)) and np.nanmax(wts) > 0 else 1.0
        side = 3.5 + 8.0 * np.sqrt(np.nan_to_num(wts) / wmax)
        ax.scatter([r.est for r, _ in studies], [y for _, y in studies], s=side**2, marker="s",
                   c=[r.colour for r, _ in studies], edgecolors="none", zorder=3, gid="forest-study-points")
        _arrows(ax, [(r.lo, r.hi, y) for r, y in studies], xmin, xmax, st.LINE_COLOUR)

    # diamonds and prediction intervals
    for r, y in zip(rows, ys, strict=True):
        if r.kind == "diamond" and np.isfinite(r.est):
            h = 0.34
            poly = Polygon([(r.lo, y), (r.est, y + h), (r.hi, y), (r.est, y - h)], closed=True,
                           facecolor=r.colour, edgecolor="black", lw=0.6, zorder=3,
                           gid="forest-diamond-overall" if r.overall else "forest-diamond-subgroup")
            ax.add_patch(poly)
            _arrows(ax, [(r.lo, r.hi, y)], xmin, xmax, "black")
        elif r.kind == "pi" and np.isfinite(r.lo):
            lo, hi = max(r.lo, xmin), min(r.hi, xmax)
            ax.plot([lo, hi], [y, y], color=r.colour, lw=1.6, solid_capstyle="butt", zorder=3, gid="forest-pi")
            ax.plot([lo, lo, np.nan, hi, hi], [y - 0.18, y + 0.18, np.nan, y - 0.18, y + 0.18],
                    color=r.colour, lw=1.0, zorder=3, gid="forest-pi-ends")
            _arrows(ax, [(r.lo, r.hi, y)], xmin, xmax, r.colour)

    # under the axis: label, favours, heterogeneity
    st.axis_texts(ax, xlabel, favours, null, gid="forest-favours")
    for i, line in enumerate(foot):
        ax.text(0, 0, line, transform=st.below_axes(ax, foot_top + FOOT_LINE * i, dx=-left_total), ha="left",
                va="top", fontsize=fs, gid="forest-foot")


def _arrows(ax: Axes, spans: list[tuple[float, float, float]], xmin: float, xmax: float, colour: str) -> None:
    left = [(xmin, y) for lo, _, y in spans if lo < xmin]
    right = [(xmax, y) for _, hi, y in spans if hi > xmax]
    for pts, marker in ((left, "<"), (right, ">")):
        if pts:
            ax.plot(*zip(*pts, strict=True), ls="none", marker=marker, ms=4, color=colour, clip_on=False,
                    zorder=3, gid="forest-clipped")
