"""Report section: the bottom line, under the title. Everything in it is computed from the run.

The main question in plain words; the verdict; the difference with its CI; what the interval rules out
and what it cannot (against the gaps the published reviews reported and the smallest difference that
matters); the certainty of the evidence (GRADE, when the finding carries a certainty assessment);
trials and participants; the run's date, whatworks version and a fingerprint of the collection read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...finding.published import PublishedContrasts, published_contrasts
from ..api import ReportContext, SectionOutput, esc, finding_of, refs_of
from ..format import count, interval, num, p_text

QUESTION = ("Do interventions that address negative social thoughts (maladaptive social cognition) reduce "
            "loneliness more than those that enhance social support, create opportunities for social contact or "
            "train social skills?")

#: GRADE certainty levels in words (Guyatt et al. 2008; the GRADE handbook's definitions).
CERTAINTY_WORDS = {
    "high": "high: the true effect is very likely close to the estimate",
    "moderate": "moderate: the true effect is probably close to the estimate, but may differ substantially",
    "low": "low: the true effect may differ substantially from the estimate",
    "very_low": "very low: the true effect is likely to differ substantially from the estimate",
}


def published_gaps(published: PublishedContrasts | None, comparison: str | None = None) -> list[dict[str, Any]]:
    """The published reviews' gaps (social cognition minus another strategy) with a value, largest first."""
    if published is None:
        return []
    t = published.to_frame()
    t = t[t["difference"].notna()]
    if comparison is not None:
        t = t[t["comparison"] == comparison]
    t = t.sort_values("difference", kind="stable")
    return [dict(r._asdict()) for r in t.itertuples(index=False)]


def interval_statements(ci_low: float, ci_high: float, delta: float) -> tuple[list[str], list[str]]:
    """What a CI of the difference g(social cognition) − g(comparison) rules out and what it cannot.

    Negative = social cognition better. Returns two lists of phrases, completing "The data rule out ..."
    and "They cannot rule out ...".

    Examples
    --------
    >>> out, keep = interval_statements(-0.29, 0.20, 0.2)
    >>> out
    ['an advantage for social cognition larger than 0.29', 'a disadvantage larger than 0.20']
    >>> keep
    ['no difference', 'a small advantage (below 0.2)', 'an advantage of 0.2 up to 0.29']
    """
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return [], ["anything: the interval could not be estimated"]
    out, keep = [], []
    if ci_low < 0:
        out.append(f"an advantage for social cognition larger than {num(-ci_low)}")
    else:
        out.append("any advantage for social cognition")
    if ci_high > 0:
        out.append(f"a disadvantage larger than {num(ci_high)}")
    else:
        out.append("no difference and any disadvantage")
    if ci_low <= 0 <= ci_high:
        keep.append("no difference")
    if ci_low < 0 and ci_high > -delta:
        keep.append(f"a small advantage (below {delta:g})")
    if ci_low <= -delta:
        keep.append(f"an advantage of {delta:g} up to {num(-ci_low)}" if ci_high > -delta else
                    f"an advantage of {num(-ci_high)} up to {num(-ci_low)}")
    return out, keep


EDGE = 0.005  # a gap within half a printed digit (0.01) of a CI bound is said to lie at the interval's edge


def gap_statements(ci_low: float, ci_high: float,
                   gaps: Sequence[tuple[str, float]]) -> tuple[list[str], list[str], list[str]]:
    """Which published gaps (who, difference; negative = social cognition better) a CI excludes, which lie at
    its edge (within :data:`EDGE`, so that the printed numbers would look equal) and which it includes.

    Examples
    --------
    >>> gap_statements(-0.357, 0.20, [("Masi 2011", -0.44), ("Veronese 2021", -0.36), ("X", -0.1)])
    (['Masi 2011, a gap of 0.44'], ['Veronese 2021, a gap of 0.36'], ['X, a gap of 0.10'])
    """
    excluded, edge, included = [], [], []
    for who, gap in gaps:
        if not np.isfinite(gap):
            continue
        phrase = f"{who}, a gap of {num(abs(gap))}"
        if min(abs(gap - ci_low), abs(gap - ci_high)) <= EDGE:
            edge.append(phrase)
        elif ci_low < gap < ci_high:
            included.append(phrase)
        else:
            excluded.append(phrase)
    return excluded, edge, included


