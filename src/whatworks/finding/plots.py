"""Figures of the finding: ours vs published per strategy, and the strategy contrasts.

Each function draws on ``ax`` (or a new figure sized to the content) and returns the Axes.
``matplotlib.pyplot`` is imported only when a figure is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..plots import _style as st
from .compare import OURS, ComparisonResult
from .contrast import ContrastResult
from .published import PublishedContrasts

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


def _label(r: pd.Series, names: Mapping[str, str] | None = None) -> str:
    k = "" if pd.isna(r["k"]) else f" (k = {int(r['k'])})"
    if r["source"] == OURS:
        return f"This synthesis{k}"
    analysis = str(r["analysis"])
    analysis = analysis if len(analysis) <= 40 else analysis[:39] + "\u2026"
    source = (names or {}).get(str(r["source"]), str(r["source"]))
    return f"{source}{k}: {analysis}"


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


def comparison_plot(comparison: ComparisonResult, *, ax: Axes | None = None, title: str | None = None,
                    names: Mapping[str, str] | None = None) -> Axes:
    """Dot and CI per source, grouped by strategy: our estimate (filled, strategy colour) above the
    published ones (grey; an open marker when the source printed no CI).

    Parameters
    ----------
    comparison : ComparisonResult
        From :func:`whatworks.finding.compare_published`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a figure whose height grows with the rows.
    title : str, optional
    names : mapping, optional
        Source (review id) -> the name shown, e.g. a short citation.

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
    labels = [st.pretty(s) if r is None else _label(r, names) for s, r in rows]
    numbers = ["" if r is None else st.interval(r["estimate"], r["ci_low"], r["ci_high"])
               if pd.notna(r["ci_low"]) else f"{st.num(r['estimate'])} (no CI printed)" for _, r in rows]
    if ax is None:
        left = max((st.text_width(t) for t in labels), default=0.0) / 72 + 0.35
        right = max((st.text_width(t) for t in numbers), default=0.0) / 72 + 0.3
        ax, _ = st.new_axes(left + 3.6 + right, 1.35 + max(len(rows), 1) * st.ROW_HEIGHT + (0.2 if title else 0))
        st.place_axes(ax, left=left, right=right, bottom=1.0, top=0.3 if title else 0.1)
    for i, (s, r) in enumerate(rows):
        y = -i
        if r is None:
            continue
        ax.text(1, y, numbers[i], transform=st.offset_points(ax, 6), ha="left", va="center", fontsize=st.FONT_SIZE,
                clip_on=False)
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
    ax.set_xlabel("Hedges' g (or d); negative = less lonely", fontsize=st.FONT_SIZE, labelpad=2)
    _favours(ax, ("Favours intervention", "Favours control"))
    ax.legend(handles=_legend_handles([("D", "black", "black", "This synthesis (colour: strategy)"),
                                       ("o", st.GREY, st.GREY, "Published, with CI"),
                                       ("o", st.GREY, "white", "Published, no CI printed")]),
              loc="upper left", bbox_to_anchor=(0, 0), bbox_transform=st.below_axes(ax, 44), ncol=3,
              frameon=False, fontsize=st.FONT_SIZE - 0.5, borderaxespad=0, handletextpad=0.3, columnspacing=1.2)
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
    how = {"knha": "Knapp-Hartung", "z": "Wald z", "CR2": "CR2, trials as clusters"}
    labels = [f"vs {'support, contact and skills combined' if r.comparison == combined else st.pretty(r.comparison).lower()} "
              f"({how.get(r.inference, r.inference)}; k = {r.k_reference} vs {r.k_comparison})"
              for r in table.itertuples()]
    numbers = [f"{st.interval(r.difference, r.ci_low, r.ci_high)}, {st.pval(r.pvalue)}: {r.verdict}"
               for r in table.itertuples()]
    right = max((st.text_width(t) for t in numbers), default=0.0) / 72 + 0.3
    if ax is None:
        left = max((st.text_width(t) for t in labels), default=0.0) / 72 + 0.35
        ax, _ = st.new_axes(left + 3.2 + right, 1.35 + max(len(table), 1) * 0.3 + (0.2 if title else 0))
        st.place_axes(ax, left=left, right=right, bottom=0.95, top=0.3 if title else 0.1)
    ax.axvspan(-contrast.delta, contrast.delta, color="#EEEEEE", zorder=0)
    ax.axvline(0.0, color=st.LINE_COLOUR, lw=0.8, ls=":")
    for i, r in enumerate(table.itertuples()):
        colour = st.strategy_colour(r.comparison, st.POOLED_COLOUR)
        ax.plot([r.ci_low, r.ci_high], [-i, -i], color=colour, lw=1.4)
        ax.plot([r.difference], [-i], "s" if r.inference != "CR2" else "o", color=colour, ms=5, gid="contrast-point",
                markerfacecolor=colour if r.inference != "CR2" else "white")
        ax.text(1, -i, numbers[i], transform=st.offset_points(ax, 6), ha="left", va="center",
                fontsize=st.FONT_SIZE, clip_on=False)
    ax.set_yticks(-np.arange(len(table)), labels, fontsize=st.FONT_SIZE)
    ax.set_ylim(-max(len(table), 1) + 0.5, 0.5)
    if table.empty:  # every comparison lacks trials: say so rather than draw an empty frame
        ax.text(0.5, 0.5, "no difference could be estimated (too few trials per strategy)", transform=ax.transAxes,
                ha="center", va="center", fontsize=st.FONT_SIZE, color=st.LINE_COLOUR)
    ref = st.pretty(contrast.reference)
    ax.set_xlabel(f"Difference in g: {ref} minus comparison", fontsize=st.FONT_SIZE, labelpad=2)
    _favours(ax, (f"Favours {ref.lower()}", "Favours the comparison"))
    ax.text(0, 0, f"Grey band: \u00b1{contrast.delta:g}, the smallest difference taken to matter. Filled: model-based; "
            "open: cluster-robust (CR2).", transform=st.below_axes(ax, 44, dx=-0.0), ha="left", va="top",
            fontsize=st.FONT_SIZE - 0.5, color=st.LINE_COLOUR)
    return _finish(ax, title)


