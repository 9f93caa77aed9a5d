"""Input checks shared by the public functions: one place that turns user input into float arrays.

Every check raises :class:`ValueError` whose message names the argument, the problem and the
offending positions (0-based), so a user can find the bad row without reading a traceback.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

_MAX_LISTED = 10
Sized = Sequence | np.ndarray

#: metafor's ``rma.uni`` warns when max(vi) / min(vi) >= 1 / evtol, evtol = 1e-7 by default (3.8.1).
VARIANCE_RATIO = 1e7
VARIANCE_RATIO_MESSAGE = ("Ratio of largest to smallest sampling variance extremely large. "
                          "May not be able to obtain stable results.")


class UnstableResultWarning(UserWarning):
    """The data make the fit numerically fragile (as metafor warns): e.g. sampling variances spanning
    more than seven orders of magnitude."""


def warn_variance_ratio(vi: np.ndarray, *, stacklevel: int = 3) -> str | None:
    """Warn as metafor does when max(vi) / min(vi) >= 1e7; return the note for the result, or None."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = float(np.max(vi) / np.min(vi))
    if not (np.isfinite(ratio) and ratio >= VARIANCE_RATIO):
        return None
    warnings.warn(VARIANCE_RATIO_MESSAGE, UnstableResultWarning, stacklevel=stacklevel)
    return (f"the largest sampling variance is {ratio:.2g} times the smallest (metafor warns from 1e7): "
            "the results may be numerically unstable")


def positions(mask: npt.ArrayLike) -> str:
    """Describe the positions where ``mask`` is true, e.g. ``"positions [2, 7]"``."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    more = f", ... ({idx.size} in all)" if idx.size > _MAX_LISTED else ""
    return f"position{'s' if idx.size != 1 else ''} [{shown}{more}]"


#: numpy dtype kinds that convert to float silently but are not real numbers: bool, complex (the
#: imaginary part would be dropped), datetime and timedelta (they would become integer nanoseconds).
_NOT_REAL = {"b": "true/false values", "c": "complex numbers", "M": "dates/times", "m": "time spans"}


def _not_real(values: object) -> str | None:
    kind = getattr(getattr(values, "dtype", None), "kind", None)
    if kind in _NOT_REAL:
        return _NOT_REAL[kind]
    if isinstance(values, (list, tuple)):
        for v in values:
            if isinstance(v, (bool, np.bool_)):
                return _NOT_REAL["b"]
            if isinstance(v, (complex, np.complexfloating)):
                return _NOT_REAL["c"]
            if isinstance(v, (np.datetime64, np.timedelta64)) or hasattr(v, "isoformat"):
                return _NOT_REAL["M"]
    return None


def as_float_array(name: str, values: object, *, ndim: int | None = 1) -> np.ndarray:
    """Convert ``values`` to a float array, naming non-numeric entries if that fails; bool, complex,
    datetime and timedelta input is refused (numpy would convert it silently)."""
    what = _not_real(values)
    if what:
        raise ValueError(f"{name} must be real numbers; got {what}")
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raw = np.asarray(values, dtype=object).ravel()
        bad = [i for i, v in enumerate(raw) if not _is_number(v)]
        raise ValueError(
            f"{name} must be numeric; non-numeric values at {positions(np.isin(np.arange(raw.size), bad))}: "
            + ", ".join(repr(raw[i]) for i in bad[:_MAX_LISTED])
        ) from None
    if ndim is not None and arr.ndim != ndim:
        if ndim == 1 and arr.ndim == 0:
            arr = arr.reshape(1)
        else:
            raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    return arr


def _is_number(v: object) -> bool:
    try:
        float(v)  # type: ignore[arg-type]  # probing: any object may be tried
    except (TypeError, ValueError):
        return False
    return True


def check_finite(name: str, arr: np.ndarray) -> None:
    """Reject NaN and infinite values."""
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} has NaN or infinite values at {positions(bad)}")


def check_positive(name: str, arr: np.ndarray, *, strict: bool = True) -> None:
    """Reject non-finite and non-positive (or negative, with ``strict=False``) values."""
    check_finite(name, arr)
    bad = arr <= 0 if strict else arr < 0
    if bad.any():
        what = "positive" if strict else "non-negative"
        raise ValueError(f"{name} must be {what}; offending values at {positions(bad)}")


def check_same_length(**arrays: Sized) -> int:
    """Return the common length of the named arrays, or raise naming the lengths."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{n}={k}" for n, k in lengths.items())
        raise ValueError(f"arguments must have equal lengths; got {desc}")
    return next(iter(lengths.values()))


def check_option(name: str, value: object, allowed: Iterable[str]) -> str:
    """Reject an option value that is not one of ``allowed`` (case-sensitive, metafor spellings)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {name}={value!r}; expected one of {', '.join(map(repr, allowed))}")
    return value


def check_level(level: float) -> float:
    """Accept a confidence level in (0, 1) or as a percentage in [50, 100), as metafor does."""
    level = float(level)
    if 50 <= level < 100:
        level /= 100
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) or a percentage in [50, 100), got {level!r}")
    return level



def align_indexed(**named: object) -> dict[str, object]:
    """Arguments that are pandas Series are paired by their index labels, not by position.

    Equal indexes pass unchanged; the same unique labels in another order are reordered to the first
    Series' order; any other difference raises :class:`ValueError` naming the labels that do not match.
    Arguments without an index (lists, arrays, None) pass unchanged.
    """
    indexed = {n: x for n, x in named.items() if hasattr(x, "index") and hasattr(x, "reindex")}
    if len(indexed) < 2:
        return dict(named)
    first, ref = next(iter(indexed.items()))
    out = dict(named)
    for n, x in indexed.items():
        idx = x.index  # type: ignore[attr-defined]
        if idx.equals(ref.index):  # type: ignore[attr-defined]
            continue
        same = len(idx) == len(ref.index) and set(idx) == set(ref.index)  # type: ignore[attr-defined]
        if same and idx.is_unique and ref.index.is_unique:  # type: ignore[attr-defined]
            out[n] = x.reindex(ref.index)  # type: ignore[attr-defined]
            continue
        only_n = [lab for lab in idx if lab not in set(ref.index)][:_MAX_LISTED]  # type: ignore[attr-defined]
        only_f = [lab for lab in ref.index if lab not in set(idx)][:_MAX_LISTED]  # type: ignore[attr-defined]
        detail = "; ".join(part for part in (f"only in {n}: {only_n}" if only_n else "",
                                             f"only in {first}: {only_f}" if only_f else "",
                                             "repeated labels" if not (idx.is_unique and ref.index.is_unique) else "")
                           if part)
        raise ValueError(f"{n} and {first} are pandas Series whose indexes do not match ({detail}): take them from "
                         "the same DataFrame, or pass arrays to pair them by position")
    return out


def check_effects(yi: object, vi: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate effect sizes and sampling variances; return them as float arrays.

    The single array-validation gate of the package: NaN or infinite values, non-positive variances,
    unequal lengths, empty or non-numeric input raise :class:`ValueError` naming the positions.
    """
    y = as_float_array("yi", yi)
    s = as_float_array("vi", vi)
    check_same_length(yi=y, vi=s)
    if y.size == 0:
        raise ValueError("no effects given: yi and vi are empty")
    check_finite("yi", y)
    check_positive("vi", s)
    return y, s
