"""Outliers and influential trials of each strategy's pool: studentised residuals and Cook's distance.

For every strategy with at least three trials, metafor's case-deletion diagnostics
(:func:`whatworks.influence`) of its random-effects fit. A trial is *flagged* when it is an outlier
(externally studentised residual beyond ±:data:`RSTUDENT_LIMIT`, Viechtbauer & Cheung 2010) or
influential by metafor's rule (``influence()$is.infl``). The sensitivity analysis refits the contrast
without flagged trials; the report names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..influence import influence
from ..results import _fmt, frame_to_html
from .strategies import StrategyPooling

#: |studentised deleted residual| beyond this marks an outlier (the 97.5 % normal quantile).
RSTUDENT_LIMIT = 1.96
#: Columns of :meth:`OutlierResult.to_frame`.
OUTLIER_COLUMNS = ("strategy", "study_id", "study", "yi", "rstudent", "cook_d", "hat", "outlier", "influential",
                   "flagged")


@dataclass(frozen=True)
class OutlierResult:
    """Result of :func:`strategy_outliers`: one row per trial of every strategy with k >= 3.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`OUTLIER_COLUMNS`; ``hat`` is a proportion of the strategy's weight.
    not_assessed : tuple of str
        Strategies with fewer than three trials (no diagnostics).
    """

    table: pd.DataFrame = field(repr=False)
    not_assessed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged trials only."""
        return self.table[self.table["flagged"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        return self.table.copy()

    def summary(self) -> str:
        """The flagged trials in words, then the rule."""
        rule = (f"flagged = |studentised residual| > {RSTUDENT_LIMIT:g} (outlier) or influential by metafor's "
                "influence() rule; per strategy with k >= 3")
        if self.flagged.empty:
            return f"Outliers and influential trials: none flagged ({rule})."
        lines = [f"Outliers and influential trials ({rule}):"]
        for r in self.flagged.itertuples():
            what = " and ".join(w for w, on in (("outlier", r.outlier), ("influential", r.influential)) if on)
            lines.append(f"- {r.study} ({r.strategy}): {what}; residual {_fmt(r.rstudent, 2)}, "
                         f"Cook's distance {_fmt(r.cook_d, 2)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"OutlierResult(trials={len(self.table)}, flagged={int(self.table['flagged'].sum())})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, "Outliers and influential trials per strategy")


def strategy_outliers(primary: pd.DataFrame, pooling: StrategyPooling) -> OutlierResult:
    """Case-deletion diagnostics of every strategy's fit with at least three trials.

    Parameters
    ----------
    primary : pandas.DataFrame
        The rows of the primary analysis (``strategy``, ``study_id``, ``study``, ``yi``).
    pooling : StrategyPooling
        The per-strategy fits of those rows (row order = fit order within a strategy).

    Returns
    -------
    OutlierResult

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.finding import pool_strategies
    >>> df = pd.DataFrame({"strategy": ["social_support"] * 6, "study_id": list("abcdef"), "study": list("abcdef"),
    ...                    "yi": [-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], "vi": [0.04, 0.09, 0.1, 0.05, 0.07, 0.05]})
    >>> strategy_outliers(df, pool_strategies(df)).flagged["study"].tolist()
    ['f']
    """
    parts, skipped = [], []
    for s, fit in pooling.fits.items():
        rows = primary[primary["strategy"] == s]
        if fit.k < 3:
            skipped.append(s)
            continue
        if len(rows) != fit.k:
            raise ValueError(f"strategy {s!r}: {len(rows)} rows but the fit has k = {fit.k}")
        if np.ptp(fit.yi) == 0:  # identical effects: leaving one out changes nothing; the statistics are 0/0
            w = 1 / (fit.vi + fit.tau2)
            none = np.zeros(fit.k, dtype=bool)
            parts.append(pd.DataFrame({
                "strategy": s, "study_id": rows["study_id"].astype(str).to_numpy(),
                "study": rows["study"].astype(str).to_numpy() if "study" in rows.columns else list(fit.labels),
                "yi": fit.yi, "rstudent": np.nan, "cook_d": np.nan, "hat": w / w.sum(), "outlier": none,
                "influential": none, "flagged": none}))
            continue
        inf = influence(fit)
        outlier = np.abs(inf.rstudent) > RSTUDENT_LIMIT
        parts.append(pd.DataFrame({
            "strategy": s, "study_id": rows["study_id"].astype(str).to_numpy(),
            "study": rows["study"].astype(str).to_numpy() if "study" in rows.columns else list(fit.labels),
            "yi": fit.yi, "rstudent": inf.rstudent, "cook_d": inf.cook_d, "hat": inf.hat, "outlier": outlier,
            "influential": inf.inf, "flagged": outlier | inf.inf}))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(OUTLIER_COLUMNS))
    return OutlierResult(table=table.astype({"outlier": bool, "influential": bool, "flagged": bool}),
                         not_assessed=tuple(skipped))
