"""Turning each coded row's reported statistics into ``yi``/``vi``, normalised so negative = less lonely.

The statistics come as the source printed them (``stat_type`` says which); the arithmetic is done by
:mod:`whatworks.effects` and this module only routes each row to the right function and applies the
row's sign convention. A row whose statistics do not give the review's metric keeps ``yi`` missing and
says why (``reason``); a row whose numbers make the effect functions fail gets an ``error``.

Design corrections (pre-post-control rows, cluster trials, baseline balance) come from
:mod:`whatworks.data.design`, under the analysis settings :class:`whatworks.data.settings.EffectSettings`:

- ``means_prepost`` under metric SMD: Morris's (2008) d_ppc2 (:func:`whatworks.effects.smd_ppc2`) when the
  pre means and pre SDs are printed, else Hedges' g of the post means (the note says which); the setting
  ``prepost="post"`` forces the post-only g (a sensitivity analysis).
- cluster-randomised rows with ``n_clusters``: every arm size entering a formula is divided by the design
  effect (Cochrane Handbook v6, 23.1.4: means, SDs, d, t and F as reported; for t and F the d is first
  recovered with the actual arm sizes); for ``md_ci``, ``or_ci`` and ``smcc_diff``, which carry their own
  uncertainty, ``vi`` is multiplied by the design effect (23.1.6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import SupportsFloat, cast

import numpy as np

from .design import BASELINE_IMBALANCE, PPC2_NEEDS, VARIANCE_INFLATED, ClusterDesign, baseline, cluster_design, prepost_r
from .schema import STAT_NEEDS
from .settings import DEFAULT_SETTINGS, EffectSettings
from .table import RowView, Table, columns_of

Row = Mapping[str, object]


@dataclass(frozen=True)
class Computed:
    """Result for one row: ``yi``/``vi`` on the review ``metric`` (negative = treatment less lonely).

    ``note`` says how ``yi`` was computed; ``reason`` why it is missing; ``error`` why the numbers are
    impossible (a validation error). ``baseline_smd``/``baseline_imbalance``: Hedges' g of the baseline
    means and whether its absolute value exceeds 0.3 (:func:`whatworks.data.design.baseline`);
    ``design_effect``: the factor applied to a cluster trial; ``cluster_uncorrected``: a cluster trial
    that could not be corrected.
    """

    yi: float | None = None
    vi: float | None = None
    metric: str | None = None
    note: str = ""
    reason: str = ""
    error: str = ""
    baseline_smd: float | None = None
    baseline_imbalance: bool | None = None
    design_effect: float | None = None
    cluster_uncorrected: bool = False


def compute_effects(rows: Sequence[tuple[int, Row]], metric: str | None,
                    settings: EffectSettings | None = None) -> list[Computed]:
    """Compute ``yi``/``vi`` for every typed row of an effects file under the review ``metric``.

    Rows that take the same route (statistic, metric, CI level; individually randomised, not d_ppc2)
    are computed together, one call of the vectorised effect-size functions per group; a group in which
    any row fails is recomputed row by row, so every error names its own row. An overflowing
    intermediate (e.g. a standard error from a CI of +-1e308) is an error, never a silent yi = 0.

    Parameters
    ----------
    rows : sequence of (int, mapping)
        Data row numbers and typed rows as produced by :func:`whatworks.data.validate.check_folder`
        (``None`` = missing).
    metric : {"SMD", "SMCC_diff", "MD"} or None
        The review's declared metric.
    settings : EffectSettings, optional
        Analysis settings (assumed pre-post correlation, ICC); default :data:`DEFAULT_SETTINGS`.

    Returns
    -------
    list of Computed
        One per row, in order.

    Examples
    --------
    >>> row = dict(stat_type="means_post", m_t=30.0, sd_t=6.0, m_c=34.0, sd_c=6.0, n_treatment=20,
    ...            n_control=20, sign_convention="higher_lonelier", favours=None, ci_level=None)
    >>> c = compute_effects([(1, row)], "SMD")[0]
    >>> round(c.yi, 4), round(c.vi, 4)
    (-0.6534, 0.1053)
    """
    settings = DEFAULT_SETTINGS if settings is None else settings
    maps: list[Row] = ([RowView(rows.columns, i) for i in range(len(rows))] if isinstance(rows, Table)
                       else [row for _, row in rows])
    out: list[Computed | None] = [None] * len(maps)
    groups: dict[tuple[str, str, object], list[int]] = {}
    for i, row in enumerate(maps):
        out[i] = early = _route(row, metric, settings)
        if early is None and row.get("randomisation_unit") != "cluster":  # cluster trials: one by one
            groups.setdefault(_group_key(row, metric, settings), []).append(i)
    for (st, met, *_), idx in groups.items():
        group = _group(st, met, [maps[i] for i in idx], settings) if len(idx) > 1 else None
        for i, c in zip(idx, group or [None] * len(idx)):
            out[i] = c if c is not None else _one(maps[i], met, settings)
    _, cols = columns_of(rows, _BASELINE_NEEDS)
    with_baseline = [i for i, xs in enumerate(zip(*(cols[name] for name in _BASELINE_NEEDS))) if None not in xs]
    baselines = _baselines(maps, with_baseline)
    done: list[Computed] = []
    for i, (row, c) in enumerate(zip(maps, out)):
        c = _one(row, metric, settings) if c is None else c
        if i in baselines:
            g, flag = baselines[i]
            c = replace(c, baseline_smd=g, baseline_imbalance=flag)
        done.append(c)
    return done


_BASELINE_NEEDS = ("m_pre_t", "sd_pre_t", "n_treatment", "m_pre_c", "sd_pre_c", "n_control")


def _group_key(row: Row, metric: str | None, settings: EffectSettings) -> tuple:
    """Rows with the same key go through :func:`_raw` along the same lines and get the same note: the
    statistic, metric and CI level, and for d_ppc2 the way the pre-post r was chosen (its note)."""
    st = row["stat_type"]
    key: tuple = (str(st), str(metric), row.get("ci_level"))
    if st == "means_prepost" and metric == "SMD" and settings.prepost == "ppc2":
        key += (all(row.get(name) is not None for name in PPC2_NEEDS) and prepost_r(row, settings)[1],)
    return key


def _baselines(maps: list[Row], idx: list[int]) -> dict[int, tuple[float | None, bool | None]]:
    """:func:`whatworks.data.design.baseline` of the rows ``idx``, from one vectorised Hedges' g (the
    rows are recomputed one by one if any of them makes it fail)."""
    if len(idx) < 2:
        return {i: baseline(maps[i]) for i in idx}
    from whatworks.effects import smd

    cols = _Columns([maps[i] for i in idx])
    try:
        with np.errstate(all="ignore"):
            es = smd(*(cols[name] for name in _BASELINE_NEEDS[:3]), *(cols[name] for name in _BASELINE_NEEDS[3:]))
        g = np.broadcast_to(np.asarray(es.yi, dtype=float), (len(idx),)).tolist()
    except ValueError:
        return {i: baseline(maps[i]) for i in idx}
    out: dict[int, tuple[float | None, bool | None]] = {}
    for i, gi in zip(idx, g):
        if not math.isfinite(gi):
            out[i] = (None, None)
            continue
        flag, sign = abs(gi) > BASELINE_IMBALANCE, maps[i].get("sign_convention")
        out[i] = (-gi + 0.0, flag) if sign == "higher_less_lonely" else (gi, flag) if sign == "higher_lonelier" \
            else (None, flag)
    return out


class _Columns(dict):
    """The rows of a group as one mapping of arrays, so :func:`_raw` runs once for all of them; a value
    that is the same in every row (e.g. the CI level) stays a scalar."""

    def __init__(self, rows: list[Row]) -> None:
        super().__init__()
        self._rows = rows

    def __missing__(self, name: str) -> object:
        values = [row.get(name) for row in self._rows]
        first = values[0]
        if all(v == first for v in values):
            col: object = first
        else:
            col = np.array([np.nan if v is None else v for v in values], dtype=float)
        self[name] = col
        return col

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        value = self[name]
        return default if value is None else value


def _group(st: str, metric: str, rows: list[Row], settings: EffectSettings) -> list[Computed | None] | None:
    """The Computed of each row of a group from one vectorised call of :func:`_raw` (None where a row
    must be computed alone), or None if the whole group must go row by row."""
    m = len(rows)
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore"):
            yi, vi, note = _raw(st, metric, _Columns(rows), settings, ClusterDesign())
        yi = np.broadcast_to(np.asarray(yi, dtype=float), (m,)).tolist()
        vi = np.broadcast_to(np.asarray(vi, dtype=float), (m,)).tolist()
    except (ValueError, TypeError, ArithmeticError, IndexError, KeyError):
        return None
    return [_signed(row, y, v, note, metric) if math.isfinite(y) and math.isfinite(v) and v > 0 else None
            for row, y, v in zip(rows, yi, vi)]


def _signed(row: Row, yi: float, vi: float, note: str, metric: str | None, cluster: ClusterDesign | None = None
            ) -> Computed:
    """The row's Computed from its un-normalised (yi, vi): sign convention and design notes applied."""
    sign = row.get("sign_convention")
    if sign == "higher_less_lonely":
        yi, note = -yi, note + "; sign reversed (source: higher = less lonely)"
    elif sign == "undirected":
        yi = -abs(yi) if row["favours"] == "treatment" else abs(yi)
        note += f"; direction from favours = {row['favours']}"
    if cluster is None:
        return Computed(yi=yi + 0.0, vi=vi, metric=metric, note=note)
    if cluster.note:
        note += f"; {cluster.note}"
    return Computed(yi=yi + 0.0, vi=vi, metric=metric, note=note,
                    design_effect=cluster.factor if cluster.corrected else None,
                    cluster_uncorrected=cluster.uncorrected)


