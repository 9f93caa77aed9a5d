"""Printed statistics that contradict the row's other printed numbers: validation warnings.

An effects row may carry more numbers than its effect size needs: a standard error (``es_se``), a
p-value, the degrees of freedom of its test. They are not used to compute ``yi``, so a typo in them
would go unnoticed; a contradiction often also means that the numbers used are wrong (a CI from
another outcome, a t from another comparison). :func:`check_consistency` warns (``file:row:column``)
when

- ``es_se`` contradicts the CI of ``es`` (its width is 2 q SE at the row's ``ci_level``);
- ``p_value`` contradicts ``es`` with ``es_se``, or ``es`` with its CI (odds ratios on the log scale),
  or the ``test_stat`` of a t or F row (F on 1 numerator df) -- for the stat_types whose ``es`` or
  ``test_stat`` is the comparison of the arms (not "other" or the means types, where the schema does
  not say what a printed p refers to);
- ``df`` exceeds ``n_treatment + n_control - 2``, the most a two-group comparison can have.

Rows with ``stat_type = other`` are not checked: their numbers give no effect size, so a contradiction
among them cannot reach an analysis (the coder records it in ``notes``).

Tolerance. A printed number is only known to half a unit of its last printed digit (``0.21`` is
[0.205, 0.215]); the decimals are read from the cell as typed. Each implied quantity is computed over
every combination of values consistent with the printed ones, with either the normal or the t
reference distribution (t on ``n_treatment + n_control - 2`` df when the arms are known; papers use
both), and a warning is issued only when no combination reproduces the printed value within its
own rounding. So a warning means a real contradiction, not a rounding difference.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from .. import _dist
from .problems import Problem
from .table import Table

#: Columns whose printed precision the checks need (kept by :func:`whatworks.data.table.type_table`).
RESOLUTION_COLUMNS = ("es", "es_ci_low", "es_ci_high", "es_se", "test_stat", "p_value")
#: stat_types whose es (or test_stat) is the between-arm comparison, so a printed p is its p. For
#: "other" and the means types the schema does not say what a p_value refers to: no p check.
_COMPARED = ("t", "f", "md_ci", "or_ci", "g", "d", "smcc_diff")
_PLAIN_NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")

Interval = tuple[float, float]


def check_consistency(label: str, table: Table, out: list[Problem]) -> None:
    """Warn about printed es_se, p_value and df that contradict the row's other numbers."""
    c, res = table.columns, table.resolution
    empty = [None] * len(table)
    get = {name: c.get(name, empty) for name in ("stat_type", "n_treatment", "n_control", "ci_level", "df")}
    vals = {name: c.get(name, empty) for name in RESOLUTION_COLUMNS}
    tol = {name: res.get(name, empty) for name in RESOLUTION_COLUMNS}
    for i, r in enumerate(table.numbers):
        if vals["es_se"][i] is None and vals["p_value"][i] is None and get["df"][i] is None:
            continue  # nothing extra was printed: the common case
        if get["stat_type"][i] == "other":
            continue  # no effect size is computed from the row

        def box(name: str, i: int = i) -> Interval | None:
            x = vals[name][i]
            if x is None:
                return None
            h = (tol[name][i] or 0.0) / 2
            return (x - h, x + h)

        def warn(column: str, message: str, r: int = r) -> None:
            out.append(Problem(label, r, column, message, "warning"))

        _check_row(get["stat_type"][i], get["n_treatment"][i], get["n_control"][i], get["ci_level"][i],
                   get["df"][i], box, warn)


