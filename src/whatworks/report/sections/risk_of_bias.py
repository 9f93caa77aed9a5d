"""Report section: risk of bias (RoB 2) of the trials in the primary analysis, per strategy.

Counts in words (how many judgements rest on an abstract or another review's extraction only), a
robvis-style traffic-light plot and weighted summary bars per strategy, and the sensitivity rows that
leave out high-risk trials. The assessments are ``risk_of_bias.csv`` of each review folder.
"""

from __future__ import annotations

import pandas as pd

from ...data import attach_risk_of_bias
from ...data.schema import STRATEGY_LABELS
from ...finding.select import primary_frame
from ...plots import _style as st
from ...plots import rob_summary_plot, traffic_light_plot
from ...rob import JUDGEMENT_LABELS, summarize_rob
from ..api import ReportContext, ReportFigure, SectionOutput, draws_forest, esc, figure_ref, html_table, too_many_rows

#: What ``source_basis`` values mean, in words.
BASIS_WORDS = {"full_report": "the full trial report", "abstract": "the trial's abstract, registry or protocol only",
               "second_hand": "another review's extraction only"}


def _counts(rows: pd.DataFrame) -> str:
    overall = rows["rob_overall"].fillna("not_assessed").astype(str)
    parts = [f"{JUDGEMENT_LABELS.get(j, j.replace('_', ' ')).lower()} {n}" for j, n in overall.value_counts().items()]
    return ", ".join(parts)


def section_risk_of_bias(ctx: ReportContext) -> SectionOutput | None:
    """Risk of bias of the primary trials: counts, what they rest on, and robvis figures per strategy.

    Returns ``None`` when no primary trial exists.
    """
    finding = ctx.results.get("finding")
    primary = finding.primary if finding is not None else primary_frame(ctx.effects)
    if primary.empty:
        return None
    title = "Risk of bias of the randomised trials"
    rob = ctx.risk_of_bias
    rows = attach_risk_of_bias(primary, rob) if len(rob) else primary.assign(rob_tool=pd.NA, rob_overall="not_assessed")
    assessed = rows["rob_tool"].eq("rob2").fillna(False)
    n, k = int(assessed.sum()), len(rows)
    if n == 0:
        return SectionOutput("risk-of-bias", title, "<p>No trial of the primary analysis has a risk-of-bias "
                             "assessment (RoB 2): the certainty of evidence is rated down for it.</p>")
    basis = pd.Series(dtype="string")
    if "source_basis" in rob.columns and "rob_effect_id" in rows.columns:
        by_effect = rob.dropna(subset=["effect_id"]).set_index("effect_id")["source_basis"]
        basis = rows["rob_effect_id"].map(by_effect).dropna()
    domains = [c for c in ("rob_d1", "rob_d2", "rob_d3", "rob_d4", "rob_d5") if c in rows.columns]
    ni = int(rows.loc[assessed, domains].eq("no_information").to_numpy().sum()) if domains else 0
    intro = [f"{n} of {k} trials in the primary analysis were assessed with RoB 2 (Sterne et al. 2019). Overall: "
             f"{_counts(rows[assessed])}."]
    if len(basis):
        intro.append("The judgements rest on " + "; ".join(
            f"{BASIS_WORDS.get(b, b)} for {c} trial{'s' if c != 1 else ''}" for b, c in basis.value_counts().items())
            + ".")
    intro.append(f"{ni} of {5 * n} domain judgements are \u201cno information\u201d: the reachable report does not say "
                 "(for example, how the allocation sequence was concealed). That is a gap in reporting or in access, "
                 "not evidence of bias either way; GRADE counts it as a concern.")
    by = rob.get("assessed_by")
    if by is not None and len(by.dropna()):
        intro.append("Assessed by: " + "; ".join(sorted(set(by.dropna().astype(str)))) + ".")

    figures, body = [], [f"<p>{esc(' '.join(intro))}</p>"]
    fits = finding.pooling.fits if finding is not None else {}
    table: list[dict[str, object]] = []
    for strategy in pd.unique(rows["strategy"].astype(str)):
        part = rows[(rows["strategy"] == strategy).to_numpy() & assessed.to_numpy()]
        if part.empty:
            continue
        name = STRATEGY_LABELS.get(strategy, st.pretty(strategy))
        fit = fits.get(strategy)
        weights = None
        if fit is not None and fit.k == len(rows[rows["strategy"] == strategy]) == len(part):
            weights = 1 / (part["vi"].to_numpy(float) + fit.tau2)
        cells = part.rename(columns={f"rob_{d}": d for d in ("d1", "d2", "d3", "d4", "d5", "overall")})
        summary = summarize_rob(cells[["d1", "d2", "d3", "d4", "d5", "overall"]], weights=weights,
                                labels=[str(s) for s in part["study"]])
        slug = f"rob_{strategy}"
        if draws_forest(len(part)):  # one row per trial, like a forest plot: bounded the same way
            ax = traffic_light_plot(summary, title=f"Risk of bias: {name}")
            figures.append(ReportFigure(f"{slug}_traffic", st.figure_of(ax),
                                        f"Risk of bias (RoB 2) per trial, {name}: domains D1\u2013D5 and overall."))
            traffic = figure_ref(f"{slug}_traffic")
        else:
            traffic = too_many_rows(f"Risk of bias per trial, {name}", len(part), "risk_of_bias.csv", unit="trials",
                                    figure="a traffic-light plot", contents="every trial's judgements")
        ax = rob_summary_plot(summary, title=f"Risk of bias: {name}" + (" (share of weight)" if weights is not None
                                                                      else ""))
        figures.append(ReportFigure(f"{slug}_summary", st.figure_of(ax),
                                    f"Share of {'the meta-analysis weight' if weights is not None else 'trials'} "
                                    f"per judgement and domain, {name}."))
        block = [f"<h3>{esc(name)}</h3>", traffic, figure_ref(f"{slug}_summary")]
        if table:  # the first strategy (the reference) open, the others one click away
            block = [f"<details><summary>{esc(name)}: {len(part)} trial(s)</summary>", *block[1:], "</details>"]
        body += block
        table.append({"strategy": name, "trials": len(part), "overall": _counts(part)})
    if finding is not None:
        sens = finding.sensitivity.to_frame()
        sens = sens[sens["analysis"] == "risk of bias"]
        if len(sens):
            body += ["<h3>Does risk of bias change the contrast?</h3>",
                     html_table(sens[["setting", "k", "estimate", "ci_low", "ci_high", "verdict", "note"]])]
    body.insert(1, html_table(pd.DataFrame(table)))
    return SectionOutput("risk-of-bias", title, "\n".join(body), figures=tuple(figures),
                         tables=(("risk_of_bias", rows[["review", "effect_id", "study_id", "strategy",
                                                        *[c for c in rows.columns if c.startswith("rob_")]]]),))
