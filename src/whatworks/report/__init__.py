"""``python -m whatworks.report``: every figure and table of the project from the coded data, in one command.

The package owns the report: :mod:`~whatworks.report.api` (what a section reads and returns),
:mod:`~whatworks.report.sections` (one module per section), :mod:`~whatworks.report.run` (validate, load,
run the sections), :mod:`~whatworks.report.render` and :mod:`~whatworks.report.write` (the only code
that writes files), :mod:`~whatworks.report.page` (the HTML page) and :mod:`~whatworks.report.cli`.
Nothing else in whatworks imports it.
"""

from __future__ import annotations

from .api import (
    RESULT_COLUMNS,
    ReportContext,
    ReportFigure,
    ReportOptions,
    Section,
    SectionOutput,
    figure_ref,
    html_table,
    result_row,
)
from .cli import build_parser, main
from .render import default_jobs, render_all, render_figure
from .run import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, FORMATS, UsageError, run_report
from .sections import DEFAULT_SECTIONS
from .write import README_FIGURES, ReportOutput, results_csv, results_frame

__all__ = [
    "DEFAULT_SECTIONS", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "FORMATS", "README_FIGURES", "RESULT_COLUMNS",
    "ReportContext", "ReportFigure", "ReportOptions", "ReportOutput", "Section", "SectionOutput", "UsageError",
    "build_parser", "default_jobs", "figure_ref", "html_table", "main", "render_all", "render_figure", "result_row",
    "results_csv", "results_frame", "run_report",
]  # fmt: skip
