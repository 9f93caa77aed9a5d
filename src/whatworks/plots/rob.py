"""Risk-of-bias figures in the style of robvis (McGuinness & Higgins 2021): a traffic-light plot and
weighted summary bars, both drawn from a :class:`~whatworks.rob.RobSummary`.

Each judgement has a colour from the Okabe-Ito palette and a symbol (+ low, − some concerns, × high,
? no information), so the figures read without colour too. With ``ax=None`` the figure is sized to the
content; text positions are in points, so nothing depends on the figure size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..rob import JUDGEMENT_LABELS, ROB2_DOMAINS, ROB2_JUDGEMENTS
from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..rob import RobSummary

#: Colour of each judgement (Okabe-Ito), the same in every risk-of-bias figure.
ROB_COLOURS = {
    "low": st.OKABE_ITO["bluish_green"],
    "some_concerns": st.OKABE_ITO["yellow"],
    "high": st.OKABE_ITO["vermillion"],
    "no_information": st.OKABE_ITO["sky_blue"],
}
#: Symbol drawn in each traffic light.
ROB_SYMBOLS = {"low": "+", "some_concerns": st.MINUS, "high": "\u00d7", "no_information": "?"}
_COLUMN_LABELS = (*(d.upper() for d in ROB2_DOMAINS), "Overall")
CELL = 0.30  # inches per traffic-light column and row
LEGEND_LINE = 11.0  # points per line of the domain legend
OVERALL_GAP = 0.5  # extra columns of space before the overall column
LEGEND_HANDLE, LEGEND_PAD, LEGEND_SPACING = 1.2, 0.4, 1.2  # judgement legend layout, in font sizes


def _domain_lines() -> list[str]:
    return [f"{d.upper()}: {name[0].upper()}{name[1:]}" for d, name in ROB2_DOMAINS.items()]


def _judgement_legend(ax: Axes, dy: float, dx: float, marker: str) -> None:
    """One row of legend entries (colour and symbol of each judgement), ``dy`` points under the axes."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none", marker=marker, markersize=8, markerfacecolor=ROB_COLOURS[j],
                      markeredgecolor=st.LINE_COLOUR, markeredgewidth=0.5,
                      label=f"{ROB_SYMBOLS[j]} {JUDGEMENT_LABELS[j]}") for j in ROB2_JUDGEMENTS]
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, 0), bbox_transform=st.below_axes(ax, dy, dx),
                    ncol=len(handles), frameon=False, fontsize=st.FONT_SIZE, handlelength=LEGEND_HANDLE,
                    handletextpad=LEGEND_PAD, columnspacing=LEGEND_SPACING,
                    borderaxespad=0.0, borderpad=0.0)
    leg.set_gid("rob-legend")


def _legend_width() -> float:
    """Width in points of the one-row judgement legend (handle, padding and spacing per entry)."""
    per_entry = (LEGEND_HANDLE + LEGEND_PAD + LEGEND_SPACING) * st.FONT_SIZE
    return sum(st.text_width(f"{ROB_SYMBOLS[j]} {JUDGEMENT_LABELS[j]}") + per_entry for j in ROB2_JUDGEMENTS)


def _title(ax: Axes, title: str, dx: float, dy: float) -> None:
    from matplotlib.transforms import ScaledTranslation

    ax.text(0, 1, title, transform=ax.transAxes + ScaledTranslation(-dx / 72, dy / 72, ax.figure.dpi_scale_trans),
            ha="left", va="bottom", fontsize=st.FONT_SIZE + 2, fontweight="bold")