def _route(row: Row, metric: str | None, settings: EffectSettings) -> Computed | None:
    """Why the row gives no yi (a Computed with the reason), or None when it is to be computed."""
    st = row.get("stat_type")
    if st is None:
        return Computed(reason="stat_type missing or invalid")
    if st == "other":
        return Computed(reason="stat_type other: the reported statistics do not give an effect size")
    if metric is None:
        return Computed(reason="review metric not declared in review.toml")
    needs = STAT_NEEDS.get((str(st), metric))
    if (st, metric, settings.prepost) == ("means_prepost", "SMD", "ppc2") and all(
            row.get(name) is not None for name in PPC2_NEEDS):
        needs = PPC2_NEEDS  # d_ppc2 does not need the post SDs
    if needs is None:
        return Computed(reason=f"stat_type {st} does not give the review metric {metric}")
    missing = [name for name in needs if row.get(name) is None]
    if missing:
        return Computed(reason=f"cannot compute {metric} from {st}: {', '.join(missing)} missing")
    sign = row.get("sign_convention")
    if sign is None:
        return Computed(reason="sign convention missing")
    if sign == "undirected" and row.get("favours") in (None, "unknown"):
        return Computed(reason="undirected statistic and the source does not say which arm was less lonely")
    if st == "f" and sign != "undirected":
        return Computed(reason="an F statistic carries no direction: sign_convention must be undirected, with favours")
    return None


