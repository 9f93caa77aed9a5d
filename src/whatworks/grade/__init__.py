"""GRADE certainty of evidence (Guyatt et al. 2008, 2011) from the numbers of a meta-analysis.

One entry point, :func:`grade_certainty`: the evidence for one outcome (:class:`GradeInput`) in, a
frozen :class:`Certainty` out; :func:`certainty_table` gathers several into a summary-of-findings
table (:class:`CertaintyTable`). Pure functions of numbers: no I/O, no data layer. Every downgrade
names the rule it applied and the numbers that triggered it; the rules and their thresholds are
:class:`GradeRules` and ``docs/methods.md`` explains them.

GRADE starts randomised evidence at *high* certainty and non-randomised evidence at *low*, then
rates down for five domains (each by 0, 1 or 2 levels):

risk of bias (Guyatt et al. 2011, GRADE 4)
    From RoB 2 overall judgements weighted by the meta-analysis weights. ``no_information`` and
    trials without an assessment count as concerns (a risk that cannot be judged is not low).
    Down 2 when high-risk trials carry at least ``rob_high_very_serious`` of the weight; down 1 when
    they carry at least ``rob_high_serious`` or low-risk trials carry less than ``rob_low_needed``.
inconsistency (GRADE 7)
    Down 1 when I² >= ``i2_serious`` % or the 95 % prediction interval crosses 0 while the CI does
    not (heterogeneity changes the conclusion); down 2 when I² >= ``i2_very_serious`` % and the PI
    crosses 0. Not assessable with one trial (no downgrade; said so).
indirectness (GRADE 8)
    Down 1 for a comparison between strategies made across trials (no trial randomised one strategy
    against the other: an indirect comparison); down 1 when trials whose strategy coding is
    borderline carry at least ``borderline_serious`` of the weight.
imprecision (GRADE 6)
    Against the null and the smallest meaningful difference ``delta`` (0.2 in g): down 1 when the CI
    includes 0 or the participants fall short of the optimal information size (OIS: the n of one
    adequately powered trial detecting ``delta``, two-sided alpha ``ois_alpha``, power
    ``ois_power``); down 2 when the CI includes both ``-delta`` and ``+delta``, or includes 0 and
    the OIS is not met.
publication bias (GRADE 5)
    Assessed by tests only with at least ``min_k_bias`` trials (Sterne et al. 2011). Down 1 when
    Egger's test has p < ``egger_p``, or when a small-study adjusted estimate (a selection model or
    PET-PEESE, when given) has a CI that includes 0 while the unadjusted one does not.

Certainty levels: high, moderate, low, very low. Plain-language statements follow GRADE's
informative statements (Santesso et al. 2020): "reduces" (high), "probably reduces" (moderate),
"may reduce" (low), "the evidence is very uncertain" (very low); an estimate smaller than ``delta``
in size reads "little to no difference".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .results import SOF_COLUMNS, Certainty, CertaintyTable
from .rules import (
    DOMAINS,
    LEVELS,
    ROB_HIGH,
    ROB_JUDGEMENTS,
    GradeInput,
    GradeRules,
    Judgement,
    _imprecision,
    _inconsistency,
    _indirectness,
    _publication_bias,
    _risk_of_bias,
)

__all__ = ["DOMAINS", "LEVELS", "ROB_HIGH", "ROB_JUDGEMENTS", "SOF_COLUMNS", "Certainty", "CertaintyTable",
           "GradeInput", "GradeRules", "Judgement", "certainty_table", "grade_certainty"]


# --- certainty and statement ----------------------------------------------------------------------

_HEDGE = {"high": ("", "is"), "moderate": ("probably ", "is probably"), "low": ("may ", "may be")}
_VERB = {"reduce": {"high": "reduces", "moderate": "probably reduces", "low": "may reduce"},
         "increase": {"high": "increases", "moderate": "probably increases", "low": "may increase"},
         "no difference": {"high": "results in", "moderate": "probably results in", "low": "may result in"}}


def _inner(text: str) -> str:
    """``text`` inside a sentence: a capitalised first word is lowered ("Enhancing" -> "enhancing"; "CBT" stays)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _statement(ev: GradeInput, level: str, delta: float) -> str:
    """GRADE's informative statement (Santesso et al. 2020) for the level and the size of the estimate."""
    what, other = ev.intervention, _inner(ev.comparison)
    if level == "very low":
        about = f"the difference between {_inner(what)} and {other}" if other else f"the effect of {_inner(what)}"
        return f"The evidence is very uncertain about {about} on loneliness."
    if not np.isfinite(ev.estimate) or abs(ev.estimate) < delta:
        if other:
            return (f"There {_HEDGE[level][1]} little to no difference between {_inner(what)} and {other} in "
                    "loneliness.")
        return f"{what} {_VERB['no difference'][level]} little to no difference in loneliness."
    if ev.estimate < 0:
        return f"{what} {_VERB['reduce'][level]} loneliness{' more than ' + other if other else ''}."
    return f"{what} {_VERB['increase'][level]} loneliness{' compared with ' + other if other else ''}."