def traffic_light_plot(summary: RobSummary, *, ax: Axes | None = None, title: str | None = None,
                       label_header: str = "Study") -> Axes:
    """Draw a traffic-light plot: one row per assessment, columns D1-D5 and the overall judgement.

    Parameters
    ----------
    summary : RobSummary
        From :func:`whatworks.rob.summarize_rob`; rows are drawn in its order, top to bottom.
    ax : matplotlib Axes, optional
        Where to draw (labels go left of it, the legend below it). ``None`` creates a figure sized to
        the content.
    title, label_header : str
        Optional title; header of the label column.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks.rob import summarize_rob
    >>> from whatworks.plots import traffic_light_plot
    >>> res = summarize_rob({"d1": ["low", "no_information"], "d2": ["low", "low"], "d3": ["high", "low"],
    ...                      "d4": ["some_concerns"] * 2, "d5": ["low", "no_information"],
    ...                      "overall": ["high", "some_concerns"]}, labels=["A 2020", "B 2021"])
    >>> ax = traffic_light_plot(res)
    >>> len(ax.findobj(lambda a: a.get_gid() == "rob-traffic-points")[0].get_offsets())
    12
    """
    k, ncol = summary.k, len(_COLUMN_LABELS)
    xpos = np.array([*range(ncol - 1), ncol - 1 + OVERALL_GAP], dtype=float)  # overall set apart
    labels = list(summary.labels)
    label_w = max([st.text_width(s) for s in labels] + [st.text_width(label_header, bold=True)]) + 10.0
    legend = _domain_lines()
    legend_w = max([st.text_width(s) for s in legend] + [_legend_width()])
    if ax is None:
        grid_w = (ncol + OVERALL_GAP) * CELL
        width = max(0.15 + label_w / 72 + grid_w + 0.15, legend_w / 72 + 0.3)
        bottom = (10 + 16 + LEGEND_LINE * len(legend) + 6) / 72
        top = 0.35 + (0.3 if title else 0.0)
        ax, _ = st.new_axes(width, top + max(k, 1) * CELL + bottom)
        st.place_axes(ax, left=0.15 + label_w / 72, right=max(width - 0.15 - label_w / 72 - grid_w, 0.1),
                      bottom=bottom, top=top)
    ax.set_xlim(-0.5, xpos[-1] + 0.5)
    ax.set_ylim(k - 0.5, -0.5)
    for side in ("left", "right", "top", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.patch.set_alpha(0.0)
    fs = st.FONT_SIZE
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    dpi = ax.figure.dpi_scale_trans
    for x, head in zip(xpos.tolist(), _COLUMN_LABELS, strict=True):
        ax.text(x, 1, head, transform=blended_transform_factory(ax.transData, ax.transAxes)
                + ScaledTranslation(0, 4 / 72, dpi), ha="center", va="bottom", fontsize=fs,
                fontweight="bold", gid="rob-traffic-header")
    ax.text(0, 1, label_header, transform=ax.transAxes + ScaledTranslation(-label_w / 72, 4 / 72, dpi),
            ha="left", va="bottom", fontsize=fs, fontweight="bold")
    for i, lab in enumerate(labels):
        ax.text(0, i, lab, transform=blended_transform_factory(ax.transAxes, ax.transData)
                + ScaledTranslation(-label_w / 72, 0, dpi), ha="left", va="center", fontsize=fs)
    if k:
        xs, ys = np.meshgrid(xpos, np.arange(k))
        values = summary.judgements
        colours = [ROB_COLOURS[v] for v in values.ravel()]
        ax.axvline((xpos[-2] + xpos[-1]) / 2, color=st.GREY, lw=0.6, zorder=1, gid="rob-traffic-rule")
        ax.scatter(xs.ravel(), ys.ravel(), s=(0.8 * CELL * 72) ** 2, c=colours, edgecolors=st.LINE_COLOUR,
                   linewidths=0.5, zorder=2, gid="rob-traffic-points")
        for (i, j), v in np.ndenumerate(values):
            ax.text(float(xpos[j]), i, ROB_SYMBOLS[v], ha="center", va="center", fontsize=fs + 1, fontweight="bold",
                    color="black", zorder=3, gid="rob-traffic-symbol")
    _judgement_legend(ax, 10, -label_w, "o")
    for n, line in enumerate(legend):
        ax.text(0, 0, line, transform=st.below_axes(ax, 10 + 16 + LEGEND_LINE * n, dx=-label_w), ha="left",
                va="top", fontsize=fs, gid="rob-domain-legend")
    if title:
        _title(ax, title, label_w, 20)
    return ax


def rob_summary_plot(summary: RobSummary, *, ax: Axes | None = None, weighted: bool | None = None,
                     title: str | None = None) -> Axes:
    """Draw summary bars: for each domain (and overall) the share of each judgement, robvis style.

    Parameters
    ----------
    summary : RobSummary
        From :func:`whatworks.rob.summarize_rob` (pass the fit's weights there for a weighted summary).
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a figure sized to the content.
    weighted : bool, optional
        Bars show shares of the weight (``True``) or of the assessments (``False``); default: weighted
        when the summary was given weights.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks.rob import summarize_rob
    >>> from whatworks.plots import rob_summary_plot
    >>> res = summarize_rob({"d1": ["low", "no_information"], "d2": ["low", "low"], "d3": ["high", "low"],
    ...                      "d4": ["some_concerns"] * 2, "d5": ["low", "no_information"],
    ...                      "overall": ["high", "some_concerns"]}, weights=[70, 30])
    >>> ax = rob_summary_plot(res)
    >>> len(ax.findobj(lambda a: (a.get_gid() or "").startswith("rob-summary-bar")))
    24
    """
    use_weights = summary.weighted if weighted is None else bool(weighted)
    column = "weight_percent" if use_weights else "percent"
    frame = summary.to_frame()
    rows = [*ROB2_DOMAINS, "overall"]
    names = [*_domain_lines(), "Overall risk of bias"]
    label_w = max(st.text_width(s) for s in names) + 10.0
    if ax is None:
        plot_w = 3.2
        width = max(0.15 + label_w / 72 + plot_w + 0.3, 0.15 + _legend_width() / 72 + 0.3)
        bottom = (44 + 6) / 72
        top = 0.15 + (0.3 if title else 0.0)
        ax, _ = st.new_axes(width, top + len(rows) * 0.3 + bottom)
        st.place_axes(ax, left=0.15 + label_w / 72, right=0.3, bottom=bottom, top=top)
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    dpi = ax.figure.dpi_scale_trans
    ys = np.arange(len(rows))[::-1].astype(float)
    for y, row, name in zip(ys, rows, names, strict=True):
        left = 0.0
        part = frame[frame["domain"] == row].set_index("judgement")[column]
        for j in ROB2_JUDGEMENTS:
            width = float(np.nan_to_num(part.get(j, 0.0)))
            ax.barh(y, width, left=left, height=0.7, color=ROB_COLOURS[j], edgecolor=st.LINE_COLOUR, linewidth=0.5,
                    gid=f"rob-summary-bar-{row}-{j}")
            left += width
        ax.text(0, y, name, transform=blended_transform_factory(ax.transAxes, ax.transData)
                + ScaledTranslation(-label_w / 72, 0, dpi), ha="left", va="center", fontsize=st.FONT_SIZE,
                fontweight="bold" if row == "overall" else "normal")
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=st.FONT_SIZE)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"])
    what = "Share of the meta-analytic weight" if use_weights else "Share of the assessments"
    ax.text(0.5, 0, what, transform=st.below_axes(ax, 19), ha="center", va="top", fontsize=st.FONT_SIZE)
    _judgement_legend(ax, 33, -label_w, "s")
    if title:
        _title(ax, title, label_w, 8)
    return ax
