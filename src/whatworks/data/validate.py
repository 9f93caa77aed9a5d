"""Validation of review folders against :mod:`whatworks.data.schema`: every problem of every file at once.

:func:`validate` is the public entry point; :func:`check_folder` is shared with the loader, which reuses
its typed rows so that files are parsed once.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import schema as S
from ._csvfile import RawTable, outside, read_csv, read_text
from .compute import Computed, compute_effects
from .conflicts import RESOLUTIONS_FILE, check_resolutions, conflict_message
from .design import design_problems
from .prisma import check_prisma
from .problems import DataValidationError, Problem, Severity, sort_problems
from .risk_of_bias import check_rob_rows
from .roots import resolve_root

Row = dict[str, object]
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_KNOWN_FILES = (S.REVIEW_FILE, S.EFFECTS_FILE, S.POOLED_FILE, S.RISK_OF_BIAS_FILE)
_IGNORED_FILES = re.compile(r"^(\..*|README.*|.*\.md|__pycache__)$", re.IGNORECASE)


@dataclass
class FolderData:
    """A review folder after validation: typed rows (``None`` = missing) and what was found wrong."""

    review_id: str
    meta: dict[str, object] = field(default_factory=dict)
    effects: list[tuple[int, Row]] | None = None  # (data row, typed row)
    pooled: list[tuple[int, Row]] | None = None
    risk_of_bias: list[tuple[int, Row]] | None = None
    computed: list[Computed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def validate(path: str | Path | None = None) -> list[Problem]:
    """Check a collection of review folders (or one folder) and return every problem found.

    Parameters
    ----------
    path : str or Path, optional
        A folder holding review folders (like ``data/reviews``), or one review folder (holding a
        ``review.toml``). ``None``: ``data/reviews`` in the working directory when it exists, else the
        bundled data (:func:`whatworks.data.roots.find_root`).

    Returns
    -------
    list of Problem
        Errors first, then warnings (``Problem.severity``); empty when the data are clean. A folder
        without any review folder is one error.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or is not a folder.

    Examples
    --------
    >>> from whatworks.data import validate
    >>> [p for p in validate() if p.is_error]
    []
    """
    try:
        folders = discover(path, require=True)
    except DataValidationError as exc:
        return exc.problems
    return check_collection(folders, root=resolve_root(path))[1]


def discover(path: str | Path | None, *, require: bool = False) -> list[Path]:
    """Review folders under ``path`` (sorted by name), or ``[path]`` when it is a review folder itself.

    With ``require=True`` an empty collection raises :class:`DataValidationError`.
    """
    root = resolve_root(path)
    if (root / S.REVIEW_FILE).exists():
        return [root]
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not _IGNORED_FILES.match(p.name))
    if require and not folders:
        raise DataValidationError([Problem(str(root), None, None, "no review folders found "
                                           "(a review folder holds a review.toml)")])
    return folders


def check_collection(folders: list[Path], root: Path | None = None) -> tuple[list[FolderData], list[Problem]]:
    """Validate each folder, then what spans folders; return the folders' data and all problems.

    ``root``: the collection folder; every folder and file read must resolve inside it (links leading
    out of it are refused). ``None``: each folder is its own boundary.
    """
    data = [check_folder(f, base=root if root is not None else f) for f in folders]
    problems = [p for d in data for p in d.problems]
    years: dict[object, dict[object, str]] = {}  # study_id -> year -> first place it was seen
    for d in data:
        for r, row in d.effects or []:
            if row["study_id"] is not None and row["year"] is not None:
                years.setdefault(row["study_id"], {}).setdefault(row["year"], f"{d.review_id}/effects.csv:{r}")
    for d in data:
        for r, row in d.effects or []:
            seen = years.get(row["study_id"], {})
            if row["year"] is not None and len(seen) > 1:
                others = ", ".join(f"{y} in {where}" for y, where in seen.items() if y != row["year"])
                problems.append(Problem(f"{d.review_id}/effects.csv", r, "year", f"study_id {row['study_id']!r} "
                                        f"has year {row['year']} here but {others}: one trial or two?", "warning"))
    return data, sort_problems(problems)


def check_folder(folder: Path, base: Path | None = None) -> FolderData:
    """Validate one review folder; typed rows are returned even when problems were found.

    ``base``: the collection folder that the review folder and its files must resolve inside (default:
    the folder itself); a file outside it, or not a regular file, is not read (the problem says why).
    """
    rid = folder.name
    data = FolderData(rid)
    out = data.problems
    label = f"{rid}/{{}}"
    base = folder if base is None else base
    why = outside(folder, base)
    if why:  # a review folder linked in from elsewhere: nothing in it is read
        out.append(Problem(f"{rid}/", None, None, f"review folder {why.replace('copy the file', 'copy it')}"))
        return data
    effects_path, pooled_path = folder / S.EFFECTS_FILE, folder / S.POOLED_FILE
    rob_path = folder / S.RISK_OF_BIAS_FILE
    if not (folder / S.REVIEW_FILE).exists():
        out.append(Problem(label.format(S.REVIEW_FILE), None, None,
                           "review.toml is missing: every review folder needs one (whatworks new-review ID)"))
    else:
        data.meta = _check_meta(folder / S.REVIEW_FILE, label.format(S.REVIEW_FILE), rid,
                                effects_path.exists(), out, base)
    if not effects_path.exists() and not pooled_path.exists():
        out.append(Problem(f"{rid}/", None, None, "folder holds neither effects.csv nor pooled.csv"))
    for p in sorted(folder.iterdir()):
        if p.name not in (*_KNOWN_FILES, RESOLUTIONS_FILE) and not _IGNORED_FILES.match(p.name):
            out.append(Problem(f"{rid}/{p.name}", None, None, "unexpected file: the loader reads only "
                               f"{', '.join(_KNOWN_FILES)}", "warning"))
    if effects_path.exists():
        raw = read_csv(effects_path, label.format(S.EFFECTS_FILE), out, base)
        if raw is not None:
            data.effects = _check_table(raw, S.EFFECT_COLUMNS, (*S.COMPUTED_EFFECT_COLUMNS, *S.ROB_EFFECT_COLUMNS),
                                        rid, out)
            _check_effect_rows(raw.label, data.effects, out)
            metric = data.meta.get("metric")
            data.computed = compute_effects(data.effects, metric if isinstance(metric, str) else None)
            _check_computed(raw.label, data.effects, data.computed, out)
    if pooled_path.exists():
        raw = read_csv(pooled_path, label.format(S.POOLED_FILE), out, base)
        if raw is not None:
            data.pooled = _check_table(raw, S.POOLED_COLUMNS, S.COMPUTED_POOLED_COLUMNS, rid, out)
            _check_pooled_rows(raw.label, data.pooled, out)
    if rob_path.exists():
        raw = read_csv(rob_path, label.format(S.RISK_OF_BIAS_FILE), out, base)
        if raw is not None:
            data.risk_of_bias = _check_table(raw, S.RISK_OF_BIAS_COLUMNS, (), rid, out)
            check_rob_rows(raw.label, data.risk_of_bias, data.effects, out)
    if (folder / RESOLUTIONS_FILE).exists():  # the record of a double coding's decisions (data/conflicts.py)
        out += check_resolutions(folder)
    return data


# --- review.toml ---------------------------------------------------------------------------------

def _check_meta(path: Path, label: str, rid: str, has_effects: bool, out: list[Problem],
                base: Path | None = None) -> dict[str, object]:
    text = read_text(path, label, out, base)
    if text is None:
        return {}
    try:
        meta = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        out.append(Problem(label, None, None, f"not valid TOML: {exc}"))
        return {}
    keys = {k.name: k for k in S.REVIEW_KEYS}
    for name in meta:
        if name not in keys:
            out.append(Problem(label, None, name, f"unknown key; allowed keys: {', '.join(keys)}"))
    if "prisma" in meta:
        out += check_prisma(meta["prisma"], label)
    for key in S.REVIEW_KEYS:
        value = meta.get(key.name)
        if key.name == "prisma":
            continue
        if conflict_message(value):
            out.append(Problem(label, None, key.name, str(conflict_message(value))))
            continue
        needed = key.required or (key.name == "metric" and has_effects)
        if value is None or value == "":
            if needed:
                why = " (effects.csv exists: declare the metric of its yi)" if key.name == "metric" else ""
                out.append(Problem(label, None, key.name, f"missing required key{why}"))
            continue
        if key.name == "coded_on" and isinstance(value, _dt.date):
            continue
        if not isinstance(value, str):
            out.append(Problem(label, None, key.name, f"must be a string, got {type(value).__name__}"))
        elif key.vocab and value not in key.vocab:
            out.append(Problem(label, None, key.name, _vocab_message(value, key.vocab)))
        elif key.name == "id" and value != rid:
            out.append(Problem(label, None, "id", f"is {value!r} but the folder is named {rid!r}"))
        elif key.name == "coded_on" and not _is_iso_date(value):
            out.append(Problem(label, None, "coded_on", f"must be an ISO date YYYY-MM-DD, got {value!r}"))
    if not S.REVIEW_ID_PATTERN.match(rid):
        out.append(Problem(label, None, "id", f"folder name {rid!r} is not a valid review id "
                           "(lowercase letters, digits and _, starting with a letter)"))
    return meta


def _is_iso_date(text: str) -> bool:
    try:
        _dt.date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


# --- cells -------------------------------------------------------------------------------------------

def _check_table(raw: RawTable, columns: tuple[S.Column, ...], computed: tuple[str, ...], rid: str,
                 out: list[Problem]) -> list[tuple[int, Row]]:
    known = {c.name: c for c in columns}
    for name in raw.header:
        if name in computed:
            out.append(Problem(raw.label, None, name, f"{name} is computed by the library, not typed: "
                               "remove the column and code the reported statistics instead"))
        elif name not in known:
            out.append(Problem(raw.label, None, name, "unknown column (see docs/data-schema.md)"))
    for col in columns:
        if col.required and col.name not in raw.header:
            out.append(Problem(raw.label, None, col.name, "missing required column"))
    rows: list[tuple[int, Row]] = []
    for r, cells in raw.rows:
        row: Row = {}
        for col in columns:
            text = cells.get(col.name, "")
            value, message = _parse(col, text) if not text.startswith("CONFLICT{") else (None, conflict_message(text))
            if message:
                out.append(Problem(raw.label, r, col.name, message))
            elif value is None and col.nonempty and col.name in raw.header:
                out.append(Problem(raw.label, r, col.name, "is empty but required"))
            row[col.name] = value
        if row["review"] is not None and row["review"] != rid:
            out.append(Problem(raw.label, r, "review", f"is {row['review']!r} but the folder is named {rid!r}"))
        rows.append((r, row))
    return rows


def _parse(col: S.Column, text: str) -> tuple[object, str | None]:
    """Typed value of a cell (``None`` when empty) and an error message, if any."""
    if text == "":
        return (False if col.type == "bool" else None), None
    if col.type == "str":
        return text, None
    if col.type == "url":
        if not re.match(r"^https?://\S+$", text):
            return None, f"must be a URL starting with http:// or https://, got {_short(text)}"
        return text, None
    if col.type == "vocab":
        return (text, None) if text in col.vocab else (None, _vocab_message(text, col.vocab))
    if col.type == "bool":
        low = text.lower()
        return (low == "true", None) if low in ("true", "false") else (None, f"must be true or false, got {_short(text)}")
    if col.type == "int":
        if not _INT.match(text) or len(text) > 15:
            return None, f"must be a whole number (at most 15 digits), got {_short(text)}"
        value: float = int(text)
    else:
        if _DECIMAL_COMMA.match(text):
            return None, f"decimal comma in {text!r}: write {text.replace(',', '.')!r}"
        if not _FLOAT.match(text) or not math.isfinite(float(text)):
            return None, (f"must be a number, got {_short(text)}"
                          + (" (write inequalities such as p < .001 in notes)" if text[:1] in "<>≤≥" else ""))
        value = float(text)
    if col.minimum is not None and value < col.minimum:
        return None, f"must be >= {col.minimum:g}, got {text}"
    if col.maximum is not None and value > col.maximum:
        return None, f"must be <= {col.maximum:g}, got {text}"
    if col.positive and value <= 0:
        return None, f"must be > 0, got {text}"
    return value, None


def _vocab_message(text: str, vocab: tuple[str, ...]) -> str:
    hint = [v for v in vocab if v.lower() == text.strip().lower().replace(" ", "_").replace("-", "_")]
    did = f" (did you mean {hint[0]!r}?)" if hint else ""
    return f"{_short(text)} is not one of: {', '.join(vocab)}{did}"


def _short(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- rows --------------------------------------------------------------------------------------------

def _check_effect_rows(label: str, rows: list[tuple[int, Row]], out: list[Problem]) -> None:
    seen: dict[object, int] = {}
    primary: dict[object, int] = {}  # study_id -> first row marked primary_effect
    for r, row in rows:
        def bad(column: str, message: str, severity: Severity = "error") -> None:
            out.append(Problem(label, r, column, message, severity))

        eid = row["effect_id"]
        if isinstance(eid, str) and not S.EFFECT_ID_PATTERN.match(eid):
            bad("effect_id", f"{_short(eid)} is not an identifier: lowercase ASCII letters, digits and _, starting "
                "with a letter, at most 64 characters, e.g. kall2021_wl")
        if eid is not None:
            if eid in seen:
                bad("effect_id", f"duplicate effect_id {eid!r} (first in row {seen[eid]})")
            seen.setdefault(eid, r)
        sid = row["study_id"]
        if isinstance(sid, str) and not S.STUDY_ID_PATTERN.match(sid):
            bad("study_id", f"{sid!r} is not surname + year (+ a/b), lowercase ASCII, e.g. kall2021")
        if row["sign_convention"] is None and row["stat_type"] not in (None, "other"):
            bad("sign_convention", "missing sign convention: say how the source's sign reads "
                "(higher_lonelier, higher_less_lonely or undirected)")
        if row["sign_convention"] == "undirected" and row["favours"] is None:
            bad("favours", "undirected statistics need favours (treatment or control, as the source says, "
                "or unknown when it does not)")
        if row["exclude"] and not row["exclude_reason"]:
            bad("exclude_reason", "exclude is true but exclude_reason is empty")
        if row["hand"] == "second" and not row["secondary_source"]:
            bad("secondary_source", "hand is second but secondary_source is empty: name the review / file")
        for column, message, severity in design_problems(row):
            bad(column, message, "error" if severity == "error" else "warning")
        if row["primary_effect"] and row["study_id"] is not None:
            if row["study_id"] in primary:
                bad("primary_effect", f"a second primary_effect row of trial {row['study_id']!r} (first in row "
                    f"{primary[row['study_id']]}): mark one row per trial")
            primary.setdefault(row["study_id"], r)
        _check_interval(row, "es", "es_ci_low", "es_ci_high", bad)
        if row["stat_type"] == "or_ci":
            for name in ("es", "es_ci_low", "es_ci_high"):
                x = row[name]
                if isinstance(x, float) and x <= 0:
                    bad(name, f"an odds ratio must be > 0, got {x:g}")
        level = row["ci_level"]
        if isinstance(level, float) and not 0 < level < 1:
            bad("ci_level", f"must be in (0, 1), e.g. 0.95, got {level:g}")
        _check_p(row, bad)


def _check_pooled_rows(label: str, rows: list[tuple[int, Row]], out: list[Problem]) -> None:
    for r, row in rows:
        def bad(column: str, message: str, severity: Severity = "error") -> None:
            out.append(Problem(label, r, column, message, severity))

        _check_interval(row, "estimate", "ci_low", "ci_high", bad)
        if row["metric"] == "OR":
            for name in ("estimate", "ci_low", "ci_high"):
                x = row[name]
                if isinstance(x, float) and x <= 0:
                    bad(name, f"an odds ratio must be > 0, got {x:g}")
        _check_p(row, bad)


def _check_interval(row: Row, est: str, low: str, high: str, bad) -> None:  # noqa: ANN001
    lo, hi, e = row[low], row[high], row[est]
    if (lo is None) != (hi is None):
        bad(low if lo is None else high, "a confidence interval needs both bounds")
    if isinstance(lo, float) and isinstance(hi, float):
        if lo >= hi:
            bad(low, f"CI lower bound {lo:g} is not below the upper bound {hi:g}")
        elif isinstance(e, float) and not lo <= e <= hi:
            bad(est, f"CI [{lo:g}, {hi:g}] does not bracket the estimate {e:g}")


def _check_p(row: Row, bad) -> None:  # noqa: ANN001
    p = row["p_value"]
    if isinstance(p, float) and not 0 < p <= 1:
        bad("p_value", f"p must be in (0, 1], got {p:g}")


def _check_computed(label: str, rows: list[tuple[int, Row]], computed: list[Computed],
                    out: list[Problem]) -> None:
    for (r, row), c in zip(rows, computed):
        if c.error:
            out.append(Problem(label, r, "stat_type", c.error))
        elif c.yi is not None and c.metric in ("SMD", "SMCC_diff") and abs(c.yi) > S.EXTREME_EFFECT:
            out.append(Problem(label, r, "stat_type", f"extreme effect: {c.metric} = {c.yi:.3f} "
                               f"(|yi| > {S.EXTREME_EFFECT:g}); check the numbers against the source",
                               "warning"))
        if c.yi is not None and row["favours"] in ("treatment", "control") and row["sign_convention"] != "undirected":
            if (c.yi < 0) != (row["favours"] == "treatment") and c.yi != 0:
                out.append(Problem(label, r, "favours", f"favours {row['favours']} contradicts the normalised "
                                   f"effect {c.yi:.3f} (negative = treatment less lonely)", "warning"))