def _one(row: Row, metric: str | None, settings: EffectSettings) -> Computed:
    """The Computed of one row, computed alone."""
    early = _route(row, metric, settings)
    if early is not None:
        return early
    st = str(row.get("stat_type"))
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore"):
            cluster = cluster_design(row, settings)
            yi, vi, note = _raw(st, str(metric), row, settings, cluster)
            yi, vi = float(yi), float(vi)
    except ImportError as exc:  # pragma: no cover - only while whatworks.effects is missing
        return Computed(reason=f"effect-size functions unavailable: {exc}")
    except FloatingPointError:
        return Computed(error=f"the reported {st} statistics overflow a derived value ({_inputs(row, st, metric)}); "
                              "check them against the source")
    except (ValueError, TypeError, ArithmeticError) as exc:
        return Computed(error=f"cannot compute {metric} from the reported {st} statistics: {exc}")
    if not (math.isfinite(yi) and math.isfinite(vi)) or vi <= 0:
        return Computed(error=f"the reported {st} statistics give an impossible effect "
                              f"(yi = {yi!r}, vi = {vi!r}); check them against the source")
    return _signed(row, yi, vi, note, metric, cluster)


def _inputs(row: Row, st: str, metric: str | None) -> str:
    return ", ".join(f"{name} = {row.get(name):g}" for name in STAT_NEEDS.get((st, str(metric)), ()))


def _f(row: Row, name: str) -> float:
    """A numeric input of the row; an array when :func:`_raw` runs on a group (see _Columns)."""
    value = row[name]
    return value if isinstance(value, np.ndarray) else float(cast(SupportsFloat, value))  # type: ignore[return-value]


def _scalar(value: object) -> float:
    """The value of a one-element result; the whole array when computing a group."""
    arr = np.asarray(value, dtype=float)
    return arr if arr.size > 1 else float(arr.reshape(-1)[0])  # type: ignore[return-value]


