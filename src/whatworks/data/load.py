"""Loading validated review folders into tidy DataFrames: effects, published pooled results, a catalogue."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .problems import DataValidationError, Problem, format_problems
from .risk_of_bias import attach_risk_of_bias
from .recompute import SETTINGS_ATTR, assign_computed, computed_columns, recompute_effects
from .roots import resolve_root
from .settings import DEFAULT_SETTINGS, EffectSettings
from .table import columns_of
from .validate import FolderData, check_collection, discover

_INT_DTYPE = "Int64"


class DataQualityWarning(UserWarning):
    """Issued when loaded data carry warnings (e.g. an extreme effect); they do not block loading."""


def _wanted(names: Iterable[str], reviews: Iterable[str] | None) -> set[str] | None:
    """The review ids asked for (None: all), refusing unknown ones with the list of available ids."""
    if reviews is None:
        return None
    wanted = [reviews] if isinstance(reviews, str) else list(reviews)
    names = set(names)
    unknown = [r for r in wanted if r not in names]
    if unknown:
        raise ValueError(f"unknown review id(s) {', '.join(map(repr, unknown))}; "
                         f"available: {', '.join(sorted(names)) or '(none)'}")
    return set(wanted)


def _load(root: str | Path | None, reviews: Iterable[str] | None, *,
          warn: bool = True) -> tuple[list[FolderData], list[Problem]]:
    folders = discover(root, require=True)
    wanted = _wanted((f.name for f in folders), reviews)
    if wanted is not None:
        folders = [f for f in folders if f.name in wanted]
    data, problems = check_collection(folders, root=resolve_root(root))
    if any(p.is_error for p in problems):
        raise DataValidationError(problems)
    if problems and warn:
        warnings.warn(format_problems(problems), DataQualityWarning, stacklevel=3)
    return data, problems


@dataclass(frozen=True)
class Collection:
    """A collection validated once and loaded: what :func:`load_reviews`, :func:`load_pooled`,
    :func:`load_risk_of_bias` and :func:`list_reviews` return, and the warnings found (``problems``;
    errors raise instead)."""

    root: Path
    effects: pd.DataFrame
    pooled: pd.DataFrame
    risk_of_bias: pd.DataFrame
    catalogue: pd.DataFrame
    problems: tuple[Problem, ...]

    def select(self, reviews: Iterable[str]) -> "Collection":
        """The same collection restricted to the review ids ``reviews`` (unknown ids raise ValueError)."""
        wanted = _wanted(self.catalogue["review"], reviews) or set()

        def keep(frame: pd.DataFrame) -> pd.DataFrame:
            out = frame[frame["review"].isin(wanted).to_numpy(dtype=bool)].reset_index(drop=True)
            out.attrs = dict(frame.attrs)
            return out

        return Collection(self.root, keep(self.effects), keep(self.pooled), keep(self.risk_of_bias),
                          keep(self.catalogue), self.problems)


def load_collection(root: str | Path | None = None, *, reviews: Iterable[str] | None = None,
                    settings: EffectSettings | None = None) -> Collection:
    """Validate a whole collection once and load its effects, published results and catalogue.

    One pass instead of one per loader (the report used to validate the collection four times).
    Every review folder is validated, so an error anywhere stops the load, as ``whatworks validate``
    would; ``reviews`` then selects what is returned.

    Parameters
    ----------
    root : str or Path, optional
        As in :func:`load_reviews`.
    reviews : iterable of str, optional
        Review ids to return (default: all); unknown ids raise ``ValueError`` naming the available ones.
    settings : EffectSettings, optional
        As in :func:`load_reviews`.

    Returns
    -------
    Collection
        ``effects`` (as :func:`load_reviews`), ``pooled`` (as :func:`load_pooled`), ``risk_of_bias`` (as
        :func:`load_risk_of_bias`), ``catalogue`` (as :func:`list_reviews`), ``problems`` (the warnings;
        they are not issued as DataQualityWarning). ``select(ids)`` restricts it to some reviews.

    Raises
    ------
    DataValidationError
        If any file has errors; nothing is loaded.

    Examples
    --------
    >>> from whatworks.data import load_collection
    >>> col = load_collection(reviews=["living"])
    >>> list(col.catalogue["review"]), set(col.effects["review"])
    (['living'], {'living'})
    """
    _check_settings(settings)
    data, problems = _load(root, None, warn=False)
    wanted = _wanted((d.review_id for d in data), reviews)
    if wanted is not None:
        data = [d for d in data if d.review_id in wanted]
    return Collection(root=resolve_root(root), effects=_effects(data, settings), pooled=_pooled(data),
                      risk_of_bias=_risk_of_bias(data), catalogue=_catalogue(data), problems=tuple(problems))


def _check_settings(settings: object) -> None:
    if settings is not None and not isinstance(settings, EffectSettings):
        raise ValueError(f"settings must be an EffectSettings, got {type(settings).__name__}")


def _effects(data: list[FolderData], settings: EffectSettings | None) -> pd.DataFrame:
    frames = [_effects_frame(d) for d in data if d.effects is not None]
    out = pd.concat(frames, ignore_index=True) if frames else _effects_frame(FolderData(""))
    if settings is not None and settings != DEFAULT_SETTINGS:
        return recompute_effects(out, settings)
    out.attrs[SETTINGS_ATTR] = DEFAULT_SETTINGS
    return out


def _pooled(data: list[FolderData]) -> pd.DataFrame:
    frames = [_pooled_frame(d) for d in data if d.pooled is not None]
    return pd.concat(frames, ignore_index=True) if frames else _pooled_frame(FolderData(""))


def load_reviews(root: str | Path | None = None, *, reviews: Iterable[str] | None = None,
                 settings: EffectSettings | None = None) -> pd.DataFrame:
    """All coded effects of a collection of reviews as one tidy, validated DataFrame.

    Parameters
    ----------
    root : str or Path, optional
        A folder of review folders laid out like ``data/reviews`` (or one review folder). ``None``
        reads ``data/reviews`` in the working directory when it exists, else the bundled data
        (:func:`whatworks.data.roots.find_root`).
    reviews : iterable of str, optional
        Review ids to load (default: all).
    settings : EffectSettings, optional
        Analysis settings of the effect sizes (assumed pre-post correlation, ICC; see
        :class:`whatworks.data.EffectSettings`); default: the primary settings. Recorded in
        ``attrs["effect_settings"]`` and in every ``yi_note`` that uses them.

    Returns
    -------
    pandas.DataFrame
        One row per coded effect, sorted by review then file order, with every schema column of
        ``effects.csv`` (``None``/``<NA>`` = missing) and the computed columns ``yi``, ``vi`` (on
        ``metric``, the review's declared metric; negative = treatment arm less lonely), ``metric``,
        ``yi_note`` (how ``yi`` was computed, with the settings it used), ``pool`` (``yi`` available,
        the row not excluded, and the trial's one effect in its folder: :mod:`whatworks.data.trials`),
        ``pool_reason`` (why not; empty when pooled), ``baseline_smd`` and ``baseline_imbalance``
        (Hedges' g of the baseline means; ``|g| > 0.3``), ``design_effect`` (cluster trials corrected)
        and ``cluster_uncorrected`` (cluster trials that could not be).
        Before them, the row's risk of bias from the folder's ``risk_of_bias.csv``: ``rob_tool``
        (``rob2``, ``robins_i``; missing when not assessed) and ``rob_overall`` (the overall judgement,
        ``"not_assessed"`` when no assessment applies). The domain judgements are in
        :func:`load_risk_of_bias` (join them with :func:`attach_risk_of_bias`).

    Raises
    ------
    DataValidationError
        If any file has errors; its ``problems`` list them all and nothing is loaded.
    FileNotFoundError
        If ``root`` is not a folder.

    Warns
    -----
    DataQualityWarning
        When the data carry warnings (e.g. an effect with ``|g| > 3``).

    Examples
    --------
    >>> from whatworks.data import load_reviews
    >>> df = load_reviews()
    >>> {"review", "study_id", "yi", "vi", "pool", "rob_overall"} <= set(df.columns)
    True
    """
    _check_settings(settings)
    return _effects(_load(root, reviews)[0], settings)


def load_risk_of_bias(root: str | Path | None = None, *, reviews: Iterable[str] | None = None) -> pd.DataFrame:
    """The risk-of-bias assessments (``risk_of_bias.csv``) of every review folder that has one.

    Parameters
    ----------
    root : str or Path, optional
        As in :func:`load_reviews`.
    reviews : iterable of str, optional
        Review ids to load (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per assessment with every column of ``risk_of_bias.csv`` (schema order), sorted by
        review then file order; empty (with the columns) when no folder has the file.

    Raises
    ------
    DataValidationError
        If any file has errors.

    Examples
    --------
    >>> from whatworks.data import load_risk_of_bias
    >>> rob = load_risk_of_bias(reviews=["living"])
    >>> set(rob["tool"]) <= {"rob2", "robins_i"}
    True
    """
    return _risk_of_bias(_load(root, reviews)[0])


def _risk_of_bias(data: list[FolderData]) -> pd.DataFrame:
    frames = [_typed_frame(d.risk_of_bias, S.RISK_OF_BIAS_COLUMNS) for d in data if d.risk_of_bias is not None]
    if not frames:
        return _typed_frame([], S.RISK_OF_BIAS_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def load_pooled(root: str | Path | None = None, *, reviews: Iterable[str] | None = None) -> pd.DataFrame:
    """The published pooled results (overall and per subgroup) of every review, as printed.

    Adds ``estimate_norm``, ``ci_low_norm`` and ``ci_high_norm``: the same numbers with negative =
    less lonely (bounds swapped when the sign is flipped; odds ratios on the log scale), missing when
    the printed sign was lost.

    Parameters
    ----------
    root : str or Path, optional
        As in :func:`load_reviews`.
    reviews : iterable of str, optional
        Review ids to load (default: all).

    Returns
    -------
    pandas.DataFrame
        One row per published pooled result, sorted by review then file order.

    Raises
    ------
    DataValidationError
        If any file has errors.

    Examples
    --------
    >>> from whatworks.data import load_pooled
    >>> pooled = load_pooled()
    >>> {"review", "analysis", "estimate", "estimate_norm"} <= set(pooled.columns)
    True
    """
    return _pooled(_load(root, reviews)[0])


def list_reviews(root: str | Path | None = None) -> pd.DataFrame:
    """A catalogue of the reviews in a collection: one row per review folder.

    Parameters
    ----------
    root : str or Path, optional
        As in :func:`load_reviews`.

    Returns
    -------
    pandas.DataFrame
        Columns ``review`` (id), ``title``, ``kind``, ``citation``, ``metric``, ``n_effects``,
        ``n_pooled_effects`` (rows with ``pool`` true), ``n_published`` (rows of ``pooled.csv``), ``url``,
        ``doi`` and ``scope`` (the review's population and included studies, as ``review.toml`` states them).

    Examples
    --------
    >>> from whatworks.data import list_reviews
    >>> cat = list_reviews()
    >>> list(cat.columns[:3])
    ['review', 'title', 'kind']
    """
    return _catalogue(_load(root, None)[0])


def _catalogue(data: list[FolderData]) -> pd.DataFrame:
    records = []
    for d in data:
        effects = _effects_frame(d) if d.effects is not None else None
        records.append({
            "review": d.review_id,
            "title": d.meta.get("title"),
            "kind": d.meta.get("kind"),
            "citation": d.meta.get("citation"),
            "metric": d.meta.get("metric"),
            "n_effects": 0 if effects is None else len(effects),
            "n_pooled_effects": 0 if effects is None else int(effects["pool"].sum()),
            "n_published": 0 if d.pooled is None else len(d.pooled),
            "url": d.meta.get("url"),
            "doi": d.meta.get("doi"),
            "scope": d.meta.get("scope"),
        })
    columns = ["review", "title", "kind", "citation", "metric", "n_effects", "n_pooled_effects",
               "n_published", "url", "doi", "scope"]
    return pd.DataFrame.from_records(records, columns=columns)


def _typed_frame(rows: Sequence[tuple[int, Mapping[str, object]]], columns: tuple[S.Column, ...]) -> pd.DataFrame:
    out: dict[str, object] = {}
    _, cols = columns_of(rows, [c.name for c in columns])
    for col in columns:
        values = cols[col.name]
        if col.type == "int":
            out[col.name] = pd.array(values, dtype=_INT_DTYPE)
        elif col.type == "float":
            out[col.name] = np.array([np.nan if v is None else v for v in values], dtype=float)
        elif col.type == "bool":
            out[col.name] = np.array([bool(v) for v in values], dtype=bool)
        else:
            out[col.name] = pd.array(values, dtype="string")
    return pd.DataFrame(out)


def _effects_frame(d: FolderData) -> pd.DataFrame:
    rows: Sequence[tuple[int, Mapping[str, object]]] = d.effects or []
    df = _typed_frame(rows, S.EFFECT_COLUMNS)
    rob = _typed_frame(d.risk_of_bias or [], S.RISK_OF_BIAS_COLUMNS)
    attached = attach_risk_of_bias(df, rob)
    for name in S.ROB_EFFECT_COLUMNS:
        df[name] = attached[name]
    metric = [d.meta.get("metric") for _ in rows]
    return assign_computed(df, computed_columns([row for _, row in rows], d.computed, metric))


def _pooled_frame(d: FolderData) -> pd.DataFrame:
    df = _typed_frame(d.pooled or [], S.POOLED_COLUMNS)
    est, lo, hi = (df[c].to_numpy(dtype=float, copy=True) for c in ("estimate", "ci_low", "ci_high"))
    is_or = (df["metric"] == "OR").fillna(False).to_numpy(dtype=bool)
    with np.errstate(all="ignore"):
        for arr in (est, lo, hi):
            arr[is_or] = np.log(np.where(arr[is_or] > 0, arr[is_or], np.nan))
    sign = df["sign_convention"].fillna("lost").to_numpy(dtype=object)
    flip = sign == "positive_less_lonely"
    lost = sign == "lost"
    df["estimate_norm"] = np.where(lost, np.nan, np.where(flip, -est, est)) + 0.0
    df["ci_low_norm"] = np.where(lost, np.nan, np.where(flip, -hi, lo)) + 0.0
    df["ci_high_norm"] = np.where(lost, np.nan, np.where(flip, -lo, hi)) + 0.0
    return df