def _favours(ax: Axes, favours: tuple[str, str]) -> None:
    """The two favours texts under the x axis, either side of zero (below the tick labels and x label)."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    base = blended_transform_factory(ax.transData, ax.transAxes)
    for text, dx, ha in ((f"\u2190 {favours[0]}", -4, "right"), (f"{favours[1]} \u2192", 4, "left")):
        ax.text(0.0, 0, text, transform=base + ScaledTranslation(dx / 72, -30 / 72, ax.figure.dpi_scale_trans),
                ha=ha, va="top", fontsize=st.FONT_SIZE, color=st.LINE_COLOUR)


def _legend_handles(items: list[tuple[str, str, str, str]]) -> list:
    from matplotlib.lines import Line2D

    return [Line2D([], [], ls="none", marker=m, color=c, markerfacecolor=f, markersize=5, label=t)
            for m, c, f, t in items]


def published_contrast_plot(published: PublishedContrasts, contrast: ContrastResult, *, ax: Axes | None = None,
                            title: str | None = None, names: Mapping[str, str] | None = None) -> Axes:
    """Forest of differences: each published review's own contrast (from its printed numbers) beside this
    synthesis's, grouped by the strategy social cognition is compared with.

    Parameters
    ----------
    published : PublishedContrasts
        From :func:`whatworks.finding.published_contrasts`.
    contrast : ContrastResult
        This synthesis's contrast (its per-comparison and combined rows are drawn as diamonds).
    ax : matplotlib Axes, optional
    title : str, optional
    names : mapping, optional
        Review id -> name shown (e.g. "Fu et al. 2022").

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks.data import load_pooled, load_reviews
    >>> from whatworks.finding import primary_frame, published_contrasts, strategy_contrasts
    >>> ax = published_contrast_plot(published_contrasts(load_pooled()), strategy_contrasts(primary_frame(load_reviews())))
    >>> len(ax.findobj(lambda a: a.get_gid() == "published-difference")) >= 2
    True
    """
    pub = published.to_frame()
    pub = pub[pub["difference"].notna()]
    ours = contrast.table
    combined = " + ".join(contrast.others)
    groups = [s for s in contrast.others if s in set(pub["comparison"]) | set(ours["comparison"])]
    rows: list[tuple[str, str, str, pd.Series | None]] = []  # (kind, group, label, row)
    for g in [*groups, combined]:
        mine = ours[ours["comparison"] == g]
        theirs = pub[pub["comparison"] == g]
        if mine.empty and theirs.empty:
            continue
        head = "Support, contact and skills combined" if g == combined else f"vs {st.pretty(g).lower()}"
        rows.append(("head", g, head, None))
        for _, r in mine.iterrows():
            rows.append(("ours", g, f"This synthesis (k = {r['k_reference']} vs {r['k_comparison']})", r))
        for _, r in theirs.iterrows():
            who = (names or {}).get(str(r["review"]), str(r["review"]))
            tags = [t for t, on in (("umbrella review", bool(r["umbrella"])), ("second-hand", r["hand"] == "second"))
                    if on]
            rows.append(("pub", g, who + (f" ({', '.join(tags)})" if tags else ""), r))
    labels = [lab for _, _, lab, _ in rows]
    numbers = []
    for kind, _, _, r in rows:
        if r is None:
            numbers.append("")
        elif kind == "ours" and pd.isna(r["difference"]):
            numbers.append("no trials: cannot be tested" if r["k_comparison"] == 0 else "not estimable")
        elif kind == "ours":
            numbers.append(f"{st.interval(r['difference'], r['ci_low'], r['ci_high'])}, {st.pval(r['pvalue'])}"
                           + (": cannot be tested" if r["verdict"] == "cannot be tested" else ""))
        elif bool(r["tested"]):
            numbers.append(f"{st.interval(r['difference'], r['ci_low'], r['ci_high'])}, {st.pval(r['pvalue'])}")
        else:
            numbers.append(f"{st.num(r['difference'])} (no CI printed: not tested)")
    right = max((st.text_width(t) for t in numbers), default=0.0) / 72 + 0.3
    if ax is None:
        left = max((st.text_width(t, bold=True) for t in labels), default=0.0) / 72 + 0.35
        ax, _ = st.new_axes(left + 3.0 + right, 1.45 + max(len(rows), 1) * st.ROW_HEIGHT + (0.2 if title else 0))
        st.place_axes(ax, left=left, right=right, bottom=1.05, top=0.3 if title else 0.1)
    ax.axvspan(-contrast.delta, contrast.delta, color="#EEEEEE", zorder=0)
    ax.axvline(0.0, color=st.LINE_COLOUR, lw=0.8, ls=":")
    for i, (kind, g, _, r) in enumerate(rows):
        y = -i
        if r is None:
            continue
        colour = st.strategy_colour(g, st.POOLED_COLOUR) if kind == "ours" else st.GREY
        has_ci = pd.notna(r["ci_low"]) and pd.notna(r["ci_high"])
        if has_ci:
            ax.plot([r["ci_low"], r["ci_high"]], [y, y], color=colour, lw=1.6 if kind == "ours" else 1.1,
                    solid_capstyle="butt")
        ax.plot([r["difference"]], [y], ls="none", marker="D" if kind == "ours" else "o", ms=6 if kind == "ours" else 5,
                color=colour, markerfacecolor=colour if has_ci else "white", zorder=3,
                gid="our-difference" if kind == "ours" else "published-difference")
        ax.text(1, y, numbers[i], transform=st.offset_points(ax, 6), ha="left", va="center", fontsize=st.FONT_SIZE,
                clip_on=False)
    ax.set_yticks(-np.arange(len(rows)), labels, fontsize=st.FONT_SIZE)
    for tick, (kind, _, _, _) in zip(ax.get_yticklabels(), rows, strict=True):
        if kind == "head":
            tick.set_fontweight("bold")
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    vals = np.concatenate([pub[["difference", "ci_low", "ci_high"]].to_numpy(float).ravel(),
                           ours[["difference", "ci_low", "ci_high"]].to_numpy(float).ravel(), [0.0]])
    vals = vals[np.isfinite(vals)]
    ax.set_xlim(*st.nice_limits(vals.min(), vals.max(), 0.0))
    ax.set_xlabel("Difference in g: social cognition minus comparison", fontsize=st.FONT_SIZE, labelpad=2)
    _favours(ax, ("Favours social cognition", "Favours the comparison"))
    ax.text(0, 0, "Diamonds: this synthesis (meta-regression). Dots: a review's own subgroups, SE from each printed CI\n"
            f"(open: no CI printed, not tested). Grey band: \u00b1{contrast.delta:g}, the smallest difference taken to "
            "matter.", transform=st.below_axes(ax, 46), linespacing=1.4,
            ha="left", va="top", fontsize=st.FONT_SIZE - 0.5, color=st.LINE_COLOUR)
    return _finish(ax, title)
