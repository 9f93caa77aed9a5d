"""Rows of a forest plot, top to bottom, with their texts: what :func:`~whatworks.plots.forest_plot` draws."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeGuard, cast

import numpy as np
import pandas as pd

from . import _style as st

if TYPE_CHECKING:  # pragma: no cover
    from ..results import MetaResult
    from ..subgroups import Skipped, SubgroupResult


@dataclass
class Row:
    kind: str  # header, group, study, diamond, pi, het, blank
    cells: list[str] = field(default_factory=list)  # left columns (label first)
    right: list[str] = field(default_factory=list)  # right columns (estimate [CI], weight)
    est: float = np.nan
    lo: float = np.nan
    hi: float = np.nan
    weight: float = np.nan
    colour: str = st.STUDY_COLOUR
    overall: bool = False


def is_subgroup(result: MetaResult | SubgroupResult) -> TypeGuard[SubgroupResult]:
    """A subgroup analysis: anything with ``groups`` and ``overall`` (see :func:`~whatworks.plots.forest_plot`)."""
    return hasattr(result, "groups") and hasattr(result, "overall")


def _model_name(fit: MetaResult) -> str:
    return "Common-effect model" if getattr(fit, "method", "") == "EE" else "Random-effects model"


def _het_text(fit: MetaResult) -> str:
    """tau², I² (left out when undefined, e.g. per subgroup with a common tau²) and Cochran's Q."""
    i2 = "" if np.isnan(fit.i2) else f"I\u00b2 = {st.num(fit.i2, 0)}%; "
    return (f"\u03c4\u00b2 = {st.num(fit.tau2, 3)}; {i2}"
            f"Q = {st.num(fit.q, 2)}, df = {fit.q_df}, {st.pval(fit.q_pvalue)}")


def _effect_test(fit: MetaResult) -> str:
    stat = f"t({fit.df:g})" if getattr(fit, "test", "z") == "knha" else "z"
    return f"Test for overall effect: {stat} = {st.num(fit.stat, 2)}, {st.pval(fit.pvalue)}"


def _between_text(sub: SubgroupResult) -> str:
    df2 = getattr(sub, "q_between_df2", None)
    if df2 is not None:  # F test (common tau2 with Knapp-Hartung)
        stat = f"F({sub.q_between_df}, {df2}) = {st.num(sub.q_between, 2)}"
    else:
        stat = f"Q = {st.num(sub.q_between, 2)}, df = {sub.q_between_df}"
    return f"Test for subgroup differences: {stat}, {st.pval(sub.q_between_pvalue)}"


def _skipped_text(skipped: Sequence[Skipped]) -> str:
    """Skipped subgroups by name with the reason; skipped rows as a count (items: kind, key, reason)."""
    groups = [f"{st.pretty(key)} ({reason})" if reason else st.pretty(key)
              for kind, key, reason in skipped if kind != "row"]
    rows = sum(1 for kind, _, _ in skipped if kind == "row")
    parts = []
    if groups:
        parts.append("Subgroups not pooled (their studies count in the overall model but are not drawn): "
                     + "; ".join(groups))
    if rows:
        parts.append(f"{rows} row(s) left out for missing values")
    return ". ".join(parts)


def _order(fit: MetaResult, labels: Sequence[str], sort: str | None) -> np.ndarray:
    idx = np.arange(fit.k)
    if sort == "estimate":
        return idx[np.argsort(np.asarray(fit.yi), kind="stable")]
    if sort == "weight":
        return idx[np.argsort(-np.asarray(fit.weights), kind="stable")]
    if sort == "label":
        return np.array(sorted(idx, key=lambda i: (str(labels[int(i)]).lower(), i)), dtype=int)
    return idx


def _cell(x: object) -> str:
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return "NA"
    if isinstance(x, (float, np.floating)):
        return str(int(x)) if float(x).is_integer() else st.num(float(x), 2)
    return str(x)


def _study_rows(fit: MetaResult, labels: Sequence[str], cells: list[list[str]], sort: str | None,
                colour: str, tf: Callable[[np.ndarray], np.ndarray]) -> list[Row]:
    frame = fit.study_frame()
    rows = []
    for i in _order(fit, labels, sort):
        est, lo, hi = (float(tf(np.asarray(frame[c].iloc[i]))) for c in ("yi", "ci_low", "ci_high"))
        rows.append(Row("study", [str(labels[i]), *cells[i]], [st.interval(est, lo, hi), f"{fit.weights[i]:.1f}"],
                         est, lo, hi, float(fit.weights[i]), colour))
    return rows


