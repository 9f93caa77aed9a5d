"""Sensitivity rows of the effect-size assumptions: pre-post correlation, post-only g, ICC, baseline balance.

Each row repeats the primary contrast after recomputing every effect under other analysis settings
(:func:`whatworks.data.recompute_effects`) and reselecting the primary rows with the same rule, or after
leaving out flagged trials. Used by :func:`whatworks.finding.sensitivity_analyses`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from ..data import schema as S
from ..data.recompute import SETTINGS_ATTR, recompute_effects
from ..data.settings import EffectSettings
from .select import primary_frame

#: Alternative pre-post correlations and ICCs of the sensitivity table.
PREPOST_R_ALTERNATIVES = (0.2, 0.8)
ICC_ALTERNATIVES = (0.01, 0.10)

RowFn = Callable[[str, str, pd.DataFrame, str], dict]


def _changed(primary: pd.DataFrame, other: pd.DataFrame) -> int:
    """Rows of ``other`` whose yi or vi differ from the same effect in ``primary`` (or that are new)."""
    keys = ["review", "effect_id"]
    joined = other[[*keys, "yi", "vi"]].merge(primary[[*keys, "yi", "vi"]], on=keys, how="left",
                                              suffixes=("", "_primary"))
    same = np.isclose(joined["yi"], joined["yi_primary"], rtol=0, atol=1e-12) & \
        np.isclose(joined["vi"], joined["vi_primary"], rtol=0, atol=1e-12)
    return int((~same).sum())


def recompute_affected(reviews: pd.DataFrame, settings: EffectSettings) -> pd.DataFrame:
    """:func:`~whatworks.data.recompute_effects` of ``reviews`` under ``settings``, recomputing only the
    rows that can change: the settings enter only pre-post rows (``means_prepost``: assumed r, d_ppc2 or
    post-only) and cluster-randomised rows (assumed ICC); every other row's computed columns are the same
    under any settings. The one-effect-per-trial choice is made within a trial's rows of a folder, so
    whole (review, study_id) groups are recomputed. Same result, O(affected rows) instead of O(all).
    """
    def col(name: str) -> pd.Series:
        return reviews[name].astype("string") if name in reviews.columns else pd.Series(pd.NA, index=reviews.index,
                                                                                        dtype="string")

    depends = ((col("stat_type") == "means_prepost") | (col("randomisation_unit") == "cluster")).fillna(False)
    trial = col("review").fillna("") + "\x00" + col("study_id").fillna("")
    touched = trial.isin(trial[depends.to_numpy(dtype=bool)]).to_numpy(dtype=bool)
    if touched.all():
        return recompute_effects(reviews, settings)
    out = reviews.copy()
    out.attrs[SETTINGS_ATTR] = settings
    if touched.any():
        part = recompute_effects(reviews.loc[touched], settings)
        for name in S.COMPUTED_EFFECT_COLUMNS:
            out.loc[touched, name] = part[name]
    return out


def design_rows(frame: pd.DataFrame, reviews: pd.DataFrame | None, settings: EffectSettings,
                combined_row: RowFn) -> list[dict]:
    """The sensitivity rows of the effect-size assumptions.

    Parameters
    ----------
    frame : pandas.DataFrame
        The primary rows.
    reviews : pandas.DataFrame or None
        All loaded rows (needed to recompute and reselect); ``None``: the recomputed rows say not run.
    settings : EffectSettings
        The settings of the primary analysis.
    combined_row : callable
        ``(analysis, setting, data, note) -> row``: the combined contrast of ``data`` as a table row.
    """
    rows: list[dict] = []
    variants = [("pre-post correlation", f"r = {r:g} where the source printed none (primary: r = {settings.prepost_r:g})",
                 replace(settings, prepost_r=r)) for r in PREPOST_R_ALTERNATIVES if r != settings.prepost_r]
    if settings.prepost == "ppc2":
        variants.append(("pre-post trials", "post-test means only (Hedges' g; baseline ignored) instead of d_ppc2",
                         replace(settings, prepost="post")))
    variants += [("intracluster correlation", f"ICC = {icc:g} where a cluster trial printed none "
                  f"(primary: ICC = {settings.icc:g})", replace(settings, icc=icc))
                 for icc in ICC_ALTERNATIVES if icc != settings.icc]
    for analysis, setting, alt in variants:
        if reviews is None:
            rows.append(dict(analysis=analysis, setting=setting, quantity="difference",
                             note="not run: pass reviews= (all loaded rows)"))
            continue
        data = primary_frame(recompute_affected(reviews, alt))
        changed = _changed(frame, data)
        rows.append(combined_row(analysis, setting, data,
                                 f"{changed} of {len(data)} primary effects change under this setting"))

    if "baseline_imbalance" in frame.columns:
        flagged = frame["baseline_imbalance"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        names = ", ".join(frame.loc[flagged, "study_id"].astype(str)) or "none"
        rows.append(combined_row("baseline imbalance", "trials with |baseline g| > 0.3 excluded",
                                 frame.loc[~flagged], f"{int(flagged.sum())} excluded: {names}"))
    if "cluster_uncorrected" in frame.columns:
        flagged = frame["cluster_uncorrected"].fillna(False).to_numpy(dtype=bool)
        names = ", ".join(frame.loc[flagged, "study_id"].astype(str)) or "none"
        rows.append(combined_row("cluster trials", "cluster trials that could not be corrected (clusters not "
                                 "reported) excluded", frame.loc[~flagged], f"{int(flagged.sum())} excluded: {names}"))
    return rows
