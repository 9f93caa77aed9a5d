"""Shared look of every figure: Okabe-Ito colours, font sizes, number formatting, text measurement.

Nothing here imports :mod:`matplotlib.pyplot` at import time; :func:`new_axes` imports it lazily so that
figures made with ``ax=None`` show up in Jupyter like any pyplot figure.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

#: The Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008, https://jfly.uni-koeln.de/color/).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#7F7F7F"

#: One colour per canonical strategy (the dataset's vocabulary), the same in every figure and on the page.
#: Masi's four strategies take four Okabe-Ito colours; mindfulness takes Paul Tol's olive (#999933) rather
#: than Okabe-Ito's sky blue, which sat too close to social cognition's blue.
STRATEGY_COLOURS = {
    "social_cognition": OKABE_ITO["blue"],
    "social_support": OKABE_ITO["orange"],
    "social_access": OKABE_ITO["bluish_green"],
    "social_skills": OKABE_ITO["reddish_purple"],
    "mindfulness_acceptance": "#999933",
    "multicomponent": OKABE_ITO["vermillion"],
    "other": GREY,
}

#: Short strategy names where space is tight (figure rows, table cells); the full names for text are
#: :data:`whatworks.data.schema.STRATEGY_LABELS`.
STRATEGY_SHORT = {
    "social_cognition": "Social cognition",
    "social_support": "Social support",
    "social_access": "Opportunities for social contact",
    "social_skills": "Social skills",
    "mindfulness_acceptance": "Mindfulness and acceptance",
    "multicomponent": "Multicomponent",
    "other": "Other",
}

#: Other vocabulary words shown to people (controls, delivery, design).
WORDS = {
    "usual_care": "usual care", "waitlist": "wait-list", "no_treatment": "no treatment", "active": "active control",
    "attention": "attention control", "in_person": "face to face", "online": "online", "phone": "telephone",
    "mixed": "mixed", "rct": "randomised trials", "non_randomised": "non-randomised comparisons",
    "single_group": "single-group pre-post studies", "older_adults": "older adults", "young_adults": "young adults",
}  # fmt: skip

STUDY_COLOUR = OKABE_ITO["blue"]
POOLED_COLOUR = OKABE_ITO["black"]
LINE_COLOUR = "#333333"

FONT_SIZE = 8.0  # points, every text of the figures
ROW_HEIGHT = 0.2  # inches per row of a forest or summary plot (> 1.5 line heights at FONT_SIZE)
MINUS = "\u2212"  # typographic minus sign

#: rcParams that make saved figures byte-identical across runs (used by :func:`deterministic`).
DETERMINISTIC_RC: dict[RcKeyType, object] = {
    "svg.hashsalt": "whatworks",
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "path.simplify": True,
}


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Context in which ``savefig`` output does not depend on time or randomness.

    Use it together with ``metadata={"Date": None}`` (SVG, PDF) when saving.
    """
    import matplotlib

    with matplotlib.rc_context(DETERMINISTIC_RC):
        yield


def strategy_colour(name: str, default: str = STUDY_COLOUR) -> str:
    """Colour of a canonical strategy, ``default`` for any other name."""
    return STRATEGY_COLOURS.get(str(name), default)


def pretty(name: object) -> str:
    """``"social_cognition"`` -> ``"Social cognition"``: a strategy's short name (:data:`STRATEGY_SHORT`),
    other vocabulary words (lowercase, ``_``) made readable; any other text is returned unchanged."""
    s = str(name)
    if s in STRATEGY_SHORT:
        return STRATEGY_SHORT[s]
    if re.fullmatch(r"[a-z][a-z0-9_]*", s):
        s = s.replace("_", " ")
        return s[:1].upper() + s[1:]
    return s


def num(x: float, digits: int = 2) -> str:
    """Fixed-point number with a typographic minus; ``"NA"`` for NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    s = f"{x:.{digits}f}"
    if s.startswith("-") and float(s) == 0:
        s = s[1:]  # no "-0.00"
    return s.replace("-", MINUS)


def pval(p: float) -> str:
    """p-value as printed in figures: ``p < 0.001`` or ``p = 0.034``."""
    if p is None or math.isnan(p):
        return "p = NA"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def interval(est: float, lo: float, hi: float, digits: int = 2) -> str:
    """``"-0.45 [-0.80, -0.10]"`` with typographic minus signs."""
    return f"{num(est, digits)} [{num(lo, digits)}, {num(hi, digits)}]"


def text_width(s: str, *, bold: bool = False, size: float = FONT_SIZE) -> float:
    """Width of ``s`` in points when drawn with the default font (no renderer needed).

    The sum of the glyphs' advance widths: exact but for kerning, which only narrows text, so the
    result is a tight upper bound; strings with glyphs the font lacks are measured by matplotlib.
    """
    if not s:
        return 0.0
    widths = [_advance(ch, bold) for ch in s if ch != "\n"]
    if "\n" in s or any(w is None for w in widths):
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        prop = FontProperties(size=size, weight="bold" if bold else "normal")
        ttp = TextToPath()
        return float(max(ttp.get_text_width_height_descent(line, prop, ismath=False)[0] for line in s.split("\n")))
    return float(sum(w for w in widths if w is not None)) * size  # none is None here


@functools.cache
def _advance(ch: str, bold: bool) -> float | None:
    """Advance width of one character at 1 pt in the default font, ``None`` if the font lacks it."""
    from matplotlib import ft2font
    from matplotlib.font_manager import FontProperties, findfont, get_font

    if hasattr(ft2font, "LoadFlags"):
        no_hinting = ft2font.LoadFlags.NO_HINTING
    else:  # matplotlib < 3.10; the constant is absent from the stubs of newer versions
        no_hinting = ft2font.LOAD_NO_HINTING  # type: ignore[attr-defined]
    font = get_font(findfont(FontProperties(weight="bold" if bold else "normal")))
    if font.get_char_index(ord(ch)) == 0:
        return None
    font.set_size(100, 72)
    glyph = font.load_char(ord(ch), flags=no_hinting)
    return glyph.linearHoriAdvance / 65536 / 100


def new_axes(width: float, height: float) -> tuple[Axes, tuple[float, float]]:
    """A new pyplot figure of ``width`` x ``height`` inches and its Axes filling it (placed later)."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    return ax, (width, height)