def main_certainty(res: Any) -> pd.Series | None:
    """The certainty row of the main question, if the finding carries a certainty assessment (``certainty``
    with ``to_frame()``: outcome, k, n, estimate, ci_low, ci_high, certainty, reasons, statement): the row
    whose estimate is the combined contrast's difference, else the first row."""
    cert = getattr(res, "certainty", None)
    if cert is None or not hasattr(cert, "to_frame"):
        return None
    frame = cert.to_frame()
    if frame.empty:
        return None
    diff = float(res.contrast.combined()["difference"])
    if "estimate" in frame.columns and np.isfinite(diff):
        hit = frame[np.isclose(pd.to_numeric(frame["estimate"], errors="coerce").to_numpy(float), diff, atol=1e-9)]
        if len(hit):
            return hit.iloc[0]
    return frame.iloc[0]


def certainty_sentence(row: pd.Series | None) -> str:
    """The main question's GRADE certainty in one sentence: level, downgraded domains, statement."""
    if row is None:
        return "not assessed in this run (GRADE); the claims table grades credibility with umbrella-review classes."
    level = str(row.get("certainty", "")).strip().replace("_", " ")
    domains = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
    down = [d.replace("_", " ") for d in domains
            if isinstance(row.get(d), str) and str(row[d]).startswith(("serious", "very serious"))]
    text = f"{level} (GRADE)"
    if down:
        text += f", downgraded for {', '.join(down[:-1]) + ' and ' + down[-1] if len(down) > 1 else down[0]}"
    statement = row.get("statement")
    if isinstance(statement, str) and statement.strip():
        return f"{text}: {statement.strip().rstrip('.')}."
    return f"{text}: {CERTAINTY_WORDS.get(level.lower().replace(' ', '_'), '').split(': ', 1)[-1]}."


#: The comparison strategies as the verdict sentence names them ("than those enhancing social support ...").
_SHORT = {"social_support": "enhancing social support", "social_access": "creating opportunities for social contact",
          "social_skills": "training social skills"}


def _others_words(contrast: Any) -> str:
    """The comparison strategies that have trials, in words, and those that have none."""
    t = contrast.table.iloc[:-1].set_index("comparison")  # one row per comparison strategy (not the combined)
    have = [s for s in contrast.others if s in t.index and int(t.loc[s, "k_comparison"]) > 0]
    none = [s for s in contrast.others if s not in have]
    text = "those " + _join([_SHORT.get(s, s) for s in have], "and") if have else "the others"
    if none:
        text += f" (no trial of {_join([_SHORT.get(s, s) for s in none], 'or')} has a usable effect)"
    return text


def robustness_sentence(sensitivity: pd.DataFrame, verdict: str) -> str:
    """How many sensitivity analyses of the contrast reach the primary verdict, and which do not."""
    rows = sensitivity[(sensitivity["quantity"] == "difference") & (sensitivity["analysis"] != "primary")
                       & sensitivity["verdict"].isin(["supported", "not supported", "inconclusive"])]
    if rows.empty:
        return ""
    differ = rows[rows["verdict"] != verdict]
    text = f"{len(rows) - len(differ)} of {len(rows)} sensitivity analyses of the contrast reach the same verdict"
    if len(differ):
        text += "; " + "; ".join(f"{str(r.setting).replace('_', ' ')}: {r.verdict} "
                                 f"({interval(r.estimate, r.ci_low, r.ci_high)})" for r in differ.itertuples())
    loo = sensitivity[sensitivity["analysis"] == "leave-one-out"]
    if len(loo) and "changes when leaving out" in str(loo["note"].iloc[0]):
        text += "; leaving out single trials: " + str(loo["note"].iloc[0]).split("leaving out: ", 1)[-1]
    return text + "."


def _verdict_sentence(c: pd.Series, others: str = "the other three kinds") -> str:
    v = str(c["verdict"])
    lead = {"supported": "Yes, on these data.", "not supported": "No, on these data.",
            "inconclusive": "Not shown: inconclusive.", "cannot be tested": "Cannot be tested yet."}
    d = float(c["difference"])
    if not np.isfinite(d):
        return f"<strong>{lead.get(v, v)}</strong> {esc(c['reason'])}."
    how = "more" if d < 0 else "less"
    return (f"<strong>{lead.get(v, v.capitalize())}</strong> Social cognition interventions reduced loneliness "
            f"{num(abs(d))} standard deviations {how} than {others}: difference in Hedges' g "
            f"{interval(d, c['ci_low'], c['ci_high'])} (95% CI), {p_text(c['pvalue'])}.")


