"""Writing the report: results.csv and the other tables (rounded, byte-identical), figures and report.html.

The only module of the package that writes files. The report is written into a fresh folder next to
the target and moved into place when complete (:func:`write_report`).
"""

from __future__ import annotations

import math
import os
import secrets
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd

from .._csvout import csv_text
from .api import RESULT_COLUMNS, ReportContext, ReportFigure, SectionOutput, UsageError
from .page import figure_html, render_page
from .render import render_all, render_figure

#: README figures written by ``--readme-figures DIR``: file name -> figure name.
README_FIGURES = {"summary.png": "summary", "forest_living.png": "forest_review_living"}
#: Rounding of results.csv: decimals per column; p-values keep 4 significant digits.
DECIMALS = {"n": 0, "estimate": 4, "se": 4, "ci_low": 4, "ci_high": 4, "pi_low": 4, "pi_high": 4, "tau2": 4,
            "i2": 2, "q": 4}
SIGNIFICANT = {"pvalue": 4, "q_pvalue": 4}


@dataclass(frozen=True)
class ReportOutput:
    """What :func:`whatworks.report.run_report` wrote: the folder, the files, the results table and the time it took (s)."""

    out: Path
    files: tuple[Path, ...]
    results: pd.DataFrame
    seconds: float


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
        return _fixed(float(cast(SupportsFloat, x)), DECIMALS[col])
    if col in SIGNIFICANT or col.endswith("pvalue"):
        return f"{float(cast(SupportsFloat, x)):.{SIGNIFICANT.get(col, 4)}g}"
    if isinstance(x, (float, np.floating)):  # other numbers (the sections' tables): 4 decimals
        return str(int(x)) if float(x).is_integer() else _fixed(float(x), 4)
    return str(x)


def _fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals; a value that rounds to zero has no sign (not ``-0.0000``)."""
    text = f"{x:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0 else text


def results_csv(frame: pd.DataFrame) -> str:
    """CSV text of a results table: rounded as :data:`DECIMALS` / :data:`SIGNIFICANT` (p-values), other
    numbers to 4 decimals, whole numbers as integers, missing values empty; a text cell that a
    spreadsheet would run as a formula is prefixed with ``'`` (:func:`whatworks._csvout.safe_cell`)."""
    cols = [str(c) for c in frame.columns]
    rows = ([_cell(c, x) for c, x in zip(cols, row, strict=True)] for row in frame.itertuples(index=False))
    return csv_text(cols, rows)


