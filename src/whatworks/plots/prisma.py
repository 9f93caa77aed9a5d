"""PRISMA 2020 flow diagram of study selection (Page et al. 2021, BMJ 372:n71; new reviews, databases and registers).

Boxes and arrows in the layout of the PRISMA 2020 template: identification, screening, retrieval,
eligibility and inclusion down the left, what was removed or excluded at each step on the right. A count
that is not recorded reads "not recorded" in its box; no number is ever filled in.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

NOT_RECORDED = "not recorded"
_LEFT = (0.9, 5.3)  # x range of the left column of boxes
_RIGHT = (5.9, 9.9)
_LINE = 1.0  # height of a text line, in the diagram's units
_PAD = 0.9
_GAP = 1.1
_PHASE_FILL = "#D6EAF8"


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _n(value: object) -> str:
    n = _count(value)
    return NOT_RECORDED if n is None else f"n = {n:,}"


def _parts(prisma: Mapping[str, object], key: str, heading: str, alone: str, width: int) -> list[str]:
    table = prisma.get(key)
    if not isinstance(table, Mapping) or not table:
        return [alone, f"({NOT_RECORDED})"]
    lines = [heading]
    for name, value in table.items():
        lines += textwrap.wrap(f"{name} ({_n(value)})", width, initial_indent="  ", subsequent_indent="    ")
    return lines


def _rows(prisma: Mapping[str, object]) -> list[tuple[str, list[str], list[str] | None]]:
    """(phase, left box lines, right box lines or None) per row of the diagram."""
    def box(words: str, key: str) -> list[str]:
        return [words, f"({_n(prisma.get(key))})"]

    return [
        ("Identification", _parts(prisma, "identified", "Records identified from:", "Records identified", 44),
         ["Records removed before screening:", f"  Duplicate records removed ({_n(prisma.get('duplicates_removed'))})"]),
        ("Screening", box("Records screened", "records_screened"), box("Records excluded", "records_excluded")),
        ("Screening", box("Reports sought for retrieval", "reports_sought"),
         box("Reports not retrieved", "reports_not_retrieved")),
        ("Screening", box("Reports assessed for eligibility", "reports_assessed"),
         _parts(prisma, "reports_excluded", "Reports excluded:", "Reports excluded", 40)),
        ("Included", [*box("Studies included in review", "studies_included"),
                      *box("Reports of included studies", "reports_included")], None),
    ]


def prisma_plot(prisma: Mapping[str, object], *, note: str | None = None, title: str | None = None,
                ax: Axes | None = None) -> Axes:
    """Draw the PRISMA 2020 flow diagram of a review's ``[prisma]`` table.

    Parameters
    ----------
    prisma : mapping
        The ``[prisma]`` table of review.toml (:mod:`whatworks.data.prisma`): counts (whole numbers, or
        ``"not recorded"``; absent keys are not recorded), ``identified`` and ``reports_excluded`` as
        tables of source / reason -> count.
    note : str, optional
        Printed under the diagram, e.g. which counts the source does not record.
    title : str, optional
        Printed above the diagram.
    ax : matplotlib Axes, optional
        Axes to draw on (its data limits are set to the diagram); by default a new figure sized to it.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> flow = {"identified": {"MEDLINE": 120, "PsycINFO": 80}, "duplicates_removed": 40, "records_screened": 160}
    >>> ax = prisma_plot(flow)
    >>> "Records screened" in [t.get_text().splitlines()[0] for t in ax.texts]
    True
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    rows = _rows(prisma)
    heights = [max(len(left), len(right or ())) * _LINE + _PAD for _, left, right in rows]
    heights[0] = max(heights[0], 6.6)  # room for the rotated phase labels of one-row phases
    heights[-1] = max(heights[-1], 4.8)
    note_lines = textwrap.wrap(note, 120) if note else []
    top = 1.6 + (0.8 if title else 0.0)
    total = top + sum(heights) + _GAP * (len(rows) - 1) + (len(note_lines) * 0.8 + 0.8 if note_lines else 0.3)
    if ax is None:
        ax, _ = st.new_axes(7.5, total * 0.2)
    ax.set_xlim(0, 10)
    ax.set_ylim(total, 0)
    ax.set_axis_off()
    text: dict[str, Any] = {"fontsize": st.FONT_SIZE, "color": st.LINE_COLOUR}
    if title:
        ax.text(0.0, 0.5, title, ha="left", va="center", fontweight="bold", **text)
    head_y = top - 1.5
    ax.add_patch(Rectangle((_LEFT[0], head_y), _RIGHT[1] - _LEFT[0], 1.1, facecolor=_PHASE_FILL,
                           edgecolor=st.LINE_COLOUR, linewidth=0.8))
    ax.text((_LEFT[0] + _RIGHT[1]) / 2, head_y + 0.55, "Identification of studies via databases and registers",
            ha="center", va="center", fontweight="bold", **text)
    y = top
    spans: dict[str, list[float]] = {}
    previous: tuple[float, float] | None = None  # bottom y, centre x of the last left box
    for (phase, left, right), h in zip(rows, heights):
        for (x0, x1), lines in ((_LEFT, left), (_RIGHT, right)):
            if lines is None:
                continue
            ax.add_patch(Rectangle((x0, y), x1 - x0, h, facecolor="white", edgecolor=st.LINE_COLOUR, linewidth=0.8))
            ax.text(x0 + 0.15, y + h / 2, "\n".join(lines), ha="left", va="center", linespacing=1.35, **text)
        arrow: dict[str, Any] = {"arrowstyle": "-|>", "mutation_scale": 8, "color": st.LINE_COLOUR, "linewidth": 0.8}
        if right is not None:
            ax.add_patch(FancyArrowPatch((_LEFT[1], y + h / 2), (_RIGHT[0], y + h / 2), **arrow))
        if previous is not None:
            ax.add_patch(FancyArrowPatch((previous[1], previous[0]), (previous[1], y), **arrow))
        previous = (y + h, (_LEFT[0] + _LEFT[1]) / 2)
        spans.setdefault(phase, [y, y + h])[1] = y + h
        y += h + _GAP
    for phase, (y0, y1) in spans.items():
        ax.add_patch(Rectangle((0.05, y0), 0.6, y1 - y0, facecolor=_PHASE_FILL, edgecolor=st.LINE_COLOUR,
                               linewidth=0.8))
        ax.text(0.35, (y0 + y1) / 2, phase, rotation=90, ha="center", va="center", fontweight="bold", **text)
    if note_lines:
        ax.text(0.05, y - _GAP + 0.6, "\n".join(note_lines), ha="left", va="top", style="italic", **text)
    return ax
