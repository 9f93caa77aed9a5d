"""Bubble plot of a meta-regression (metafor's ``regplot``): effects against one moderator, bubbles sized by
weight, with the fitted line, its confidence band and the prediction band."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._dist import norm_ppf, t_ppf
from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..regression import RegressionResult


def bubble_plot(
    result: RegressionResult,
    mod: str | None = None,
    *,
    ax: Axes | None = None,
    pi: bool = True,
    xlabel: str | None = None,
    ylabel: str = "Effect size",
    title: str | None = None,
    colour: str = st.STUDY_COLOUR,
) -> Axes:
    """Draw a bubble plot of a meta-regression against one moderator, as metafor's ``regplot()``.

    Parameters
    ----------
    result : RegressionResult
        From :func:`whatworks.meta_regress`.
    mod : str, optional
        The moderator on the x axis, a column name of the model matrix (``result.names``); default the
        first one after the intercept. Other columns are held at their means, as metafor does.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a 5 x 3.6 inch figure.
    pi : bool
        Draw the prediction band (dashed; it adds tau²) as well as the confidence band (shaded).
    xlabel, ylabel, title : str
        Axis labels (``xlabel`` defaults to ``mod``) and optional title. colour : bubble colour.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Bubble areas are proportional to the weights ``1 / (vi + tau2)``; the bands use the fit's level and
    test (t quantiles on k - p df for "t", "knha" and "adhoc").

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from whatworks import meta_regress
    >>> from whatworks.plots import bubble_plot
    >>> df = pd.DataFrame({"yi": [-0.9, -1.6, -1.4, -1.4, -0.2, -0.8, -1.6, 0.0],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004],
    ...                    "lat": [44, 55, 42, 52, 13, 44, 19, 13]})
    >>> ax = bubble_plot(meta_regress(df, "~ lat"), "lat")
    >>> len(ax.findobj(lambda a: a.get_gid() == "bubble-studies")[0].get_offsets())
    8
    """
    names = list(result.names)
    if mod is None:
        if len(names) < 2:
            raise ValueError("bubble_plot needs a meta-regression with a moderator")
        mod = names[1]
    if mod not in names:
        raise ValueError(f"mod must be one of the model's columns {names}, got {mod!r}")
    j = names.index(mod)
    X = np.asarray(result.X, float)
    if ax is None:
        ax, _ = st.new_axes(5.0, 3.6)
        st.place_axes(ax, left=0.65, right=0.2, bottom=0.55, top=0.35 if title else 0.15)
    fs = st.FONT_SIZE
    x, yi, vi = X[:, j], np.asarray(result.yi, float), np.asarray(result.vi, float)
    grid = np.linspace(float(x.min()), float(x.max()), 200)
    G = np.tile(X.mean(0), (grid.size, 1))
    G[:, j] = grid
    pred = G @ result.coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", G, result.vcov, G))
    q = 0.5 + result.level / 2
    crit = float(norm_ppf(q) if result.test == "z" else t_ppf(q, result.df))
    ax.fill_between(grid, pred - crit * se, pred + crit * se, color=st.GREY, alpha=0.25, lw=0, zorder=1,
                    gid="bubble-ci")
    if pi:
        half = crit * np.sqrt(se**2 + result.tau2)
        for sign in (-1, 1):
            ax.plot(grid, pred + sign * half, color=st.LINE_COLOUR, lw=0.8, ls=(0, (4, 3)), zorder=2, gid="bubble-pi")
    ax.plot(grid, pred, color=st.LINE_COLOUR, lw=1.1, zorder=2, gid="bubble-line")
    w = 1 / (vi + result.tau2)
    size = 15 + 285 * w / w.max()
    ax.scatter(x, yi, s=size, color=colour, alpha=0.6, edgecolors="black", linewidths=0.4, zorder=3,
               gid="bubble-studies")
    ax.axhline(0, color=st.GREY, lw=0.6, zorder=0)
    ax.set_xlabel(xlabel or st.pretty(mod), fontsize=fs)
    ax.set_ylabel(ylabel, fontsize=fs)
    ax.tick_params(labelsize=fs)
    slope = f"slope {st.num(float(result.coef[j]), 3)} ({st.pval(float(result.pvalue[j]))})"
    ax.text(0.98, 0.98, slope, transform=ax.transAxes, ha="right", va="top", fontsize=fs - 1, color=st.LINE_COLOUR)
    if title:
        ax.set_title(title, fontsize=fs + 1, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