def write_report(outputs: list[SectionOutput], out: Path, formats: tuple[str, ...], readme: str | Path | None,
           ctx: ReportContext, say: Callable[[str], None], start: float, jobs: int) -> ReportOutput:
    """Write everything into a fresh folder next to ``out`` and move it into place when complete.

    Files of an earlier run never sit beside new ones, and a run that fails leaves the previous report
    as it was. ``out`` must be missing, empty or an earlier report (:data:`MARKER`); the README figures
    go into ``readme`` (inside ``out`` with the report, else each file replaced on its own).
    """
    out = Path(out)
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_folder(out.parent, f".{out.name}.partial-")
    inside = readme is not None and _within(Path(readme), out)
    try:
        readme_tmp = tmp / Path(readme).absolute().relative_to(out.absolute()) if readme is not None and inside \
            else None
        names, results, readme_bytes = _write_into(tmp, outputs, formats, readme_tmp, ctx, say, jobs)
        (tmp / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = [out / n for n in names]
    if readme is not None and not inside:  # outside the report folder: one file at a time, each complete
        target = Path(readme)
        target.mkdir(parents=True, exist_ok=True)
        for fname, png in readme_bytes.items():
            part = target / f".{fname}.partial"
            part.write_bytes(png)
            os.replace(part, target / fname)
            files.append(target / fname)
    seconds = time.perf_counter() - start
    say(f"wrote {len(files)} files into {out} in {seconds:.1f} s")
    say(f"open the report: {out / 'report.html'}")
    return ReportOutput(out, tuple(files), results, seconds)


#: File that marks a folder as a report written by whatworks (the next run replaces the folder whole).
MARKER = ".whatworks-report"
MARKER_TEXT = ("Written by python -m whatworks.report. The next run replaces this folder as a whole: keep no "
               "other files in it.\n")


def check_target(out: Path) -> None:
    """Refuse an output folder whose replacement would delete files that are not a report's."""
    here = Path.cwd().resolve()
    if out.exists() and (out.resolve() == here or out.resolve() in here.parents):
        raise UsageError(f"--out {out} is the working directory (or holds it); write the report into its own "
                         "folder, e.g. --out reports")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() \
            and not ((out / "report.html").is_file() and (out / "results.csv").is_file()):
        raise UsageError(f"--out {out} holds files that are not a whatworks report; the report replaces its "
                         "folder as a whole, so choose an empty or new folder")


def _within(path: Path, folder: Path) -> bool:
    return path.absolute().is_relative_to(folder.absolute())


def _fresh_folder(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/prefix<random>`` (created with the user's umask, unlike mkdtemp's 0700)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue


def _swap(new: Path, out: Path) -> None:
    """Put the finished folder ``new`` at ``out``; the earlier report (if any) is removed after."""
    if not out.exists():
        os.rename(new, out)
        return
    old = _fresh_folder(out.parent, f".{out.name}.old-")
    old.rmdir()
    os.rename(out, old)
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)  # put the earlier report back
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_into(folder: Path, outputs: list[SectionOutput], formats: tuple[str, ...], readme: Path | None,
                ctx: ReportContext, say: Callable[[str], None], jobs: int,
                ) -> tuple[list[str], pd.DataFrame, dict[str, bytes]]:
    """Write the report's files into ``folder``; return their names relative to it, the results table
    and the README figures' bytes (also written into ``readme`` when given)."""
    import matplotlib.pyplot as plt

    figdir = folder / "figures"
    figdir.mkdir()
    names: list[str] = []
    embedded: dict[str, str] = {}
    readme_bytes: dict[str, bytes] = {}
    figures: list[ReportFigure] = [f for s in outputs for f in s.figures]
    fig_names = [f.name for f in figures]
    dupes = sorted({n for n in fig_names if fig_names.count(n) > 1})
    if dupes:
        raise ValueError(f"two sections drew figures with the same name: {', '.join(dupes)}")
    say(f"drawing {len(figures)} figures ({', '.join(formats)}; {jobs} process{'es' if jobs > 1 else ''})")
    embed_fmt = "svg" if "svg" in formats else "png"
    rendered = render_all([f.figure for f in figures], formats, jobs)
    for f, data in zip(figures, rendered, strict=True):
        for fmt in formats:
            (figdir / f"{f.name}.{fmt}").write_bytes(data[fmt])
            names.append(f"figures/{f.name}.{fmt}")
        embedded[f.name] = figure_html(f.name, f.caption, data[embed_fmt], embed_fmt,
                                       [f"figures/{f.name}.{fmt}" for fmt in formats])
        if f.name in README_FIGURES.values():
            fname = next(k for k, v in README_FIGURES.items() if v == f.name)
            readme_bytes[fname] = data["png"] if "png" in data else render_figure(f.figure, "png")
        plt.close(f.figure)
    if readme is not None:
        readme.mkdir(parents=True, exist_ok=True)
        for fname, png in readme_bytes.items():
            (readme / fname).write_bytes(png)
            names.append((readme / fname).relative_to(folder).as_posix())

    results = results_frame([r for s in outputs for r in s.rows])
    (folder / "results.csv").write_text(results_csv(results), encoding="utf-8")
    names.append("results.csv")
    for s in outputs:
        for name, table in s.tables:
            (folder / f"{name}.csv").write_text(results_csv(table), encoding="utf-8")
            names.append(f"{name}.csv")
    o = ctx.options
    how = "Knapp-Hartung" if o.test == "knha" else "Wald z"
    intro = (f"Data: {len(ctx.effects):,} coded effects from {len(ctx.catalogue)} reviews. Model: {o.method} "
             f"with {how} tests. Regenerate with <code>python -m whatworks.report</code>; every number is in "
             f"<a href=\"results.csv\">results.csv</a> and the other CSV files next to this page.")
    page = render_page("What works against loneliness: the evidence, reproduced", intro, outputs, embedded)
    (folder / "report.html").write_text(page, encoding="utf-8")
    names.append("report.html")
    return names, results, readme_bytes
