"""The "what works" chart: one line per strategy with its pooled effect, CI (thick) and PI (thin)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..subgroups import SubgroupResult

#: Columns :func:`summary_plot` reads (``n`` may be absent, ``label`` may replace ``strategy``).
SUMMARY_COLUMNS = ("strategy", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "k", "n")
ROW = 0.3  # inches per strategy line
GAP = 10.0


def summary_table(result: SubgroupResult) -> pd.DataFrame:
    """The table :func:`summary_plot` draws, from a ``SubgroupResult`` (one row per fitted subgroup).

    ``n`` (participants) is not part of a subgroup result and is left missing; add it from the data.

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.subgroups import by_subgroup
    >>> df = pd.DataFrame({"yi": [-0.5, -0.2, -0.4, 0.1, -0.3, -0.6], "vi": [0.05] * 6,
    ...                    "strategy": ["a", "a", "a", "b", "b", "b"]})
    >>> summary_table(by_subgroup(df, "strategy"))["strategy"].tolist()
    ['a', 'b']
    """
    rows = [{"strategy": level, "estimate": f.estimate, "ci_low": f.ci_low, "ci_high": f.ci_high,
             "pi_low": f.pi_low, "pi_high": f.pi_high, "k": f.k, "n": np.nan}
            for level, f in result.groups.items()]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _check(table: pd.DataFrame) -> pd.DataFrame:
    if hasattr(table, "groups") and hasattr(table, "overall"):
        table = summary_table(table)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"summary_plot needs a DataFrame or a SubgroupResult, got {type(table).__name__}")
    t = table.copy()
    if "strategy" not in t.columns:
        if "label" not in t.columns:
            raise ValueError(f"table needs a 'strategy' or 'label' column; it has {list(t.columns)}")
        t["strategy"] = t["label"]
    if "label" not in t.columns:
        t["label"] = [st.pretty(s) for s in t["strategy"]]
    missing = [c for c in SUMMARY_COLUMNS if c not in t.columns and c != "n"]
    if missing:
        raise ValueError(f"table lacks column(s) {missing}; it has {list(table.columns)}")
    if "n" not in t.columns:
        t["n"] = np.nan
    if t.empty:
        raise ValueError("table has no rows: nothing to draw")
    return t.reset_index(drop=True)


def summary_plot(
    table: pd.DataFrame | SubgroupResult,
    *,
    ax: Axes | None = None,
    order: str | None = "estimate",
    favours: tuple[str, str] | None = ("Favours intervention", "Favours control"),
    xlabel: str = "Pooled effect size",
    xlim: tuple[float, float] | None = None,
    title: str | None = None,
    level: float = 0.95,
) -> Axes:
    """Draw one line per strategy: pooled effect (point), CI (thick line), prediction interval (thin).

    Parameters
    ----------
    table : DataFrame or SubgroupResult
        One row per strategy with columns ``strategy`` (or ``label``: the text shown; canonical
        strategy names are prettified and coloured), ``estimate``, ``ci_low``, ``ci_high``,
        ``pi_low``, ``pi_high``, ``k`` and optionally ``n`` (participants). A SubgroupResult is
        converted with :func:`summary_table` (no ``n``).
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a figure sized to the number of strategies.
    order : {"estimate", None}
        ``"estimate"``: the most negative (most beneficial) effect at the top; ``None``: table order.
    favours : (str, str) or None
        Texts under the axis, left and right of zero (negative = less lonely = favours intervention).
    xlabel, xlim, title : optional
        Axis label, limits (default: fitted to the estimates and confidence intervals; a prediction
        interval beyond them ends in an arrow), title. level : confidence level written in the header.

    A row with ``k == 1`` is a single trial's own estimate: drawn as a square, without a prediction
    interval; a row without an estimate (``k == 0``) is listed in grey and not drawn. The prediction
    interval is also printed as a column.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from whatworks.plots import summary_plot
    >>> t = pd.DataFrame({"strategy": ["social_cognition", "social_support"], "estimate": [-0.4, -0.1],
    ...                   "ci_low": [-0.6, -0.3], "ci_high": [-0.2, 0.1], "pi_low": [-0.9, -0.5],
    ...                   "pi_high": [0.1, 0.3], "k": [12, 8], "n": [1500, 700]})
    >>> ax = summary_plot(t, xlabel="Hedges' g")
    >>> len(ax.findobj(lambda a: a.get_gid() == "summary-ci"))
    2
    """
    if order not in ("estimate", None):
        raise ValueError(f"order must be 'estimate' or None, got {order!r}")
    t = _check(table)
    if order == "estimate":
        t = t.iloc[np.argsort(t["estimate"].to_numpy(dtype=float), kind="stable")].reset_index(drop=True)
    pct = f"{100 * level:g}%"
    single = (t["k"].astype(float) == 1).to_numpy()
    empty = ~np.isfinite(t["estimate"].to_numpy(dtype=float))
    left = [str(s) for s in t["label"]]
    right = ["no trials" if e else st.interval(r.estimate, r.ci_low, r.ci_high)
             for e, r in zip(empty, t.itertuples(), strict=True)]
    pis = ["" if one or not (np.isfinite(r.pi_low) and np.isfinite(r.pi_high))
           else f"[{st.num(r.pi_low)}, {st.num(r.pi_high)}]" for one, r in zip(single, t.itertuples(), strict=True)]
    kn = [f"{int(r.k)}" + ("" if pd.isna(r.n) or int(r.k) == 0 else f" / {int(r.n):,}") for r in t.itertuples()]
    show_pi = any(pis)
    heads = ["Strategy", f"Estimate [{pct} CI]", *([f"{pct} PI"] if show_pi else []),
             "k / n" if t["n"].notna().any() else "k"]
    cols = [right, *([pis] if show_pi else []), kn]
    lw = max(st.text_width(s) for s in [*left, heads[0]]) + GAP
    rw = [max(st.text_width(s) for s in [*col, h]) for col, h in zip(cols, heads[1:], strict=True)]
    right_total = sum(GAP + w for w in rw)
    nrow = len(t) + 1
    if ax is None:
        width = 0.15 + lw / 72 + 3.0 + right_total / 72 + 0.15
        bottom, top = 74 / 72, 0.15 + (0.3 if title else 0.0)
        ax, _ = st.new_axes(width, top + nrow * ROW + bottom)
        st.place_axes(ax, left=0.15 + lw / 72, right=right_total / 72 + 0.15, bottom=bottom, top=top)

    fs = st.FONT_SIZE
    ys = -np.arange(1, nrow, dtype=float)
    # the axis fits the estimates and confidence intervals; prediction intervals reaching beyond it end in an arrow
    vals = np.concatenate([t[c].to_numpy(dtype=float) for c in ("estimate", "ci_low", "ci_high")])
    vals = vals[np.isfinite(vals)]
    xmin, xmax = xlim if xlim is not None else st.nice_limits(vals.min(initial=0), vals.max(initial=0), 0.0)
    st.table_axes(ax, (xmin, xmax), ys[-1] - 0.6)
    ax.plot([0, 0], [ys[-1] - 0.6, 0.5], color=st.GREY, lw=0.8, zorder=1, gid="summary-null")

    # text columns right of the axes: left-aligned estimate / PI columns, the last (k / n) right-aligned
    starts, x0 = [], GAP
    for w in rw:
        starts.append(x0)
        x0 += w + GAP
    col_pos = [(x, "left") for x in starts[:-1]] + [(right_total, "right")]
    header = [(0, heads[0], "left", -lw)] + [(1, h, ha, dx) for h, (dx, ha) in zip(heads[1:], col_pos, strict=True)]
    for x, text, ha, dx in header:
        ax.text(x, 0, text, transform=st.offset_points(ax, dx), ha=ha, va="center", fontsize=fs, fontweight="bold",
                clip_on=False)
    clipped = False
    for i, (r, y, lt) in enumerate(zip(t.itertuples(), ys, left, strict=True)):
        c = st.strategy_colour(r.strategy, default=st.STUDY_COLOUR)
        texts = [(0, lt, "left", -lw)] + [(1, col[i], ha, dx) for col, (dx, ha) in zip(cols, col_pos, strict=True)]
        for x, text, ha, dx in texts:
            ax.text(x, y, text, transform=st.offset_points(ax, dx), ha=ha, va="center", fontsize=fs, clip_on=False,
                    color=st.GREY if empty[i] else "black")
        if empty[i]:  # a strategy without trials: listed, nothing drawn
            continue
        if not single[i] and np.isfinite(r.pi_low) and np.isfinite(r.pi_high):
            lo, hi = max(r.pi_low, xmin), min(r.pi_high, xmax)
            ax.plot((lo, hi), [y, y], color=c, lw=1.0, solid_capstyle="butt", zorder=2, gid="summary-pi")
            for end, beyond, mark in ((lo, r.pi_low < xmin, "<"), (hi, r.pi_high > xmax, ">")):
                if beyond:
                    clipped = True
                    ax.plot([end], [y], ls="none", marker=mark, ms=4, color=c, zorder=2, gid="summary-pi-arrow")
        ax.plot([max(r.ci_low, xmin), min(r.ci_high, xmax)], [y, y], color=c, lw=4.5, solid_capstyle="butt",
                zorder=3, gid="summary-ci")
        ax.plot([r.estimate], [y], ls="none", marker="s" if single[i] else "D", ms=5.5 if single[i] else 6,
                color="white", markeredgecolor="black", markeredgewidth=0.9, zorder=4,
                gid="summary-single" if single[i] else "summary-estimate")

    st.axis_texts(ax, xlabel, favours, 0.0)
    key = f"Diamond: pooled estimate; thick line: {pct} confidence interval; thin line: {pct} prediction interval"
    key += " (an arrow: it continues beyond the axis)." if clipped else "."
    if single.any():
        key += "\nSquare: a single trial's own estimate, not pooled (no prediction interval)."
    ax.text(0, 0, key, transform=st.below_axes(ax, 45, dx=-lw), ha="left", va="top", fontsize=fs - 0.5,
            color=st.LINE_COLOUR, linespacing=1.4)
    if title:
        st.title_above(ax, title, lw)
    return ax
