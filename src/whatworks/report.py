"""``python -m whatworks.report``: every figure and table of the project from the coded data, in one command.

The report is a sequence of sections (:data:`DEFAULT_SECTIONS`, see :mod:`whatworks._report_api`); this
module loads and validates the data, runs the sections, and is the only place that writes files:

``OUT/report.html``
    self-contained page (figures embedded, tables, methods paragraph);
``OUT/results.csv``
    one row per analysis x subgroup (:data:`RESULT_COLUMNS`), rounded, sorted, byte-identical across runs;
``OUT/figures/NAME.png`` / ``.svg``
    every figure, with fixed metadata so that reruns give identical files.

Exit codes: 0 ok, 1 problems in the data (printed as ``file:row:column: message``), 2 usage errors.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, SupportsFloat, cast

import numpy as np
import pandas as pd

from ._report_api import (
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
from ._report_html import figure_html, render_page
from ._report_sections import section_data, section_methods, section_overlap, section_reviews, section_strategies
from .data import DataValidationError, list_reviews, load_pooled, load_reviews, validate
from .data.validate import resolve_root
from .estimators import METHODS
from .finding.report_section import section_finding
from .model import TESTS

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "DEFAULT_SECTIONS", "RESULT_COLUMNS", "ReportContext", "ReportFigure", "ReportOptions", "ReportOutput",
    "Section", "SectionOutput", "UsageError", "default_jobs", "figure_ref", "html_table", "main", "render_all",
    "render_figure", "result_row", "run_report",
]  # fmt: skip

#: The sections of the report, in order. Add a section by appending a function ``ReportContext -> SectionOutput``.
DEFAULT_SECTIONS: tuple[Section, ...] = (section_strategies, section_finding, section_reviews, section_overlap,
                                         section_data, section_methods)
FORMATS = ("png", "svg")
DPI = 150
EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
#: README figures written by ``--readme-figures DIR``: file name -> figure name.
README_FIGURES = {"summary.png": "summary", "forest_living.png": "forest_review_living"}
#: Rounding of results.csv: decimals per column; p-values keep 4 significant digits.
DECIMALS = {"n": 0, "estimate": 4, "se": 4, "ci_low": 4, "ci_high": 4, "pi_low": 4, "pi_high": 4, "tau2": 4,
            "i2": 2, "q": 4}
SIGNIFICANT = {"pvalue": 4, "q_pvalue": 4}


class UsageError(ValueError):
    """An option or review id that cannot be used (exit code 2 on the command line)."""


@dataclass(frozen=True)
class ReportOutput:
    """What :func:`run_report` wrote: the folder, the files, the results table and the time it took (s)."""

    out: Path
    files: tuple[Path, ...]
    results: pd.DataFrame
    seconds: float


def render_figure(fig: Figure, fmt: str, dpi: int = DPI) -> bytes:
    """The bytes of ``fig`` saved as ``fmt`` ("png" or "svg"), identical across runs."""
    from .plots import deterministic

    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with deterministic():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
    return buf.getvalue()


def default_jobs() -> int:
    """Processes for rendering: up to 4 on Linux (figures are shared by ``fork``), else 1."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(4, len(os.sched_getaffinity(0))))


_PENDING: list[Figure] = []  # figures handed to forked render processes


def _render_one(task: tuple[int, tuple[str, ...]]) -> tuple[int, dict[str, bytes]]:
    i, formats = task
    return i, {fmt: render_figure(_PENDING[i], fmt) for fmt in formats}


def render_all(figures: Sequence[Figure], formats: Sequence[str], jobs: int = 1) -> list[dict[str, bytes]]:
    """Render every figure in every format; with ``jobs > 1``, in forked processes (largest first).

    Each figure is rendered by exactly one process with the same settings, so the bytes are the same
    whatever ``jobs`` is.
    """
    formats = tuple(formats)
    if jobs <= 1 or len(figures) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [{fmt: render_figure(fig, fmt) for fmt in formats} for fig in figures]
    order = sorted(range(len(figures)), key=lambda i: -float(np.prod(figures[i].get_size_inches())))
    _PENDING[:] = list(figures)
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns about fork() in a process with (BLAS) threads; the children only render
            warnings.filterwarnings("ignore", message=".*multi-threaded.*fork", category=DeprecationWarning)
            with multiprocessing.get_context("fork").Pool(min(jobs, len(figures))) as pool:
                results = dict(pool.imap_unordered(_render_one, [(i, formats) for i in order], chunksize=1))
    finally:
        _PENDING.clear()
    return [results[i] for i in range(len(figures))]


