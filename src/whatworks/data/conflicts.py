"""Disagreements left for a person to resolve: the ``CONFLICT{a=...|b=...}`` cell marker and ``resolutions.csv``.

:func:`whatworks.data.merge.merge` writes a marker into every cell where two independent codings of a
review disagree, and one row per marker into the folder's ``resolutions.csv``. The validator refuses a
marked cell (naming both values) and checks that every row of ``resolutions.csv`` says what was decided,
by whom, when and why; the loaders ignore ``resolutions.csv``. :func:`whatworks.data.merge.resolve`
writes the decided values into the marked cells.

Marker syntax: ``CONFLICT{a=<coder A's value>|b=<coder B's value>}``, where inside a value a backslash
is written ``\\\\``, a ``|`` is written ``\\|`` and a ``}`` is written ``\\}``; an empty value (the coder
left the cell empty, or the row is absent from that coding) is written as nothing: ``CONFLICT{a=0.5|b=}``.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import schema as S
from ._csvfile import read_csv
from .problems import Problem

MARKER_PREFIX = "CONFLICT{"
RESOLUTIONS_FILE = "resolutions.csv"
#: Columns of ``resolutions.csv``, one row per disagreement between the two codings.
RESOLUTION_COLUMNS = ("file", "key", "column", "value_a", "value_b", "resolved_value", "resolved_by",
                      "resolved_on", "reason")
#: Files whose cells can carry a marker (and be named in ``resolutions.csv``).
MERGED_FILES = (S.REVIEW_FILE, S.EFFECTS_FILE, S.POOLED_FILE, S.RISK_OF_BIAS_FILE)
_MARKER = re.compile(r"^CONFLICT\{a=((?:[^\\|}]|\\.)*)\|b=((?:[^\\|}]|\\.)*)\}$", re.DOTALL)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("}", "\\}")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def conflict_marker(value_a: str, value_b: str) -> str:
    """The marker a merged cell holds when coder A wrote ``value_a`` and coder B ``value_b``.

    Examples
    --------
    >>> conflict_marker("0.5", "0.6")
    'CONFLICT{a=0.5|b=0.6}'
    >>> parse_conflict(conflict_marker("a|b}", ""))
    ('a|b}', '')
    """
    return f"{MARKER_PREFIX}a={_escape(value_a)}|b={_escape(value_b)}}}"


def parse_conflict(text: str) -> tuple[str, str] | None:
    """Coder A's and coder B's values of a marker, or ``None`` when ``text`` is not a marker.

    Examples
    --------
    >>> parse_conflict("CONFLICT{a=rct|b=non_randomised}")
    ('rct', 'non_randomised')
    >>> parse_conflict("rct") is None
    True
    """
    match = _MARKER.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    return _unescape(match.group(1)), _unescape(match.group(2))


def conflict_message(text: object) -> str | None:
    """Validation message for a cell that still holds a marker (or a damaged one), else ``None``."""
    if not isinstance(text, str) or not text.strip().startswith(MARKER_PREFIX):
        return None
    values = parse_conflict(text)
    if values is None:
        return (f"damaged disagreement marker {text[:60]!r}: it should read CONFLICT{{a=...|b=...}}; "
                "replace it with the agreed value and record the decision in resolutions.csv")
    a, b = values
    return (f"unresolved disagreement between the two coders: coder A wrote {a!r}, coder B wrote {b!r}; "
            "decide, fill resolved_value, resolved_by, resolved_on and reason in resolutions.csv, then run "
            "whatworks resolve")


def resolution_key(file: str, values: Mapping[str, str]) -> str:
    """The ``key`` naming a row of ``file`` in ``disagreements.csv`` and ``resolutions.csv``.

    ``effect_id`` for effects.csv, ``study_id`` (``study_id/effect_id`` when the judgement is of one
    result) for risk_of_bias.csv, the ``analysis``
    label for pooled.csv, empty for review.toml.

    Examples
    --------
    >>> resolution_key("risk_of_bias.csv", {"study_id": "kall2021", "effect_id": "kall2021_wl"})
    'kall2021/kall2021_wl'
    """
    if file == S.EFFECTS_FILE:
        return values.get("effect_id", "")
    if file == S.RISK_OF_BIAS_FILE:
        study, effect = values.get("study_id", ""), values.get("effect_id", "")
        return f"{study}/{effect}" if effect else study
    if file == S.POOLED_FILE:
        return values.get("analysis", "")
    return ""


def check_resolutions(folder: Path) -> list[Problem]:
    """Problems of ``folder/resolutions.csv``: every row decided, recorded and written into its cell.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = Path(tmp) / "demo"
    ...     folder.mkdir()
    ...     _ = (folder / "resolutions.csv").write_text(",".join(RESOLUTION_COLUMNS) + "\\n", encoding="utf-8")
    ...     check_resolutions(folder)
    []
    """
    current = folder_cells(folder)
    label = f"{folder.name}/{RESOLUTIONS_FILE}"
    out: list[Problem] = []
    raw = read_csv(folder / RESOLUTIONS_FILE, label, out)
    if raw is None:
        return out
    for name in raw.header:
        if name not in RESOLUTION_COLUMNS:
            out.append(Problem(label, None, name, f"unknown column; the columns are {', '.join(RESOLUTION_COLUMNS)}"))
    missing = [c for c in RESOLUTION_COLUMNS if c not in raw.header]
    for name in missing:
        out.append(Problem(label, None, name, "missing required column"))
    if missing:
        return out
    for r, row in raw.rows:
        out += _check_resolution_row(label, r, row, current)
    return out


def _check_resolution_row(label: str, r: int, row: Mapping[str, str],
                          current: Mapping[tuple[str, str, str], str]) -> list[Problem]:
    out: list[Problem] = []

    def bad(column: str, message: str) -> None:
        out.append(Problem(label, r, column, message))

    if row["file"] not in MERGED_FILES:
        bad("file", f"{row['file']!r} is not one of: {', '.join(MERGED_FILES)}")
        return out
    if not row["column"]:
        bad("column", "is empty but required")
        return out
    if not row["resolved_by"]:
        cell = current.get((row["file"], row["key"], row["column"]))
        if cell is None or parse_conflict(cell) != (row["value_a"], row["value_b"]):  # a marker is reported at its cell
            bad("resolved_by", f"{_where(row)} no longer holds the disagreement (coder A {row['value_a']!r}, coder B "
                               f"{row['value_b']!r}) but the decision is not recorded: fill resolved_value, "
                               "resolved_by, resolved_on and reason")
        return out
    if not S.is_iso_date(row["resolved_on"]):
        bad("resolved_on", f"must be an ISO date YYYY-MM-DD, got {row['resolved_on']!r}")
    if not row["reason"]:
        bad("reason", "is empty but required: say why the resolved value is right (e.g. 'Table 2 reads 0.45')")
    cell = current.get((row["file"], row["key"], row["column"]))
    removed_row = row["column"] == key_column(row["file"]) and row["resolved_value"] == ""
    if cell is None:
        if not removed_row and (row["file"], row["key"]) not in {(f, k) for f, k, _ in current}:
            bad("key", f"{_where(row)} is not in the folder (was the row renamed or removed?)")
        elif not removed_row and row["resolved_value"] != "":
            bad("resolved_value", f"{_where(row)} is empty in the folder, not {row['resolved_value']!r}")
        return out
    if removed_row:
        bad("resolved_value", f"resolved as 'drop the row' but {_where(row)} is still in the folder")
    elif parse_conflict(cell) is not None:
        bad("resolved_value", f"resolved as {row['resolved_value']!r} but {_where(row)} still holds the marker: "
                              "run whatworks resolve")
    elif " ".join(cell.split()) != " ".join(row["resolved_value"].split()):
        bad("resolved_value", f"says {row['resolved_value']!r} but {_where(row)} holds {cell!r}")
    return out


def key_column(file: str) -> str:
    """The column whose marker stands for a row present in one coding only (resolve it empty to drop the row)."""
    return {S.EFFECTS_FILE: "effect_id", S.RISK_OF_BIAS_FILE: "study_id", S.POOLED_FILE: "analysis"}.get(file, "")


def _where(row: Mapping[str, str]) -> str:
    key = f" {row['key']}" if row["key"] else ""
    return f"{row['file']}{key} {row['column']}"


def resolution_rows(disagreements: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Open rows of ``resolutions.csv`` (``resolved_*`` and ``reason`` empty) for the given disagreements."""
    return [{c: str(d.get(c, "")) for c in RESOLUTION_COLUMNS} for d in disagreements]


