"""Report section: why this synthesis differs from the published reviews, computed from the data.

For the trials of the four strategies in this synthesis: design, publication years, delivery (online vs
face to face) and control types per strategy; for every review that printed its own contrast: its year,
design, scope (as ``review.toml`` states it), the trials it shares with this synthesis (when its trial list
is coded), how many of our trials were published after it, and whether it printed a test of the
difference. Every sentence is filled from those numbers.
"""

from __future__ import annotations

import re

import pandas as pd

from ...finding.select import MASI_STRATEGIES
from ...plots import _style as st
from ..api import ReportContext, SectionOutput, esc, finding_of, html_table, refs_of
from ..format import Markup, count, interval, label, p_text
from .published import published_of

TITLE = "Why this synthesis differs from the published reviews"
PASSIVE = ("waitlist", "usual_care", "no_treatment", "none")
_TEST = re.compile(r"between|difference|subgroup test|interaction", re.IGNORECASE)


def review_year(review: str, citation: object) -> int | None:
    """The review's publication year: the id's trailing year, else the first year in its citation."""
    m = re.search(r"(19|20)\d\d$", review) or re.search(r"\b(19|20)\d\d\b", str(citation or ""))
    return int(m.group(0)) if m else None


def _share(mask: pd.Series) -> str:
    n, k = int(mask.sum()), len(mask)
    return f"{n} of {k}" + (f" ({100 * n / k:.0f}%)" if k else "")


def trial_profile(rows: pd.DataFrame) -> pd.DataFrame:
    """Per strategy (Masi's four, then all four): trials, years, delivery, controls, age, provenance."""
    out = []
    groups = [(s, rows[rows["strategy"] == s]) for s in MASI_STRATEGIES]
    groups.append(("the other three", rows[rows["strategy"].isin(MASI_STRATEGIES[1:])]))
    for s, g in groups:
        if g.empty:
            continue
        years = pd.to_numeric(g["year"], errors="coerce").dropna()
        mode = g["delivery_mode"].astype("string")
        control = g["control"].astype("string")
        out.append(dict(
            strategy=Markup(f"<b>{esc(label(s).capitalize() if s == 'the other three' else label(s))}</b>"),
            k=len(g),
            years="" if years.empty else f"{int(years.min())}–{int(years.max())} (median {years.median():.0f})",
            online=_share(mode.eq("online").fillna(False)),
            face=_share(mode.eq("in_person").fillna(False)),
            passive=_share(control.isin(PASSIVE).fillna(False)),
            active=_share(control.isin(("active", "attention")).fillna(False)),
            older=_share(g["age_band"].astype("string").eq("older_adults").fillna(False)),
            first=_share(g["hand"].astype("string").eq("first").fillna(False))))
    return pd.DataFrame(out)


def review_profile(ctx: ReportContext, reviews: list[str], rows: pd.DataFrame) -> pd.DataFrame:
    """Per review with a contrast: year, design, scope, shared trials, our trials after it, its own test."""
    cat = ctx.catalogue.set_index("review")
    pooled = ctx.pooled
    coded = {r: set(g["study_id"].dropna().astype(str)) for r, g in ctx.effects.groupby("review")}
    ours = set(rows["study_id"].astype(str))
    years = pd.to_numeric(rows["year"], errors="coerce")
    pub = published_of(ctx).to_frame()
    out = []
    for r in reviews:
        meta = cat.loc[r] if r in cat.index else pd.Series(dtype=object)
        year = review_year(r, meta.get("citation"))
        prow = pooled[(pooled["review"] == r) & pooled["strategy"].notna()]
        designs = sorted({str(d) for d in prow.get("design", pd.Series(dtype=object)).dropna()})
        tests = pooled[(pooled["review"] == r) & (pooled["q"].notna() | pooled["p_value"].notna())
                       & pooled["analysis"].astype(str).str.contains(_TEST)]
        own = "; ".join(f"{t.analysis}: {p_text(t.p_value)}" for t in tests.itertuples()) or "none printed"
        mine = pub[(pub["review"] == r) & pub["tested"]]
        computed = "; ".join(f"vs {label(m.comparison).lower()}: {p_text(m.pvalue)}" for m in mine.itertuples()) \
            or "not testable (no CIs)"
        if r in coded:
            both = sorted(ours & coded[r])
            shared = f"{len(both)} of our {len(ours)}" + (f" ({', '.join(both)})" if both else "")
        else:
            shared = "unknown: its trial list is not coded"
        after = "" if year is None else f"{int((years > year).sum())} of {len(rows)}"
        scope = meta.get("scope")
        out.append(dict(review=r, year=year if year is not None else "", design=", ".join(designs) or "not recorded",
                        scope=scope if isinstance(scope, str) else "not recorded", shared=shared, after=after,
                        own=own, computed=computed))
    return pd.DataFrame(out)


