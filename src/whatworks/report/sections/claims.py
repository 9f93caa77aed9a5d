"""Report section: the claims of the seed literature (C1-C5) in plain language, with every grade explained.

Verdicts as sentences, strategies as words, the umbrella-style credibility class of each claim with a
legend generated from :data:`whatworks.finding.THRESHOLDS`, one-line notes with the details folded.
``claims.csv`` keeps the machine columns.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from ...finding.grading import THRESHOLDS
from ..api import ReportContext, SectionOutput, finding_of, refs_of
from ..format import Markup, count, esc, fold, html_table, interval, legend, p_text

#: Verdicts of C1 (a difference between strategies) as sentences.
DIFFERENCE_VERDICTS = {
    "supported": "Supported: the whole 95% CI favours social cognition.",
    "not supported": "Not supported: the data rule out an advantage of {delta:g} or more.",
    "inconclusive": "Inconclusive: the data are compatible both with no difference and with an advantage of "
                    "{delta:g} or more.",
    "cannot be tested": "Cannot be tested: too few trials in an arm.",
}
#: Verdicts of C2-C5 (an intervention kind helps) as sentences.
EFFECT_VERDICTS = {
    "supported": "Supported: the whole 95% CI shows less loneliness.",
    "not supported": "Not supported: the data rule out a benefit of {delta:g} or more.",
    "inconclusive": "Inconclusive: compatible both with no effect and with a benefit of {delta:g} or more.",
    "cannot be tested": "Cannot be tested: {k} matching trial{s} with a usable effect; at least 2 are needed.",
}


def power_text(p: float) -> str:
    """``1e-06`` -> ``"10⁻⁶"`` (other numbers as they are)."""
    exp = round(math.log10(p)) if p > 0 else 0
    if p > 0 and abs(10.0 ** exp - p) < 1e-12 * p and exp < -2:
        sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
        return "10" + str(exp).translate(sup)
    return f"{p:g}"


def grade_legend() -> dict[str, str]:
    """The umbrella-style credibility classes in words, from the thresholds that were applied."""
    t = THRESHOLDS
    n = f"more than {t['n']:,} participants"
    strong, suggestive = power_text(t["p_strong"]), power_text(t["p_suggestive"])
    return {
        "I (convincing)": f"{n}; p < {strong}; I² < {t['i2']:g}%; 95% prediction interval excludes 0; no small-study "
                          f"effects (Egger p ≥ {t['egger_p']:g}); the largest trial significant (p < "
                          f"{t['largest_p']:g}).",
        "II (highly suggestive)": f"{n}; p < {strong}; the largest trial significant.",
        "III (suggestive)": f"{n}; p < {suggestive}.",
        "IV (weak)": f"p < {t['p_weak']:g}.",
        "NS (not significant)": f"p ≥ {t['p_weak']:g}: the data do not show an effect (which is not the same as "
                                "showing there is none).",
        "– (not graded)": "the claim could not be tested.",
    }


GRADE_WORDS = {"I": "I (convincing)", "II": "II (highly suggestive)", "III": "III (suggestive)", "IV": "IV (weak)",
               "NS": "NS (not significant)", "-": "– (not graded)"}


_UNTESTED = re.compile(r"cannot be tested: (\d+) poolable trial\(s\)(?: \((.*?)\))?; needs (.*)", re.S)


def claim_note(note: object) -> str:
    """The claim's note without the verdict it repeats: what was found and, if untested, what a test needs."""
    text = "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)
    m = _UNTESTED.match(text)
    if m:
        k, names, need = m.groups()
        found = f"Found: {names}." if names else f"Found: {k} trial(s)."
        return f"{found} A test needs {need.rstrip('.')}."
    head, sep, rest = text.partition("; ")
    if sep and re.match(r"(difference|g) ", head):
        text = rest
    return text.replace("the reference", "social cognition")


def plain_claims(claims: pd.DataFrame, delta: float) -> pd.DataFrame:
    """The claims table in words: claim, what the data say, estimate, trials/participants, grade, note."""
    rows = []
    for r in claims.itertuples():
        table = DIFFERENCE_VERDICTS if r.claim_id == "C1" else EFFECT_VERDICTS
        k = 0 if pd.isna(r.k) else int(r.k)
        verdict = table.get(str(r.verdict), str(r.verdict)).format(delta=delta, k=k, s="" if k == 1 else "s")
        est = "" if pd.isna(r.estimate) else f"{interval(r.estimate, r.ci_low, r.ci_high)}, {p_text(r.pvalue)}"
        what = "difference in g" if r.claim_id == "C1" else "g"
        rows.append(dict(
            claim=Markup(f"<b>{esc(r.claim_id)}</b> {esc(r.claim)}"), verdict=verdict,
            estimate=f"{what} {est}" if est else "",
            trials=f"{count(k)} / {count(r.n) or 'n not reported'}",
            grade=GRADE_WORDS.get(str(r.grade), str(r.grade)), note=fold(claim_note(r.note))))
    return pd.DataFrame(rows)


def section_claims(ctx: ReportContext) -> SectionOutput | None:
    """The claims C1-C5 in plain language, with legends for verdicts and grades; writes ``claims.csv``."""
    res = finding_of(ctx)
    if res is None:
        return None
    refs = refs_of(ctx)
    claims = res.claims.to_frame()
    delta = res.contrast.delta
    headers = {"claim": "Claim", "verdict": "What the data say", "estimate": "Estimate [95% CI]",
               "trials": "Trials / participants", "grade": "Umbrella-style grade", "note": "Note"}
    table = html_table(plain_claims(claims, delta), caption="The claims of the literature, tested on the coded "
                       "randomised trials.", headers=headers, merge=False, reflow=True, nowrap=["estimate", "trials"])
    verdicts = {
        "Supported": "the whole 95% CI lies on the side of the claim.",
        "Not supported": f"the 95% CI excludes an effect (or advantage) of {delta:g} or more in the claimed "
                         "direction: null, trivial or the other way.",
        "Inconclusive": f"the 95% CI includes both no effect and an effect of {delta:g} or more.",
        "Cannot be tested": "fewer than two trials.",
        "Smallest difference that matters": f"{delta:g} in Hedges' g, Cohen's 'small' effect.",
    }
    grades = grade_legend()
    body = [table, "<h3>How to read the verdicts</h3>", legend(verdicts, "Verdicts"),
            "<h3>How to read the grades</h3>",
            f"<p>The grade is an umbrella-review credibility class ({refs.method('ioannidis2009')}; "
            f"{refs.method('fusarpoli2018')}), with participants in place of cases. It is <em>not</em> a GRADE "
            "certainty rating. All criteria of a class must hold; a criterion that cannot be assessed counts as "
            "not met. For a difference between strategies the prediction interval, small-study effects and the "
            "largest trial are not defined, so such a claim reaches at most class III.</p>",
            legend(grades, "Grades")]
    return SectionOutput("claims", "The claims, tested", "\n".join(body), tables=(("claims", claims),))