def results_frame(rows: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Rows of every section as one table: columns :data:`RESULT_COLUMNS`, sorted by analysis, then
    subgroup with ``overall`` last."""
    frame = pd.DataFrame([{c: r.get(c) for c in RESULT_COLUMNS} for r in rows], columns=list(RESULT_COLUMNS))
    key = frame.assign(_overall=frame["subgroup"] == "overall")
    order = key.sort_values(["analysis", "_overall", "subgroup"], kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _cell(col: str, x: object) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    if col in DECIMALS:  # numeric columns of results.csv
        return f"{float(cast(SupportsFloat, x)):.{DECIMALS[col]}f}"
    if col in SIGNIFICANT or col.endswith("pvalue"):
        return f"{float(cast(SupportsFloat, x)):.{SIGNIFICANT.get(col, 4)}g}"
    if isinstance(x, (float, np.floating)):  # other numbers (the sections' tables): 4 decimals
        return str(int(x)) if float(x).is_integer() else f"{float(x):.4f}"
    return str(x)


def results_csv(frame: pd.DataFrame) -> str:
    """CSV text of a results table: rounded as :data:`DECIMALS` / :data:`SIGNIFICANT` (p-values), other
    numbers to 4 decimals, whole numbers as integers, missing values empty."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([_cell(c, x) for c, x in zip(frame.columns, row, strict=True)])
    return buf.getvalue()


def run_report(
    *,
    data: str | Path | None = None,
    out: str | Path = "reports",
    method: str = "REML",
    test: str = "knha",
    level: float = 0.95,
    formats: Sequence[str] = FORMATS,
    reviews: Sequence[str] | None = None,
    sections: Sequence[Section] = DEFAULT_SECTIONS,
    readme_figures: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    jobs: int | None = None,
) -> ReportOutput:
    """Validate and load the data, run ``sections`` and write the report into ``out``.

    Parameters
    ----------
    data : str or Path, optional
        Folder of review folders (default: the bundled data).
    out : str or Path
        Output folder, created if needed; files of earlier runs with the same names are replaced.
    method, test, level
        Options of every fit (metafor's spellings): tau² estimator, "knha" or "z", confidence level.
    formats : sequence of {"png", "svg"}
        Figure files to write; the HTML embeds the SVG when written, else the PNG.
    reviews : sequence of str, optional
        Review ids to analyse (default: all).
    sections : sequence of callables
        The sections, in order (default :data:`DEFAULT_SECTIONS`).
    readme_figures : str or Path, optional
        Also write the README figures (:data:`README_FIGURES`, PNG) into this folder.
    log : callable, optional
        Receives one progress message per step.
    jobs : int, optional
        Processes rendering the figures (default :func:`default_jobs`); the files do not depend on it.

    Returns
    -------
    ReportOutput

    Raises
    ------
    DataValidationError
        If the data have errors (``problems`` lists them all); nothing is written.
    UsageError
        For an unknown option or review id (a ValueError). FileNotFoundError: ``data`` is not a folder.

    Examples
    --------
    >>> import tempfile
    >>> from whatworks.report import run_report
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res = run_report(out=tmp, formats=["svg"], sections=[])
    ...     sorted(p.name for p in res.files)
    ['report.html', 'results.csv']
    """
    start = time.perf_counter()
    say = log or (lambda message: None)
    if method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    if test not in TESTS:
        raise UsageError(f"test must be one of {', '.join(TESTS)}; got {test!r}")
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"formats must be one or more of {', '.join(FORMATS)}; got {list(formats)}")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1), e.g. 0.95; got {level!r}")
    root = resolve_root(data)
    say(f"validating {root}")
    problems = validate(root)
    if any(p.is_error for p in problems):
        raise DataValidationError(problems)
    for p in problems:
        say(str(p))
    ids = tuple(reviews) if reviews else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings were reported by validate() above
        catalogue = list_reviews(root)
        unknown = [r for r in ids or () if r not in set(catalogue["review"])]
        if unknown:
            raise UsageError(f"unknown review id(s): {', '.join(unknown)}; available: "
                             f"{', '.join(catalogue['review'])}")
        effects = load_reviews(root, reviews=ids)
        pooled = load_pooled(root, reviews=ids)
    if ids:
        catalogue = catalogue[catalogue["review"].isin(ids)].reset_index(drop=True)
    say(f"loaded {len(effects)} effects ({int(effects['pool'].sum())} poolable) and {len(pooled)} published "
        f"results from {len(catalogue)} reviews")
    where = "the bundled data (data/reviews)" if data is None else str(data)  # no absolute paths: same page anywhere
    ctx = ReportContext(effects, pooled, catalogue, ReportOptions(method, test, level, ids), where, say)

    outputs: list[SectionOutput] = []
    for section in sections:
        say(f"section {section.__name__}")
        result = section(ctx)
        if result is not None:
            outputs.append(result)
    jobs = default_jobs() if jobs is None else max(1, int(jobs))
    return _write(outputs, Path(out), tuple(formats), readme_figures, ctx, say, start, jobs)