def section_differs(ctx: ReportContext) -> SectionOutput | None:
    """Design mix, years, delivery, controls, shared trials and the reviews' own tests, with sentences."""
    res = finding_of(ctx)
    pub = published_of(ctx)
    if res is None:
        return None
    refs = refs_of(ctx)
    rows = res.contrast.rows
    if rows.empty:
        return None
    sc = rows[rows["strategy"] == "social_cognition"]
    others = rows[rows["strategy"].isin(MASI_STRATEGIES[1:])]
    reviews = list(dict.fromkeys(pub.to_frame()["review"]))
    prof = review_profile(ctx, reviews, rows)
    years = pd.to_numeric(rows["year"], errors="coerce").dropna()
    bullets = []
    designs = sorted({str(d) for d in rows["design"].dropna()})
    bullets.append(f"Design: this synthesis pools {', '.join(st.WORDS.get(d, d) for d in designs)} only "
                   f"({len(rows)} trials of the four strategies, one effect per trial, Hedges' g).")
    if not years.empty:
        later = [f"{count(r.after.split(' of ')[0])} after {refs.cite(r.review)} ({r.year})"
                 for r in prof.itertuples() if r.after]
        bullets.append(f"Publication years: our trials were published {int(years.min())}–{int(years.max())} (median "
                       f"{years.median():.0f}); of the {len(rows)}, {', '.join(later)}; a trial published after a "
                       "review cannot be in it." if later else
                       f"Publication years: {int(years.min())}–{int(years.max())} (median {years.median():.0f}).")
    mode_sc = sc["delivery_mode"].astype("string")
    mode_ot = others["delivery_mode"].astype("string")
    bullets.append(f"Delivery: {_share(mode_sc.eq('online').fillna(False))} social cognition trials were delivered "
                   f"online, against {_share(mode_ot.eq('online').fillna(False))} of the support, contact and skills "
                   f"trials ({_share(mode_ot.eq('in_person').fillna(False))} face to face).")
    ctl_sc = sc["control"].astype("string").isin(PASSIVE).fillna(False)
    ctl_ot = others["control"].astype("string").isin(PASSIVE).fillna(False)
    sens = res.sensitivity.to_frame()
    passive = sens[(sens["analysis"] == "control") & sens["setting"].str.startswith("passive")]
    extra = ""
    if len(passive) and pd.notna(passive["estimate"].iloc[0]):
        p0 = passive.iloc[0]
        extra = (f"; restricted to passive controls the difference is "
                 f"{interval(p0['estimate'], p0['ci_low'], p0['ci_high'])} ({p0['verdict']})")
    bullets.append(f"Controls: {_share(ctl_sc)} social cognition trials compared with a passive control (wait-list, "
                   f"usual care or no treatment), against {_share(ctl_ot)} of the others{extra}.")
    for r in prof.itertuples():
        bullets.append(f"{refs.cite(r.review)} ({r.year or 'year not recorded'}; design of its strategy rows: "
                       f"{esc(', '.join(st.WORDS.get(d.strip(), d.strip()) for d in r.design.split(',')))}): "
                       f"trials shared with this synthesis: {esc(r.shared)}; its own test of the difference: "
                       f"{esc(r.own)}; computed from its printed numbers: {esc(r.computed)}.")
    tested = pub.tested()
    if len(tested):
        sig = int((tested["pvalue"] < 0.05).sum())
        bullets.append(f"Within-review tests: {sig} of the {len(tested)} contrasts that can be computed from a "
                       f"review's printed CIs reach p < 0.05; a subgroup ranking without a test of the difference "
                       "is not evidence that one strategy works better.")
    body = [f"<ul>{''.join(f'<li>{b}</li>' for b in bullets)}</ul>",
            html_table(trial_profile(rows), caption="The trials of this synthesis's contrast, by strategy.",
                       headers={"years": "Published", "online": "Online", "face": "Face to face",
                                "passive": "Passive control", "active": "Active control", "older": "Older adults",
                                "first": "First-hand numbers"}, merge=False),
            html_table(prof, caption="The published reviews with a contrast of their own.", refs=refs,
                       headers={"year": "Year", "scope": "Scope (as the review states it)",
                                "shared": "Trials shared with this synthesis", "after": "Our trials published after it",
                                "own": "Its own test of the difference", "computed": "Computed from its printed CIs"},
                       formats={"year": lambda x: str(x)}, merge=False)]
    return SectionOutput("differs", TITLE, "\n".join(body))


__all__ = ["review_profile", "review_year", "section_differs", "trial_profile"]
