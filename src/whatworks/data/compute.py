"""Turning each coded row's reported statistics into ``yi``/``vi``, normalised so negative = less lonely.

The statistics come as the source printed them (``stat_type`` says which); the arithmetic is done by
:mod:`whatworks.effects` and this module only routes each row to the right function and applies the
row's sign convention. A row whose statistics do not give the review's metric keeps ``yi`` missing and
says why (``reason``); a row whose numbers make the effect functions fail gets an ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import SupportsFloat, cast

import numpy as np

from .schema import STAT_NEEDS
from .table import columns_of

Row = Mapping[str, object]


@dataclass(frozen=True)
class Computed:
    """Result for one row: ``yi``/``vi`` on the review ``metric`` (negative = treatment less lonely).

    ``note`` says how ``yi`` was computed; ``reason`` why it is missing; ``error`` why the numbers are
    impossible (a validation error).
    """

    yi: float | None = None
    vi: float | None = None
    metric: str | None = None
    note: str = ""
    reason: str = ""
    error: str = ""


def compute_effects(rows: Sequence[tuple[int, Row]], metric: str | None) -> list[Computed]:
    """Compute ``yi``/``vi`` for every typed row of an effects file under the review ``metric``.

    Rows that take the same route (statistic, metric, CI level) are computed together, one call of
    the vectorised effect-size functions per group; a group in which any row fails is recomputed row
    by row, so every error names its own row. An overflowing intermediate (e.g. a standard error from
    a CI of +-1e308) is an error, never a silent yi = 0.

    Parameters
    ----------
    rows : sequence of (int, mapping)
        Data row numbers and typed rows as produced by :func:`whatworks.data.validate.check_folder`
        (``None`` = missing).
    metric : {"SMD", "SMCC_diff", "MD"} or None
        The review's declared metric.

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
    nums, cols = columns_of(rows, _ROUTE_COLUMNS)
    n = len(nums)
    out: list[Computed | None] = [None] * n
    groups: dict[tuple[str, str, object], list[int]] = {}
    st_col, level_col = cols["stat_type"], cols["ci_level"]
    for i in range(n):
        early = _route(lambda name, i=i: cols[name][i], metric)
        if early is None:
            groups.setdefault((str(st_col[i]), str(metric), level_col[i]), []).append(i)
        else:
            out[i] = early
    for (st, met, _), idx in groups.items():
        group = _group(st, met, _Columns(cols, idx)) if len(idx) > 1 else None
        if group is None:  # one by one, so that each error names its row
            for i in idx:
                out[i] = _one(_row(rows, cols, i), st, met)
        else:
            yi, vi, note = group
            for i, c in zip(idx, _signed(yi, vi, note, met, [cols["sign_convention"][i] for i in idx],
                                         [cols["favours"][i] for i in idx])):
                out[i] = c
    return [c if c is not None else Computed() for c in out]


#: Columns that decide how a row is computed (plus the inputs each statistic needs).
_ROUTE_COLUMNS = tuple(dict.fromkeys(["stat_type", "sign_convention", "favours", "ci_level", "n_treatment", "n_control",
                                      *(name for needs in STAT_NEEDS.values() for name in needs)]))


def _row(rows: Sequence[tuple[int, Row]], cols: Mapping[str, list], i: int) -> Mapping[str, object]:
    """Row ``i`` as a mapping: the caller's own row, or a view of the table's columns."""
    from .table import RowView, Table

    return RowView(cols, i) if isinstance(rows, Table) else rows[i][1]


def _route(get: Callable[[str], object], metric: str | None) -> Computed | None:
    """Why the row gives no yi (a Computed with the reason), or None when it is to be computed;
    ``get(name)`` reads the row's value of a column."""
    st = get("stat_type")
    if st is None:
        return Computed(reason="stat_type missing or invalid")
    if st == "other":
        return Computed(reason="stat_type other: the reported statistics do not give an effect size")
    if metric is None:
        return Computed(reason="review metric not declared in review.toml")
    needs = STAT_NEEDS.get((str(st), metric))
    if needs is None:
        return Computed(reason=f"stat_type {st} does not give the review metric {metric}")
    missing = [name for name in needs if get(name) is None]
    if missing:
        return Computed(reason=f"cannot compute {metric} from {st}: {', '.join(missing)} missing")
    sign = get("sign_convention")
    if sign is None:
        return Computed(reason="sign convention missing")
    if sign == "undirected" and get("favours") in (None, "unknown"):
        return Computed(reason="undirected statistic and the source does not say which arm was less lonely")
    return None


class _Columns(dict):
    """The rows ``idx`` of a group as one mapping of arrays, so :func:`_raw` runs once for all of them."""

    def __init__(self, cols: Mapping[str, list], idx: list[int]) -> None:
        super().__init__()
        self._cols, self._idx = cols, idx

    def __missing__(self, name: str) -> object:
        source = self._cols[name]
        values = [source[i] for i in self._idx]
        first = values[0]
        if all(v == first for v in values):  # one value for the whole group (e.g. the CI level): a scalar
            col: object = first
        else:
            col = np.array([np.nan if v is None else v for v in values], dtype=float)
        self[name] = col
        return col

    def get(self, name: str, default: object = None) -> object:  # type: ignore[override]
        value = self[name]
        return default if value is None else value


