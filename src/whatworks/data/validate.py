"""Validation of review folders against :mod:`whatworks.data.schema`: every problem of every file at once.

:func:`validate` is the public entry point; :func:`check_folder` is shared with the loader, which reuses
its typed rows so that files are parsed once.
"""

from __future__ import annotations

import datetime as _dt
import gc
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import schema as S
from ._csvfile import RawTable, outside, read_csv, read_text
from .compute import Computed, compute_effects
from .consistency import RESOLUTION_COLUMNS, check_consistency
from .conflicts import RESOLUTIONS_FILE, check_resolutions, conflict_message
from .design import DESIGN_COLUMNS, design_problems
from .prisma import check_prisma
from .problems import DataValidationError, Problem, Severity, sort_problems
from .risk_of_bias import check_rob_rows
from .roots import resolve_root
from .table import Table, columns_of, parse_cell, short, type_table, vocab_message

Row = Mapping[str, object]  # a typed row: row["column"] (see whatworks.data.table)
_parse, _vocab_message, _short = parse_cell, vocab_message, short  # their former names (data.codings uses _parse)
_KNOWN_FILES = (S.REVIEW_FILE, S.EFFECTS_FILE, S.POOLED_FILE, S.RISK_OF_BIAS_FILE)
_IGNORED_FILES = re.compile(r"^(\..*|README.*|.*\.md|__pycache__)$", re.IGNORECASE)


@dataclass
class FolderData:
    """A review folder after validation: typed rows (``None`` = missing) and what was found wrong."""

    review_id: str
    meta: dict[str, object] = field(default_factory=dict)
    effects: Table | None = None  # typed rows by column; iterates as (data row, row) pairs
    pooled: Table | None = None
    risk_of_bias: Table | None = None
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


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of cells become objects: they form no
    cycles, and its repeated full scans made validating 200,000 rows take minutes instead of seconds."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_collection(folders: list[Path], root: Path | None = None) -> tuple[list[FolderData], list[Problem]]:
    """Validate each folder, then what spans folders; return the folders' data and all problems.

    ``root``: the collection folder; every folder and file read must resolve inside it (links leading
    out of it are refused). ``None``: each folder is its own boundary.
    """
    with _no_cycle_collection():
        data = [check_folder(f, base=root if root is not None else f) for f in folders]
    problems = [p for d in data for p in d.problems]
    years: dict[object, dict[object, str]] = {}  # study_id -> year -> first place it was seen
    cols = [(d, *columns_of(d.effects or [], ("study_id", "year"))) for d in data]
    for d, nums, c in cols:
        for r, sid, year in zip(nums, c["study_id"], c["year"]):
            if sid is not None and year is not None:
                years.setdefault(sid, {}).setdefault(year, f"{d.review_id}/effects.csv:{r}")
    for d, nums, c in cols:
        for r, sid, year in zip(nums, c["study_id"], c["year"]):
            seen = years.get(sid)
            if year is not None and seen is not None and len(seen) > 1:
                others = ", ".join(f"{y} in {where}" for y, where in seen.items() if y != year)
                problems.append(Problem(f"{d.review_id}/effects.csv", r, "year", f"study_id {sid!r} "
                                        f"has year {year} here but {others}: one trial or two?", "warning"))
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
            check_consistency(raw.label, data.effects, out)
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
        elif key.name == "coded_on" and not S.is_iso_date(value):
            out.append(Problem(label, None, "coded_on", f"must be an ISO date YYYY-MM-DD, got {value!r}"))
    if not S.REVIEW_ID_PATTERN.match(rid):
        out.append(Problem(label, None, "id", f"folder name {rid!r} is not a valid review id "
                           "(lowercase letters, digits and _, starting with a letter)"))
    return meta


# --- cells -------------------------------------------------------------------------------------------

