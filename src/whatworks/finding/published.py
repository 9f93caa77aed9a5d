"""The published reviews' own contrasts: social cognition against another strategy, from printed numbers.

A review that printed a pooled estimate with a confidence interval for social cognition and for another
strategy answers the project's question itself: the difference of the two, with a standard error taken
from each printed CI (``SE = (upper - lower) / (2 z)``) and combined as independent, because the
subgroups of one classification in one review hold different trials (Altman & Bland 2003, "Interaction
revisited: the difference between two estimates", BMJ 326:219). A review that printed point estimates
only (Masi 2011, second-hand) gets the difference of its point estimates and no test.

Pure: a ``load_pooled()`` frame (and optionally ``list_reviews()``) in, a frozen
:class:`PublishedContrasts` out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _dist
from ..results import _fmt, frame_to_html
from .strategies import order_strategies

#: Columns of :meth:`PublishedContrasts.to_frame` (``published_contrasts.csv``).
PUBLISHED_CONTRAST_COLUMNS = (
    "review", "umbrella", "reference", "comparison", "classification", "metric", "hand",
    "reference_estimate", "reference_ci_low", "reference_ci_high", "comparison_estimate", "comparison_ci_low",
    "comparison_ci_high", "difference", "se", "ci_low", "ci_high", "z", "pvalue", "tested", "note",
)  # fmt: skip

#: Metrics on the standardised-mean-difference scale (d and g are compared as the same scale).
STANDARDISED = ("SMD", "g", "d")


def se_from_ci(ci_low: float, ci_high: float, level: float = 0.95) -> float:
    """Standard error implied by a symmetric normal-based CI: ``(ci_high - ci_low) / (2 z)``.

    Examples
    --------
    >>> round(se_from_ci(-0.77, -0.18), 4)  # Fu 2022, social support: -0.47 [-0.77, -0.18]
    0.1505
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    z = float(_dist.norm_ppf(0.5 + level / 2))
    return (float(ci_high) - float(ci_low)) / (2 * z)


def difference_test(est_a: float, lo_a: float, hi_a: float, est_b: float, lo_b: float, hi_b: float,
                    level: float = 0.95) -> dict[str, float]:
    """Difference ``a - b`` of two independent estimates printed with CIs: SE, CI, z and two-sided p.

    Parameters
    ----------
    est_a, lo_a, hi_a, est_b, lo_b, hi_b : float
        The two estimates with their printed CI bounds.
    level : float
        Level of the printed CIs (and of the returned CI).

    Returns
    -------
    dict
        ``difference``, ``se``, ``ci_low``, ``ci_high``, ``z``, ``pvalue``.

    Examples
    --------
    >>> r = difference_test(-1.04, -1.98, -0.10, -0.47, -0.77, -0.18)  # Fu 2022, printed in its abstract
    >>> round(r["difference"], 2), round(r["pvalue"], 2)
    (-0.57, 0.26)
    """
    se = math.hypot(se_from_ci(lo_a, hi_a, level), se_from_ci(lo_b, hi_b, level))
    d = float(est_a) - float(est_b)
    z = float(_dist.norm_ppf(0.5 + level / 2))
    stat = d / se if se > 0 else np.nan
    p = float(2 * _dist.norm_sf(abs(stat))) if np.isfinite(stat) else np.nan
    return {"difference": d, "se": se, "ci_low": d - z * se, "ci_high": d + z * se, "z": stat, "pvalue": p}