def grade_certainty(evidence: GradeInput, rules: GradeRules | None = None) -> Certainty:
    """GRADE certainty of the evidence for one outcome.

    Parameters
    ----------
    evidence : GradeInput
        The outcome's numbers (effect, interval, heterogeneity, risk of bias, small-study tests).
    rules : GradeRules, optional
        Thresholds (default :class:`GradeRules`).

    Returns
    -------
    Certainty
        The level (:data:`LEVELS`), one :class:`Judgement` per domain and the plain-language statement.

    Raises
    ------
    ValueError
        If ``evidence`` is not a GradeInput, or ``k`` is negative.

    Examples
    --------
    >>> ev = GradeInput("CBT vs control", "CBT", k=12, n=1500, estimate=-0.35, ci_low=-0.50, ci_high=-0.20,
    ...                 pi_low=-0.60, pi_high=-0.10, i2=20.0, rob=["low"] * 12, weights=[1.0] * 12)
    >>> c = grade_certainty(ev)
    >>> c.certainty, c.statement
    ('high', 'CBT reduces loneliness.')
    >>> grade_certainty(GradeInput("CBT vs control", "CBT", k=3, n=150, estimate=-0.4, ci_low=-0.9,
    ...                            ci_high=0.1, rob=["no_information"] * 3, weights=[1, 1, 1])).certainty
    'very low'
    """
    if not isinstance(evidence, GradeInput):
        raise ValueError(f"evidence must be a GradeInput, got {type(evidence).__name__}")
    if evidence.k < 0:
        raise ValueError(f"k must be >= 0, got {evidence.k}")
    r = rules or GradeRules()
    judgements = (_risk_of_bias(evidence, r), _inconsistency(evidence, r), _indirectness(evidence, r),
                  _imprecision(evidence, r), _publication_bias(evidence, r))
    start = 0 if evidence.randomised else 2
    level = LEVELS[min(len(LEVELS) - 1, start + sum(j.downgrade for j in judgements))]
    return Certainty(outcome=evidence.outcome, k=evidence.k, n=evidence.n, estimate=evidence.estimate,
                     ci_low=evidence.ci_low, ci_high=evidence.ci_high, start=LEVELS[start], judgements=judgements,
                     certainty=level, statement=_statement(evidence, level, r.delta))


def certainty_table(evidence: Sequence[GradeInput], rules: GradeRules | None = None, *,
                    no_evidence: Sequence[str] = ()) -> CertaintyTable:
    """GRADE each outcome and gather them into a summary-of-findings table (``no_evidence``: outcomes
    without trials, listed but not graded).

    Examples
    --------
    >>> ev = GradeInput("CBT vs control", "CBT", k=2, n=90, estimate=-0.3, ci_low=-0.8, ci_high=0.2)
    >>> certainty_table([ev]).to_frame()[["outcome", "certainty"]].to_dict("records")
    [{'outcome': 'CBT vs control', 'certainty': 'very low'}]
    """
    r = rules or GradeRules()
    return CertaintyTable(tuple(grade_certainty(e, r) for e in evidence), r, tuple(no_evidence))