def _check_table(raw: RawTable, columns: tuple[S.Column, ...], computed: tuple[str, ...], rid: str,
                 out: list[Problem]) -> Table:
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
    markers = _take_markers(raw, known) if raw.markers else []
    table = type_table(raw, columns, out, RESOLUTION_COLUMNS)
    if markers:  # an unresolved double-coding marker is its own problem, not "empty but required"
        at = {(r, name) for r, name, _ in markers}
        out[:] = [p for p in out if p.file != raw.label or (p.row, p.column) not in at]
        out.extend(Problem(raw.label, r, name, message) for r, name, message in markers)
    if "review" in known:
        for r, review in zip(table.numbers, table.columns["review"]):
            if review is not None and review != rid:
                out.append(Problem(raw.label, r, "review", f"is {review!r} but the folder is named {rid!r}"))
    return table


def _take_markers(raw: RawTable, known: Mapping[str, S.Column]) -> list[tuple[int, str, str]]:
    """Blank the cells of ``raw`` that hold a double-coding marker (``CONFLICT{...}``) and return
    (row, column, message) for each (data/conflicts.py)."""
    found = []
    for name, cells in raw.columns.items():
        if name not in known:
            continue
        hits = [i for i, c in enumerate(cells) if "CONFLICT{" in c and c.strip().startswith("CONFLICT{")]
        if hits:
            cells = list(cells)
            for i in hits:
                found.append((raw.numbers[i], name, conflict_message(cells[i].strip()) or ""))
                cells[i] = ""
            raw.columns[name] = cells
    return found


# --- rows --------------------------------------------------------------------------------------------

_EFFECT_CHECKED = ("effect_id", "study_id", "sign_convention", "stat_type", "favours", "exclude", "exclude_reason",
                   "hand", "secondary_source", "es", "es_ci_low", "es_ci_high", "ci_level", "p_value",
                   "primary_effect", "randomisation_unit", *DESIGN_COLUMNS)


def _check_effect_rows(label: str, rows: Sequence[tuple[int, Row]], out: list[Problem]) -> None:
    """Rules within a row of effects.csv (column by column: a file may hold 200,000 rows)."""
    nums, c = columns_of(rows, _EFFECT_CHECKED)

    def bad(r: int, column: str, message: str, severity: Severity = "error") -> None:
        out.append(Problem(label, r, column, message, severity))

    seen: dict[object, int] = {}
    for r, eid in zip(nums, c["effect_id"]):
        if isinstance(eid, str) and not S.EFFECT_ID_PATTERN.match(eid):
            bad(r, "effect_id", f"{_short(eid)} is not an identifier: lowercase ASCII letters, digits and _, "
                "starting with a letter, at most 64 characters, e.g. kall2021_wl")
        if eid is not None:
            first = seen.setdefault(eid, r)
            if first != r:
                bad(r, "effect_id", f"duplicate effect_id {eid!r} (first in row {first})")
    match = S.STUDY_ID_PATTERN.match
    for r, sid in zip(nums, c["study_id"]):
        if isinstance(sid, str) and not match(sid):
            bad(r, "study_id", f"{sid!r} is not surname + year (+ a/b), lowercase ASCII, e.g. kall2021")
    for r, sign, st, fav in zip(nums, c["sign_convention"], c["stat_type"], c["favours"]):
        if sign is None and st not in (None, "other"):
            bad(r, "sign_convention", "missing sign convention: say how the source's sign reads "
                "(higher_lonelier, higher_less_lonely or undirected)")
        if sign == "undirected" and fav is None:
            bad(r, "favours", "undirected statistics need favours (treatment or control, as the source says, "
                "or unknown when it does not)")
    for r, exclude, reason, hand, secondary in zip(nums, c["exclude"], c["exclude_reason"], c["hand"],
                                                    c["secondary_source"]):
        if exclude and not reason:
            bad(r, "exclude_reason", "exclude is true but exclude_reason is empty")
        if hand == "second" and not secondary:
            bad(r, "secondary_source", "hand is second but secondary_source is empty: name the review / file")
    relevant = [st == "f" or unit == "cluster" or any(x is not None for x in xs) for st, unit, *xs in
                zip(c["stat_type"], c["randomisation_unit"], *(c[name] for name in DESIGN_COLUMNS))]
    for (r, row), check in zip(rows, relevant):  # the design columns' rules, row by row (data/design.py)
        if check:
            for column, message, severity in design_problems(row):
                bad(r, column, message, "error" if severity == "error" else "warning")
    primary: dict[object, int] = {}  # study_id -> first row marked primary_effect
    for r, flag, sid in zip(nums, c["primary_effect"], c["study_id"]):
        if flag and sid is not None:
            if sid in primary:
                bad(r, "primary_effect", f"a second primary_effect row of trial {sid!r} (first in row "
                    f"{primary[sid]}): mark one row per trial")
            primary.setdefault(sid, r)
    _check_intervals(nums, c, "es", "es_ci_low", "es_ci_high", bad)
    for r, st, *xs in zip(nums, c["stat_type"], c["es"], c["es_ci_low"], c["es_ci_high"]):
        if st == "or_ci":
            for name, x in zip(("es", "es_ci_low", "es_ci_high"), xs):
                if isinstance(x, float) and x <= 0:
                    bad(r, name, f"an odds ratio must be > 0, got {x:g}")
    for r, level in zip(nums, c["ci_level"]):
        if isinstance(level, float) and not 0 < level < 1:
            bad(r, "ci_level", f"must be in (0, 1), e.g. 0.95, got {level:g}")
    _check_ps(nums, c["p_value"], bad)


