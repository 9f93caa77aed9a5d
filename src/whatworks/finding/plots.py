"""Figures of the finding: ours vs published per strategy, and the strategy contrasts.

Each function draws on ``ax`` (or a new figure sized to the content) and returns the Axes.
``matplotlib.pyplot`` is imported only when a figure is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..plots import _style as st
from .compare import OURS, ComparisonResult
from .contrast import ContrastResult

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: Metrics drawn on the g axis of :func:`comparison_plot` (others are in the table only).
STANDARDISED = ("SMD", "g", "d")


def _rows(table: pd.DataFrame) -> list[tuple[str, pd.Series | None]]:
    out: list[tuple[str, pd.Series | None]] = []
    drawable = table[table["metric"].isin(STANDARDISED) & table["estimate"].notna()]
    for s, grp in drawable.groupby("strategy", sort=False):
        out.append((s, None))
        out += [(s, r) for _, r in grp.iterrows()]
    return out


def _label(r: pd.Series) -> str:
    k = "" if pd.isna(r["k"]) else f" (k = {int(r['k'])})"
    if r["source"] == OURS:
        return f"This synthesis{k}"
    analysis = str(r["analysis"])
    analysis = analysis if len(analysis) <= 40 else analysis[:39] + "\u2026"
    return f"{r['source']}{k}: {analysis}"


def _new_axes(labels: list[str], plot_width: float, height: float, *, bottom: float, title: str | None) -> Axes:
    """A new figure whose left margin fits the longest y tick label; ``plot_width`` inches of axes."""
    left = max((st.text_width(t) for t in labels), default=0.0) / 72 + 0.35
    ax, _ = st.new_axes(left + plot_width, height)
    st.place_axes(ax, left=left, right=0.2, bottom=bottom, top=0.3 if title else 0.1)
    return ax


def _finish(ax: Axes, title: str | None) -> Axes:
    """The common finish: small tick labels, no y ticks, only the bottom spine, the title left."""
    ax.tick_params(axis="x", labelsize=st.FONT_SIZE)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=st.FONT_SIZE + 2, loc="left")
    return ax


def comparison_plot(comparison: ComparisonResult, *, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Dot and CI per source, grouped by strategy: our estimate (filled, strategy colour) above the
    published ones (grey; an open marker when the source printed no CI).

    Parameters
    ----------
    comparison : ComparisonResult
        From :func:`whatworks.finding.compare_published`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a figure whose height grows with the rows.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks.data import load_reviews, load_pooled
    >>> from whatworks.finding import primary_frame, pool_strategies, compare_published
    >>> cmp = compare_published(pool_strategies(primary_frame(load_reviews())), load_pooled())
    >>> ax = comparison_plot(cmp)
    >>> ax.get_xlabel()
    "Hedges' g (or d); negative = less lonely"
    """
    rows = _rows(comparison.table)
    labels = [st.pretty(s) if r is None else _label(r) for s, r in rows]
    if ax is None:
        ax = _new_axes(labels, 4.0, 0.9 + max(len(rows), 1) * st.ROW_HEIGHT, bottom=0.55, title=title)
    for i, (s, r) in enumerate(rows):
        y = -i
        if r is None:
            continue
        ours = r["source"] == OURS
        colour = st.strategy_colour(s) if ours else st.GREY
        has_ci = pd.notna(r["ci_low"]) and pd.notna(r["ci_high"])
        if has_ci:
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=1.6 if ours else 1.0, solid_capstyle="butt")
        ax.plot([r["estimate"]], [y], marker="D" if ours else "o", ms=6 if ours else 4.5, color=colour,
                markerfacecolor=colour if has_ci else "white", zorder=3, gid=f"comparison-{'ours' if ours else 'pub'}")
    ax.axvline(0.0, color=st.LINE_COLOUR, lw=0.8, ls=":")
    ax.set_yticks(-np.arange(len(rows)), labels, fontsize=st.FONT_SIZE)
    for tick, (_, r) in zip(ax.get_yticklabels(), rows):
        if r is None:
            tick.set_fontweight("bold")
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    ax.set_xlabel("Hedges' g (or d); negative = less lonely", fontsize=st.FONT_SIZE)
    return _finish(ax, title)


def contrast_plot(contrast: ContrastResult, *, ax: Axes | None = None, title: str | None = None,
                  extra: pd.DataFrame | None = None) -> Axes:
    """The differences g(reference) - g(comparison) with CIs, the band of +/- ``delta`` shaded.

    Parameters
    ----------
    contrast : ContrastResult
    ax : matplotlib Axes, optional
    title : str, optional
    extra : pandas.DataFrame, optional
        More rows of the same columns (e.g. the CR2 rows of the dependence analysis), drawn below.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from whatworks.finding import strategy_contrasts
    >>> df = pd.DataFrame({"strategy": ["social_cognition"] * 3 + ["social_support"] * 3,
    ...                    "yi": [-0.7, -0.5, -0.9, -0.1, 0.0, -0.2], "vi": [0.03, 0.04, 0.05, 0.03, 0.04, 0.05]})
    >>> ax = contrast_plot(strategy_contrasts(df, others=("social_support",)))
    """
    table = contrast.table if extra is None else pd.concat([contrast.table, extra], ignore_index=True)
    table = table[table["difference"].notna()].reset_index(drop=True)
    combined = " + ".join(contrast.others)
    labels = [f"vs {'all three combined' if r.comparison == combined else st.pretty(r.comparison)} "
              f"({r.inference}; k = {r.k_reference} vs {r.k_comparison}): {r.verdict}" for r in table.itertuples()]
    if ax is None:
        ax = _new_axes(labels, 3.6, 1.0 + max(len(table), 1) * 0.3, bottom=0.75, title=title)
    ax.axvspan(-contrast.delta, contrast.delta, color="#EEEEEE", zorder=0)
    ax.axvline(0.0, color=st.LINE_COLOUR, lw=0.8, ls=":")
    for i, r in enumerate(table.itertuples()):
        colour = st.strategy_colour(r.comparison, st.POOLED_COLOUR)
        ax.plot([r.ci_low, r.ci_high], [-i, -i], color=colour, lw=1.4)
        ax.plot([r.difference], [-i], "s", color=colour, ms=5, gid="contrast-point")
    ax.set_yticks(-np.arange(len(table)), labels, fontsize=st.FONT_SIZE)
    ax.set_ylim(-max(len(table), 1) + 0.5, 0.5)
    if table.empty:  # every comparison lacks trials: say so rather than draw an empty frame
        ax.text(0.5, 0.5, "no difference could be estimated (too few trials per strategy)", transform=ax.transAxes,
                ha="center", va="center", fontsize=st.FONT_SIZE, color=st.LINE_COLOUR)
    ref = st.pretty(contrast.reference)
    ax.set_xlabel(f"Difference in g: {ref} minus comparison\n(negative = {ref} reduces loneliness more)",
                  fontsize=st.FONT_SIZE)
    return _finish(ax, title)