def figure_of(ax: Axes) -> Figure:
    """The Figure ``ax`` is drawn on.

    The layouts measure the figure in inches, so they work on Axes of a top-level Figure (every Axes made
    by :func:`new_axes`, or ``plt.subplots``); matplotlib types ``Axes.figure`` as ``Figure | SubFigure``.
    """
    return cast("Figure", ax.figure)


def place_axes(ax: Axes, *, left: float, right: float, bottom: float, top: float) -> None:
    """Position ``ax`` inside its figure with margins given in inches."""
    w, h = figure_of(ax).get_size_inches()
    ax.set_position((left / w, bottom / h, max(w - left - right, 0.1) / w, max(h - bottom - top, 0.1) / h))


def table_axes(ax: Axes, xlim: tuple[float, float], y_bottom: float) -> None:
    """Axes of a plot whose rows are text tables (forest, summary): x limits, rows from ``y_bottom`` up to
    0.6, only the x axis drawn, transparent background."""
    ax.set_xlim(*xlim)
    ax.set_ylim(y_bottom, 0.6)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=FONT_SIZE)
    ax.patch.set_alpha(0.0)


def axis_texts(ax: Axes, xlabel: str, favours: tuple[str, str] | None, null: float, gid: str | None = None) -> None:
    """The x label under the axis and, with ``favours``, its two texts left and right of ``null``."""
    ax.text(0.5, 0, xlabel, transform=below_axes(ax, 19), ha="center", va="top", fontsize=FONT_SIZE)
    if favours:
        from matplotlib.transforms import ScaledTranslation, blended_transform_factory

        base = blended_transform_factory(ax.transData, ax.transAxes)
        for text, dx, ha in ((f"\u2190 {favours[0]}", -4, "right"), (f"{favours[1]} \u2192", 4, "left")):
            ax.text(null, 0, text, transform=base + ScaledTranslation(dx / 72, -31 / 72, ax.figure.dpi_scale_trans),
                    ha=ha, va="top", fontsize=FONT_SIZE, color=LINE_COLOUR, gid=gid)


def title_above(ax: Axes, title: str, left: float) -> None:
    """Bold title above the axes, starting ``left`` points left of them (where the text columns begin)."""
    ax.text(0, 1, title, transform=below_axes(ax, -8, dx=-left), ha="left", va="bottom", fontsize=FONT_SIZE + 2,
            fontweight="bold")


def nice_limits(lo: float, hi: float, null: float | None = 0.0) -> tuple[float, float]:
    """Axis limits covering ``[lo, hi]`` (and ``null``) with a little padding, rounded outward."""
    vals = [v for v in (lo, hi, null) if v is not None and np.isfinite(v)]
    if not vals:
        return -1.0, 1.0
    a, b = min(vals), max(vals)
    if a == b:
        a, b = a - 1.0, b + 1.0
    pad = 0.05 * (b - a)
    a, b = a - pad, b + pad
    step = 0.5 if b - a > 2 else 0.1 if b - a > 0.4 else 0.05
    return math.floor(a / step) * step, math.ceil(b / step) * step


def offset_points(ax: Axes, dx: float, dy: float = 0.0):  # noqa: ANN201 - a matplotlib Transform
    """Transform: x in axes fraction, y in data units, then shifted by (dx, dy) points."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    base = blended_transform_factory(ax.transAxes, ax.transData)
    return base + ScaledTranslation(dx / 72.0, dy / 72.0, ax.figure.dpi_scale_trans)


def below_axes(ax: Axes, dy: float, dx: float = 0.0):  # noqa: ANN201 - a matplotlib Transform
    """Transform: axes fraction coordinates, shifted ``dx`` points right and ``dy`` points down."""
    from matplotlib.transforms import ScaledTranslation

    return ax.transAxes + ScaledTranslation(dx / 72.0, -dy / 72.0, ax.figure.dpi_scale_trans)