@dataclass(frozen=True)
class PublishedContrasts:
    """Result of :func:`published_contrasts`: one row per (review, comparison strategy).

    ``tested`` is true where both estimates were printed with a CI on the same standardised metric;
    otherwise ``note`` says why the difference has no test (or no value).
    """

    table: pd.DataFrame = field(repr=False)
    reference: str = "social_cognition"
    level: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table (columns :data:`PUBLISHED_CONTRAST_COLUMNS`)."""
        return self.table.copy()

    def tested(self) -> pd.DataFrame:
        """The rows with a difference and its test."""
        return self.table[self.table["tested"]].reset_index(drop=True)

    def summary(self) -> str:
        """One line per row: review, comparison, difference [CI], p or why not tested."""
        lines = [f"Published contrasts: {self.reference} minus comparison, from the printed numbers "
                 f"(negative = {self.reference} reduces loneliness more)"]
        for r in self.table.itertuples():
            if r.tested:
                num = f"{_fmt(r.difference, 2)} [{_fmt(r.ci_low, 2)}, {_fmt(r.ci_high, 2)}], p = {_fmt(r.pvalue, 3)}"
            elif pd.notna(r.difference):
                num = f"{_fmt(r.difference, 2)} (not tested)"
            else:
                num = "NA"
            lines.append(f"{r.review} vs {r.comparison}: {num}. {r.note}".rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"PublishedContrasts(rows={len(self.table)}, tested={int(self.table['tested'].sum())})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, f"Published contrasts ({self.reference} minus comparison)")


def _num(x: object) -> float:
    return float(x) if x is not None and not pd.isna(x) else np.nan  # type: ignore[arg-type]


def published_contrasts(
    pooled: pd.DataFrame,
    *,
    catalogue: pd.DataFrame | None = None,
    reference: str = "social_cognition",
    level: float = 0.95,
) -> PublishedContrasts:
    """Every published review's own contrast of ``reference`` against another strategy.

    Within each review, rows of one classification (``subgroup_variable``) are disjoint subgroups of
    trials; each row with ``strategy == reference`` is paired with each row of another canonical strategy
    of the same classification. The difference ``reference - comparison`` is on the normalised scale
    (``estimate_norm``: negative = less lonely). It is tested (:func:`difference_test`) when both rows
    printed a CI, on the same standardised metric; printed CIs are taken to be at ``level``.

    Parameters
    ----------
    pooled : pandas.DataFrame
        Published pooled results, :func:`whatworks.data.load_pooled`.
    catalogue : pandas.DataFrame, optional
        :func:`whatworks.data.list_reviews`; a review whose title says "umbrella review" is flagged.
    reference : str
        The strategy claimed to work best.
    level : float
        Level of the printed CIs and of the computed ones.

    Returns
    -------
    PublishedContrasts

    Examples
    --------
    >>> from whatworks.data import list_reviews, load_pooled
    >>> res = published_contrasts(load_pooled(), catalogue=list_reviews())
    >>> fu = res.tested().set_index("review").loc["fu2022"]
    >>> round(float(fu["difference"]), 2), round(float(fu["pvalue"]), 2)
    (-0.57, 0.26)
    """
    need = ["review", "strategy", "estimate_norm", "ci_low_norm", "ci_high_norm", "metric"]
    missing = [c for c in need if c not in pooled.columns]
    if missing:
        raise ValueError(f"pooled lacks column(s) {missing}; expected the output of whatworks.data.load_pooled")
    titles = {} if catalogue is None else dict(zip(catalogue["review"], catalogue["title"].fillna("")))
    rows = []
    data = pooled[pooled["strategy"].notna()].copy()
    data["_class"] = (data["subgroup_variable"].astype("string").fillna("") if "subgroup_variable" in data.columns
                      else "")
    for (review, cls), grp in data.groupby(["review", "_class"], sort=True):
        refs = grp[grp["strategy"] == reference]
        others = grp[grp["strategy"] != reference]
        if refs.empty or others.empty:
            continue
        umbrella = "umbrella review" in str(titles.get(review, "")).lower()
        order = {s: i for i, s in enumerate(order_strategies(others["strategy"]))}
        others = others.iloc[np.argsort([order[s] for s in others["strategy"]], kind="stable")]
        for _, a in refs.iterrows():
            for _, b in others.iterrows():
                rows.append(_pair(str(review), str(cls), a, b, umbrella, reference, level))
    table = pd.DataFrame(rows, columns=list(PUBLISHED_CONTRAST_COLUMNS))
    table["tested"] = table["tested"].astype(bool)
    return PublishedContrasts(table=table, reference=reference, level=level)


def _pair(review: str, cls: str, a: pd.Series, b: pd.Series, umbrella: bool, reference: str,
          level: float) -> dict[str, object]:
    ea, la, ha = (_num(a[c]) for c in ("estimate_norm", "ci_low_norm", "ci_high_norm"))
    eb, lb, hb = (_num(b[c]) for c in ("estimate_norm", "ci_low_norm", "ci_high_norm"))
    hands = {str(a.get("hand")), str(b.get("hand"))}
    hand = "second" if "second" in hands else "first" if hands == {"first"} else "unknown"
    metric_a, metric_b = str(a["metric"]), str(b["metric"])
    out: dict[str, object] = dict(
        review=review, umbrella=umbrella, reference=reference, comparison=str(b["strategy"]), classification=cls,
        metric=metric_a if metric_a == metric_b else f"{metric_a} vs {metric_b}", hand=hand,
        reference_estimate=ea, reference_ci_low=la, reference_ci_high=ha, comparison_estimate=eb,
        comparison_ci_low=lb, comparison_ci_high=hb, difference=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan,
        z=np.nan, pvalue=np.nan, tested=False, note="")
    notes = []
    if umbrella:
        notes.append("umbrella review: estimates re-pooled from earlier meta-analyses")
    if hand == "second":
        notes.append("second-hand numbers, unverified")
    if not (metric_a in STANDARDISED and metric_b in STANDARDISED):
        notes.append(f"not on the standardised scale ({out['metric']}): no difference computed")
        out["note"] = "; ".join(notes)
        return out
    if np.isnan(ea) or np.isnan(eb):
        notes.append("sign lost in the source: no difference computed")
        out["note"] = "; ".join(notes)
        return out
    out["difference"] = ea - eb
    if metric_a != metric_b:
        notes.append(f"different standardised metrics ({metric_a}, {metric_b})")
    if all(np.isfinite(v) for v in (la, ha, lb, hb)):
        out.update(difference_test(ea, la, ha, eb, lb, hb, level))
        out["tested"] = True
        notes.insert(0, "SE from each printed CI; subgroups of one review are disjoint trials, so combined as "
                        "independent")
    else:
        notes.append("no CI printed: difference of point estimates, not tested")
    out["note"] = "; ".join(notes)
    return out
