"""How far two independent codings of one review agree: cell by cell, column by column, with Cohen's kappa.

:func:`agree` is the entry point: it matches the rows of two coders' review folders (by ``effect_id`` in
effects.csv, ``study_id`` + ``effect_id`` in risk_of_bias.csv, the ``analysis`` label in pooled.csv), lists
every cell that differs after the schema's normalisation, and summarises each column: the share of rows on
which the coders agree, Cohen's kappa for categorical columns (vocabularies, true/false columns and the
risk-of-bias judgements) and, for effects.csv, how far the disagreements move the computed effect ``yi``.
Cochrane Handbook §7.6.5 and PRISMA 2020 item 9 ask for such double coding and its agreement.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from . import schema as S
from .codings import CODER_COLUMNS, IDENTITY_COLUMNS, META_NOT_COMPARED, TABLE_COLUMNS, Coding, CodingError, read_coding, same
from .conflicts import key_column, meta_cells

#: Columns of ``agreement.csv``.
AGREEMENT_COLUMNS = ("file", "column", "kind", "n", "n_disagree", "agree_pct", "kappa", "kappa_se",
                     "kappa_ci_low", "kappa_ci_high", "max_abs_dyi", "n_yi_one_side")
#: Columns of ``disagreements.csv``.
DISAGREEMENT_COLUMNS = ("file", "key", "column", "value_a", "value_b", "where_a", "where_b", "yi_a", "yi_b")
#: Risk-of-bias columns that are judgements (categories) although the schema types them as text.
ROB_JUDGEMENT_COLUMNS = (*S.ROB2_DOMAINS, "overall")
EMPTY = "(empty)"
_Z95 = NormalDist().inv_cdf(0.975)


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> tuple[float, float]:
    """Cohen's (unweighted) kappa of two raters and its large-sample variance.

    The variance is that of Fleiss, Cohen & Everitt (1969), as in R's ``psych::cohen.kappa``.

    Parameters
    ----------
    a, b : sequence of str
        The two raters' categories for the same items, in the same order.

    Returns
    -------
    (float, float)
        kappa and its variance; both NaN when only one category occurs (kappa is undefined).

    Examples
    --------
    >>> k, v = cohen_kappa(["x", "x", "y", "z", "y", "x"], ["x", "y", "y", "z", "y", "x"])
    >>> round(k, 7), round(v, 7)
    (0.7391304, 0.0556816)
    """
    if len(a) != len(b):
        raise ValueError(f"a and b must have the same length, got {len(a)} and {len(b)}")
    levels = sorted(set(a) | set(b))
    if len(levels) < 2:
        return math.nan, math.nan
    index = {level: i for i, level in enumerate(levels)}
    p = np.zeros((len(levels), len(levels)))
    for x, y in zip(a, b):
        p[index[x], index[y]] += 1.0
    n = p.sum()
    p /= n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = float(np.trace(p)), float(rows @ cols)
    kappa = (po - pe) / (1.0 - pe)
    diag = float(np.sum(np.diag(p) * ((1.0 - pe) - (rows + cols) * (1.0 - po)) ** 2))
    cross = cols[:, None] + rows[None, :]  # [i, j] = p.i + pj.
    off = float(np.sum(p * cross**2) - np.sum(np.diag(p) * np.diag(cross) ** 2))
    var = (diag + (1.0 - po) ** 2 * off - (po * pe - 2.0 * pe + po) ** 2) / (n * (1.0 - pe) ** 4)
    return float(kappa), float(max(var, 0.0))


@dataclass(frozen=True)
class AgreementResult:
    """Agreement of two codings of one review.

    Attributes
    ----------
    review : str
        The review id.
    coder_a, coder_b : str
        The two folders compared.
    rows : dict
        Per file, ``(in both, only in A, only in B)`` row counts.
    agreement : pandas.DataFrame
        One row per file and column that either coder filled (:data:`AGREEMENT_COLUMNS`): ``n`` matched
        rows where at least one coder filled the cell, ``n_disagree``, ``agree_pct`` (percent), Cohen's
        ``kappa`` with its standard error and 95 % interval (clipped to [-1, 1]) for categorical columns,
        ``max_abs_dyi`` (effects.csv: the largest ``|yi_a - yi_b|`` over the rows where the column
        differs and both codings give a ``yi``) and ``n_yi_one_side`` (such rows where only one does).
    disagreements : pandas.DataFrame
        One row per differing cell (:data:`DISAGREEMENT_COLUMNS`); a row present in one coding only is
        listed under its key column with the other side empty.
    """

    review: str
    coder_a: str
    coder_b: str
    rows: dict[str, tuple[int, int, int]]
    agreement: pd.DataFrame
    disagreements: pd.DataFrame

    @property
    def identical(self) -> bool:
        """True when the codings agree on every cell and row."""
        return self.disagreements.empty

    def to_frame(self) -> pd.DataFrame:
        """The per-column agreement table (a copy)."""
        return self.agreement.copy()

    def summary(self) -> str:
        """A short account in words."""
        frame = self.to_frame()
        lines = [f"Two codings of {self.review}: A = {self.coder_a}, B = {self.coder_b}."]
        for file, (both, only_a, only_b) in self.rows.items():
            lines.append(f"{file}: {both} rows in both codings, {only_a} only in A, {only_b} only in B.")
        if self.identical:
            return "\n".join(lines + ["The codings agree on every cell."])
        meta = int((self.disagreements["file"] == S.REVIEW_FILE).sum())
        cells = len(self.disagreements) - meta - sum(a + b for _, a, b in self.rows.values())
        lines.append(f"{cells} cell{'s' if cells != 1 else ''} differ in rows coded by both"
                     + (f"; {meta} review.toml entr{'ies' if meta != 1 else 'y'} differ" if meta else "") + ".")
        for rec in frame[frame["n_disagree"] > 0].itertuples(index=False):
            words = f"  {rec.file} {rec.column}: agree on {rec.agree_pct:.0f}% of {rec.n} rows"
            if not math.isnan(rec.kappa):
                words += f", Cohen's kappa {rec.kappa:.2f}"
            if rec.max_abs_dyi > 0:
                words += f"; the differences move the effect (yi) by up to {rec.max_abs_dyi:.3g}"
            elif rec.max_abs_dyi == 0:
                words += "; the effect (yi) is the same in both codings"
            if rec.n_yi_one_side:
                words += f"; {rec.n_yi_one_side} row(s) give an effect in one coding only"
            lines.append(words)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>" + self.to_frame().to_html(index=False, escape=True)


def agree(coder_a: str | Path, coder_b: str | Path) -> AgreementResult:
    """Compare two independent codings of the same review folder.

    Parameters
    ----------
    coder_a, coder_b : str or Path
        The two coders' review folders (each holds a review.toml and effects.csv and/or pooled.csv,
        optionally risk_of_bias.csv).

    Returns
    -------
    AgreementResult

    Raises
    ------
    CodingError
        If a folder is missing, not a review folder or unreadable, if a key is used twice, or if the
        two folders code different reviews.

    Examples
    --------
    >>> import shutil, tempfile
    >>> from pathlib import Path
    >>> from whatworks.data import bundled_root
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a = shutil.copytree(bundled_root() / "teoh2021", Path(tmp) / "a" / "teoh2021")
    ...     res = agree(a, a)
    >>> res.identical, res.rows["effects.csv"][1:]
    (True, (0, 0))
    """
    a, b = read_coding(coder_a), read_coding(coder_b)
    if a.review_id != b.review_id:
        raise CodingError(f"the folders code different reviews: {a.review_id!r} ({a.folder}) and "
                          f"{b.review_id!r} ({b.folder})")
    diffs: list[dict[str, object]] = _meta_diffs(a, b)
    stats: list[dict[str, object]] = []
    counts: dict[str, tuple[int, int, int]] = {}
    for file in TABLE_COLUMNS:
        ta, tb = a.tables.get(file), b.tables.get(file)
        if ta is None and tb is None:
            continue
        rows_a = ta.rows if ta is not None else {}
        rows_b = tb.rows if tb is not None else {}
        matched = [k for k in rows_a if k in rows_b]
        only_a = [k for k in rows_a if k not in rows_b]
        only_b = [k for k in rows_b if k not in rows_a]
        counts[file] = (len(matched), len(only_a), len(only_b))
        diffs += [_row_diff(a, file, key, rows_a[key][0], side="a") for key in only_a]
        diffs += [_row_diff(b, file, key, rows_b[key][0], side="b") for key in only_b]
        if ta is None or tb is None:
            continue  # the file is in one coding only: its rows are listed above
        for column in _columns(file, [*ta.header, *tb.header]):
            stat, cell_diffs = _compare_column(a, b, file, column, matched)
            diffs += cell_diffs
            if stat["n"]:
                stats.append(stat)
    agreement = pd.DataFrame(stats, columns=list(AGREEMENT_COLUMNS))
    agreement["n"] = agreement["n"].astype(int)
    agreement["n_disagree"] = agreement["n_disagree"].astype(int)
    agreement["n_yi_one_side"] = agreement["n_yi_one_side"].astype(int)
    for col in ("agree_pct", "kappa", "kappa_se", "kappa_ci_low", "kappa_ci_high", "max_abs_dyi"):
        agreement[col] = agreement[col].astype(float)
    disagreements = pd.DataFrame(diffs, columns=list(DISAGREEMENT_COLUMNS))
    disagreements[["yi_a", "yi_b"]] = disagreements[["yi_a", "yi_b"]].astype(float)
    return AgreementResult(a.review_id, str(a.folder), str(b.folder), counts, agreement, disagreements)


def _columns(file: str, header: list[str]) -> list[str]:
    """Columns to compare: schema order for known columns, then unknown ones; identity columns left out."""
    known = [c.name for c in TABLE_COLUMNS[file] if c.name in header]
    extra = list(dict.fromkeys(h for h in header if h not in known))
    skip = (*IDENTITY_COLUMNS[file], *CODER_COLUMNS.get(file, ()))
    return [c for c in known + extra if c not in skip]


def kind_of(file: str, column: str) -> str:
    """``categorical`` (kappa), ``numeric`` or ``text``."""
    col = {c.name: c for c in TABLE_COLUMNS[file]}.get(column)
    if col is None:
        return "text"
    if col.type in ("vocab", "bool") or (file == S.RISK_OF_BIAS_FILE and column in ROB_JUDGEMENT_COLUMNS):
        return "categorical"
    return "numeric" if col.type in ("int", "float") else "text"


def _category(file: str, column: str, text: str) -> str:
    col = {c.name: c for c in TABLE_COLUMNS[file]}.get(column)
    if col is not None and col.type == "bool" and text.lower() in ("", "true", "false"):
        return text.lower() or "false"
    return text or EMPTY


def _compare_column(a: Coding, b: Coding, file: str, column: str,
                    matched: list[str]) -> tuple[dict[str, object], list[dict[str, object]]]:
    ta, tb = a.tables[file], b.tables[file]
    kind = kind_of(file, column)
    cats_a: list[str] = []
    cats_b: list[str] = []
    diffs: list[dict[str, object]] = []
    dyi: list[float] = []
    one_side = 0
    for key in matched:
        (ra, cells_a), (rb, cells_b) = ta.rows[key], tb.rows[key]
        va, vb = cells_a.get(column, ""), cells_b.get(column, "")
        ca, cb = _category(file, column, va), _category(file, column, vb)
        if ca == EMPTY and cb == EMPTY:
            continue
        cats_a.append(ca)
        cats_b.append(cb)
        if same(file, column, va, vb):
            continue
        yi_a = a.yi.get(key) if file == S.EFFECTS_FILE else None
        yi_b = b.yi.get(key) if file == S.EFFECTS_FILE else None
        if yi_a is not None and yi_b is not None:
            dyi.append(abs(yi_a - yi_b))
        elif (yi_a is None) != (yi_b is None):
            one_side += 1
        diffs.append({"file": file, "key": key, "column": column, "value_a": va, "value_b": vb,
                      "where_a": a.where(file, ra, column), "where_b": b.where(file, rb, column),
                      "yi_a": math.nan if yi_a is None else yi_a, "yi_b": math.nan if yi_b is None else yi_b})
    n = len(cats_a)
    kappa, var = cohen_kappa(cats_a, cats_b) if kind == "categorical" and n else (math.nan, math.nan)
    se = math.sqrt(var) if not math.isnan(var) else math.nan
    stat = {"file": file, "column": column, "kind": kind, "n": n, "n_disagree": len(diffs),
            "agree_pct": 100.0 * (n - len(diffs)) / n if n else math.nan,
            "kappa": kappa, "kappa_se": se,
            "kappa_ci_low": max(-1.0, kappa - _Z95 * se) if not math.isnan(se) else math.nan,
            "kappa_ci_high": min(1.0, kappa + _Z95 * se) if not math.isnan(se) else math.nan,
            "max_abs_dyi": max(dyi) if dyi else math.nan, "n_yi_one_side": one_side}
    return stat, diffs


def _row_diff(c: Coding, file: str, key: str, row: int, *, side: str) -> dict[str, object]:
    column = key_column(file)
    here = {"value": key, "where": c.where(file, row, column)}
    other = {"value": "", "where": ""}
    x, y = (here, other) if side == "a" else (other, here)
    return {"file": file, "key": key, "column": column, "value_a": x["value"], "value_b": y["value"],
            "where_a": x["where"], "where_b": y["where"], "yi_a": math.nan, "yi_b": math.nan}


def _meta_diffs(a: Coding, b: Coding) -> list[dict[str, object]]:
    ma, mb = meta_cells(a.meta), meta_cells(b.meta)
    out: list[dict[str, object]] = []
    for name in list(dict.fromkeys([*ma, *mb])):
        if name in META_NOT_COMPARED:
            continue
        va, vb = ma.get(name, ""), mb.get(name, "")
        if " ".join(va.split()) != " ".join(vb.split()):
            out.append({"file": S.REVIEW_FILE, "key": "", "column": name, "value_a": va, "value_b": vb,
                        "where_a": a.where(S.REVIEW_FILE, None, name) if name in ma else "",
                        "where_b": b.where(S.REVIEW_FILE, None, name) if name in mb else "",
                        "yi_a": math.nan, "yi_b": math.nan})
    return out
