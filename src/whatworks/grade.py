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

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _dist
from .results import frame_to_html
from .rob import ROB2_JUDGEMENTS, ROBINS_I_JUDGEMENTS

#: Certainty levels from strongest to weakest (the first is where randomised evidence starts).
LEVELS = ("high", "moderate", "low", "very low")
#: The five GRADE domains, in GRADE's order.
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")
#: Overall risk-of-bias judgements the rules read (RoB 2, ROBINS-I) and the word for a missing assessment.
ROB_JUDGEMENTS = tuple(dict.fromkeys((*ROB2_JUDGEMENTS, *ROBINS_I_JUDGEMENTS, "not_assessed")))
#: Judgements that count as high risk (RoB 2 high; ROBINS-I serious or critical). Everything but low and
#: these counts as a concern: some concerns, ROBINS-I moderate, no information, not assessed.
ROB_HIGH = ("high", "serious", "critical")

#: Columns of :meth:`CertaintyTable.to_frame` (the summary-of-findings table).
SOF_COLUMNS = (
    "outcome", "k", "n", "estimate", "ci_low", "ci_high", "certainty", "downgrades",
    "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias", "statement",
)  # fmt: skip


@dataclass(frozen=True)
class GradeRules:
    """Thresholds of the GRADE rules (see the module docstring and ``docs/methods.md``)."""

    rob_high_serious: float = 0.25
    rob_high_very_serious: float = 0.50
    rob_low_needed: float = 0.50
    i2_serious: float = 50.0
    i2_very_serious: float = 75.0
    borderline_serious: float = 0.50
    delta: float = 0.2
    ois_alpha: float = 0.05
    ois_power: float = 0.80
    min_k_bias: int = 10
    egger_p: float = 0.10

    def ois(self) -> int:
        """Optimal information size: total n of a two-arm trial detecting ``delta`` (SMD), equal arms.

        n per arm = 2 (z_{1-alpha/2} + z_{power})² / delta², rounded up.

        Examples
        --------
        >>> GradeRules().ois()
        786
        """
        z = _dist.norm_ppf(1 - self.ois_alpha / 2) + _dist.norm_ppf(self.ois_power)
        return 2 * math.ceil(2 * z**2 / self.delta**2)


@dataclass(frozen=True)
class GradeInput:
    """The evidence for one outcome, as numbers.

    Attributes
    ----------
    outcome : str
        In words, e.g. "Addressing maladaptive social cognition vs no intervention".
    intervention : str
        What the statement is about, e.g. "Addressing maladaptive social cognition".
    k, n : int, float
        Trials and participants (n NaN when unknown: the OIS is then not met).
    estimate, ci_low, ci_high : float
        Pooled effect (g; negative = less lonely) or difference between strategies.
    pi_low, pi_high, i2 : float
        Prediction interval and I² (%) of the fit (NaN when not estimable).
    randomised : bool
        All trials randomised (GRADE starts at high); else starts at low.
    rob : sequence of str
        Overall risk-of-bias judgement per trial (:data:`ROB_JUDGEMENTS`: RoB 2, ROBINS-I or
        ``not_assessed``), aligned with ``weights``.
    weights : sequence of float
        Meta-analysis weight per trial (any scale).
    borderline : sequence of bool
        Per trial: the strategy coding is arguable.
    indirect_comparison : bool
        The outcome compares strategies across trials (no head-to-head randomisation).
    egger_p : float
        p-value of Egger's regression test (NaN when not run).
    adjusted : sequence of (str, float, float, float)
        Small-study adjusted estimates: (method, estimate, ci_low, ci_high), e.g. a 3PSM or PET-PEESE.
    comparison : str
        For contrasts: what the intervention is compared with, in words (used in the statement).
    """

    outcome: str
    intervention: str
    k: int
    n: float
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float = math.nan
    pi_high: float = math.nan
    i2: float = math.nan
    randomised: bool = True
    rob: Sequence[str] = ()
    weights: Sequence[float] = ()
    borderline: Sequence[bool] = ()
    indirect_comparison: bool = False
    egger_p: float = math.nan
    adjusted: Sequence[tuple[str, float, float, float]] = ()
    comparison: str = ""


@dataclass(frozen=True)
class Judgement:
    """One domain: how many levels it rates down (0, 1, 2), the rule applied and the reason in numbers."""

    domain: str
    downgrade: int
    rule: str
    reason: str

    @property
    def label(self) -> str:
        """GRADE's words: not serious, serious, very serious."""
        return ("not serious", "serious", "very serious")[self.downgrade]


