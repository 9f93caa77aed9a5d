"""Log odds ratios and log risk ratios from 2x2 tables, with metafor's zero-cell handling.

Table layout (metafor's): group 1 (treatment) has ``ai`` events and ``bi`` non-events, group 2
(control) has ``ci`` events and ``di`` non-events.

Zero cells (``add``/``to`` exactly as ``escalc``): ``add`` is added to all four cells of

* ``to="only0"`` (default): the tables that have at least one zero cell;
* ``to="all"``: every table;
* ``to="if0all"``: every table, if any table has a zero cell;
* ``to="none"``: no table.

Like ``escalc(drop00=FALSE)``, double-zero tables are kept (and corrected). A table whose
estimate is still infinite after this (``to="none"`` or ``add=0``) is an error, not a silent NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from whatworks._validation import check_option, check_positive
from whatworks.effects._core import EffectSize, _es, _arrays, _raise_where, _scalar

__all__ = ["log_or", "log_rr"]

_TO = ("only0", "all", "if0all", "none")


def _tables(ai, bi, ci, di, add, to) -> list[np.ndarray]:
    cells = _arrays(ai=ai, bi=bi, ci=ci, di=di)
    for name, arr in zip(("ai", "bi", "ci", "di"), cells):
        check_positive(name, arr, strict=False)
    add = _scalar("add", add)
    if add < 0:
        raise ValueError(f"add must be non-negative, got {add!r}")
    check_option("to", to, _TO)
    has_zero = np.zeros(cells[0].shape, dtype=bool)
    for arr in cells:
        has_zero |= arr == 0
    if to == "all":
        adjust = np.ones_like(has_zero)
    elif to == "only0":
        adjust = has_zero
    elif to == "if0all":
        adjust = np.full_like(has_zero, has_zero.any())
    else:
        adjust = np.zeros_like(has_zero)
    return [arr + add * adjust for arr in cells]


def _zero_left(bad: np.ndarray, what: str, add: float, to: str) -> None:
    _raise_where(
        bad,
        f"{what} is infinite or undefined where a needed cell is still zero (add={add!r}, to={to!r}); "
        "use add > 0 with to='only0' (metafor's default) or leave these tables out explicitly",
    )


def log_or(
    ai: ArrayLike, bi: ArrayLike, ci: ArrayLike, di: ArrayLike, *, add: float = 0.5, to: str = "only0"
) -> EffectSize:
    """Log odds ratio from 2x2 counts, as ``metafor::escalc(measure="OR", ai, bi, ci, di)``.

    ``yi = log((ai/bi) / (ci/di))`` and ``vi = 1/ai + 1/bi + 1/ci + 1/di`` after the zero-cell
    correction described in the module docstring.

    Parameters
    ----------
    ai, bi : array_like
        Events and non-events in group 1 (treatment), ``>= 0``.
    ci, di : array_like
        Events and non-events in group 2 (control), ``>= 0``.
    add : float, default 0.5
        Amount added to the cells of tables selected by ``to``.
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which tables get ``add`` (metafor's spellings and meaning).

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Negative, non-numeric or non-finite counts; unknown ``to``; zero cells left uncorrected
        (with positions).

    Examples
    --------
    Aronson 1948 from ``dat.bcg`` and Bach 1996 (a zero cell) from ``dat.nielweise2007``;
    escalc gives the same numbers:

    >>> from whatworks.effects import log_or
    >>> yi, vi = log_or(ai=[4, 0], bi=[119, 116], ci=[11, 3], di=[128, 114])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [-0.9387 -1.9632] [0.3571 2.303 ]
    """
    a, b, c, d = _tables(ai, bi, ci, di, add, to)
    _zero_left((a == 0) | (b == 0) | (c == 0) | (d == 0), "the log odds ratio", add, to)
    return _es(np.log(a / b) - np.log(c / d), 1 / a + 1 / b + 1 / c + 1 / d)


def log_rr(
    ai: ArrayLike, bi: ArrayLike, ci: ArrayLike, di: ArrayLike, *, add: float = 0.5, to: str = "only0"
) -> EffectSize:
    """Log risk ratio from 2x2 counts, as ``metafor::escalc(measure="RR", ai, bi, ci, di)``.

    ``yi = log(ai/n1) - log(ci/n2)`` and ``vi = 1/ai - 1/n1 + 1/ci - 1/n2`` with
    ``n1 = ai + bi`` and ``n2 = ci + di``, after the zero-cell correction described in the module
    docstring (which, as in metafor, is triggered by a zero in *any* of the four cells).

    Parameters
    ----------
    ai, bi : array_like
        Events and non-events in group 1 (treatment), ``>= 0``.
    ci, di : array_like
        Events and non-events in group 2 (control), ``>= 0``.
    add : float, default 0.5
        Amount added to the cells of tables selected by ``to``.
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which tables get ``add``.

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape.

    Raises
    ------
    ValueError
        Negative, non-numeric or non-finite counts; unknown ``to``; zero event counts left
        uncorrected (with positions).

    Examples
    --------
    The same two tables as in :func:`log_or`:

    >>> from whatworks.effects import log_rr
    >>> yi, vi = log_rr(ai=[4, 0], bi=[119, 116], ci=[11, 3], di=[128, 114])
    >>> print(np.round(yi, 4), np.round(vi, 4))
    [-0.8893 -1.9374] [0.3256 2.2687]
    """
    a, b, c, d = _tables(ai, bi, ci, di, add, to)
    _zero_left((a == 0) | (c == 0), "the log risk ratio", add, to)
    n1, n2 = a + b, c + d
    return _es(np.log(a / n1) - np.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2)
