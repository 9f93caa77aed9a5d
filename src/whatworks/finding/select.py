"""The rows of the primary analysis: which coded effects enter the finding, and why the others do not.

The rule (documented in ``docs/methods.md``):

1. design ``rct`` and metric ``SMD`` (Hedges' g, negative = less lonely), ``pool`` true (the data's own
   selection rule: one row per independent comparison, see ``docs/living-review.md``);
2. rows of the living review (``kind = living``, by default the review ``"living"``) come first;
3. a poolable SMD row of another review enters only if its ``study_id`` is not already present in the
   living review (any row, pooled or not) nor in another review taken earlier: the same trial is never
   counted twice, whichever review coded it;
4. among several other reviews that code the same new trial, the first in sorted review order is kept.

Within one review the data's ``pool`` flag already holds one effect per trial: the loader applies the
one-effect-per-trial rule (:func:`whatworks.data.trials.one_effect_per_trial`: the coder's
``primary_effect``, then a passive control, first-hand numbers, the post-intervention timepoint, file
order), so strategy pools, each review's pool and every count the report prints use the same rule.
Trials that a coder split into two ``study_id`` values (e.g. ``smith2020a``/``smith2020b``) are two trials.

Every row of the input appears in :func:`selection_table` with the reason it is in or out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Columns the finding needs in the frame returned by ``load_reviews``.
REQUIRED = ("review", "effect_id", "study_id", "design", "strategy", "yi", "vi", "metric", "pool")

#: The four strategies of Masi et al. (2011), the reference first.
MASI_STRATEGIES = ("social_cognition", "social_support", "social_access", "social_skills")


def check_reviews_frame(frame: object, *extra: str) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame with the columns of ``load_reviews`` the finding uses."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame (from whatworks.data.load_reviews), got {type(frame).__name__}")
    missing = [c for c in (*REQUIRED, *extra) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; expected the output of whatworks.data.load_reviews")
    return frame


def _reason(m: object, d: object, pool: object, pr: object, yi: object, vi: object, design: str,
            metric: str) -> str:
    """Why a row (its metric, design, pool, pool_reason, yi, vi) is not a candidate; "" when it is."""
    if m != metric:
        return f"metric {m} (not {metric})"
    if d != design:
        return f"design {d} (not {design})"
    if not bool(pool):
        return f"not poolable: {pr}" if isinstance(pr, str) and pr else "not poolable"
    if pd.isna(yi) or pd.isna(vi):
        return "yi or vi missing"
    return ""


def selection_table(
    frame: pd.DataFrame,
    *,
    design: str = "rct",
    metric: str = "SMD",
    living: str = "living",
) -> pd.DataFrame:
    """Every row of ``frame`` with ``selected`` (bool) and ``selection_reason`` (empty when selected).

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`whatworks.data.load_reviews`.
    design, metric : str
        Design and metric of the primary analysis.
    living : str
        Review id whose rows take precedence (the project's own coded trials).

    Returns
    -------
    pandas.DataFrame
        ``review``, ``effect_id``, ``study_id``, ``strategy``, ``selected``, ``selection_reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"review": ["living", "other"], "effect_id": ["a1", "a1b"], "study_id": ["a", "a"],
    ...                    "design": "rct", "strategy": "social_support", "yi": [-0.2, -0.3],
    ...                    "vi": [0.04, 0.05], "metric": "SMD", "pool": True})
    >>> selection_table(df)["selected"].tolist()
    [True, False]
    """
    frame = check_reviews_frame(frame)
    pr = frame["pool_reason"] if "pool_reason" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    columns = (frame[c].astype(object).to_numpy() for c in ("metric", "design", "pool"))
    reasons = [_reason(m, d, pool, r, y, v, design, metric) for m, d, pool, r, y, v in
               zip(*columns, pr.astype(object).to_numpy(), frame["yi"].to_numpy(), frame["vi"].to_numpy())]
    is_living = (frame["review"] == living).fillna(False).to_numpy(dtype=bool)
    seen: dict[str, str] = {str(s): living for s in frame.loc[is_living, "study_id"].dropna()}
    # other reviews in sorted order, file order within a review (stable)
    others = frame.iloc[np.flatnonzero(~is_living)]
    order = np.r_[np.flatnonzero(is_living),
                  np.flatnonzero(~is_living)[np.argsort(others["review"].astype(str).to_numpy(), kind="stable")]]
    study_ids, review_ids = frame["study_id"].astype(object).to_numpy(), frame["review"].astype(object).to_numpy()
    for pos in order:
        if reasons[pos] or is_living[pos]:
            continue
        sid, rev = str(study_ids[pos]), str(review_ids[pos])
        if sid in seen and seen[sid] != rev:
            reasons[pos] = f"same trial ({sid}) already in review {seen[sid]}"
        else:
            seen[sid] = rev
    out = frame[["review", "effect_id", "study_id", "strategy"]].copy()
    out["selected"] = np.array([r == "" for r in reasons], dtype=bool)
    out["selection_reason"] = pd.array(reasons, dtype="string")
    return out


def primary_frame(
    frame: pd.DataFrame,
    *,
    design: str = "rct",
    metric: str = "SMD",
    living: str = "living",
) -> pd.DataFrame:
    """The rows of the primary analysis (one per independent comparison), with a column ``n``.

    ``n`` is ``n_treatment + n_control`` where both are reported, else ``n_total``, else missing.
    See the module docstring for the rule and :func:`selection_table` for the reason of every row.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`whatworks.data.load_reviews`.
    design, metric, living : str
        As in :func:`selection_table`.

    Returns
    -------
    pandas.DataFrame
        The selected rows, in the input's order, index reset.

    Examples
    --------
    >>> from whatworks.data import load_reviews
    >>> prim = primary_frame(load_reviews())
    >>> bool((prim["design"] == "rct").all()), prim["study_id"].is_unique
    (True, True)
    """
    sel = selection_table(frame, design=design, metric=metric, living=living)
    out = frame.loc[sel["selected"].to_numpy()].copy().reset_index(drop=True)
    out["n"] = total_n(out)
    return out


def total_n(frame: pd.DataFrame) -> np.ndarray:
    """Participants per row: arm n summed, else ``n_total``, else NaN (float array)."""
    def col(name: str) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), np.nan)
        return pd.to_numeric(frame[name], errors="coerce").astype(float).to_numpy()

    arms = col("n_treatment") + col("n_control")
    return np.where(np.isnan(arms), col("n_total"), arms)