@dataclass(frozen=True)
class Certainty:
    """GRADE certainty of one outcome (result of :func:`grade_certainty`)."""

    outcome: str
    k: int
    n: float
    estimate: float
    ci_low: float
    ci_high: float
    start: str
    judgements: tuple[Judgement, ...]
    certainty: str
    statement: str

    @property
    def downgrades(self) -> int:
        """Levels rated down in all (before the floor at very low)."""
        return sum(j.downgrade for j in self.judgements)

    def judgement(self, domain: str) -> Judgement:
        """The judgement of ``domain`` (one of :data:`DOMAINS`)."""
        return next(j for j in self.judgements if j.domain == domain)

    def to_frame(self) -> pd.DataFrame:
        """One row per domain: domain, downgrade, label, rule, reason."""
        return pd.DataFrame([{"domain": j.domain, "downgrade": j.downgrade, "label": j.label, "rule": j.rule,
                              "reason": j.reason} for j in self.judgements])

    def summary(self) -> str:
        """The certainty, the statement and one line per domain."""
        head = (f"{self.outcome}: {self.certainty} certainty (start {self.start}, rated down "
                f"{self.downgrades}); {self.statement}")
        return head + "\n\n" + self.to_frame().to_string(index=False)

    def __repr__(self) -> str:
        return f"Certainty(outcome={self.outcome!r}, certainty={self.certainty!r}, downgrades={self.downgrades})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), f"{self.outcome}: {self.certainty} certainty. {self.statement}")


