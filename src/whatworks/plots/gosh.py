"""GOSH plot: the pooled estimate against I² over subsets of the studies, as a hexbin with marginals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..gosh import GoshResult


def gosh_plot(
    result: GoshResult,
    *,
    ax: Axes | None = None,
    gridsize: int = 40,
    marginals: bool = True,
    highlight: int | None = None,
    xlabel: str = "Pooled estimate",
    title: str | None = None,
) -> Axes:
    """Draw a GOSH plot (Olkin et al. 2012): every subset's estimate (x) against its I² (y).

    Parameters
    ----------
    result : GoshResult
        From :func:`whatworks.gosh`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a 5 x 4.6 inch figure. The marginal histograms are inset axes
        above and right of ``ax`` (drawn inside its figure area), so ``ax`` is returned alone.
    gridsize : int
        Hexagons across the x axis (counts on a log colour scale, so small clusters stay visible).
    marginals : bool
        Histograms of the estimate (top) and of I² (right).
    highlight : int, optional
        Index (0-based) of a study: the subsets that contain it are drawn as a second layer in
        vermillion, as in metafor's ``plot(gosh, column=...)``, to show which cluster it drives.
    xlabel, title : str
        Axis label of the estimate and optional title.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import gosh, meta_analyze
    >>> from whatworks.plots import gosh_plot
    >>> fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.05])
    >>> ax = gosh_plot(gosh(fit), highlight=5)
    >>> len(ax.child_axes)
    2
    """
    if ax is None:
        ax, _ = st.new_axes(5.0, 4.6)
        st.place_axes(ax, left=0.65, right=1.05 if marginals else 0.2, bottom=0.55,
                      top=(1.0 if marginals else 0.15) + (0.3 if title else 0.0))  # fmt: skip
    fs = st.FONT_SIZE
    est, i2 = np.asarray(result.estimate, float), np.asarray(result.i2, float)
    ok = np.isfinite(est) & np.isfinite(i2)
    est, i2 = est[ok], i2[ok]
    pad = 0.02 * max(float(np.ptp(est)), 1e-9)
    extent = (float(est.min()) - pad, float(est.max()) + pad, -2.0, 102.0)
    ax.hexbin(est, i2, gridsize=gridsize, bins="log", cmap="Blues", mincnt=1, extent=extent, linewidths=0.2,
              gid="gosh-hexbin")
    if highlight is not None:
        sel = np.asarray(result.incl, bool)[ok, int(highlight)]
        ax.scatter(est[sel], i2[sel], s=3, color=st.OKABE_ITO["vermillion"], alpha=0.35, lw=0, zorder=3,
                   gid="gosh-highlight", label=f"Subsets with {result.labels[int(highlight)]}")
        ax.legend(fontsize=fs - 1, loc="upper right", frameon=False, markerscale=3)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel("I\u00b2 (%)", fontsize=fs)
    ax.tick_params(labelsize=fs)
    n = f"{result.n_subsets:,} {'subsets (all)' if result.exact else 'random subsets'} of {result.k} studies"
    ax.text(0.01, 0.99, n, transform=ax.transAxes, ha="left", va="top", fontsize=fs - 1, color=st.LINE_COLOUR)
    if marginals:
        top = ax.inset_axes((0.0, 1.03, 1.0, 0.22), sharex=ax)
        right = ax.inset_axes((1.03, 0.0, 0.22, 1.0), sharey=ax)
        top.hist(est, bins=gridsize, color=st.STUDY_COLOUR, gid="gosh-marginal-estimate")
        right.hist(i2, bins=gridsize, range=(0, 100), orientation="horizontal", color=st.STUDY_COLOUR,
                   gid="gosh-marginal-i2")
        for m in (top, right):
            m.tick_params(labelbottom=False, labelleft=False, bottom=m is right, left=m is top, labelsize=fs - 1)
            for side in ("top", "right"):
                m.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=fs + 1, loc="left", pad=62 if marginals else 6)
    return ax
