"""GRADE's rules as code: the levels, the thresholds (:class:`GradeRules`), the evidence of one outcome
(:class:`GradeInput`) and one function per domain, each returning a :class:`Judgement` with its rule and
reason (see :mod:`whatworks.grade` for the rules in words)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import _dist
from ..rob import ROB2_JUDGEMENTS, ROBINS_I_JUDGEMENTS

#: Certainty levels from strongest to weakest (the first is where randomised evidence starts).
LEVELS = ("high", "moderate", "low", "very low")
#: The five GRADE domains, in GRADE's order.
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")
#: Overall risk-of-bias judgements the rules read (RoB 2, ROBINS-I) and the word for a missing assessment.
ROB_JUDGEMENTS = tuple(dict.fromkeys((*ROB2_JUDGEMENTS, *ROBINS_I_JUDGEMENTS, "not_assessed")))
#: Judgements that count as high risk (RoB 2 high; ROBINS-I serious or critical). Everything but low and
#: these counts as a concern: some concerns, ROBINS-I moderate, no information, not assessed.
ROB_HIGH = ("high", "serious", "critical")

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
