"""The PRISMA 2020 flow of a review: the ``[prisma]`` table of review.toml, its arithmetic and its gaps.

PRISMA 2020 item 16a asks for the numbers of records and reports at each step of study selection, ideally
as a flow diagram (Page et al. 2021, BMJ 372:n71). A review folder may record them in review.toml:

.. code-block:: toml

    [prisma]
    duplicates_removed = 40
    records_screened = 180
    records_excluded = 150
    reports_sought = 30
    reports_not_retrieved = 2
    reports_assessed = 28
    studies_included = 12
    reports_included = 14
    notes = "search of 2027-01-15"

    [prisma.identified]          # records identified, per source
    MEDLINE = 120
    PsycINFO = 100

    [prisma.reports_excluded]    # reports excluded, per reason
    "no loneliness outcome" = 9
    "not randomised" = 5

Every count is a whole number >= 0, or the text ``"not recorded"`` when the source (a review's flow
diagram, a search log) does not give it; a key left out is also not recorded. Never estimate a count.
:func:`check_prisma` checks the arithmetic wherever every term is recorded:
identified - duplicates removed = screened; screened - excluded = sought; sought - not retrieved =
assessed; assessed - excluded (all reasons) = reports included; studies included <= reports included.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from .conflicts import conflict_message
from .problems import Problem

NOT_RECORDED = "not recorded"
#: The counts of the flow, in order, with the words the diagram uses for them.
PRISMA_COUNTS: dict[str, str] = {
    "identified": "Records identified",
    "duplicates_removed": "Duplicate records removed",
    "records_screened": "Records screened",
    "records_excluded": "Records excluded",
    "reports_sought": "Reports sought for retrieval",
    "reports_not_retrieved": "Reports not retrieved",
    "reports_assessed": "Reports assessed for eligibility",
    "reports_excluded": "Reports excluded",
    "studies_included": "Studies included in review",
    "reports_included": "Reports of included studies",
}
#: Counts given per source / per reason, as a table of name -> count.
PRISMA_TABLES = ("identified", "reports_excluded")
PRISMA_KEYS = (*PRISMA_COUNTS, "notes")
#: The four subtractions of the flow: (minuend, subtrahend, result).
EQUATIONS = (
    ("identified", "duplicates_removed", "records_screened"),
    ("records_screened", "records_excluded", "reports_sought"),
    ("reports_sought", "reports_not_retrieved", "reports_assessed"),
    ("reports_assessed", "reports_excluded", "reports_included"),
)


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def total(prisma: Mapping[str, object], key: str) -> int | None:
    """The recorded count of ``key`` (summed over sources / reasons), or ``None`` when any part is not recorded.

    Examples
    --------
    >>> total({"identified": {"MEDLINE": 120, "PsycINFO": 100}}, "identified")
    220
    >>> total({"identified": {"MEDLINE": 120, "hand search": "not recorded"}}, "identified") is None
    True
    """
    value = prisma.get(key)
    if key in PRISMA_TABLES:
        if not isinstance(value, Mapping) or not value:
            return None
        parts = [_count(v) for v in value.values()]
        return None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    return _count(value)


def check_prisma(prisma: object, label: str) -> list[Problem]:
    """Problems of a ``[prisma]`` table: unknown keys, values that are not counts, and broken arithmetic.

    Parameters
    ----------
    prisma : object
        The parsed ``prisma`` value of review.toml.
    label : str
        The file as problems name it, e.g. ``"smith2027/review.toml"``; problems name the key as
        ``prisma.records_screened``.

    Examples
    --------
    >>> flow = {"identified": {"MEDLINE": 100}, "duplicates_removed": 10, "records_screened": 80}
    >>> print(check_prisma(flow, "demo/review.toml")[0])
    demo/review.toml:prisma.records_screened: 100 records identified - 10 duplicate records removed = 90, but records_screened is 80
    """
    if not isinstance(prisma, Mapping):
        return [Problem(label, None, "prisma", "must be a table ([prisma]) of counts")]
    out: list[Problem] = []
    for key, value in prisma.items():
        name = f"prisma.{key}"
        if key not in PRISMA_KEYS:
            out.append(Problem(label, None, name, f"unknown key; allowed keys: {', '.join(PRISMA_KEYS)}"))
        elif key == "notes":
            if not isinstance(value, str):
                out.append(Problem(label, None, name, "must be a string"))
        elif key in PRISMA_TABLES:
            if not isinstance(value, Mapping):
                out.append(Problem(label, None, name, f"must be a table ([prisma.{key}]) of "
                                   f"{'source' if key == 'identified' else 'reason'} = count"))
                continue
            for part, count in value.items():
                out += _check_count(count, label, f"{name}.{part}")
        else:
            out += _check_count(value, label, name)
    if out:
        return out
    for minuend, subtrahend, result in EQUATIONS:
        a, b, c = total(prisma, minuend), total(prisma, subtrahend), total(prisma, result)
        if a is not None and b is not None and c is not None and a - b != c:
            out.append(Problem(label, None, f"prisma.{result}",
                               f"{a} {PRISMA_COUNTS[minuend].lower()} - {b} {PRISMA_COUNTS[subtrahend].lower()} "
                               f"= {a - b}, but {result} is {c}"))
    studies, reports = total(prisma, "studies_included"), total(prisma, "reports_included")
    if studies is not None and reports is not None and studies > reports:
        out.append(Problem(label, None, "prisma.studies_included", f"{studies} studies included but only "
                           f"{reports} reports of included studies: every study has at least one report"))
    return out


def _check_count(value: object, label: str, name: str) -> list[Problem]:
    conflict = conflict_message(value)
    if conflict:
        return [Problem(label, None, name, conflict)]
    if _count(value) is None and value != NOT_RECORDED:
        return [Problem(label, None, name, f"must be a whole number >= 0 or \"{NOT_RECORDED}\", got {value!r}")]
    return []


def prisma_gaps(prisma: Mapping[str, object]) -> list[str]:
    """The steps of the flow whose count is not recorded, in words (empty: every box has its number)."""
    return [words for key, words in PRISMA_COUNTS.items() if total(prisma, key) is None]


def prisma_note(prisma: Mapping[str, object]) -> str:
    """What a reader of the flow diagram must know: which counts are not recorded, and the table's notes.

    Examples
    --------
    >>> prisma_note({"studies_included": 3, "reports_included": 3})[:60]
    'Not a complete flow: the source does not record records iden'
    """
    gaps = prisma_gaps(prisma)
    if gaps:
        text = (f"Not a complete flow: the source does not record {', '.join(g.lower() for g in gaps)} (those boxes "
                "read 'not recorded'), so the arithmetic of the flow cannot be checked in full.")
    else:
        text = "Every count is recorded, and the arithmetic of the flow is consistent (checked by whatworks validate)."
    notes = prisma.get("notes")
    return f"{text} {notes}" if isinstance(notes, str) and notes else text


def prisma_frame(prisma: Mapping[str, object]) -> pd.DataFrame:
    """The flow as a table: one row per box (and per source / reason), ``n`` missing when not recorded.

    Examples
    --------
    >>> prisma_frame({"identified": {"MEDLINE": 12}, "records_screened": 10}).iloc[:2].to_dict("list")
    {'step': ['Records identified', 'Records identified'], 'detail': ['MEDLINE', 'total'], 'n': [12, 12]}
    """
    rows: list[dict[str, object]] = []
    for key, words in PRISMA_COUNTS.items():
        value = prisma.get(key)
        if key in PRISMA_TABLES and isinstance(value, Mapping):
            rows += [{"step": words, "detail": str(part), "n": _count(v)} for part, v in value.items()]
        rows.append({"step": words, "detail": "" if key not in PRISMA_TABLES else "total", "n": total(prisma, key)})
    frame = pd.DataFrame(rows, columns=["step", "detail", "n"])
    frame["n"] = pd.array(frame["n"].tolist(), dtype="Int64")
    return frame


def load_prisma(folders: Iterable[Path]) -> dict[str, dict[str, object]]:
    """The ``[prisma]`` table of every review folder in ``folders`` that has one, by review id.

    The folders are expected to be valid (:func:`whatworks.data.validate`); a review.toml that cannot be
    read is skipped.
    """
    out: dict[str, dict[str, object]] = {}
    for folder in folders:
        try:
            meta = tomllib.loads((Path(folder) / "review.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(meta.get("prisma"), dict):
            out[Path(folder).name] = meta["prisma"]
    return out