def _raw(st: str, metric: str, row: Row, settings: EffectSettings,
         cluster: ClusterDesign) -> tuple[float, float, str]:
    """Un-normalised (yi, vi) in the source's direction, and how they were computed.

    ``n1``/``n2`` are the arm sizes as reported, ``e1``/``e2`` the effective ones (divided by the design
    effect of a cluster trial; equal to n1/n2 otherwise).
    """
    from whatworks import effects as E

    level = _f(row, "ci_level") if row.get("ci_level") is not None else 0.95
    n1 = _f(row, "n_treatment") if row.get("n_treatment") is not None else math.nan
    n2 = _f(row, "n_control") if row.get("n_control") is not None else math.nan
    e1, e2 = n1 / cluster.factor, n2 / cluster.factor
    if st in VARIANCE_INFLATED:
        yi, vi, note = _reported(st, metric, row, level, n1, n2)
        return yi, vi * cluster.factor, note + ("; vi multiplied by the design effect" if cluster.corrected else "")
    if st in ("means_post", "means_prepost") and metric == "MD":
        yi = _f(row, "m_t") - _f(row, "m_c")
        vi = _f(row, "sd_t") ** 2 / e1 + _f(row, "sd_c") ** 2 / e2
        return yi, vi, "MD from post means (m_t - m_c)"
    if st == "means_prepost" and metric == "SMD" and settings.prepost == "ppc2":
        missing = [name for name in PPC2_NEEDS if row.get(name) is None]
        if not missing:
            r, r_note = prepost_r(row, settings)
            es = E.smd_ppc2(_f(row, "m_t"), _f(row, "m_pre_t"), _f(row, "sd_pre_t"), e1,
                            _f(row, "m_c"), _f(row, "m_pre_c"), _f(row, "sd_pre_c"), e2, r)
            return (_scalar(es.yi), _scalar(es.vi),
                    f"smd_ppc2 (Morris 2008 d_ppc2: difference of mean changes over the pooled baseline SD; {r_note})")
        post_note = f"smd (Hedges' g) from post means: d_ppc2 not computable ({', '.join(missing)} missing)"
    elif st == "means_prepost" and metric == "SMD":
        post_note = "smd (Hedges' g) from post means (analysis setting: post-test means only)"
    else:
        post_note = "smd (Hedges' g) from post means"
    if st in ("means_post", "means_prepost") and metric == "SMD":
        es = E.smd(_f(row, "m_t"), _f(row, "sd_t"), e1, _f(row, "m_c"), _f(row, "sd_c"), e2)
        return _scalar(es.yi), _scalar(es.vi), post_note
    if st == "means_prepost":  # SMCC_diff
        t = E.smcc(_f(row, "m_t"), _f(row, "m_pre_t"), _f(row, "sd_t"), _f(row, "sd_pre_t"), e1, _f(row, "r_t"))
        c = E.smcc(_f(row, "m_c"), _f(row, "m_pre_c"), _f(row, "sd_c"), _f(row, "sd_pre_c"), e2, _f(row, "r_c"))
        return (_scalar(t.yi) - _scalar(c.yi), _scalar(t.vi) + _scalar(c.vi),
                "smcc(treatment) - smcc(control)")
    if st in ("d", "g"):
        es = E.smd_from_d(_f(row, "es"), e1, e2, already_hedges=(st == "g"))
        return _scalar(es.yi), _scalar(es.vi), f"smd_from_d ({st} as reported)"
    if st in ("t", "f"):
        # d from the test statistic with the actual arm sizes (escalc's ti route; for F, t = sqrt(F)), then
        # Hedges' correction and the variance with the effective ones
        t_stat = _f(row, "test_stat")
        if st == "f":
            if np.any(np.asarray(t_stat) < 0):  # (a group with a negative F is recomputed row by row)
                raise ValueError(f"f must be >= 0, got {t_stat:g}")
            t_stat = np.sqrt(t_stat)
        es = E.smd_from_d(t_stat * np.sqrt(1 / n1 + 1 / n2), e1, e2)
        return _scalar(es.yi), _scalar(es.vi), f"smd_from_{st}"
    raise ValueError(f"no computation for stat_type {st} under metric {metric}")  # pragma: no cover


def _reported(st: str, metric: str, row: Row, level: float, n1: float, n2: float) -> tuple[float, float, str]:
    """Effects the source reported with their own uncertainty: md_ci, or_ci, smcc_diff."""
    from whatworks import effects as E

    if st == "smcc_diff":
        return _f(row, "es"), _f(row, "es_se") ** 2, "smcc_diff as reported; vi = es_se**2"
    lo, hi = _f(row, "es_ci_low"), _f(row, "es_ci_high")
    if st == "md_ci" and metric == "SMD":
        es = E.smd_from_md_ci(_f(row, "es"), lo, hi, n1, n2, level=level, dist="t")
        return _scalar(es.yi), _scalar(es.vi), "smd_from_md_ci (SD from the CI, t quantile)"
    if st == "md_ci":
        es = E.md_from_ci(_f(row, "es"), lo, hi, level=level)
        return _scalar(es.yi), _scalar(es.vi), "md_from_ci"
    log_or = E.log_or_from_ci(_f(row, "es"), lo, hi, level=level)  # or_ci
    es = E.or_to_smd(log_or.yi, log_or.vi)
    return _scalar(es.yi), _scalar(es.vi), "log_or_from_ci then or_to_smd (logit)"
