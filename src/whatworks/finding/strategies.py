"""Per-strategy pooling: one random-effects meta-analysis per intervention strategy.

Pure statistics: a frame of selected rows (see :mod:`whatworks.finding.select`) in, a frozen
:class:`StrategyPooling` out. Each strategy's result is exactly ``meta_analyze`` on that strategy's rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..model import meta_analyze
from ..results import MetaResult, _fmt, frame_to_html
from ..subgroups import SubgroupResult, by_subgroup
from .select import MASI_STRATEGIES, total_n

#: Display order of the strategy vocabulary (Masi's four first).
STRATEGY_ORDER = (*MASI_STRATEGIES, "mindfulness_acceptance", "multicomponent", "other")

#: Columns of :meth:`StrategyPooling.to_frame`.
POOLING_COLUMNS = (
    "strategy", "k", "n", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "pvalue",
    "tau2", "i2", "q", "q_pvalue", "method", "test", "note",
)  # fmt: skip


def order_strategies(values: object) -> list[str]:
    """Strategies present in ``values``, in :data:`STRATEGY_ORDER` (unknown ones last, sorted)."""
    present = {str(x) for x in pd.unique(pd.Series(values).dropna())}
    known = [s for s in STRATEGY_ORDER if s in present]
    return known + sorted(present - set(known))


@dataclass(frozen=True)
class StrategyPooling:
    """Result of :func:`pool_strategies`.

    Attributes
    ----------
    fits : mapping of strategy -> MetaResult
        One fit per strategy present (k = 1: the single trial's own estimate, see ``notes``).
    n : mapping of strategy -> int
        Total participants of the strategy's rows that report n (see ``n_missing`` for the others).
    n_missing : mapping of strategy -> int
        Rows whose n is not reported.
    subgroups : SubgroupResult
        The same analysis as a subgroup analysis (separate tau² per strategy), for the stratified
        forest plot and the test of subgroup differences.
    method, test : str
    """

    fits: Mapping[str, MetaResult]
    n: Mapping[str, int]
    n_missing: Mapping[str, int]
    subgroups: SubgroupResult | None = field(default=None, repr=False)
    method: str = "REML"
    test: str = "knha"

    def __post_init__(self) -> None:
        for name in ("fits", "n", "n_missing"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_frame(self) -> pd.DataFrame:
        """One row per strategy (columns :data:`POOLING_COLUMNS`; counts ``k`` and ``n`` as integers)."""
        rows = []
        for s, fit in self.fits.items():
            notes = list(fit.notes)
            if self.n_missing[s]:
                notes.append(f"n not reported for {self.n_missing[s]} of {fit.k} rows (n counts the others)")
            if fit.k == 1:
                notes = ["k = 1: the single trial's own estimate (z interval), not a pooled one"]
            row = {c: getattr(fit, c) for c in POOLING_COLUMNS if c not in ("strategy", "n", "note")}
            rows.append({**row, "strategy": s, "n": self.n[s], "note": "; ".join(notes)})
        return pd.DataFrame(rows, columns=list(POOLING_COLUMNS)).astype({"k": "Int64", "n": "Int64"})

    def summary(self) -> str:
        """Plain-text table, one line per strategy."""
        df = self.to_frame()
        head = f"Pooled Hedges' g per strategy (random effects, {self.method}, test = {self.test!r}); negative = less lonely"
        cols = ["strategy", "k", "n", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"]
        return head + "\n\n" + df[cols].to_string(index=False, float_format=_fmt, na_rep="NA")

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}: k={f.k}, g={_fmt(f.estimate, 2)}" for s, f in self.fits.items())
        return f"StrategyPooling({parts})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), f"Pooled g per strategy ({self.method}, {self.test})")


def pool_strategies(
    frame: pd.DataFrame,
    *,
    method: str = "REML",
    test: str = "knha",
    level: float = 0.95,
    label: str = "study",
) -> StrategyPooling:
    """Random-effects meta-analysis of each strategy's rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Selected rows (e.g. :func:`whatworks.finding.primary_frame`) with ``strategy``, ``yi``, ``vi``
        and, optionally, ``n_treatment``/``n_control``/``n_total`` and a label column.
    method, test, level
        As in :func:`whatworks.meta_analyze` (metafor's spellings).
    label : str
        Column used as study label (falls back to the index if absent).

    Returns
    -------
    StrategyPooling

    Raises
    ------
    ValueError
        If ``frame`` lacks ``strategy``, ``yi`` or ``vi``, is empty, or has invalid effects.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"strategy": ["social_support"] * 3 + ["social_cognition"] * 3,
    ...                    "yi": [-0.1, -0.3, 0.0, -0.6, -0.4, -0.8], "vi": [0.02, 0.03, 0.05, 0.04, 0.03, 0.06],
    ...                    "study": list("abcdef")})
    >>> res = pool_strategies(df)
    >>> list(res.fits), res.fits["social_support"].k
    (['social_cognition', 'social_support'], 3)
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("strategy", "yi", "vi") if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}")
    data = frame.dropna(subset=["strategy", "yi", "vi"])
    if data.empty:
        raise ValueError("no rows with strategy, yi and vi: nothing to pool")
    labels = data[label].astype(str) if label in data.columns else pd.Series(data.index.astype(str), index=data.index)
    subgroups = None
    if data["strategy"].nunique() >= 2:
        try:
            subgroups = by_subgroup(data.assign(_label=labels.to_numpy()), "strategy", method=method, test=test,
                                    tau2="separate", level=level, label="_label")
        except ValueError:  # fewer than two strategies with k >= 2: no subgroup comparison possible
            subgroups = None
    fitted = subgroups.groups if subgroups is not None else {}
    n_row = total_n(data)
    fits: dict[str, MetaResult] = {}
    n: dict[str, int] = {}
    n_missing: dict[str, int] = {}
    for s in order_strategies(data["strategy"]):
        mask = (data["strategy"] == s).to_numpy(dtype=bool)
        fit = fitted.get(s)
        if fit is None:  # not fitted as a subgroup (e.g. a single trial): its own meta-analysis
            sub = data.loc[mask]
            fit = meta_analyze(sub["yi"].to_numpy(float), sub["vi"].to_numpy(float), method=method, test=test,
                             level=level, labels=list(labels[mask]))
        fits[s] = fit
        n[s] = int(np.nansum(n_row[mask]))
        n_missing[s] = int(np.isnan(n_row[mask]).sum())
    return StrategyPooling(fits=fits, n=n, n_missing=n_missing, subgroups=subgroups, method=method, test=test)
