"""Our pooled estimate per strategy next to the published subgroup estimates, with reasons for differences.

Everything in the ``explanation`` column is derived from the data: the review's title (population),
its design and metric, whether the number is second-hand or from an AI summary, k, and the overlap of
included trials where the review's trial list is coded (``study_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import frame_to_html
from .strategies import StrategyPooling, order_strategies

#: Columns of :meth:`ComparisonResult.to_frame`.
COMPARISON_COLUMNS = (
    "strategy", "source", "analysis", "k", "estimate", "ci_low", "ci_high", "metric", "design", "hand",
    "reliability", "agreement", "explanation",
)  # fmt: skip

#: Label of our own rows in the ``source`` column.
OURS = "this synthesis"

_METRIC_NOTE = {
    "d": "Cohen's d (no small-sample correction; slightly larger in magnitude than g)",
    "MD": "raw mean difference in scale points: not comparable with g",
    "OR": "odds ratio (log scale): not comparable with g",
    "SMCC_diff": "difference of standardised mean changes: not the same estimand as post-test g",
}


@dataclass(frozen=True)
class ComparisonResult:
    """Result of :func:`compare_published`: one row per (strategy, source), ours first in each strategy."""

    table: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lines = ["Ours vs published (g, negative = less lonely)"]
        for r in self.table.itertuples():
            est = "NA" if pd.isna(r.estimate) else f"{r.estimate:.2f}"
            ci = "" if pd.isna(r.ci_low) else f" [{r.ci_low:.2f}, {r.ci_high:.2f}]"
            k = "k ?" if pd.isna(r.k) else f"k = {int(r.k)}"
            lines.append(f"{r.strategy:24s} {r.source:16s} {est}{ci}, {k}; {r.agreement}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ComparisonResult(rows={len(self.table)}, sources={self.table['source'].nunique()})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, "Our pooled estimates next to the published ones")


def _agreement(ours: pd.Series | None, est: float, lo: float, hi: float, metric: str) -> str:
    if ours is None or pd.isna(ours["estimate"]):
        return "no estimate of ours"
    if np.isnan(est):
        return "published sign lost or estimate missing: not comparable"
    if metric in ("MD", "OR", "SMCC_diff"):
        return "different metric: not comparable"
    if np.isnan(lo) or np.isnan(hi):
        inside = ours["ci_low"] <= est <= ours["ci_high"]
        return "published estimate inside our CI (its CI not reported)" if inside else \
            "published estimate outside our CI (its CI not reported)"
    overlap = ours["ci_low"] <= hi and lo <= ours["ci_high"]
    return "CIs overlap" if overlap else "CIs do not overlap"


def compare_published(
    pooling: StrategyPooling,
    pooled: pd.DataFrame,
    *,
    reviews: pd.DataFrame | None = None,
    catalogue: pd.DataFrame | None = None,
    primary: pd.DataFrame | None = None,
) -> ComparisonResult:
    """Side-by-side table of our per-strategy estimates and the published subgroup estimates.

    Parameters
    ----------
    pooling : StrategyPooling
        Our per-strategy fits.
    pooled : pandas.DataFrame
        Published results (:func:`whatworks.data.load_pooled`); rows with a ``strategy`` are used.
    reviews : pandas.DataFrame, optional
        All loaded effect rows: a review's coded ``study_id``s give the overlap with our trials.
    catalogue : pandas.DataFrame, optional
        :func:`whatworks.data.list_reviews`, for each review's title (its population and scope).
    primary : pandas.DataFrame, optional
        Our primary rows (``study_id``, ``strategy``), for the overlap.

    Returns
    -------
    ComparisonResult
        Columns :data:`COMPARISON_COLUMNS`; estimates on the normalised scale (negative = less lonely).

    Examples
    --------
    >>> from whatworks.data import load_reviews, load_pooled
    >>> from whatworks.finding import primary_frame, pool_strategies
    >>> res = compare_published(pool_strategies(primary_frame(load_reviews())), load_pooled())
    >>> res.to_frame()["source"].iloc[0]
    'this synthesis'
    """
    need = ["review", "analysis", "strategy", "k", "estimate_norm", "ci_low_norm", "ci_high_norm", "metric"]
    missing = [c for c in need if c not in pooled.columns]
    if missing:
        raise ValueError(f"pooled lacks column(s) {missing}; expected the output of whatworks.data.load_pooled")
    ours = pooling.to_frame().set_index("strategy")
    pub = pooled[pooled["strategy"].notna()]
    titles = {} if catalogue is None else dict(zip(catalogue["review"], catalogue["title"]))
    coded = {} if reviews is None else {r: set(g["study_id"].dropna().astype(str)) for r, g in reviews.groupby("review")}
    rows = []
    for s in order_strategies(pd.concat([ours.index.to_series(), pub["strategy"].astype(object)])):
        mine = ours.loc[s] if s in ours.index else None
        if mine is not None:
            rows.append(dict(strategy=s, source=OURS, analysis="primary: RCTs, Hedges' g, REML + Knapp-Hartung",
                             k=mine["k"], estimate=mine["estimate"], ci_low=mine["ci_low"], ci_high=mine["ci_high"],
                             metric="SMD", design="rct", hand="", reliability="", agreement="", explanation=""))
        our_ids = set()
        if primary is not None:
            our_ids = set(primary.loc[(primary["strategy"] == s).fillna(False).to_numpy(bool), "study_id"].astype(str))
        for r in pub[pub["strategy"] == s].itertuples():
            est, lo, hi = (float(x) if pd.notna(x) else np.nan for x in (r.estimate_norm, r.ci_low_norm, r.ci_high_norm))
            why = []
            if r.review in titles:
                why.append(f"population/scope: {titles[r.review]}")
            design = getattr(r, "design", None)
            if isinstance(design, str) and design != "rct":
                why.append(f"design {design} (ours: RCTs only)")
            if r.metric in _METRIC_NOTE:
                why.append(_METRIC_NOTE[r.metric])
            if getattr(r, "hand", None) == "second":
                why.append("second-hand number, unverified")
            if getattr(r, "reliability", None) == "ai_summary":
                why.append("from an AI-generated summary page")
            if getattr(r, "sign_convention", None) == "lost":
                why.append(f"sign lost in the source (printed magnitude {r.estimate})")
            if pd.notna(r.k) and mine is not None:
                why.append(f"k = {int(r.k)} vs our {int(mine['k'])}")
            if r.review in coded and our_ids:
                both = sorted(our_ids & coded[r.review])
                why.append(f"{len(both)} of our {len(our_ids)} trials coded in this review"
                           + (f" ({', '.join(both)})" if both else ""))
            else:
                why.append("its trial list is not coded: overlap unknown")
            rows.append(dict(strategy=s, source=r.review, analysis=r.analysis, k=r.k, estimate=est, ci_low=lo,
                             ci_high=hi, metric=r.metric, design=design, hand=getattr(r, "hand", None),
                             reliability=getattr(r, "reliability", None),
                             agreement=_agreement(mine, est, lo, hi, r.metric), explanation="; ".join(why)))
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
    table["k"] = pd.array(table["k"], dtype="Int64")
    return ComparisonResult(table=table)
