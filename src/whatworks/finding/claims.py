"""The seed's claims C1-C5, each tested by an analysis of the data, with a verdict and an evidence grade.

Subsets for C2, C4 and C5 are found from the data's own labels (``strategy_source_label`` and
``intervention``) with the regular expressions in :data:`PATTERNS`; the matched trials are named in the
claim's note so the reader can check the selection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..bias import egger_test
from ..model import meta_analyze
from ..results import MetaResult, frame_to_html, int_counts
from .contrast import ContrastResult, effect_verdict
from .grading import THRESHOLDS, grade, largest_trial_significant
from .select import total_n

#: Columns of ``claims.csv``.
CLAIM_COLUMNS = ("claim_id", "claim", "analysis", "k", "n", "estimate", "ci_low", "ci_high", "pvalue", "verdict",
                 "grade", "note")

#: The claims, as the seed states them.
CLAIMS = {
    "C1": "Interventions that address negative thoughts (maladaptive social cognition) reduce loneliness more "
          "than interventions built on social support, opportunities for social contact or social skills",
    "C2": "Social-cognitive training (cognitive training / cognitive bias modification) works especially well",
    "C3": "Acceptance-based interventions (mindfulness, acceptance, compassion) reduce loneliness",
    "C4": "Educational group programmes reduce loneliness in older adults",
    "C5": "Interventions that strengthen self-esteem and personal control reduce loneliness",
}

#: Case-insensitive patterns over ``strategy_source_label`` + ``intervention`` that define the subsets.
PATTERNS = {
    "C2": r"bias modification|\bCBM\b|\bIBM\b|cognitive training|attribution\w* (?:re)?training|social[- ]cognitive training",
    "C4": r"educat|\bcourse\b|lecture|\bclass(?:es)?\b|lesson|teach",
    "C5": r"self[- ]esteem|self[- ]efficacy|personal control|sense of control|mastery|empower",
}


@dataclass(frozen=True)
class ClaimsResult:
    """The claims table (:data:`CLAIM_COLUMNS`), one row per claim."""

    table: pd.DataFrame = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lines = ["Claims"]
        for r in self.table.itertuples():
            num = "" if pd.isna(r.estimate) else f" {r.estimate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}], k = {r.k};"
            lines.append(f"{r.claim_id} {r.verdict} (grade {r.grade}):{num} {r.note}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "ClaimsResult(" + ", ".join(f"{r.claim_id}={r.verdict!r}" for r in self.table.itertuples()) + ")"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, "Claims tested")


def matches(frame: pd.DataFrame, claim_id: str) -> np.ndarray:
    """Boolean mask of the rows whose labels match the pattern of ``claim_id`` (see :data:`PATTERNS`)."""
    text = pd.Series("", index=frame.index, dtype="string")
    for col in ("strategy_source_label", "intervention"):
        if col in frame.columns:
            text = text + " " + frame[col].astype("string").fillna("")
    return text.str.contains(PATTERNS[claim_id], flags=re.IGNORECASE, regex=True).fillna(False).to_numpy(dtype=bool)


def _fit_grade(fit: MetaResult, rows: pd.DataFrame) -> tuple[str, str]:
    n = float(np.nansum(total_n(rows)))
    small = None
    if fit.k >= 3 and np.ptp(fit.vi) > 0:
        small = bool(egger_test(fit).pvalue < THRESHOLDS["egger_p"])
    largest = largest_trial_significant(fit.yi, fit.vi, total_n(rows), fit.level)
    pi_ex = bool(fit.pi_high < 0 or fit.pi_low > 0)
    return grade(n=n, pvalue=fit.pvalue, i2=fit.i2, pi_excludes_null=pi_ex, small_study=small,
                 largest_significant=largest)


def _effect_claim(cid: str, analysis: str, rows: pd.DataFrame, *, method: str, test: str, min_k: int = 2,
                  need: str = "", extra: str = "") -> dict:
    """A claim "this kind of intervention reduces loneliness", tested by pooling ``rows``."""
    k = len(rows)
    names = ", ".join(rows["study_id"].astype(str)) if "study_id" in rows.columns else ""
    base = dict(claim_id=cid, claim=CLAIMS[cid], analysis=analysis, k=k, n=float(np.nansum(total_n(rows))))
    if k < min_k:
        note = f"cannot be tested: {k} poolable trial(s){' (' + names + ')' if names else ''}; needs {need}"
        return {**base, "verdict": "cannot be tested", "grade": "-", "note": note + (f". {extra}" if extra else "")}
    fit = meta_analyze(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), method=method, test=test)
    v, why = effect_verdict(fit.estimate, fit.ci_low, fit.ci_high, k=k)
    g, gwhy = _fit_grade(fit, rows)
    note = (f"{why}; PI [{fit.pi_low:.2f}, {fit.pi_high:.2f}], I² {fit.i2:.0f}%; grade: {gwhy}; trials: {names}"
            + (f". {extra}" if extra else ""))
    return {**base, "estimate": fit.estimate, "ci_low": fit.ci_low, "ci_high": fit.ci_high, "pvalue": fit.pvalue,
            "verdict": v, "grade": g, "note": note}


def _other_metrics(reviews: pd.DataFrame | None, strategy: str, *, method: str, test: str) -> str:
    """Pooled results of the strategy's poolable rows on metrics other than SMD, per review (in words)."""
    if reviews is None:
        return ""
    rows = reviews[reviews["pool"] & (reviews["strategy"] == strategy).fillna(False) & (reviews["metric"] != "SMD")]
    out = []
    for (rev, metric), grp in rows.groupby(["review", "metric"], sort=True):
        if len(grp) >= 2:
            f = meta_analyze(grp["yi"].to_numpy(float), grp["vi"].to_numpy(float), method=method, test=test)
            out.append(f"{rev} rows on {metric} (not pooled with g): {f.estimate:.2f} [{f.ci_low:.2f}, "
                       f"{f.ci_high:.2f}], k = {f.k}")
    return "; ".join(out)