def row_key(file: str, cells: dict[str, str]) -> str:
    """The matching key of a row; a key cell holding a marker counts as the coder's non-empty value."""
    resolved = dict(cells)
    for name in ("effect_id", "study_id", "analysis"):
        values = parse_conflict(cells.get(name, ""))
        if values is not None:
            resolved[name] = values[0] or values[1]
    return resolution_key(file, resolved)


def meta_cells(meta: dict[str, object]) -> dict[str, str]:
    """review.toml as ``key -> text``; the ``[prisma]`` table flattened to dotted keys."""
    out: dict[str, str] = {}

    def put(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                put(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, _dt.date):
            out[prefix] = value.isoformat()
        elif isinstance(value, bool):
            out[prefix] = "true" if value else "false"
        else:
            out[prefix] = str(value)

    put("", meta)
    return out


def folder_cells(folder: Path) -> dict[tuple[str, str, str], str]:
    """Every cell of a folder now, ``(file, key, column) -> text`` (for checking ``resolutions.csv``)."""
    out: dict[tuple[str, str, str], str] = {}
    try:
        meta = tomllib.loads((folder / S.REVIEW_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        meta = {}
    for name, text in meta_cells(meta).items():
        out[(S.REVIEW_FILE, "", name)] = text
    for file in MERGED_FILES[1:]:
        if not (folder / file).exists():
            continue
        raw = read_csv(folder / file, file, [])
        for _, cells in raw.rows if raw is not None else []:
            key = row_key(file, cells)
            for name, text in cells.items():
                out[(file, key, name)] = text
    return out
