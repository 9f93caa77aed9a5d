"""Diagnostic scatter plots: Baujat (heterogeneity against influence) and radial (Galbraith)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._dist import norm_ppf
from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..baujat import BaujatResult
    from ..results import MetaResult


def _axes(ax: Axes | None, width: float, height: float, title: str | None) -> Axes:
    if ax is None:
        ax, _ = st.new_axes(width, height)
        st.place_axes(ax, left=0.65, right=0.2, bottom=0.55, top=0.35 if title else 0.15)
    ax.tick_params(labelsize=st.FONT_SIZE)
    if title:
        ax.set_title(title, fontsize=st.FONT_SIZE + 1, loc="left")
    return ax


def baujat_plot(
    result: BaujatResult,
    *,
    ax: Axes | None = None,
    n_labels: int | None = None,
    title: str | None = None,
    colour: str = st.STUDY_COLOUR,
) -> Axes:
    """Draw a Baujat plot: each study's contribution to heterogeneity (x) against its influence (y).

    Parameters
    ----------
    result : BaujatResult
        From :func:`whatworks.baujat`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a 4.5 x 3.6 inch figure.
    n_labels : int, optional
        Label only the studies furthest from the origin (default: all when k <= 30, else 10).
    title : str, optional
        Title above the axes. colour : marker colour.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import baujat, meta_analyze
    >>> from whatworks.plots import baujat_plot
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.05])
    >>> ax = baujat_plot(baujat(fit))
    >>> len(ax.texts)
    6
    """
    ax = _axes(ax, 4.5, 3.6, title)
    x, y = np.asarray(result.x, float), np.asarray(result.y, float)
    ax.scatter(x, y, s=22, color=colour, edgecolors="black", linewidths=0.4, zorder=3, gid="baujat-studies")
    n = (len(x) if len(x) <= 30 else 10) if n_labels is None else int(n_labels)
    scale = np.array([max(np.ptp(x), 1e-12), max(np.ptp(y), 1e-12)])
    far = np.argsort(-np.hypot(x / scale[0], y / scale[1]), kind="stable")[:n]
    for i in sorted(far):
        ax.annotate(str(result.labels[i]), (x[i], y[i]), xytext=(4, 3), textcoords="offset points",
                    fontsize=st.FONT_SIZE - 1, color=st.LINE_COLOUR, gid="baujat-label")  # fmt: skip
    what = "residual heterogeneity" if result.mods else "overall heterogeneity"
    ax.set_xlabel(f"Contribution to {what}", fontsize=st.FONT_SIZE)
    ax.set_ylabel("Influence on the pooled result", fontsize=st.FONT_SIZE)
    ax.set_xlim(left=min(0.0, float(x.min())))
    ax.set_ylim(bottom=min(0.0, float(y.min())))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax


def radial_plot(
    result: MetaResult,
    *,
    ax: Axes | None = None,
    level: float = 0.95,
    title: str | None = None,
    colour: str = st.STUDY_COLOUR,
) -> Axes:
    """Draw a radial (Galbraith) plot, as metafor's ``radial()``: standardised effect against precision.

    Each study is at ``x = 1 / sqrt(vi + tau2)``, ``y = yi / sqrt(vi + tau2)``; the line through the
    origin has slope equal to the pooled estimate, and the band ``y = estimate x +- z`` holds about
    ``level`` of the studies when the model fits.

    Parameters
    ----------
    result : MetaResult
        A fit from :func:`whatworks.meta_analyze`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a 4.5 x 3.6 inch figure.
    level : float
        Coverage of the band around the line.
    title, colour : str
        Optional title; marker colour.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import meta_analyze
    >>> from whatworks.plots import radial_plot
    >>> ax = radial_plot(meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07]))
    >>> len(ax.findobj(lambda a: a.get_gid() == "radial-band"))
    2
    """
    ax = _axes(ax, 4.5, 3.6, title)
    s = np.sqrt(np.asarray(result.vi, float) + result.tau2)
    x, y = 1 / s, np.asarray(result.yi, float) / s
    xmax = float(x.max()) * 1.08
    z = float(norm_ppf(0.5 + level / 2))
    grid = np.array([0.0, xmax])
    ax.axhline(0, color=st.GREY, lw=0.6, zorder=1)
    ax.plot(grid, result.estimate * grid, color=st.LINE_COLOUR, lw=0.9, zorder=2, gid="radial-estimate")
    for sign in (-1, 1):
        ax.plot(grid, result.estimate * grid + sign * z, color=st.LINE_COLOUR, lw=0.8, ls=(0, (4, 3)), zorder=2,
                gid="radial-band")
    ax.scatter(x, y, s=22, color=colour, edgecolors="black", linewidths=0.4, zorder=3, gid="radial-studies")
    ax.set_xlim(0, xmax)
    ax.set_xlabel("Precision, 1 / \u221a(v\u1d62 + \u03c4\u00b2)", fontsize=st.FONT_SIZE)
    ax.set_ylabel("Standardised effect, y\u1d62 / \u221a(v\u1d62 + \u03c4\u00b2)", fontsize=st.FONT_SIZE)
    ax.text(0.98, 0.98, f"slope = pooled estimate {st.num(result.estimate)}; band \u00b1{z:.2f}",
            transform=ax.transAxes, ha="right", va="top", fontsize=st.FONT_SIZE - 1, color=st.LINE_COLOUR)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
