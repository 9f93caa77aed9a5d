"""Numbers in words, next to the numbers: average effect, prediction interval, heterogeneity, influential
trials and outliers, small-study tests and trim and fill, for one pooled strategy.

Each function takes fitted results and returns sentences; nothing here fits a model of its own beyond the
diagnostics of :mod:`whatworks.influence` and :mod:`whatworks.bias` on the given fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..finding.contrast import effect_verdict
from ..finding.outliers import RSTUDENT_LIMIT as OUTLIER_Z  # the finding's outlier rule, kept in one place
from ..results import MetaResult
from .format import interval, num, p_text

EGGER_MIN_K = 10  # below this Egger's test has too little power to be interpreted (Sterne et al. 2011)


@dataclass(frozen=True)
class Diagnostics:
    """What :func:`diagnose` found for one fit: words, and the numbers behind them."""

    sentences: tuple[str, ...]
    influential: tuple[str, ...] = ()
    outliers: tuple[str, ...] = ()
    egger_p: float = np.nan
    egger_interpreted: bool = False
    k0: int = 0
    tf_side: str = ""
    tf_estimate: float = np.nan


def average(fit: MetaResult, delta: float) -> str:
    """The pooled estimate and what its CI says."""
    if fit.k == 1:
        return (f"One trial only ({fit.labels[0]}): its own estimate g {interval(fit.estimate, fit.ci_low, fit.ci_high)} "
                "(z interval), not a pooled one; no conclusion about the strategy can rest on it.")
    v, _ = effect_verdict(fit.estimate, fit.ci_low, fit.ci_high, k=fit.k, delta=delta)
    words = {"supported": "less loneliness on average: the whole 95% CI lies below zero",
             "not supported": f"no meaningful benefit on average: the CI excludes a benefit of {delta:g} or more",
             "inconclusive": f"unclear on average: the CI includes no effect and a benefit of {delta:g} or more"}
    return f"g {interval(fit.estimate, fit.ci_low, fit.ci_high)}: {words.get(v, v)}."


def prediction(fit: MetaResult) -> str:
    """What the prediction interval says about a new setting."""
    if fit.k < 2:
        return ""
    pi = f"[{num(fit.pi_low)}, {num(fit.pi_high)}]"
    if not fit.tau2 > 0:
        return (f"No between-trial heterogeneity was estimated (τ² = 0), so the 95% prediction interval {pi} equals "
                "the CI.")
    if fit.pi_low < 0 < fit.pi_high:
        return (f"The 95% prediction interval {pi} crosses zero: in a new setting the true effect could be a benefit, "
                "nothing, or some harm; the average benefit does not promise a benefit everywhere.")
    if fit.pi_high < 0:
        return (f"The 95% prediction interval {pi} lies below zero: a new trial in a comparable setting would very "
                "likely also find less loneliness.")
    return f"The 95% prediction interval {pi} lies above zero: a new setting would likely see no benefit."


def heterogeneity(fit: MetaResult) -> str:
    if fit.k < 2:
        return ""
    return (f"Heterogeneity: I² = {fit.i2:.0f}% of the variation between trials is beyond chance (τ² = "
            f"{num(fit.tau2, 3)}; Q-test {p_text(fit.q_pvalue)}).")


def diagnose(fit: MetaResult, delta: float = 0.2) -> Diagnostics:
    """Average, prediction interval, heterogeneity, influence, outliers and small-study effects in words."""
    from ..bias import egger_test, trim_and_fill
    from ..influence import influence, leave_one_out

    sentences = [s for s in (average(fit, delta), prediction(fit), heterogeneity(fit)) if s]
    influential: tuple[str, ...] = ()
    outliers: tuple[str, ...] = ()
    if fit.k >= 3 and np.ptp(fit.yi) == 0:  # case-deletion statistics are 0/0: nothing to leave out differs
        sentences.append("Every trial has the same effect: no trial can be influential or an outlier.")
    elif fit.k >= 3:
        inf = influence(fit)
        loo = leave_one_out(fit)
        influential = tuple(str(lab) for lab, f in zip(inf.labels, inf.inf, strict=True) if f)
        outliers = tuple(f"{lab} (studentised residual {num(r)})" for lab, r in zip(inf.labels, inf.rstudent,
                                                                                  strict=True)
                         if np.isfinite(r) and abs(r) > OUTLIER_Z)
        lo, hi = float(loo["estimate"].min()), float(loo["estimate"].max())
        sign_change = (lo < 0) != (hi < 0) or bool(((loo["ci_high"] < 0) != (fit.ci_high < 0)).any())
        s = f"Leaving out one trial at a time moves the estimate between {num(lo)} and {num(hi)}"
        s += ("; with some trial left out the CI's conclusion changes." if sign_change else
              "; no single trial changes whether the CI excludes zero.")
        sentences.append(s)
        if influential:
            sentences.append(f"Influential by metafor's criteria: {', '.join(influential)}; the result leans on "
                             f"{'it' if len(influential) == 1 else 'them'} (see the leave-one-out range).")
        else:
            sentences.append("No trial is influential by metafor's criteria (DFFITS, Cook's distance, leverage, "
                             "DFBETAS).")
        if outliers:
            sentences.append(f"Potential outliers (|studentised residual| > {OUTLIER_Z}): {', '.join(outliers)}: "
                             "effects further from the average than heterogeneity alone would make likely.")
    egger_p, interpreted, k0, side, tf_est = np.nan, False, 0, "", np.nan
    if fit.k >= 3 and np.ptp(fit.vi) > 0:
        try:
            eg = egger_test(fit)
            egger_p, interpreted = float(eg.pvalue), fit.k >= EGGER_MIN_K
        except ValueError:
            pass
        tf = trim_and_fill(fit)
        k0, side, tf_est = int(tf.k0), str(tf.side), float(tf.fit.estimate)
        if np.isfinite(egger_p):
            if interpreted:
                sentences.append(f"Egger's test for funnel asymmetry: {p_text(egger_p)}"
                                 + (" (asymmetry: small trials report different effects from large ones)."
                                    if egger_p < 0.10 else " (no sign of small-study effects)."))
            else:
                sentences.append(f"Egger's test: {p_text(egger_p)}, not interpreted: with {fit.k} trials (fewer than "
                                 f"{EGGER_MIN_K}) it has too little power to detect or rule out small-study effects.")
        sentences.append(_trim_fill_words(fit, k0, side, tf_est, tf.fit))
    return Diagnostics(tuple(sentences), influential, outliers, egger_p, interpreted, k0, side, tf_est)


def _trim_fill_words(fit: MetaResult, k0: int, side: str, est: float, filled: MetaResult) -> str:
    if k0 == 0:
        return "Trim and fill imputes no trials: the funnel plot is not asymmetric enough to fill."
    adj = interval(est, filled.ci_low, filled.ci_high)
    trials = f"{k0} trial{'s' if k0 > 1 else ''}"
    if side == "left":  # imputed on the beneficial side: the adjusted estimate is larger, not smaller
        return (f"Trim and fill imputes {trials} on the side of larger benefits, so its adjusted estimate {adj} is "
                f"further from zero than the unadjusted {num(fit.estimate)}. Missing small trials with large "
                "benefits is the opposite of the pattern publication bias produces (missing small null trials), so "
                "this is no sign that the benefit is overstated; with few trials it is also unreliable.")
    return (f"Trim and fill imputes {trials} on the side of smaller benefits; the adjusted estimate {adj} is closer "
            f"to zero than the unadjusted {num(fit.estimate)}: the benefit may be overstated by missing small trials "
            "with small or no effects.")
