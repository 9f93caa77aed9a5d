"""Contour-enhanced funnel plot (Peters et al. 2008), with trim-and-fill studies as open markers and,
optionally, the 3PSM and PET-PEESE adjusted estimates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from .._dist import norm_ppf

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

    from ..bias import TrimFillResult
    from ..results import MetaResult
    from ..selection import SelectionResult
    from ..smallstudy import PetPeeseResult

#: Fill colours of the significance regions, from the innermost contour outwards (greys, print-safe).
CONTOUR_FILLS = ("#FFFFFF", "#E6E6E6", "#CCCCCC", "#B3B3B3")


def funnel_plot(
    result: MetaResult,
    *,
    ax: Axes | None = None,
    contours: Sequence[float] = (0.90, 0.95, 0.99),
    trimfill: TrimFillResult | None = None,
    selection: SelectionResult | None = None,
    pet_peese: PetPeeseResult | None = None,
    refline: float = 0.0,
    xlabel: str = "Effect size",
    title: str | None = None,
    colour: str = st.STUDY_COLOUR,
) -> Axes:
    """Draw a contour-enhanced funnel plot: effect against standard error (inverted axis).

    Parameters
    ----------
    result : MetaResult
        A fit from :func:`whatworks.meta_analyze`.
    ax : matplotlib Axes, optional
        Where to draw; ``None`` creates a 6.6 x 4 inch figure (legend right of the axes).
    contours : sequence of float
        Confidence levels of the significance contours around ``refline`` (two-sided): a study inside
        the 0.90 contour has p > 0.10, between 0.90 and 0.95 0.05 < p < 0.10, and so on. Empty: none.
    trimfill : TrimFillResult, optional
        Result of :func:`whatworks.bias.trim_and_fill`: its imputed studies (``filled``) are drawn as
        open markers and its adjusted estimate as a dashed line.
    selection : SelectionResult, optional
        Result of :func:`whatworks.selection_model` (e.g. the 3PSM): its adjusted estimate as a
        dash-dotted line, with a diamond at se = 0.
    pet_peese : PetPeeseResult, optional
        Result of :func:`whatworks.pet_peese`: the chosen regression (PET a straight line, PEESE a curve
        in se) and its intercept, the estimate at se = 0, as a diamond.
    refline : float
        Centre of the significance contours (the null effect).
    xlabel, title : str
        Axis label and optional title. colour : study marker colour.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The pseudo-confidence region is ``estimate +/- z(0.975) * se`` for every se, as in metafor's
    ``funnel()``; the contours are ``refline +/- z((1 + level) / 2) * se``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from whatworks import meta_analyze
    >>> from whatworks.plots import funnel_plot
    >>> res = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07])
    >>> ax = funnel_plot(res, xlabel="Hedges' g")
    >>> bool(ax.yaxis_inverted())
    True
    """
    levels = sorted(float(c) for c in contours)
    if any(not 0 < c < 1 for c in levels):
        raise ValueError(f"contours must be confidence levels in (0, 1), got {list(contours)}")
    if ax is None:
        ax, _ = st.new_axes(6.6, 4.0)
        st.place_axes(ax, left=0.7, right=2.2, bottom=0.55, top=0.35 if title else 0.15)
    fs = st.FONT_SIZE
    yi = np.asarray(result.yi, dtype=float)
    se = np.sqrt(np.asarray(result.vi, dtype=float))
    filled_y = filled_se = np.array([])
    if trimfill is not None:
        mask = np.asarray(trimfill.filled, dtype=bool)
        filled_y = np.asarray(trimfill.yi, dtype=float)[mask]
        filled_se = np.sqrt(np.asarray(trimfill.vi, dtype=float)[mask])
    se_max = float(np.max(np.concatenate([se, filled_se]))) * 1.08 if se.size else 1.0
    se_grid = np.array([0.0, se_max])

    # significance regions: fill outward-in so each inner region paints over the outer ones
    z = [norm_ppf(0.5 + c / 2) for c in levels]
    marks = [m.estimate for m in (selection, pet_peese) if m is not None and np.isfinite(m.estimate)]
    all_x = np.concatenate([yi, filled_y, [refline, result.estimate], marks])
    span = max(np.max(np.abs(all_x - refline)), (z[-1] if z else 1.96) * se_max) * 1.05
    xmin, xmax = refline - span, refline + span
    if levels:
        ax.axvspan(xmin, xmax, color=CONTOUR_FILLS[min(len(levels), 3)], lw=0, zorder=0, gid="funnel-region")
        for i in range(len(levels) - 1, -1, -1):
            half = z[i] * se_grid
            ax.fill_betweenx(se_grid, refline - half, refline + half, color=CONTOUR_FILLS[min(i, 3)], lw=0,
                             zorder=0, gid="funnel-contour")
    # pseudo-confidence region around the estimate and the estimate itself
    z95 = norm_ppf(0.975)
    ax.plot([result.estimate - z95 * se_max, result.estimate, result.estimate + z95 * se_max],
            [se_max, 0, se_max], color=st.LINE_COLOUR, lw=0.8, ls=(0, (4, 3)), zorder=2, gid="funnel-pseudo-ci")
    ax.plot([result.estimate] * 2, [0, se_max], color=st.LINE_COLOUR, lw=0.9, zorder=2, gid="funnel-estimate")
    ax.scatter(yi, se, s=22, color=colour, edgecolors="black", linewidths=0.4, zorder=3, gid="funnel-studies")
    handles_labels: list[tuple[Artist, str]] = []
    if trimfill is not None and filled_y.size:
        ax.scatter(filled_y, filled_se, s=22, facecolors="white", edgecolors="black", linewidths=0.8, zorder=3,
                   gid="funnel-filled")
        ax.plot([trimfill.fit.estimate] * 2, [0, se_max], color=st.OKABE_ITO["vermillion"], lw=0.9,
                ls=(0, (2, 2)), zorder=2, gid="funnel-filled-estimate")
    if selection is not None and np.isfinite(selection.estimate):
        c = st.OKABE_ITO["bluish_green"]
        ax.plot([selection.estimate] * 2, [0, se_max], color=c, lw=1.0, ls=(0, (6, 2, 1, 2)), zorder=2,
                gid="funnel-selection")
        ax.scatter([selection.estimate], [0], marker="D", s=30, color=c, edgecolors="black", linewidths=0.4,
                   zorder=4, clip_on=False, gid="funnel-selection-estimate")
    if pet_peese is not None:
        c = st.OKABE_ITO["reddish_purple"]
        fit = pet_peese.pet if pet_peese.chosen == "PET" else pet_peese.peese
        grid = np.linspace(0, se_max, 100)
        curve = fit.estimate + fit.slope * (grid if pet_peese.chosen == "PET" else grid**2)
        ax.plot(curve, grid, color=c, lw=1.0, zorder=2, gid="funnel-pet-peese")
        ax.scatter([fit.estimate], [0], marker="D", s=30, color=c, edgecolors="black", linewidths=0.4, zorder=4,
                   clip_on=False, gid="funnel-pet-peese-estimate")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(se_max, 0)
    ax.set_xlabel(xlabel, fontsize=fs)
    ax.set_ylabel("Standard error", fontsize=fs)
    ax.tick_params(labelsize=fs)
    if title:
        ax.set_title(title, fontsize=fs + 1, loc="left")

    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    alphas = [1 - c for c in levels]  # e.g. 0.10, 0.05, 0.01 for the default contours
    if levels:
        texts = [f"p > {alphas[0]:g}",
                 *(f"{alphas[i + 1]:g} < p \u2264 {alphas[i]:g}" for i in range(len(levels) - 1)),
                 f"p \u2264 {alphas[-1]:g}"]
        for i, text in enumerate(texts):
            handles_labels.append((Patch(facecolor=CONTOUR_FILLS[min(i, 3)], edgecolor="#999999", lw=0.4), text))
    handles_labels.append((Line2D([], [], ls="none", marker="o", color=colour, markeredgecolor="black",
                                  markeredgewidth=0.4, ms=5), "Studies"))
    handles_labels.append((Line2D([], [], color=st.LINE_COLOUR, lw=0.9),
                           f"Pooled estimate {st.num(result.estimate)}"))
    handles_labels.append((Line2D([], [], color=st.LINE_COLOUR, lw=0.8, ls=(0, (4, 3))), "95% pseudo-CI"))
    if trimfill is not None and filled_y.size:
        handles_labels.append((Line2D([], [], ls="none", marker="o", markerfacecolor="white",
                                      markeredgecolor="black", ms=5), f"Imputed (trim and fill, k0 = {trimfill.k0})"))
        handles_labels.append((Line2D([], [], color=st.OKABE_ITO["vermillion"], lw=0.9, ls=(0, (2, 2))),
                               f"Adjusted estimate {st.num(trimfill.fit.estimate)}"))
    if selection is not None and np.isfinite(selection.estimate):
        name = "3PSM" if selection.type == "stepfun" and selection.steps.size == 2 else "Selection model"
        handles_labels.append((Line2D([], [], color=st.OKABE_ITO["bluish_green"], lw=1.0, ls=(0, (6, 2, 1, 2)),
                                      marker="D", ms=4, markeredgecolor="black", markeredgewidth=0.4),
                               f"{name} estimate {st.num(selection.estimate)}"))
    if pet_peese is not None:
        handles_labels.append((Line2D([], [], color=st.OKABE_ITO["reddish_purple"], lw=1.0, marker="D", ms=4,
                                      markeredgecolor="black", markeredgewidth=0.4),
                               f"{pet_peese.chosen} (PET-PEESE) estimate {st.num(pet_peese.estimate)}"))
    handles, labels = zip(*handles_labels, strict=True)
    ax.legend(handles, labels, fontsize=fs - 1, loc="upper left", bbox_to_anchor=(1.03, 1.0), frameon=False)
    return ax
