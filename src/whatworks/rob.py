"""Risk of bias of randomised trials: the RoB 2 overall algorithm and a robvis-style summary.

Pure functions on judgement strings; no I/O. The vocabularies are defined here, at the bottom of the
package, and re-exported by :mod:`whatworks.data.schema` for the data files.

The overall algorithm follows Sterne et al. 2019 (BMJ 366:l4898, Table 2): *low* only if every
domain is low, *high* if any domain is high, otherwise *some concerns*. This project adds the
judgement ``no_information`` for a domain that the reachable source does not allow to judge (an
abstract that is silent on allocation concealment, say). It enters the algorithm as follows:

- an overall ``no_information`` only when every domain is ``no_information`` (nothing was judged);
- any other mix without a high domain (some concerns with no information, or low with no
  information) gives ``some_concerns``: a domain that could not be assessed cannot be called low,
  and RoB 2 itself maps missing information on a domain's key signalling question to some concerns.

A stated overall judgement may be stricter than the algorithm (RoB 2 allows *high* when several
domains raise some concerns that together lower confidence substantially), never more lenient, and
never ``no_information`` once a domain was judged.

Examples
--------
>>> rob2_overall(["low", "some_concerns", "low", "no_information", "low"])
'some_concerns'
>>> rob2_overall(["no_information"] * 5)
'no_information'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .results import _freeze, frame_to_html

#: Risk-of-bias tools (RoB 2: Sterne et al. 2019; ROBINS-I: Sterne et al. 2016).
ROB_TOOLS = ("rob2", "robins_i")
#: RoB 2 judgements of a domain or overall, with this project's ``no_information``.
ROB2_JUDGEMENTS = ("low", "some_concerns", "high", "no_information")
#: ROBINS-I judgements (Sterne et al. 2016, BMJ 355:i4919).
ROBINS_I_JUDGEMENTS = ("low", "moderate", "serious", "critical", "no_information")
#: The five RoB 2 domains: column name -> name as in Sterne et al. 2019.
ROB2_DOMAINS = {
    "d1": "bias arising from the randomisation process",
    "d2": "bias due to deviations from intended interventions",
    "d3": "bias due to missing outcome data",
    "d4": "bias in measurement of the outcome",
    "d5": "bias in selection of the reported result",
}
#: Judgement words for people (figures, reports).
JUDGEMENT_LABELS = {"low": "Low", "some_concerns": "Some concerns", "high": "High",
                    "no_information": "No information"}
#: Columns of :meth:`RobSummary.to_frame`.
SUMMARY_COLUMNS = ("domain", "domain_name", "judgement", "n", "percent", "weight_percent")

_SEVERITY = {"low": 0, "some_concerns": 1, "high": 2}
_COLUMNS = (*ROB2_DOMAINS, "overall")


def _check_judgement(value: object, where: str) -> str:
    if value not in ROB2_JUDGEMENTS:
        raise ValueError(f"{where}: {value!r} is not a RoB 2 judgement; allowed: {', '.join(ROB2_JUDGEMENTS)}")
    return str(value)


def rob2_overall(domains: Sequence[str]) -> str:
    """The overall RoB 2 judgement the algorithm gives for five domain judgements.

    Parameters
    ----------
    domains : sequence of str
        Judgements of domains 1 to 5, each one of :data:`ROB2_JUDGEMENTS`.

    Returns
    -------
    str
        ``"high"`` if any domain is high; ``"low"`` if all are low; ``"no_information"`` if all are
        no information; ``"some_concerns"`` otherwise (see the module docstring).

    Raises
    ------
    ValueError
        If there are not five domains or a value is not a RoB 2 judgement.

    Examples
    --------
    >>> rob2_overall(["low"] * 5)
    'low'
    >>> rob2_overall(["low", "low", "high", "no_information", "some_concerns"])
    'high'
    """
    d = [_check_judgement(x, f"domains[{i}]") for i, x in enumerate(domains)]
    if len(d) != len(ROB2_DOMAINS):
        raise ValueError(f"domains must hold {len(ROB2_DOMAINS)} judgements (D1-D5), got {len(d)}")
    if "high" in d:
        return "high"
    if all(x == "low" for x in d):
        return "low"
    if all(x == "no_information" for x in d):
        return "no_information"
    return "some_concerns"


def rob2_overall_problem(overall: str, domains: Sequence[str]) -> str | None:
    """Why a stated overall RoB 2 judgement contradicts its domains, or ``None`` when it is consistent.

    Consistent means: equal to :func:`rob2_overall`, or stricter than it (low < some concerns < high)
    when the algorithm gives low or some concerns. An overall ``no_information`` needs every domain
    to be no information, and an all-no-information assessment cannot have another overall.

    Examples
    --------
    >>> rob2_overall_problem("high", ["some_concerns"] * 5) is None  # stricter: allowed, with a reason
    True
    >>> rob2_overall_problem("low", ["low", "low", "some_concerns", "low", "low"])
    'overall low is more lenient than the RoB 2 algorithm, which gives some_concerns for these domains'
    """
    expected = rob2_overall(domains)
    stated = _check_judgement(overall, "overall")
    if stated == expected:
        return None
    if expected == "no_information":
        return f"every domain is no_information, so the overall must be no_information, not {stated}"
    if stated == "no_information":
        return f"overall no_information needs every domain to be no_information; the algorithm gives {expected}"
    if _SEVERITY[stated] < _SEVERITY[expected]:
        return (f"overall {stated} is more lenient than the RoB 2 algorithm, which gives {expected} "
                "for these domains")
    return None


@dataclass(frozen=True)
class RobSummary:
    """RoB 2 assessments of k trials and their per-domain summary (robvis's ``rob_summary``).

    Attributes
    ----------
    k : int
        Number of assessments (trials, or results).
    labels : tuple of str
        One label per assessment.
    judgements : ndarray of str, shape (k, 6)
        Domains D1-D5 then the stated overall judgement.
    algorithm : ndarray of str, shape (k,)
        Overall judgement of :func:`rob2_overall` for each assessment's domains.
    stricter : ndarray of bool, shape (k,)
        The stated overall is stricter than the algorithm (allowed; the data give the reason).
    weights : ndarray of float, shape (k,)
        Weight of each assessment in percent (summing to 100): meta-analytic weights when given,
        else equal.
    weighted : bool
        True when ``weights`` were given (e.g. the weights of a fit), False for equal weights.
    """

    k: int
    labels: tuple[str, ...]
    judgements: np.ndarray = field(repr=False)
    algorithm: np.ndarray = field(repr=False)
    stricter: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    weighted: bool = False

    def __post_init__(self) -> None:
        _freeze(self)

    @property
    def overall(self) -> np.ndarray:
        """The stated overall judgement of each assessment."""
        return self.judgements[:, -1]

    @property
    def n_no_information(self) -> int:
        """Number of assessments with at least one domain judged no information."""
        return int((self.judgements[:, :-1] == "no_information").any(axis=1).sum())

    @property
    def n_overall_no_information(self) -> int:
        """Number of assessments whose overall judgement is no information (nothing could be judged)."""
        return int((self.overall == "no_information").sum())

    def trial_frame(self) -> pd.DataFrame:
        """One row per assessment: label, d1-d5, overall, the algorithm's overall, stricter, weight (%)."""
        frame = pd.DataFrame(self.judgements, columns=list(_COLUMNS))
        frame.insert(0, "label", list(self.labels))
        return frame.assign(algorithm=self.algorithm, stricter=self.stricter, weight=self.weights)

    def to_frame(self) -> pd.DataFrame:
        """Long table, one row per domain (D1-D5, overall) and judgement: the number of assessments
        ``n``, their share ``percent`` and their share of the weight ``weight_percent`` (columns
        :data:`SUMMARY_COLUMNS`)."""
        rows = []
        names = {**ROB2_DOMAINS, "overall": "overall risk of bias"}
        for j, col in enumerate(_COLUMNS):
            values = self.judgements[:, j]
            for judgement in ROB2_JUDGEMENTS:
                hit = values == judgement
                rows.append({"domain": col, "domain_name": names[col], "judgement": judgement,
                             "n": int(hit.sum()), "percent": 100.0 * hit.mean() if self.k else np.nan,
                             "weight_percent": float(self.weights[hit].sum()) if self.k else np.nan})
        frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        frame["n"] = frame["n"].astype("int64")
        return frame

    def summary(self) -> str:
        """Plain-text summary: counts per overall judgement, then the per-domain table."""
        fr = self.to_frame()
        over = fr[fr["domain"] == "overall"]
        counts = ", ".join(f"{JUDGEMENT_LABELS[j]} {n}" for j, n in zip(over["judgement"], over["n"]) if n)
        weights = "meta-analytic weights" if self.weighted else "equal weights"
        lines = [f"Risk of bias (RoB 2), k = {self.k} ({weights})",
                 f"Overall: {counts or 'none'}",
                 f"Assessments with a domain of no information: {self.n_no_information} of {self.k}",
                 f"Stated overall stricter than the algorithm: {int(self.stricter.sum())}", "",
                 fr.to_string(index=False)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        over = {j: int((self.overall == j).sum()) for j in ROB2_JUDGEMENTS}
        return (f"RobSummary(k={self.k}, low={over['low']}, some_concerns={over['some_concerns']}, "
                f"high={over['high']}, no_information={over['no_information']})")

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), f"Risk of bias (RoB 2), k = {self.k}")