def _pooled_rows(fit: MetaResult, label: str, tf: Callable[[np.ndarray], np.ndarray], show_pi: bool, overall: bool,
                 colour: str) -> list[Row]:
    est, lo, hi = (float(tf(np.asarray(getattr(fit, a)))) for a in ("estimate", "ci_low", "ci_high"))
    rows = [Row("diamond", [label], [st.interval(est, lo, hi), "100.0" if overall else ""],
                 est, lo, hi, colour=colour, overall=overall)]
    if show_pi and fit.k >= 3:
        plo, phi = float(tf(np.asarray(fit.pi_low))), float(tf(np.asarray(fit.pi_high)))
        rows.append(Row("pi", [f"{100 * fit.level:g}% prediction interval"],
                         [f"[{st.num(plo)}, {st.num(phi)}]", ""], est, plo, phi, colour=colour))
    return rows


def build_rows(result: MetaResult | SubgroupResult, labels: Sequence[str] | None, columns: pd.DataFrame | None,
                sort: str | None, show_pi: bool,
                tf: Callable[[np.ndarray], np.ndarray],
                colour: str | None = None) -> tuple[list[Row], list[str], bool]:
    """Rows top to bottom, the foot lines and whether the result is a subgroup analysis."""
    sub = result if is_subgroup(result) else None
    # not a subgroup analysis: by the signature, a MetaResult
    fits = list(sub.groups.values()) if sub is not None else [cast("MetaResult", result)]
    n = sum(f.k for f in fits)
    labs = list(labels) if labels is not None else [lab for f in fits for lab in f.labels]
    if len(labs) != n:
        raise ValueError(f"labels must have one entry per study: got {len(labs)} for {n} studies")
    if columns is not None and len(columns) != n:
        raise ValueError(f"columns must have one row per study in the result's order: got {len(columns)} "
                         f"rows for {n} studies")
    cells = ([[_cell(x) for x in row] for row in columns.itertuples(index=False)] if columns is not None
             else [[] for _ in range(n)])
    ncol = 1 + (0 if columns is None else columns.shape[1])
    pad = [""] * (ncol - 1)
    rows: list[Row] = []
    start = 0
    if sub is None:
        (fit,) = fits
        rows += _study_rows(fit, labs, cells, sort, colour or st.STUDY_COLOUR, tf)
        rows.append(Row("blank"))
        rows += _pooled_rows(fit, f"{_model_name(fit)} (k = {fit.k})", tf, show_pi, True,
                             st.POOLED_COLOUR)
        foot = [f"Heterogeneity: {_het_text(fit)}", _effect_test(fit)]
    else:
        for level, fit in sub.groups.items():
            colour = st.strategy_colour(level)
            rows.append(Row("group", [st.pretty(level), *pad], colour=colour))
            rows += _study_rows(fit, labs[start:start + fit.k], cells[start:start + fit.k], sort, colour, tf)
            start += fit.k
            rows += _pooled_rows(fit, f"Subtotal (k = {fit.k})", tf, False, False, colour)
            if fit.k >= 2:
                rows.append(Row("het", [_het_text(fit)]))
            rows.append(Row("blank"))
        ov = sub.overall
        rows += _pooled_rows(ov, f"Overall: {_model_name(ov).lower()} (k = {ov.k})", tf, show_pi, True,
                             st.POOLED_COLOUR)
        foot = [f"Overall heterogeneity: {_het_text(ov)}", _effect_test(ov), _between_text(sub)]
        definition = str(getattr(sub, "definition", "") or "")
        if definition:
            foot += textwrap.wrap(f"({definition})", 110)
        skipped = _skipped_text(tuple(getattr(sub, "skipped", ())))
        if skipped:
            foot += textwrap.wrap(skipped, 110)
        foot.append("Weights are percentages within each subgroup.")
    for r in rows:
        if r.kind in ("diamond", "pi", "het", "blank") and len(r.cells) < ncol:
            r.cells += [""] * (ncol - len(r.cells))
    return rows, foot, sub is not None