def _check_pooled_rows(label: str, rows: Sequence[tuple[int, Row]], out: list[Problem]) -> None:
    nums, c = columns_of(rows, ("estimate", "ci_low", "ci_high", "metric", "p_value"))

    def bad(r: int, column: str, message: str, severity: Severity = "error") -> None:
        out.append(Problem(label, r, column, message, severity))

    _check_intervals(nums, c, "estimate", "ci_low", "ci_high", bad)
    for r, metric, *xs in zip(nums, c["metric"], c["estimate"], c["ci_low"], c["ci_high"]):
        if metric == "OR":
            for name, x in zip(("estimate", "ci_low", "ci_high"), xs):
                if isinstance(x, float) and x <= 0:
                    bad(r, name, f"an odds ratio must be > 0, got {x:g}")
    _check_ps(nums, c["p_value"], bad)


def _check_intervals(nums: list[int], c: Mapping[str, list], est: str, low: str, high: str, bad) -> None:  # noqa: ANN001
    for r, e, lo, hi in zip(nums, c[est], c[low], c[high]):
        if (lo is None) != (hi is None):
            bad(r, low if lo is None else high, "a confidence interval needs both bounds")
        if isinstance(lo, float) and isinstance(hi, float):
            if lo >= hi:
                bad(r, low, f"CI lower bound {lo:g} is not below the upper bound {hi:g}")
            elif isinstance(e, float) and not lo <= e <= hi:
                bad(r, est, f"CI [{lo:g}, {hi:g}] does not bracket the estimate {e:g}")


def _check_ps(nums: list[int], ps: list, bad) -> None:  # noqa: ANN001
    for r, p in zip(nums, ps):
        if isinstance(p, float) and not 0 < p <= 1:
            bad(r, "p_value", f"p must be in (0, 1], got {p:g}")


def _check_computed(label: str, rows: Sequence[tuple[int, Row]], computed: list[Computed],
                    out: list[Problem]) -> None:
    nums, c = columns_of(rows, ("favours", "sign_convention"))
    for r, comp, fav, sign in zip(nums, computed, c["favours"], c["sign_convention"]):
        if comp.error:
            out.append(Problem(label, r, "stat_type", comp.error))
        elif comp.yi is not None and comp.metric in ("SMD", "SMCC_diff") and abs(comp.yi) > S.EXTREME_EFFECT:
            out.append(Problem(label, r, "stat_type", f"extreme effect: {comp.metric} = {comp.yi:.3f} "
                               f"(|yi| > {S.EXTREME_EFFECT:g}); check the numbers against the source",
                               "warning"))
        if comp.yi is not None and fav in ("treatment", "control") and sign != "undirected":
            if (comp.yi < 0) != (fav == "treatment") and comp.yi != 0:
                out.append(Problem(label, r, "favours", f"favours {fav} contradicts the normalised "
                                   f"effect {comp.yi:.3f} (negative = treatment less lonely)", "warning"))