def _write(outputs: list[SectionOutput], out: Path, formats: tuple[str, ...], readme: str | Path | None,
           ctx: ReportContext, say: Callable[[str], None], start: float, jobs: int) -> ReportOutput:
    import matplotlib.pyplot as plt

    figdir = out / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    embedded: dict[str, str] = {}
    figures: list[ReportFigure] = [f for s in outputs for f in s.figures]
    names = [f.name for f in figures]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"two sections drew figures with the same name: {', '.join(dupes)}")
    say(f"writing {len(figures)} figures ({', '.join(formats)}; {jobs} process{'es' if jobs > 1 else ''})")
    embed_fmt = "svg" if "svg" in formats else "png"
    rendered = render_all([f.figure for f in figures], formats, jobs)
    for f, data in zip(figures, rendered, strict=True):
        for fmt in formats:
            path = figdir / f"{f.name}.{fmt}"
            path.write_bytes(data[fmt])
            files.append(path)
        embedded[f.name] = figure_html(f.name, f.caption, data[embed_fmt], embed_fmt,
                                       [f"figures/{f.name}.{fmt}" for fmt in formats])
        if readme is not None and f.name in README_FIGURES.values():
            target = Path(readme)
            target.mkdir(parents=True, exist_ok=True)
            fname = next(k for k, v in README_FIGURES.items() if v == f.name)
            (target / fname).write_bytes(data["png"] if "png" in data else render_figure(f.figure, "png"))
            files.append(target / fname)
        plt.close(f.figure)

    results = results_frame([r for s in outputs for r in s.rows])
    path = out / "results.csv"
    path.write_text(results_csv(results), encoding="utf-8")
    files.append(path)
    for s in outputs:
        for name, table in s.tables:
            path = out / f"{name}.csv"
            path.write_text(results_csv(table), encoding="utf-8")
            files.append(path)
    o = ctx.options
    intro = (f"Data: {len(ctx.effects)} coded effects from {len(ctx.catalogue)} reviews. Model: "
             f"method = {o.method}, test = {o.test}. Regenerate with <code>python -m whatworks.report</code>; "
             f"numbers: <a href=\"results.csv\">results.csv</a>.")
    page = render_page("What works against loneliness: the evidence, reproduced", intro, outputs, embedded)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    files.append(path)
    seconds = time.perf_counter() - start
    say(f"wrote {len(files)} files into {out} in {seconds:.1f} s")
    return ReportOutput(out, tuple(files), results, seconds)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``python -m whatworks.report``."""
    p = argparse.ArgumentParser(
        prog="python -m whatworks.report",
        description="Validate the coded review data, run every analysis and write figures (PNG/SVG), results.csv "
                    "and a self-contained report.html. Exit codes: 0 ok, 1 data problems, 2 usage errors.")
    p.add_argument("--data", metavar="DIR", help="folder of review folders (default: the bundled data)")
    p.add_argument("--out", metavar="DIR", default="reports", help="output folder (default: reports/)")
    p.add_argument("--method", default="REML", choices=METHODS, help="tau² estimator (default: REML)")
    p.add_argument("--test", default="knha", choices=TESTS,
                   help="inference: knha (Knapp-Hartung, default) or z (Wald)")
    p.add_argument("--format", nargs="+", default=list(FORMATS), choices=FORMATS, dest="formats", metavar="FMT",
                   help="figure formats to write: png, svg (default: both)")
    p.add_argument("--review", nargs="+", metavar="ID", dest="reviews", help="analyse only these review ids")
    p.add_argument("--readme-figures", metavar="DIR",
                   help="also write the README figures (summary.png, forest_living.png) into DIR, e.g. docs/figures")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="processes rendering figures (default: up to 4 on Linux, 1 elsewhere; output is the same)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the report command with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    Examples
    --------
    >>> main(["--method", "nonsense"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    import matplotlib

    matplotlib.use("Agg")  # a command never opens windows

    def log(message: str) -> None:
        if not args.quiet:
            print(f"report: {message}", file=sys.stderr, flush=True)

    try:
        run_report(data=args.data, out=args.out, method=args.method, test=args.test, formats=args.formats,
                   reviews=args.reviews, readme_figures=args.readme_figures, log=log, jobs=args.jobs)
    except DataValidationError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"report: the data have errors; nothing written (fix them, then: whatworks validate "
              f"{args.data or ''})".rstrip(), file=sys.stderr)
        return EXIT_PROBLEMS
    except (UsageError, FileNotFoundError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