def _group(st: str, metric: str, group: _Columns) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(yi, vi, note) of a group from one vectorised call, or None if it must go row by row."""
    m = len(group._idx)
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore"):
            yi, vi, note = _raw(st, metric, group)
        yi = np.broadcast_to(np.asarray(yi, dtype=float), (m,))
        vi = np.broadcast_to(np.asarray(vi, dtype=float), (m,))
    except (ValueError, TypeError, ArithmeticError, IndexError, KeyError):
        return None
    if not (np.isfinite(yi).all() and np.isfinite(vi).all() and (vi > 0).all()):
        return None
    return yi, vi, note


def _signed(yi: np.ndarray, vi: np.ndarray, note: str, metric: str, signs: list, favours: list) -> list[Computed]:
    """The Computed of each row of a group, with its sign convention applied."""
    out = []
    for y, v, sign, fav in zip(yi.tolist(), vi.tolist(), signs, favours):
        if sign == "higher_less_lonely":
            out.append(Computed(yi=-y + 0.0, vi=v, metric=metric, note=note + _REVERSED))
        elif sign == "undirected":
            y = -abs(y) if fav == "treatment" else abs(y)
            out.append(Computed(yi=y + 0.0, vi=v, metric=metric, note=note + f"; direction from favours = {fav}"))
        else:
            out.append(Computed(yi=y + 0.0, vi=v, metric=metric, note=note))
    return out


_REVERSED = "; sign reversed (source: higher = less lonely)"


def _one(row: Mapping[str, object], st: str, metric: str) -> Computed:
    """The Computed of one row, computed alone."""
    try:
        with np.errstate(over="raise", divide="ignore", invalid="ignore"):
            yi, vi, note = _raw(st, metric, row)
            yi, vi = _scalar(yi), _scalar(vi)
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
    return _signed(np.array([yi]), np.array([vi]), note, metric, [row.get("sign_convention")], [row.get("favours")])[0]


def _inputs(row: Row, st: str, metric: str) -> str:
    return ", ".join(f"{name} = {row.get(name):g}" for name in STAT_NEEDS.get((st, metric), ()))


def _f(row: Row, name: str) -> float:
    """A numeric input of the row; an array when :func:`_raw` runs on a group (see _Columns)."""
    value = row[name]
    return value if isinstance(value, np.ndarray) else float(cast(SupportsFloat, value))  # type: ignore[return-value]


def _scalar(value: object) -> float:
    """The value of a one-element result; the whole array when computing a group."""
    arr = np.asarray(value, dtype=float)
    return arr if arr.size > 1 else float(arr.reshape(-1)[0])  # type: ignore[return-value]


def _raw(st: str, metric: str, row: Row) -> tuple[float, float, str]:
    """Un-normalised (yi, vi) in the source's direction, and how they were computed."""
    from whatworks import effects as E

    level = _f(row, "ci_level") if row.get("ci_level") is not None else 0.95
    n1 = _f(row, "n_treatment") if row.get("n_treatment") is not None else math.nan
    n2 = _f(row, "n_control") if row.get("n_control") is not None else math.nan
    if st in ("means_post", "means_prepost") and metric == "MD":
        yi = _f(row, "m_t") - _f(row, "m_c")
        vi = _f(row, "sd_t") ** 2 / n1 + _f(row, "sd_c") ** 2 / n2
        return yi, vi, "MD from post means (m_t - m_c)"
    if st in ("means_post", "means_prepost") and metric == "SMD":
        es = E.smd(_f(row, "m_t"), _f(row, "sd_t"), n1, _f(row, "m_c"), _f(row, "sd_c"), n2)
        return _scalar(es.yi), _scalar(es.vi), "smd (Hedges' g) from post means"
    if st == "means_prepost":  # SMCC_diff
        t = E.smcc(_f(row, "m_t"), _f(row, "m_pre_t"), _f(row, "sd_t"), _f(row, "sd_pre_t"), n1, _f(row, "r_t"))
        c = E.smcc(_f(row, "m_c"), _f(row, "m_pre_c"), _f(row, "sd_c"), _f(row, "sd_pre_c"), n2, _f(row, "r_c"))
        return (_scalar(t.yi) - _scalar(c.yi), _scalar(t.vi) + _scalar(c.vi),
                "smcc(treatment) - smcc(control)")
    if st in ("d", "g"):
        es = E.smd_from_d(_f(row, "es"), n1, n2, already_hedges=(st == "g"))
        return _scalar(es.yi), _scalar(es.vi), f"smd_from_d ({st} as reported)"
    if st == "t":
        es = E.smd_from_t(_f(row, "test_stat"), n1, n2)
        return _scalar(es.yi), _scalar(es.vi), "smd_from_t"
    if st == "f":
        es = E.smd_from_f(_f(row, "test_stat"), n1, n2, sign=1)
        return _scalar(es.yi), _scalar(es.vi), "smd_from_f"
    if st == "smcc_diff":
        return _f(row, "es"), _f(row, "es_se") ** 2, "smcc_diff as reported; vi = es_se**2"
    lo, hi = _f(row, "es_ci_low"), _f(row, "es_ci_high")
    if st == "md_ci" and metric == "SMD":
        es = E.smd_from_md_ci(_f(row, "es"), lo, hi, n1, n2, level=level, dist="t")
        return _scalar(es.yi), _scalar(es.vi), "smd_from_md_ci (SD from the CI, t quantile)"
    if st == "md_ci":
        es = E.md_from_ci(_f(row, "es"), lo, hi, level=level)
        return _scalar(es.yi), _scalar(es.vi), "md_from_ci"
    if st == "or_ci":
        log_or = E.log_or_from_ci(_f(row, "es"), lo, hi, level=level)
        es = E.or_to_smd(log_or.yi, log_or.vi)
        return _scalar(es.yi), _scalar(es.vi), "log_or_from_ci then or_to_smd (logit)"
    raise ValueError(f"no computation for stat_type {st} under metric {metric}")  # pragma: no cover
