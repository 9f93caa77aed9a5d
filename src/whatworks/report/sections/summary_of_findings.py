"""Report section: the summary-of-findings table (one row per outcome, with GRADE certainty when assessed).

When the finding carries a certainty assessment (``FindingResult.certainty`` with ``to_frame()``: outcome,
k, n, estimate, ci_low, ci_high, certainty, reasons, statement), its rows are the table. Without one the
table is built from the finding's own numbers (the contrast and each strategy's pooled g) and says that
certainty was not assessed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...finding.contrast import effect_verdict
from ...data.schema import STRATEGY_LABELS
from ...plots._style import STRATEGY_COLOURS
from ..api import ReportContext, SectionOutput, esc, finding_of, refs_of
from ..format import Markup, count, fold, interval, legend, words
from .bottom_line import CERTAINTY_WORDS

#: GRADE's symbols for the four levels.
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very_low": "⊕◯◯◯"}

EFFECT_SENTENCES = {
    "supported": "Less loneliness: the whole 95% CI lies below zero.",
    "not supported": "No meaningful benefit: the 95% CI excludes a benefit of {delta:g} or more.",
    "inconclusive": "Unclear: compatible with no effect and with a benefit of {delta:g} or more.",
    "cannot be tested": "One trial only: not pooled, no conclusion.",
}
CONTRAST_SENTENCES = {
    "supported": "Social cognition reduces loneliness more: the whole 95% CI lies below zero.",
    "not supported": "No meaningful advantage for social cognition: the 95% CI excludes {delta:g} or more.",
    "inconclusive": "Unclear: compatible with no difference and with an advantage of {delta:g} or more.",
    "cannot be tested": "Too few trials to compare.",
}


def _swatch(strategy: str) -> str:
    colour = STRATEGY_COLOURS.get(strategy)
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>' if colour else ""


def fallback_rows(res: Any) -> pd.DataFrame:
    """Summary-of-findings rows from the finding's own numbers (no certainty assessment)."""
    delta = res.contrast.delta
    c = res.contrast.combined()
    rows = [dict(outcome=Markup("<b>Social cognition vs support, contact and skills combined</b> (difference in g)"),
                 k=int(c["k"]), n=c["n_reference"] + c["n_comparison"],
                 effect=interval(c["difference"], c["ci_low"], c["ci_high"]),
                 certainty="not assessed",
                 meaning=CONTRAST_SENTENCES.get(str(c["verdict"]), "").format(delta=delta))]
    table = res.pooling.to_frame()
    for r in table.itertuples():
        label = STRATEGY_LABELS.get(r.strategy, str(r.strategy))
        if r.k == 1:
            meaning = EFFECT_SENTENCES["cannot be tested"]
            effect = f"{interval(r.estimate, r.ci_low, r.ci_high)} (one trial)"
        else:
            v, _ = effect_verdict(r.estimate, r.ci_low, r.ci_high, k=int(r.k), delta=delta)
            meaning = EFFECT_SENTENCES.get(v, "").format(delta=delta)
            effect = interval(r.estimate, r.ci_low, r.ci_high)
        rows.append(dict(outcome=Markup(f"{_swatch(r.strategy)}{esc(label)} (pooled g)"), k=int(r.k), n=r.n,
                         effect=effect, certainty="not assessed", meaning=meaning))
    return pd.DataFrame(rows)


DOMAIN_COLUMNS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")


def _reasons(r: dict) -> str:
    """Why the certainty is what it is: the downgraded domains first (or the assessment's own ``reasons``)."""
    if r.get("reasons"):
        return str(r["reasons"])
    parts = [(c.replace("_", " "), str(r[c])) for c in DOMAIN_COLUMNS if c in r and isinstance(r[c], str)]
    down = [f"{d}: {t}" for d, t in parts if t.startswith(("serious", "very serious"))]
    fine = [f"{d}: {t}" for d, t in parts if not t.startswith(("serious", "very serious"))]
    return "; ".join(down + fine)


def certainty_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The certainty assessment's rows, shaped for the page."""
    out = []
    for r in frame.to_dict("records"):
        level = str(r.get("certainty", "")).strip().lower().replace(" ", "_")
        cert = f"{SYMBOLS.get(level, '')} {level.replace('_', ' ')}".strip()
        reasons = _reasons(r)
        down = [c.replace("_", " ") for c in DOMAIN_COLUMNS
                if isinstance(r.get(c), str) and str(r[c]).startswith(("serious", "very serious"))]
        short = f" (downgraded for {', '.join(down)})" if down else ""
        out.append(dict(outcome=words(r.get("outcome", "")), k=r.get("k"), n=r.get("n"),
                        effect=interval(r.get("estimate"), r.get("ci_low"), r.get("ci_high")),
                        certainty=Markup(esc(cert + short) + (f" <details><summary>why</summary>{esc(words(reasons))}"
                                                              f"</details>" if reasons else "")),
                        meaning=fold(r.get("statement", ""))))
    return pd.DataFrame(out)


def section_summary_of_findings(ctx: ReportContext) -> SectionOutput | None:
    """Summary of findings: outcome, trials, participants, effect with CI, certainty, what it means."""
    res = finding_of(ctx)
    if res is None:
        return None
    refs = refs_of(ctx)
    from ..format import html_table

    cert = getattr(res, "certainty", None)
    frame = cert.to_frame() if cert is not None and hasattr(cert, "to_frame") else None
    assessed = frame is not None and not frame.empty
    rows = certainty_rows(frame) if frame is not None and assessed else fallback_rows(res)
    headers = {"outcome": "Outcome", "k": "Trials", "n": "Participants", "effect": "Effect, g [95% CI]",
               "certainty": "Certainty (GRADE)", "meaning": "What it means"}
    table = html_table(rows, caption="Summary of findings: loneliness after the intervention, randomised trials, "
                       "Hedges' g (negative = less lonely).", headers=headers, merge=False, refs=refs, reflow=True,
                       nowrap=["k", "n", "effect"],
                       formats={"n": count})
    items = {"g": "Hedges' g, the difference between the intervention and control groups in standard deviations; "
                  "negative = less lonely. About 0.2 is small, 0.5 medium, 0.8 large (Cohen 1988).",
             "95% CI": "the range of true average effects compatible with the data (95% confidence interval).",
             "Difference in g": "g of social cognition minus g of the comparison; negative = social cognition "
                                "reduces loneliness more."}
    if assessed:
        items.update({"Certainty (GRADE)": "how sure we can be of the effect (Guyatt et al. 2008): "
                      + "; ".join(CERTAINTY_WORDS.values()) + "."})
        intro = ""
    else:
        items["Certainty (GRADE)"] = ("not assessed in this run: a GRADE assessment needs risk of bias, "
                                      "inconsistency, indirectness, imprecision and publication bias judged per "
                                      "outcome. The claims table below grades credibility with umbrella-review "
                                      "classes instead, which are not GRADE.")
        intro = "<p>Certainty of the evidence (GRADE) was not assessed in this run.</p>"
    refs.method("cohen1988")
    refs.method("guyatt2008")
    tables = (("summary_of_findings", frame),) if frame is not None and assessed else ()
    return SectionOutput("summary-of-findings", "Summary of findings", intro + table + legend(items), tables=tables)
