"""The section API of the report: options, context, outputs and helpers for section functions.

A section is a function ``ReportContext -> SectionOutput | None``. It returns its HTML body (figures
referenced by :func:`figure_ref`), rows for ``results.csv`` (:data:`RESULT_COLUMNS`, see
:func:`result_row`), the matplotlib figures it drew and any extra CSV tables.
It writes nothing: :mod:`whatworks.report.run` renders, writes and embeds. To add a section, write such a
function (one module per section in :mod:`whatworks.report.sections`) and add it to
:data:`whatworks.report.DEFAULT_SECTIONS`; results of earlier sections are in ``ctx.results``
(``"strategy"``: the SubgroupResult, ``"strategy_rows"``: the rows it pooled, ``"finding"``: the
FindingResult).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _dist
from ..model import meta_analyze
from ..plots import _style as st
from .format import Markup, esc, html_table
from .refs import References

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..finding import FindingResult
    from ..results import MetaResult

__all__ = ["FUNNEL_MIN_K", "METRIC_LABELS", "RESULT_COLUMNS", "Markup", "ReportContext", "ReportFigure",
           "ReportOptions", "Section", "SectionOutput", "esc", "figure_ref", "finding_of", "fit_rows", "html_table",
           "participants", "pct", "refs_of", "result_row", "row_columns", "strategy_rows"]

#: Columns of ``results.csv``, one row per analysis x subgroup.
RESULT_COLUMNS = (
    "analysis", "subgroup", "k", "n", "n_unknown", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high",
    "pvalue", "tau2", "i2", "q", "q_df", "q_pvalue", "method", "test",
)  # fmt: skip
#: x-axis labels per metric of the computed yi (negative = less lonely in every case).
METRIC_LABELS = {"SMD": "Hedges' g", "SMCC_diff": "Difference of standardised mean changes (SMCC)",
                 "MD": "Mean difference (scale points)"}
FUNNEL_MIN_K = 10  # funnel plots and asymmetry tests only with at least this many effects (Sterne et al. 2011)
#: Forest plots draw at most this many effect rows. A larger fit gets no forest figure (20,000 rows can be
#: neither drawn in bounded time nor read): its rows go to a CSV table and the page says so.
FOREST_MAX_ROWS = 200
#: Tables of the page with one row per trial show at most this many rows; every row is in the CSV file.
HTML_MAX_ROWS = 200
#: Scatter plots (funnels) with more points than this are rasterised inside the SVG (bounded file size).
RASTER_MIN_POINTS = 1000


class UsageError(ValueError):
    """An option, review id or output folder that cannot be used (exit code 2 on the command line)."""


@dataclass(frozen=True)
class ReportOptions:
    """Analysis options shared by every section (metafor's spellings)."""

    method: str = "REML"
    test: str = "knha"
    level: float = 0.95
    reviews: tuple[str, ...] | None = None


@dataclass
class ReportContext:
    """What sections read: the loaded data, the options, a progress logger and earlier sections' results.

    ``run`` describes the run for the page: ``date`` (ISO; ``SOURCE_DATE_EPOCH`` if set), ``version``
    (of whatworks) and ``fingerprint`` (:func:`whatworks.data.collection_fingerprint` of the collection read).
    """

    effects: pd.DataFrame
    pooled: pd.DataFrame
    catalogue: pd.DataFrame
    options: ReportOptions
    data_root: str
    log: Callable[[str], None] = lambda message: None
    results: dict[str, Any] = field(default_factory=dict)
    risk_of_bias: pd.DataFrame = field(default_factory=pd.DataFrame)
    root: Path | None = None  # the collection folder read (for sections that read review.toml, e.g. PRISMA)
    run: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportFigure:
    """A figure of a section: file stem (``name``), the matplotlib Figure and its caption."""

    name: str
    figure: Figure
    caption: str


@dataclass(frozen=True)
class SectionOutput:
    """What a section contributes: HTML body, results rows, figures and extra CSV files (name, frame)."""

    id: str
    title: str
    html: str
    rows: tuple[Mapping[str, object], ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()


Section = Callable[[ReportContext], "SectionOutput | None"]


# --- helpers for section authors --------------------------------------------------------------------

def figure_ref(name: str) -> str:
    """Placeholder for figure ``name`` in a section's HTML; the writer replaces it with the embedded image."""
    return f"{{{{figure:{name}}}}}"


def _row_n(rows: pd.DataFrame) -> pd.Series:
    """Analysed n of each row: the arm ns summed, else ``n_total`` (Float64, missing when neither is reported)."""
    arms = rows["n_treatment"].astype("Float64") + rows["n_control"].astype("Float64")
    return arms.fillna(rows["n_total"].astype("Float64"))


def participants(rows: pd.DataFrame) -> tuple[float, int]:
    """Total analysed n of ``rows`` (arm ns, else ``n_total``) and how many rows have no n at all."""
    n = _row_n(rows)
    known = n.notna()
    return (float(n[known].sum()) if known.any() else np.nan), int((~known).sum())


def result_row(analysis: str, subgroup: str, fit: MetaResult, rows: pd.DataFrame | None = None) -> dict[str, object]:
    """One ``results.csv`` row from a MetaResult (``rows``: the effects it pooled, for n)."""
    n, n_unknown = participants(rows) if rows is not None else (np.nan, fit.k)
    out = {"analysis": analysis, "subgroup": subgroup, "n": n, "n_unknown": n_unknown}
    for col in RESULT_COLUMNS:
        if col not in out:
            out[col] = getattr(fit, col)
    return out


def row_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """Extra forest-plot columns for effect rows: n, year, control."""
    n = _row_n(rows)
    return pd.DataFrame({"n": n.astype(object).where(n.notna(), None).to_numpy(),
                         "Year": rows["year"].astype(object).to_numpy(),
                         "Control": [st.pretty(c) for c in rows["control"]]})


def forest_table(rows: pd.DataFrame, fit: MetaResult | None = None, level: float = 0.95, **keys: str) -> pd.DataFrame:
    """What a forest plot of ``rows`` would draw, one row per effect: ``keys`` (e.g. ``strategy=...``) as
    columns, then label, yi, vi, se, CI (normal quantile at ``level``) and weight (%) in ``fit`` (the fit
    of these rows, in their order; ``None``: not pooled, no weight), and the rows' n, year and control."""
    if fit is not None:
        frame = fit.study_frame()
    else:
        yi, vi = rows["yi"].to_numpy(float), rows["vi"].to_numpy(float)
        z = float(_dist.norm_ppf(0.5 + level / 2))
        frame = pd.DataFrame({"label": [str(s) for s in rows["study"]], "yi": yi, "vi": vi, "se": np.sqrt(vi),
                              "ci_low": yi - z * np.sqrt(vi), "ci_high": yi + z * np.sqrt(vi), "weight": np.nan})
    for i, (name, value) in enumerate(keys.items()):
        frame.insert(i, name, value)
    extra = row_columns(rows.reset_index(drop=True))
    return pd.concat([frame, extra.rename(columns=str.lower)], axis=1)


def draws_forest(k: int) -> bool:
    """Whether a forest plot of ``k`` effects is drawn (at most :data:`FOREST_MAX_ROWS` rows)."""
    return k <= FOREST_MAX_ROWS


def bounded_table(frame: pd.DataFrame, csv_name: str, **kwargs: Any) -> str:
    """:func:`html_table` (``kwargs`` passed on) of the first :data:`HTML_MAX_ROWS` rows, saying where all
    rows are when cut."""
    if len(frame) <= HTML_MAX_ROWS:
        return html_table(frame, **kwargs)
    return (html_table(frame.head(HTML_MAX_ROWS), **kwargs)
            + f"<p>{HTML_MAX_ROWS} of {len(frame):,} rows shown; all rows: {esc(csv_name)}.</p>")


def too_many_rows(what: str, k: int, table: str, *, unit: str = "effects", figure: str = "a forest plot",
                  contents: str = "every effect's estimate, CI and weight") -> str:
    """The sentence shown instead of a one-row-per-trial figure of more than :data:`FOREST_MAX_ROWS` rows."""
    return (f"<p>{esc(what)}: {k:,} {esc(unit)}, more than the {FOREST_MAX_ROWS} rows {esc(figure)} draws; "
            f"{esc(contents)} are in {esc(table)}.</p>")


def fit_rows(rows: pd.DataFrame, options: ReportOptions) -> MetaResult:
    """Random-effects fit of effect rows (labels: the source's study label)."""
    return meta_analyze(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), method=options.method,
                        test=options.test, level=options.level, labels=[str(s) for s in rows["study"]])


def strategy_rows(effects: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Rows of the strategy analysis and the rule that chose them, in words.

    The finding's primary selection (:func:`whatworks.finding.select.primary_frame`): poolable
    standardised mean differences of RCTs, one effect per trial, a trial coded in several review
    folders taken from the living review when it is coded there.
    """
    from ..finding.select import primary_frame

    chosen = primary_frame(effects)
    candidates = effects[effects["pool"] & (effects["metric"] == "SMD") & (effects["design"] == "rct")]
    dropped = len(candidates) - len(chosen)
    rule = (f"Rows with a computable Hedges' g (metric SMD, not excluded) from randomised trials: "
            f"{len(chosen)} effects from {chosen['study_id'].nunique()} trials, one per trial. A trial coded in "
            f"several review folders is taken from the living review when it is coded there ({dropped} "
            f"duplicate row(s) left out; every row's reason is in finding_selection.csv).")
    return chosen, rule


def pct(level: float) -> str:
    return f"{100 * level:g}%"


def refs_of(ctx: ReportContext) -> References:
    """The report's citations (made from the catalogue on first use; the references section lists them)."""
    refs = ctx.results.get("refs")
    if not isinstance(refs, References):
        refs = References.from_catalogue(ctx.catalogue)
        ctx.results["refs"] = refs
    return refs


def finding_of(ctx: ReportContext) -> FindingResult | None:
    """The strategy finding with the report's options, computed once and shared by the sections that show
    it (``ctx.results["finding"]``); ``None`` when the data hold no social cognition rows to test it with."""
    if "finding" in ctx.results:
        return ctx.results["finding"]
    from ..finding import run_finding

    from ..finding.select import primary_frame

    effects = ctx.effects
    res = None
    # social cognition rows coded, and at least one of them a randomised trial with a computable g
    if not effects.empty and (effects["strategy"] == "social_cognition").fillna(False).any() \
            and (primary_frame(effects)["strategy"] == "social_cognition").any():
        ctx.log("the finding: pooling per strategy, the contrast, sensitivity analyses and claims")
        o = ctx.options
        res = run_finding(effects, ctx.pooled, catalogue=ctx.catalogue, method=o.method, test=o.test)
    ctx.results["finding"] = res
    return res