def _check_row(st: object, n1: object, n2: object, level: object, df_text: object,
               box: Callable[[str], Interval | None], warn: Callable[[str, str], None]) -> None:
    df_n = float(n1) + float(n2) - 2 if isinstance(n1, int) and isinstance(n2, int) else None
    df = _df(df_text, st)
    if df is not None and df_n is not None and df > df_n:
        warn("df", f"df = {df:g} exceeds n_treatment + n_control - 2 = {df_n:g}, the most a two-group comparison "
             "can have: the df or the arm sizes are not those of this comparison")
    es, lo, hi, se, stat, p = (box(n) for n in ("es", "es_ci_low", "es_ci_high", "es_se", "test_stat", "p_value"))
    lvl = float(level) if isinstance(level, float) else 0.95
    log = st == "or_ci"
    se_ci = _se_from_ci(lo, hi, lvl, df_n, log=log) if lo and hi else None
    if se is not None and se_ci is not None and not log and not _overlap(se, se_ci):
        warn("es_se", f"es_se = {_mid(se):g} contradicts the {lvl:.0%} CI [{_mid(lo):g}, {_mid(hi):g}]: a CI of that "
             f"width implies a standard error between {se_ci[0]:.3g} and {se_ci[1]:.3g}")
    if p is None or st not in _COMPARED:
        return
    implied: Interval | None = None
    what = ""
    if stat is not None and st in ("t", "f"):
        d = df if df is not None else df_n
        if d is not None and d > 0:
            implied = _p_from_t(stat, d) if st == "t" else _p_from_f(stat, d)
            what = f"{st} = {_mid(stat):g} on {d:g} df"
    elif es is not None and se is not None and not log:
        implied = _p_from_z(es, se, df_n)
        what = f"es = {_mid(es):g} with es_se = {_mid(se):g}"
    elif es is not None and se_ci is not None:
        e = (math.log(es[0]), math.log(es[1])) if log and es[0] > 0 else es
        if not log or es[0] > 0:
            implied = _p_from_z(e, se_ci, df_n)
            what = f"es = {_mid(es):g} with its {lvl:.0%} CI [{_mid(lo):g}, {_mid(hi):g}]"
    if implied is not None and not _overlap(p, implied):
        warn("p_value", f"p_value = {_mid(p):g} contradicts {what} (two-sided p between {implied[0]:.2g} and "
             f"{implied[1]:.2g}, allowing for rounding of the printed numbers)")


def _mid(box: Interval | None) -> float:
    return math.nan if box is None else (box[0] + box[1]) / 2


def _overlap(a: Interval, b: Interval) -> bool:
    slack = 1e-9 * max(abs(a[0]), abs(a[1]), abs(b[0]), abs(b[1]), 1e-300)
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def _df(text: object, st: object) -> float | None:
    """The df of the test as printed: the number of a t row, the denominator (last number) of an F row."""
    if not isinstance(text, str):
        return None
    if st == "t":
        return float(text) if _PLAIN_NUMBER.match(text) else None
    if st == "f":
        numbers = _NUMBERS.findall(text)
        return float(numbers[-1]) if numbers else None
    return None


def _quantiles(level: float, df: float | None) -> Interval:
    """The normal and (if the df are known) t quantiles of a two-sided ``level`` interval."""
    z = float(_dist.norm_ppf(0.5 + level / 2))
    return (z, float(_dist.t_ppf(0.5 + level / 2, df)) if df and df > 0 else z)


def _se_from_ci(lo: Interval, hi: Interval, level: float, df: float | None, *, log: bool) -> Interval | None:
    """Standard errors consistent with a CI printed as [lo, hi] (boxes)."""
    if log:
        if lo[0] <= 0:
            return None
        lo, hi = (math.log(lo[0]), math.log(lo[1])), (math.log(hi[0]), math.log(hi[1]))
    wmin, wmax = max(hi[0] - lo[1], 0.0), hi[1] - lo[0]
    qz, qt = _quantiles(level, df)
    return (wmin / (2 * max(qz, qt)), wmax / (2 * min(qz, qt)))


def _abs_range(x: Interval) -> Interval:
    if x[0] <= 0 <= x[1]:
        return (0.0, max(-x[0], x[1]))
    return (min(abs(x[0]), abs(x[1])), max(abs(x[0]), abs(x[1])))


def _p_from_z(es: Interval, se: Interval, df: float | None) -> Interval | None:
    """Two-sided p-values of es / se over the boxes, normal or t(df) reference."""
    a = _abs_range(es)
    if se[1] <= 0:
        return None
    zlo, zhi = a[0] / se[1], (a[1] / se[0] if se[0] > 0 else math.inf)
    lows = [2 * float(_dist.norm_sf(zhi))]
    highs = [2 * float(_dist.norm_sf(zlo))]
    if df and df > 0:
        lows.append(2 * float(_dist.t_sf(zhi, df)))
        highs.append(2 * float(_dist.t_sf(zlo, df)))
    return (min(lows), max(highs))


def _p_from_t(stat: Interval, df: float) -> Interval:
    a = _abs_range(stat)
    return (2 * float(_dist.t_sf(a[1], df)), 2 * float(_dist.t_sf(a[0], df)))


def _p_from_f(stat: Interval, df: float) -> Interval:
    lo, hi = max(stat[0], 0.0), max(stat[1], 0.0)
    return (float(_dist.f_sf(hi, 1, df)), float(_dist.f_sf(lo, 1, df)))