@dataclass(frozen=True)
class CertaintyTable:
    """A summary-of-findings table: one :class:`Certainty` per outcome (result of :func:`certainty_table`).

    ``no_evidence`` names outcomes of the question that no trial informs; they are listed (certainty
    "no evidence"), not graded.
    """

    rows: tuple[Certainty, ...]
    rules: GradeRules = field(default_factory=GradeRules)
    no_evidence: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Columns :data:`SOF_COLUMNS`; each domain column holds "serious (−1): reason" or "not serious: reason"."""
        out = []
        for c in self.rows:
            row: dict[str, object] = {"outcome": c.outcome, "k": c.k, "n": c.n, "estimate": c.estimate,
                                      "ci_low": c.ci_low, "ci_high": c.ci_high, "certainty": c.certainty,
                                      "downgrades": c.downgrades, "statement": c.statement}
            for j in c.judgements:
                mark = f" (\u2212{j.downgrade})" if j.downgrade else ""
                row[j.domain.replace(" ", "_")] = f"{j.label}{mark}: {j.reason}"
            out.append(row)
        for outcome in self.no_evidence:
            out.append({"outcome": outcome, "k": 0, "certainty": "no evidence",
                        "statement": "No trial with a usable effect: not graded."})
        frame = pd.DataFrame(out, columns=list(SOF_COLUMNS))
        return frame.astype({"k": "Int64", "downgrades": "Int64"}).assign(
            n=pd.array([None if pd.isna(x) else int(x) for x in frame["n"]], dtype="Int64"))

    def summary(self) -> str:
        """One line per outcome: effect, certainty, statement."""
        lines = [f"Summary of findings (GRADE; OIS = {self.rules.ois()} participants, delta = {self.rules.delta:g})"]
        for c in self.rows:
            lines.append(f"- {c.outcome}: g {_num(c.estimate, 2)} [{_num(c.ci_low, 2)}, {_num(c.ci_high, 2)}], "
                         f"k = {c.k}; {c.certainty} certainty: {c.statement}")
        lines += [f"- {outcome}: no trial with a usable effect (not graded)" for outcome in self.no_evidence]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"CertaintyTable({', '.join(f'{c.outcome!r}: {c.certainty}' for c in self.rows)})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), "Summary of findings (GRADE)")


# --- the five domains -----------------------------------------------------------------------------

def _num(x: float, digits: int = 2) -> str:
    """Fixed-point number for reasons and summaries; "NA" when not finite."""
    return f"{x:.{digits}f}" if np.isfinite(x) else "NA"


def _shares(ev: GradeInput) -> dict[str, float]:
    """Weight share of each overall judgement (missing weights: equal weights); anything outside
    :data:`ROB_JUDGEMENTS` counts as not assessed."""
    rob = [str(r).replace(" ", "_") if str(r).replace(" ", "_") in ROB_JUDGEMENTS else "not_assessed"
           for r in ev.rob]
    if not rob:
        return {}
    w = np.asarray(ev.weights, dtype=float) if len(ev.weights) == len(rob) else np.ones(len(rob))
    w = np.where(np.isfinite(w) & (w > 0), w, 0.0)
    total = w.sum() or 1.0
    return {j: float(w[[r == j for r in rob]].sum() / total) for j in ROB_JUDGEMENTS}


def _risk_of_bias(ev: GradeInput, r: GradeRules) -> Judgement:
    rule = (f"down 2 if high-risk trials carry >= {r.rob_high_very_serious:.0%} of the weight; down 1 if they "
            f"carry >= {r.rob_high_serious:.0%} or low-risk trials carry < {r.rob_low_needed:.0%} "
            "(no information and not assessed count as concerns)")
    s = _shares(ev)
    if not s:
        return Judgement("risk of bias", 1, rule, "no trial has a risk-of-bias assessment")
    parts = [f"{name.replace('_', ' ')} {share:.0%}" for name, share in s.items() if share > 0]
    why = "weight by overall risk of bias: " + ", ".join(parts)
    high = sum(s[j] for j in ROB_HIGH)
    if high >= r.rob_high_very_serious:
        return Judgement("risk of bias", 2, rule, why)
    if high >= r.rob_high_serious or s["low"] < r.rob_low_needed:
        return Judgement("risk of bias", 1, rule, why)
    return Judgement("risk of bias", 0, rule, why)


def _crosses_zero(lo: float, hi: float) -> bool:
    return bool(np.isfinite(lo) and np.isfinite(hi) and lo <= 0 <= hi)


def _inconsistency(ev: GradeInput, r: GradeRules) -> Judgement:
    rule = (f"down 1 if I\u00b2 >= {r.i2_serious:g}% or the prediction interval crosses 0 while the CI does not; "
            f"down 2 if I\u00b2 >= {r.i2_very_serious:g}% and the prediction interval crosses 0")
    if ev.k < 2:
        return Judgement("inconsistency", 0, rule, "one trial: inconsistency cannot be assessed")
    i2 = ev.i2 if np.isfinite(ev.i2) else 0.0
    pi_crosses = _crosses_zero(ev.pi_low, ev.pi_high)
    ci_crosses = _crosses_zero(ev.ci_low, ev.ci_high)
    pi = (f"PI [{_num(ev.pi_low, 2)}, {_num(ev.pi_high, 2)}]" if np.isfinite(ev.pi_low) else "PI not estimable")
    why = f"I\u00b2 = {i2:.0f}%, {pi}"
    if i2 >= r.i2_very_serious and pi_crosses:
        return Judgement("inconsistency", 2, rule, why)
    if i2 >= r.i2_serious or (pi_crosses and not ci_crosses):
        return Judgement("inconsistency", 1, rule, why)
    return Judgement("inconsistency", 0, rule, why)


def _indirectness(ev: GradeInput, r: GradeRules) -> Judgement:
    rule = ("down 1 for a comparison of strategies across trials (indirect); down 1 if trials with a borderline "
            f"strategy coding carry >= {r.borderline_serious:.0%} of the weight")
    reasons, down = [], 0
    if ev.indirect_comparison:
        down += 1
        reasons.append("strategies compared across trials, not within randomised head-to-head trials")
    if len(ev.borderline) and len(ev.borderline) == len(ev.weights):
        w = np.asarray(ev.weights, dtype=float)
        share = float(w[np.asarray(ev.borderline, dtype=bool)].sum() / (w.sum() or 1.0))
        if share >= r.borderline_serious:
            down += 1
        reasons.append(f"borderline strategy coding carries {share:.0%} of the weight")
    return Judgement("indirectness", min(down, 2), rule, "; ".join(reasons) or "direct evidence")


def _imprecision(ev: GradeInput, r: GradeRules) -> Judgement:
    ois = r.ois()
    rule = (f"down 1 if the CI includes 0 or n < OIS ({ois}, for g = {r.delta:g}); down 2 if the CI includes both "
            f"\u2212{r.delta:g} and +{r.delta:g}, or includes 0 and n < OIS")
    lo, hi = ev.ci_low, ev.ci_high
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return Judgement("imprecision", 2, rule, "confidence interval not estimable")
    crosses = lo <= 0 <= hi
    wide = lo <= -r.delta and hi >= r.delta
    ois_met = bool(np.isfinite(ev.n) and ev.n >= ois)
    n_text = f"n = {ev.n:,.0f}" if np.isfinite(ev.n) else "n unknown"
    why = (f"CI [{_num(lo, 2)}, {_num(hi, 2)}] {'includes' if crosses else 'excludes'} 0; {n_text} "
           f"{'meets' if ois_met else 'below'} the OIS of {ois:,}")
    if wide:
        return Judgement("imprecision", 2, rule, why + f"; the CI includes both \u2212{r.delta:g} and +{r.delta:g}")
    if crosses and not ois_met:
        return Judgement("imprecision", 2, rule, why)
    if crosses or not ois_met:
        return Judgement("imprecision", 1, rule, why)
    return Judgement("imprecision", 0, rule, why)


def _publication_bias(ev: GradeInput, r: GradeRules) -> Judgement:
    rule = (f"assessed with >= {r.min_k_bias} trials: down 1 if Egger's p < {r.egger_p:g} or a small-study adjusted "
            "estimate's CI includes 0 while the unadjusted CI does not")
    if ev.k < r.min_k_bias:
        return Judgement("publication bias", 0, rule,
                         f"k = {ev.k}: too few trials for small-study tests (not detected, not excluded)")
    reasons, down = [], False
    if np.isfinite(ev.egger_p):
        reasons.append(f"Egger's p = {ev.egger_p:.2f}")
        down |= ev.egger_p < r.egger_p
    unadjusted_excludes = not _crosses_zero(ev.ci_low, ev.ci_high)
    for name, est, lo, hi in ev.adjusted:
        if not (np.isfinite(lo) and np.isfinite(hi)):
            reasons.append(f"{name} not estimable")
            continue
        reasons.append(f"{name} {_num(est, 2)} [{_num(lo, 2)}, {_num(hi, 2)}]")
        down |= unadjusted_excludes and _crosses_zero(lo, hi)
    return Judgement("publication bias", int(down), rule, "; ".join(reasons) or "no small-study test available")


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
