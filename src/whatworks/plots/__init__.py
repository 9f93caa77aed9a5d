"""Publication-grade figures: forest, funnel, "what works" summary, risk-of-bias plots, the PRISMA 2020 flow
diagram, and the diagnostics of publication bias and sensitivity (Baujat, GOSH, bubble, cumulative forest, radial).

Every function draws on a given matplotlib ``ax`` (or on a new figure sized to the content when
``ax=None``) and returns the Axes; nothing is shown or saved here. ``matplotlib.pyplot`` is imported
only when a function creates a figure, never when :mod:`whatworks` is imported. Colours are the
Okabe-Ito colour-blind-safe palette; :func:`deterministic` fixes what makes saved files differ between
runs.
"""

from ._style import OKABE_ITO, STRATEGY_COLOURS, deterministic
from .bubble import bubble_plot
from .cumulative import cumulative_forest_plot
from .diagnostics import baujat_plot, radial_plot
from .forest import forest_plot
from .funnel import funnel_plot
from .gosh import gosh_plot
from .prisma import prisma_plot
from .rob import ROB_COLOURS, ROB_SYMBOLS, rob_summary_plot, traffic_light_plot
from .summary import SUMMARY_COLUMNS, summary_plot, summary_table

__all__ = [
    "OKABE_ITO",
    "ROB_COLOURS",
    "ROB_SYMBOLS",
    "STRATEGY_COLOURS",
    "SUMMARY_COLUMNS",
    "baujat_plot",
    "bubble_plot",
    "cumulative_forest_plot",
    "deterministic",
    "forest_plot",
    "funnel_plot",
    "gosh_plot",
    "radial_plot",
    "prisma_plot",
    "rob_summary_plot",
    "summary_plot",
    "summary_table",
    "traffic_light_plot",
]
