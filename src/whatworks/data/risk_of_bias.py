"""``risk_of_bias.csv``: the rules its rows must meet, and how an assessment attaches to effect rows.

The cell types are checked by :mod:`whatworks.data.validate` from the schema; this module checks what
spans cells and files (judgements by tool, a support text for every judgement, the RoB 2 overall
algorithm, the link to ``effects.csv``) and matches assessments to effect rows. The rules are
explained in ``docs/data-schema.md`` and ``docs/risk-of-bias.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import re

import numpy as np
import pandas as pd

from ..rob import rob2_overall_problem
from . import schema as S
from .problems import Problem, Severity

Row = Mapping[str, object]  # a typed row (a dict or a whatworks.data.table.RowView)
DOMAINS = tuple(S.ROB2_DOMAINS)
#: A verbatim quote: text in straight or curly double quotes.
_QUOTE = re.compile(r"\"[^\"]+\"|\u201c[^\u201d]+\u201d")
#: Columns that :func:`attach_risk_of_bias` adds to an effects frame (``rob_`` + assessment column).
ATTACHED_COLUMNS = ("rob_tool", *(f"rob_{d}" for d in DOMAINS), "rob_overall", "rob_effect_id", "rob_source_url")


def check_rob_rows(label: str, rows: Sequence[tuple[int, Row]], effects: Sequence[tuple[int, Row]] | None,
                   out: list[Problem]) -> None:
    """Append every problem of the typed rows of ``risk_of_bias.csv`` to ``out``.

    ``effects`` are the typed rows of the folder's ``effects.csv`` (``None`` when the folder has none).
    """
    designs: dict[object, set[object]] = {}
    effect_study: dict[object, object] = {}
    effect_design: dict[object, object] = {}
    for _, e in effects or []:
        designs.setdefault(e["study_id"], set()).add(e["design"])
        effect_study[e["effect_id"]] = e["study_id"]
        effect_design[e["effect_id"]] = e["design"]
    if effects is None and rows:
        out.append(Problem(label, None, None, "risk_of_bias.csv needs the folder's effects.csv: every assessment "
                           "names a study_id (and optionally an effect_id) of it"))
    seen: dict[tuple[object, object], int] = {}
    for r, row in rows:
        def bad(column: str, message: str, severity: Severity = "error") -> None:
            out.append(Problem(label, r, column, message, severity))

        sid, eid, tool = row["study_id"], row["effect_id"], row["tool"]
        key = (sid, eid)
        if sid is not None:
            if key in seen:
                what = f"effect_id {eid!r}" if eid else "the whole trial (effect_id empty)"
                bad("effect_id" if eid else "study_id",
                    f"a second assessment of study_id {sid!r} for {what} (first in row {seen[key]})")
            seen.setdefault(key, r)
        design = None
        if effects is not None and sid is not None:
            if sid not in designs:
                bad("study_id", f"study_id {sid!r} is not in effects.csv")
            elif eid is not None:
                if eid not in effect_study:
                    bad("effect_id", f"effect_id {eid!r} is not in effects.csv")
                elif effect_study[eid] != sid:
                    bad("effect_id", f"effect_id {eid!r} belongs to study_id {effect_study[eid]!r}, not {sid!r}")
                else:
                    design = effect_design[eid]
            elif len(designs[sid]) > 1:
                bad("effect_id", f"the rows of study_id {sid!r} have designs {sorted(map(str, designs[sid]))}: "
                    "assess each result (give effect_id) with the tool for its design")
            else:
                design = next(iter(designs[sid]))
        if design is not None and tool is not None:
            if tool == "rob2" and design != "rct":
                bad("tool", f"rob2 is for randomised trials, but the assessed rows have design {design!r}: "
                    "use robins_i (or leave the study unassessed)")
            elif tool == "robins_i" and design == "rct":
                bad("tool", "robins_i is for non-randomised studies, but the assessed rows have design 'rct': "
                    "use rob2")
        if tool == "rob2":
            _check_rob2(row, bad)
        elif tool == "robins_i":
            _check_robins_i(row, bad)
        date = row["assessed_on"]
        if isinstance(date, str) and not S.is_iso_date(date):
            bad("assessed_on", f"must be an ISO date YYYY-MM-DD, got {date!r}")


def _check_rob2(row: Row, bad) -> None:  # noqa: ANN001
    ok = True
    for d in DOMAINS:
        value = row[d]
        if value is None:
            bad(d, "is empty but required: RoB 2 judges every domain (no_information where the source "
                "does not allow a judgement, with the reason)")
            ok = False
        elif value not in S.ROB2_JUDGEMENTS:
            bad(d, _vocab(value, S.ROB2_JUDGEMENTS, "RoB 2"))
            ok = False
        _check_support(row, d, bad)
    overall = row["overall"]
    if overall is not None and overall not in S.ROB2_JUDGEMENTS:
        bad("overall", _vocab(overall, S.ROB2_JUDGEMENTS, "RoB 2"))
    elif overall is not None and ok:
        problem = rob2_overall_problem(str(overall), [str(row[d]) for d in DOMAINS])
        if problem:
            bad("overall", problem)


def _check_robins_i(row: Row, bad) -> None:  # noqa: ANN001
    overall = row["overall"]
    if overall is not None and overall not in S.ROBINS_I_JUDGEMENTS:
        bad("overall", _vocab(overall, S.ROBINS_I_JUDGEMENTS, "ROBINS-I"))
    for d in DOMAINS:
        if row[d] is not None:
            bad(d, "ROBINS-I has seven domains that do not map onto the RoB 2 columns d1-d5: leave them empty "
                "and give the domain judgements and their reasons in overall_support")
        elif row[f"{d}_support"] is not None:
            bad(f"{d}_support", f"support text without a judgement: {d} is empty")


def _check_support(row: Row, d: str, bad) -> None:  # noqa: ANN001
    value, support = row[d], row[f"{d}_support"]
    if value is not None and support is None:
        bad(f"{d}_support", f"{d} is {value} but {d}_support is empty: quote the source in double quotes, "
            "or give the reason it cannot be judged")
    elif value in ("low", "some_concerns", "high") and isinstance(support, str) and not _QUOTE.search(support):
        bad(f"{d}_support", f"a {value} judgement needs a verbatim quote from the source in double quotes")


def _vocab(value: object, vocab: tuple[str, ...], tool: str) -> str:
    return f"{str(value)[:40]!r} is not a {tool} judgement; allowed: {', '.join(vocab)}"


def attach_risk_of_bias(effects: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    """Effect rows with the risk-of-bias assessment that applies to each (columns :data:`ATTACHED_COLUMNS`).

    An assessment with an ``effect_id`` applies to that row; one without applies to every row of its
    ``study_id`` in the same review that has no assessment of its own. Rows without an assessment get
    ``rob_overall = "not_assessed"`` and missing values elsewhere.

    Parameters
    ----------
    effects : DataFrame
        As returned by :func:`whatworks.data.load_reviews` (needs ``review``, ``study_id``, ``effect_id``).
    assessments : DataFrame
        As returned by :func:`whatworks.data.load_risk_of_bias`.

    Returns
    -------
    DataFrame
        A copy of ``effects`` (same rows, same order) with the ``rob_*`` columns added or replaced.

    Examples
    --------
    >>> import pandas as pd
    >>> eff = pd.DataFrame({"review": ["r", "r", "r"], "study_id": ["a2020", "a2020", "b2021"],
    ...                     "effect_id": ["a_post", "a_fu", "b_post"]})
    >>> rob = pd.DataFrame({"review": ["r"], "study_id": ["a2020"], "effect_id": [None], "tool": ["rob2"],
    ...                     "d1": ["low"], "d2": ["low"], "d3": ["high"], "d4": ["some_concerns"],
    ...                     "d5": ["low"], "overall": ["high"], "source_url": ["https://example.org"]})
    >>> attach_risk_of_bias(eff, rob)["rob_overall"].tolist()
    ['high', 'high', 'not_assessed']
    """
    out = effects.copy()
    n = len(out)
    cols = {c: np.full(n, None, dtype=object) for c in ATTACHED_COLUMNS}
    index: dict[tuple[object, object, object], dict[str, object]] = {}
    for rec in assessments.to_dict("records"):
        eid = rec.get("effect_id")
        eid = None if eid is None or pd.isna(eid) else eid
        index[(rec["review"], rec["study_id"], eid)] = rec
    reviews, studies, effect_ids = (out[c].tolist() for c in ("review", "study_id", "effect_id"))
    for i, (rv, sid, eid) in enumerate(zip(reviews, studies, effect_ids)):
        rec = index.get((rv, sid, eid)) or index.get((rv, sid, None))
        if rec is None:
            continue
        cols["rob_tool"][i] = rec["tool"]
        for d in DOMAINS:
            cols[f"rob_{d}"][i] = rec.get(d)
        cols["rob_overall"][i] = rec["overall"]
        rec_eid = rec.get("effect_id")
        cols["rob_effect_id"][i] = None if rec_eid is None or pd.isna(rec_eid) else rec_eid
        cols["rob_source_url"][i] = rec.get("source_url")
    cols["rob_overall"] = np.array([S.ROB_NOT_ASSESSED if v is None else v for v in cols["rob_overall"]],
                                   dtype=object)
    for c in ATTACHED_COLUMNS:
        out[c] = pd.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                           for v in cols[c]], dtype="string")
    return out
