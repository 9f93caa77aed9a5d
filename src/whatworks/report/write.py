"""Writing the report: results.csv and the other tables (rounded, byte-identical), figures and report.html.

The only module of the package that writes files.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import SupportsFloat, cast

import numpy as np
import pandas as pd

from .api import RESULT_COLUMNS, ReportContext, ReportFigure, SectionOutput
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


def write_report(outputs: list[SectionOutput], out: Path, formats: tuple[str, ...], readme: str | Path | None,
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
    say(f"drawing {len(figures)} figures ({', '.join(formats)}; {jobs} process{'es' if jobs > 1 else ''})")
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
    how = "Knapp-Hartung" if o.test == "knha" else "Wald z"
    intro = (f"Data: {len(ctx.effects):,} coded effects from {len(ctx.catalogue)} reviews. Model: {o.method} "
             f"with {how} tests. Regenerate with <code>python -m whatworks.report</code>; every number is in "
             f"<a href=\"results.csv\">results.csv</a> and the other CSV files next to this page.")
    page = render_page("What works against loneliness: the evidence, reproduced", intro, outputs, embedded)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    files.append(path)
    seconds = time.perf_counter() - start
    say(f"wrote {len(files)} files into {out} in {seconds:.1f} s")
    say(f"open the report: {path}")
    return ReportOutput(out, tuple(files), results, seconds)
