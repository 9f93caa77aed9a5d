"""Turning a user's DataFrame into arrays for the analyses: column checks, missing rows, patsy designs.

Internal; every message names the problem (unknown columns list the available ones).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def _column(frame: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in frame.columns:
        raise ValueError(f"{what} column {name!r} not in the frame; available columns: {list(frame.columns)}")
    return frame[name]


def check_frame(frame: object, *columns: tuple[str, str]) -> pd.DataFrame:
    """Check that ``frame`` is a DataFrame holding the named ``(column, role)`` columns."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    for name, what in columns:
        _column(frame, name, what)
    return frame


def effects_missing(frame: pd.DataFrame, yi: str, vi: str) -> dict[int, list[str]]:
    """Positions of rows whose yi or vi is missing, with the names of the missing columns."""
    out: dict[int, list[str]] = {}
    for name in (yi, vi):
        for i in np.flatnonzero(pd.isna(frame[name]).to_numpy()):
            out.setdefault(int(i), []).append(name)
    return out


def design(frame: pd.DataFrame, mods: str) -> tuple[pd.DataFrame, dict[int, list[str]]]:
    """Model matrix of ``mods`` over the rows of ``frame`` (positional index), and the positions of
    rows with a missing moderator value, with the frame columns the formula uses that are missing."""
    import patsy

    env = patsy.EvalEnvironment([{"np": np, "numpy": np}])
    data = frame.reset_index(drop=True)
    try:
        dm = patsy.dmatrix(mods, data, eval_env=env, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as e:
        raise ValueError(
            f"cannot build the model matrix of mods={mods!r}: {e}\navailable columns: {list(frame.columns)}"
        ) from None
    used = [c for c in frame.columns if isinstance(c, str) and re.search(rf"\b{re.escape(c)}\b", mods)]
    missing = {}
    for i in sorted(set(range(len(data))) - set(dm.index)):
        missing[i] = [c for c in used if pd.isna(data.at[i, c])] or ["a moderator"]
    return dm, missing


def describe_missing(frame: pd.DataFrame, missing: dict[int, list[str]]) -> tuple[tuple[str, str], ...]:
    """``(index label, "missing <columns>")`` for every row position in ``missing``."""
    return tuple((str(frame.index[i]), "missing " + ", ".join(cols)) for i, cols in sorted(missing.items()))