def section_bottom_line(ctx: ReportContext) -> SectionOutput | None:
    """The answer first: question, verdict, difference, what is ruled out, certainty, trials, run."""
    res = finding_of(ctx)
    refs = refs_of(ctx)
    run = dict(ctx.run)
    parts = [f'<p class="question">{esc(QUESTION)}</p>']
    if res is None:
        parts.append('<p class="verdict">The data hold no trials of social cognition interventions, so the '
                     "question cannot be answered on this collection.</p>")
    else:
        c = res.contrast.combined()
        parts.append(f'<p class="verdict">{_verdict_sentence(c, _others_words(res.contrast))}</p>')
        published = ctx.results.get("published_contrasts")
        if published is None:
            published = published_contrasts(ctx.pooled, catalogue=ctx.catalogue)
            ctx.results["published_contrasts"] = published
        out, keep = interval_statements(float(c["ci_low"]), float(c["ci_high"]), res.contrast.delta)
        gaps = [(f"{refs.cite(g['review'])} ({num(g['reference_estimate'])} vs {num(g['comparison_estimate'])})",
                 float(g["difference"])) for g in published_gaps(published, "social_support")]
        beyond, _, _ = gap_statements(float(c["ci_low"]), float(c["ci_high"]), gaps)
        if beyond and out and out[0].startswith("an advantage"):
            out[0] += f" (and with it the gap reported by {_join(beyond, 'or')})"
        items = [f"<li><b>The data rule out</b> {_join(out, 'and')}.</li>",
                 f"<li><b>They cannot rule out</b> {_join(keep)}.</li>" if keep else ""]
        vs = res.contrast.table[res.contrast.table["comparison"] == "social_support"]
        if gaps and len(vs) and np.isfinite(float(vs["ci_low"].iloc[0])):
            v = vs.iloc[0]
            excluded, edge, included = gap_statements(float(v["ci_low"]), float(v["ci_high"]), gaps)
            text = (f"<li><b>Like for like</b>, social cognition vs social support only "
                    f"({interval(v['difference'], v['ci_low'], v['ci_high'])}): the data ")
            bits = []
            if excluded:
                bits.append(f"rule out the gap reported by {_join(excluded, 'and')}")
            if edge:
                bits.append(f"{'the one' if excluded else 'the gap'} reported by {_join(edge, 'and')} lies at the "
                            "edge of its interval")
            if included:
                bits.append(f"{'not' if excluded else 'do not rule out'} the gap reported by {_join(included, 'or')}")
            text += "; ".join(bits)
            items.append(text + ".</li>")
        items.append(f"<li><b>Each kind on its own</b> (pooled g, negative = less lonely): {_per_strategy(res)}.</li>")
        robust = robustness_sentence(res.sensitivity.to_frame(), str(c["verdict"]))
        if robust:
            items.append(f"<li><b>Robustness</b>: {esc(robust)}</li>")
        items.append(f"<li><b>Certainty</b>: {esc(certainty_sentence(main_certainty(res)))}</li>")
        n_trials = res.primary["study_id"].nunique()
        n_all = float(np.nansum(_n(res.primary)))
        items.append(f"<li><b>Evidence</b>: {count(n_trials)} randomised trials, {count(n_all)} participants; the "
                     f"contrast uses the {count(c['k'])} trials of the four strategies ({count(c['k_reference'])} of "
                     f"social cognition, {count(c['k_comparison'])} of the others; "
                     f"{count(c['n_reference'] + c['n_comparison'])} participants).</li>")
        parts.append(f"<ul>{''.join(i for i in items if i)}</ul>")
    fp = run.get("fingerprint", "")
    run_bits = [f"Run {esc(run.get('date', ''))}", f"whatworks {esc(run.get('version', ''))}",
                f"{esc(ctx.options.method)}, {'Knapp-Hartung' if ctx.options.test == 'knha' else 'Wald z'}",
                f"data: {esc(ctx.data_root)}"]
    if fp:
        run_bits.append(f'fingerprint <code title="SHA-256 of every file of the collection, in sorted order: '
                        f'{esc(fp)}">sha256:{esc(fp[:16])}</code>')
    parts.append(f'<p class="run">{" · ".join(b for b in run_bits if b)}</p>')
    return SectionOutput("bottom-line", "Bottom line", "\n".join(parts))


def _per_strategy(res: Any) -> str:
    """Each of Masi's four strategies on its own, in one sentence (single trials said to be so)."""
    from ...finding.select import MASI_STRATEGIES
    from ...plots._style import STRATEGY_SHORT

    bits = []
    for s in MASI_STRATEGIES:
        fit = res.pooling.fits.get(s)
        name = STRATEGY_SHORT.get(s, s)
        if fit is None:
            bits.append(f"{name}: no trials")
        elif fit.k == 1:
            bits.append(f"{name}: one trial, not pooled ({num(fit.estimate)})")
        else:
            bits.append(f"{name} {interval(fit.estimate, fit.ci_low, fit.ci_high)} ({fit.k} trials)")
    return esc("; ".join(bits))


def _n(rows: pd.DataFrame) -> np.ndarray:
    from ...finding.select import total_n

    return total_n(rows)


def _join(items: Sequence[str], word: str = "or") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + (";" if len(items) > 2 else "") + f" {word} " + items[-1]