def summarize_rob(assessments: pd.DataFrame | Mapping[str, Sequence[str]], *,
                  weights: Sequence[float] | np.ndarray | None = None,
                  labels: Sequence[str] | None = None) -> RobSummary:
    """Summarise RoB 2 assessments per domain, optionally weighted by meta-analytic weights.

    Parameters
    ----------
    assessments : DataFrame or mapping
        Columns ``d1`` ... ``d5`` and ``overall``, one row per assessment (trial or result), each cell
        one of :data:`ROB2_JUDGEMENTS`. Rows with a ``tool`` column other than ``"rob2"`` are refused.
    weights : array-like, optional
        One non-negative weight per row, e.g. ``MetaResult.weights`` of the fit whose trials these
        are (robvis's weighted summary). Rescaled to percent. ``None`` weighs every row equally.
    labels : sequence of str, optional
        Labels of the rows (default: a ``label`` or ``study_id`` column, else "Trial 1" ...).

    Returns
    -------
    RobSummary

    Raises
    ------
    ValueError
        If a column is missing, a judgement is not a RoB 2 value, a stated overall contradicts its
        domains (see :func:`rob2_overall_problem`), or the weights do not fit.

    Examples
    --------
    >>> res = summarize_rob({"d1": ["low", "no_information"], "d2": ["low", "some_concerns"],
    ...                      "d3": ["low", "high"], "d4": ["some_concerns", "some_concerns"],
    ...                      "d5": ["low", "no_information"], "overall": ["some_concerns", "high"]},
    ...                     weights=[75, 25], labels=["A 2020", "B 2021"])
    >>> res
    RobSummary(k=2, low=0, some_concerns=1, high=1, no_information=0)
    >>> fr = res.to_frame()
    >>> float(fr.query("domain == 'd3' and judgement == 'high'")["weight_percent"].iloc[0])
    25.0
    """
    frame = pd.DataFrame(assessments)
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"assessments lack the column(s) {', '.join(missing)}")
    if "tool" in frame.columns:
        other = sorted({str(t) for t in frame["tool"] if t != "rob2"})
        if other:
            raise ValueError(f"assessments must all use RoB 2 (tool 'rob2'); got {', '.join(other)}: "
                             "summarise ROBINS-I assessments separately")
    k = len(frame)
    rows = [[_check_judgement(frame[col].iloc[i], f"assessments[{col!r}] row {i}") for col in _COLUMNS]
            for i in range(k)]
    judgements = np.array(rows, dtype=object).reshape(k, len(_COLUMNS))
    algorithm_list = [rob2_overall(r[:-1]) for r in rows]
    for i, r in enumerate(rows):
        problem = rob2_overall_problem(r[-1], r[:-1])
        if problem:
            raise ValueError(f"assessments row {i}: {problem}")
    stricter = np.array([_SEVERITY.get(r[-1], -1) > _SEVERITY.get(a, 9) for r, a in zip(rows, algorithm_list)],
                        dtype=bool)
    if labels is None:
        col = next((c for c in ("label", "study_id") if c in frame.columns), None)
        labels = [str(x) for x in frame[col]] if col else [f"Trial {i + 1}" for i in range(k)]
    elif len(labels) != k:
        raise ValueError(f"labels must have one entry per assessment ({k}), got {len(labels)}")
    if weights is None:
        w = np.full(k, 100.0 / k) if k else np.zeros(0)
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != (k,):
            raise ValueError(f"weights must have one value per assessment ({k}), got shape {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or (k and w.sum() <= 0):
            raise ValueError("weights must be finite, non-negative and not all zero")
        w = 100.0 * w / w.sum() if k else w
    algorithm = np.array(algorithm_list, dtype=object)
    return RobSummary(k=k, labels=tuple(str(x) for x in labels), judgements=judgements, algorithm=algorithm,
                      stricter=stricter, weights=w, weighted=weights is not None)
