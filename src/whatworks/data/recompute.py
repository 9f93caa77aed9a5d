"""The computed columns of the effects frame, and recomputing them under other analysis settings.

:func:`recompute_effects` is pure: a frame from :func:`whatworks.data.load_reviews` and an
:class:`~whatworks.data.settings.EffectSettings` in, a new frame out, with ``yi``, ``vi``, ``yi_note``,
``pool``, ``pool_reason``, ``baseline_smd``, ``baseline_imbalance``, ``design_effect`` and
``cluster_uncorrected`` recomputed from the reported statistics. The finding uses it to repeat its
analyses with another pre-post correlation or ICC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import schema as S
from .compute import Computed, compute_effects
from .settings import EffectSettings
from .trials import one_effect_per_trial

Row = Mapping[str, object]  # a typed row (a dict or a whatworks.data.table.RowView)

#: Key of ``DataFrame.attrs`` that records the settings a frame was computed with.
SETTINGS_ATTR = "effect_settings"


def computed_columns(rows: Sequence[Row], computed: Sequence[Computed], metric: Sequence[object]) -> dict[str, object]:
    """The computed columns for typed ``rows``, their ``computed`` results and each row's ``metric``."""
    reasons = [c.reason or c.error if c.yi is None else (f"excluded: {row['exclude_reason']}" if row["exclude"] else "")
               for row, c in zip(rows, computed)]
    return {
        "yi": np.array([np.nan if c.yi is None else c.yi for c in computed], dtype=float),
        "vi": np.array([np.nan if c.vi is None else c.vi for c in computed], dtype=float),
        "metric": pd.array([None if m is None or m is pd.NA else str(m) for m in metric], dtype="string"),
        "yi_note": pd.array([c.note or c.reason or c.error for c in computed], dtype="string"),
        "pool_reason": reasons,
        "baseline_smd": np.array([np.nan if c.baseline_smd is None else c.baseline_smd for c in computed], dtype=float),
        "baseline_imbalance": pd.array([c.baseline_imbalance for c in computed], dtype="boolean"),
        "design_effect": np.array([np.nan if c.design_effect is None else c.design_effect for c in computed],
                                  dtype=float),
        "cluster_uncorrected": np.array([c.cluster_uncorrected for c in computed], dtype=bool),
    }


def assign_computed(frame: pd.DataFrame, columns: dict[str, object]) -> pd.DataFrame:
    """Put the computed columns into ``frame`` and apply the one-effect-per-trial rule to ``pool``."""
    out = frame.copy()
    reasons = list(columns.pop("pool_reason"))  # type: ignore[call-overload]
    for name, values in columns.items():
        out[name] = values
    candidates = np.array([r == "" for r in reasons], dtype=bool)
    not_chosen = one_effect_per_trial(out, candidates)
    reasons = [r or str(n) for r, n in zip(reasons, not_chosen)]
    out["pool"] = np.array([r == "" for r in reasons], dtype=bool)
    out["pool_reason"] = pd.array(reasons, dtype="string")
    rest = [c for c in out.columns if c not in S.COMPUTED_EFFECT_COLUMNS]
    return out[[*rest, *S.COMPUTED_EFFECT_COLUMNS]]


def frame_rows(frame: pd.DataFrame) -> list[Row]:
    """The typed rows (``None`` = missing) of an effects frame, as the validator produces them."""
    missing = [c.name for c in S.EFFECT_COLUMNS if c.name not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks effect column(s) {missing}; expected the output of whatworks.data.load_reviews")
    rows: list[Row] = []
    columns = {c.name: c for c in S.EFFECT_COLUMNS}
    for record in frame[list(columns)].itertuples(index=False):
        row: dict[str, object] = {}
        for (name, col), value in zip(columns.items(), record):
            if col.type == "bool":
                row[name] = bool(value) if not pd.isna(value) else False
            elif value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                row[name] = None
            elif col.type == "int":
                row[name] = int(value)
            elif col.type == "float":
                row[name] = float(value)
            else:
                row[name] = str(value)
        rows.append(row)
    return rows


def recompute_effects(frame: pd.DataFrame, settings: EffectSettings) -> pd.DataFrame:
    """``frame`` with every computed column recomputed under ``settings`` (the input is not changed).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`whatworks.data.load_reviews` (any settings), or a subset of its rows.
    settings : EffectSettings
        The analysis settings to use.

    Returns
    -------
    pandas.DataFrame
        Same rows and columns; ``frame.attrs["effect_settings"]`` records ``settings``.

    Raises
    ------
    ValueError
        If ``frame`` lacks the schema columns or ``settings`` is not an ``EffectSettings``.

    Examples
    --------
    >>> from whatworks.data import EffectSettings, load_reviews, recompute_effects
    >>> df = load_reviews()
    >>> low = recompute_effects(df, EffectSettings(prepost_r=0.2))
    >>> ppc2 = df["yi_note"].str.startswith("smd_ppc2").fillna(False)
    >>> bool((low.loc[ppc2, "vi"] > df.loc[ppc2, "vi"]).all())  # a lower r: larger variances
    True
    """
    if not isinstance(settings, EffectSettings):
        raise ValueError(f"settings must be an EffectSettings, got {type(settings).__name__}")
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame (from whatworks.data.load_reviews), got {type(frame).__name__}")
    rows = frame_rows(frame)
    metric = frame["metric"].tolist() if "metric" in frame.columns else [None] * len(frame)
    computed = [compute_effects([(i, row)], None if m is None or m is pd.NA else str(m), settings)[0]
                for i, (row, m) in enumerate(zip(rows, metric))]
    out = assign_computed(frame, computed_columns(rows, computed, metric))
    out.attrs[SETTINGS_ATTR] = settings
    return out


def settings_of(frame: pd.DataFrame) -> EffectSettings:
    """The settings ``frame`` was computed with (the primary settings if it does not say)."""
    value = frame.attrs.get(SETTINGS_ATTR) if isinstance(frame, pd.DataFrame) else None
    return value if isinstance(value, EffectSettings) else EffectSettings()
