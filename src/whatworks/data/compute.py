"""Turning each coded row's reported statistics into ``yi``/``vi``, normalised so negative = less lonely.

The statistics come as the source printed them (``stat_type`` says which); the arithmetic is done by
:mod:`whatworks.effects` and this module only routes each row to the right function and applies the
row's sign convention. A row whose statistics do not give the review's metric keeps ``yi`` missing and
says why (``reason``); a row whose numbers make the effect functions fail gets an ``error``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsFloat, cast

import numpy as np

from .schema import STAT_NEEDS

Row = dict[str, object]


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

    Parameters
    ----------
    rows : sequence of (int, dict)
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
    return [_one(row, metric) for _, row in rows]


def _one(row: Row, metric: str | None) -> Computed:
    st = row.get("stat_type")
    if st is None:
        return Computed(reason="stat_type missing or invalid")
    if st == "other":
        return Computed(reason="stat_type other: the reported statistics do not give an effect size")
    if metric is None:
        return Computed(reason="review metric not declared in review.toml")
    needs = STAT_NEEDS.get((str(st), metric))
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
    try:
        with np.errstate(all="ignore"):
            yi, vi, note = _raw(str(st), metric, row)
    except ImportError as exc:  # pragma: no cover - only while whatworks.effects is missing
        return Computed(reason=f"effect-size functions unavailable: {exc}")
    except (ValueError, TypeError, ArithmeticError) as exc:
        return Computed(error=f"cannot compute {metric} from the reported {st} statistics: {exc}")
    if not (math.isfinite(yi) and math.isfinite(vi)) or vi <= 0:
        return Computed(error=f"the reported {st} statistics give an impossible effect "
                              f"(yi = {yi!r}, vi = {vi!r}); check them against the source")
    if sign == "higher_less_lonely":
        yi, note = -yi, note + "; sign reversed (source: higher = less lonely)"
    elif sign == "undirected":
        yi = -abs(yi) if row["favours"] == "treatment" else abs(yi)
        note += f"; direction from favours = {row['favours']}"
    return Computed(yi=yi + 0.0, vi=vi, metric=metric, note=note)


def _f(row: Row, name: str) -> float:
    return float(cast(SupportsFloat, row[name]))  # called for the numeric columns a statistic needs


def _scalar(value: object) -> float:
    return float(np.asarray(value, dtype=float).reshape(-1)[0])


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
