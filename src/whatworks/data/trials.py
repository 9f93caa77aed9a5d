"""One trial, one effect: which of a trial's poolable rows in one review folder is pooled.

A folder may code several comparisons of one trial (two intervention arms, two timepoints, a first- and
a second-hand extraction). Pooling them all counts one trial's participants twice, so among the rows of
one ``study_id`` in one folder that have a ``yi`` and are not excluded, exactly one is pooled:

1. the row the coder marked ``primary_effect = true``;
2. then a passive control (waitlist, usual care, no treatment) over an attention or active control,
   over an unknown one;
3. then first-hand numbers (the trial's own report) over a second-hand extraction;
4. then the first assessment after the intervention ended (``timepoint_role = post``) over an unmarked
   timepoint, over a later follow-up;
5. then the earlier row in the file.

The other rows keep their ``yi`` and say in ``pool_reason`` which row was pooled instead and which step
decided. The loader applies the rule (:func:`one_effect_per_trial`), so every consumer of ``pool`` —
strategy pools, each review's pool, the counts the report prints — sees one effect per trial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Control conditions without an active comparison treatment.
PASSIVE_CONTROLS = ("waitlist", "usual_care", "no_treatment")
#: The rule in words, step by step (printed by the report and docs/methods.md).
SELECTION_STEPS = (
    "marked as the trial's primary effect by the coder",
    "passive control (waitlist, usual care, no treatment) before an attention or active control",
    "first-hand numbers before a second-hand extraction",
    "the post-intervention timepoint before an unmarked one, before a follow-up",
    "earlier in the file",
)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def _keys(frame: pd.DataFrame) -> np.ndarray:
    """Sort keys per row (smaller = preferred), one column per step of :data:`SELECTION_STEPS`."""
    primary = _col(frame, "primary_effect").fillna(False).astype(bool).to_numpy()
    control = _col(frame, "control").astype("string")
    control_rank = np.where(control.isin(PASSIVE_CONTROLS).fillna(False), 0,
                            np.where(control.isin(("attention", "active")).fillna(False), 1, 2))
    hand = _col(frame, "hand").astype("string")
    hand_rank = np.where((hand == "first").fillna(False), 0, np.where((hand == "second").fillna(False), 1, 2))
    role = _col(frame, "timepoint_role").astype("string")
    role_rank = np.where((role == "post").fillna(False), 0, np.where((role == "follow_up").fillna(False), 2, 1))
    order = np.arange(len(frame))
    return np.column_stack([~primary, control_rank, hand_rank, role_rank, order]).astype(int)


def one_effect_per_trial(frame: pd.DataFrame, candidates: object) -> pd.Series:
    """Why each candidate row is *not* pooled ("" for the one row per trial and folder that is).

    Parameters
    ----------
    frame : pandas.DataFrame
        Effect rows with ``review``, ``study_id``, ``effect_id`` and (optional) ``primary_effect``,
        ``control``, ``hand``, ``timepoint_role``, in file order within each review.
    candidates : array_like of bool
        Rows that could be pooled (``yi`` available, not excluded).

    Returns
    -------
    pandas.Series
        Strings, index of ``frame``: empty for the selected rows and for non-candidates, else the reason.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"review": "r", "study_id": ["a", "a", "b"], "effect_id": ["a_act", "a_wl", "b"],
    ...                    "control": ["active", "waitlist", "waitlist"], "hand": "first"})
    >>> one_effect_per_trial(df, [True, True, True]).tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['another effect of the same trial is pooled: a_wl (one effect per trial; decided by: passive control
      (waitlist, usual care, no treatment) before an attention or active control)', '', '']
    """
    cand = np.asarray(candidates, dtype=bool)
    reasons = pd.Series([""] * len(frame), index=frame.index, dtype="string")
    if not cand.any():
        return reasons
    keys = _keys(frame)
    groups: dict[tuple[str, str], list[int]] = {}
    review, study = _col(frame, "review").astype("string"), _col(frame, "study_id").astype("string")
    for pos in np.flatnonzero(cand):
        if pd.isna(study.iat[pos]):
            continue
        groups.setdefault((str(review.iat[pos]), str(study.iat[pos])), []).append(int(pos))
    effect_ids = frame["effect_id"].astype("string")
    for members in groups.values():
        if len(members) < 2:
            continue
        best = min(members, key=lambda p: tuple(keys[p]))
        for member in members:
            if member == best:
                continue
            step = int(np.flatnonzero(keys[member] != keys[best])[0])
            reasons.iat[member] = (f"another effect of the same trial is pooled: {effect_ids.iat[best]} "
                                f"(one effect per trial; decided by: {SELECTION_STEPS[step]})")
    return reasons