def claims_table(
    frame: pd.DataFrame,
    contrast: ContrastResult,
    *,
    reviews: pd.DataFrame | None = None,
    method: str = "REML",
    test: str = "knha",
) -> ClaimsResult:
    """Test the claims C1-C5 (:data:`CLAIMS`) on the primary rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        The primary rows.
    contrast : ContrastResult
        The strategy contrast (C1 is its combined row).
    reviews : pandas.DataFrame, optional
        All loaded rows, to name non-poolable matches and results on other metrics in the notes.
    method, test : str
        Options of the pooled analyses.

    Returns
    -------
    ClaimsResult

    Examples
    --------
    >>> from whatworks.data import load_reviews
    >>> from whatworks.finding import primary_frame, strategy_contrasts
    >>> prim = primary_frame(load_reviews())
    >>> tab = claims_table(prim, strategy_contrasts(prim)).to_frame()
    >>> tab["claim_id"].tolist()
    ['C1', 'C2', 'C3', 'C4', 'C5']
    """
    rows = []
    c = contrast.combined()
    n1 = float(c["n_reference"] + c["n_comparison"])
    if c["verdict"] == "cannot be tested":
        g1, gwhy = "-", ""
    else:
        g1, gwhy = grade(n=n1, pvalue=float(c["pvalue"]), i2=getattr(contrast.model_combined, "i2", None))
        gwhy = f"; grade: {gwhy} (PI, small-study effects and largest trial are not defined for a difference)"
    per = "; ".join(f"vs {r.comparison}: {r.difference:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}], k = "
                    f"{r.k_reference} vs {r.k_comparison}, {r.verdict}" for r in contrast.table.iloc[:-1].itertuples())
    rows.append(dict(claim_id="C1", claim=CLAIMS["C1"], analysis=(
        f"mixed-effects meta-regression, {contrast.reference} vs {c['comparison']} (difference in g, negative "
        f"favours {contrast.reference}), {contrast.method} + {contrast.test}"), k=int(c["k"]), n=n1,
        estimate=c["difference"], ci_low=c["ci_low"], ci_high=c["ci_high"], pvalue=c["pvalue"], verdict=c["verdict"],
        grade=g1, note=f"{c['reason']}{gwhy}. Per comparison: {per}"))

    sc = frame[(frame["strategy"] == contrast.reference).fillna(False).to_numpy(dtype=bool)]
    training = sc[matches(sc, "C2")]
    unpooled = ""
    if reviews is not None:
        allsc = reviews[(reviews["strategy"] == contrast.reference).fillna(False).to_numpy(dtype=bool)]
        others = sorted(set(allsc.loc[matches(allsc, "C2"), "study_id"].astype(str)) - set(training["study_id"]))
        unpooled = f"matching trials without a poolable effect: {', '.join(others)}" if others else ""
    rows.append(_effect_claim(
        "C2", f"pooled g of the {contrast.reference} trials whose labels name cognitive training / bias modification",
        training, method=method, test=test, extra=unpooled,
        need="at least 2 RCTs of social-cognitive training or cognitive bias modification with between-group "
             "loneliness statistics (arm means and SDs, or g with n); to test 'especially', as many again of "
             "other social-cognition interventions to compare with"))

    mind = frame[(frame["strategy"] == "mindfulness_acceptance").fillna(False).to_numpy(dtype=bool)]
    rows.append(_effect_claim("C3", "pooled g of mindfulness_acceptance trials", mind, method=method, test=test,
                              need="RCTs of mindfulness / acceptance interventions with arm n and a standardisable "
                                   "loneliness effect",
                              extra=_other_metrics(reviews, "mindfulness_acceptance", method=method, test=test)))

    older = frame[((frame.get("age_band") == "older_adults") & (frame.get("delivery_format") == "group"))
                  .fillna(False).to_numpy(dtype=bool)] if {"age_band", "delivery_format"} <= set(frame.columns) \
        else frame.iloc[0:0]
    edu = older[matches(older, "C4")]
    rows.append(_effect_claim("C4", "pooled g of group-delivered programmes for older adults whose labels name "
                              "education / a course / teaching", edu, method=method, test=test,
                              need="at least 2 RCTs of educational group programmes in older adults with "
                                   "between-group loneliness statistics"))

    se = frame[matches(frame, "C5")]
    rows.append(_effect_claim("C5", "pooled g of trials whose labels name self-esteem, self-efficacy, personal "
                              "control or mastery", se, method=method, test=test,
                              need="RCTs of interventions aimed at self-esteem or personal control with loneliness "
                                   "outcomes, or trials reporting self-esteem / mastery as a mediator of loneliness"))
    table = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    for col in ("k", "n"):  # counts (n is missing where no participant count is reported)
        table[col] = int_counts(table[col])
    return ClaimsResult(table=table)
