"""Publication-grade figures: forest, funnel, "what works" summary, risk-of-bias plots and the PRISMA 2020 flow diagram.

Every function draws on a given matplotlib ``ax`` (or on a new figure sized to the content when
``ax=None``) and returns the Axes; nothing is shown or saved here. ``matplotlib.pyplot`` is imported
only when a function creates a figure, never when :mod:`whatworks` is imported. Colours are the
Okabe-Ito colour-blind-safe palette; :func:`deterministic` fixes what makes saved files differ between
runs.
"""

from ._style import OKABE_ITO, STRATEGY_COLOURS, deterministic
from .forest import forest_plot
from .funnel import funnel_plot
from .prisma import prisma_plot
from .rob import ROB_COLOURS, ROB_SYMBOLS, rob_summary_plot, traffic_light_plot
from .summary import SUMMARY_COLUMNS, summary_plot, summary_table

__all__ = [
    "OKABE_ITO",
    "ROB_COLOURS",
    "ROB_SYMBOLS",
    "STRATEGY_COLOURS",
    "SUMMARY_COLUMNS",
    "deterministic",
    "forest_plot",
    "funnel_plot",
    "prisma_plot",
    "rob_summary_plot",
    "summary_plot",
    "summary_table",
    "traffic_light_plot",
]
