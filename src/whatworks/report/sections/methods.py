"""Report section: the methods, generated from what ran (in the spirit of metafor's ``reporter()``).

Estimator, tests and level from the options; the verdict rule and its smallest meaningful difference from
the finding that ran; which small-study tests ran, for which k, from the sensitivity table; the grading
thresholds from :data:`whatworks.finding.THRESHOLDS`; whether certainty was assessed; how the published
contrasts and the collection's fingerprint were computed; the software versions.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from ...data import settings_of
from ...finding.grading import THRESHOLDS
from ..api import FUNNEL_MIN_K, ReportContext, ReportOptions, SectionOutput, esc, pct, refs_of
from ..interpret import EGGER_MIN_K, OUTLIER_Z
from ..refs import References
from .claims import power_text

ESTIMATORS = {
    "REML": ("restricted maximum-likelihood estimator", "viechtbauer2005"),
    "ML": ("maximum-likelihood estimator", "viechtbauer2005"),
    "DL": ("DerSimonian-Laird estimator", "dersimonian1986"),
    "PM": ("Paule-Mandel estimator", "paule1982"),
    "EB": ("empirical Bayes estimator", ""),
    "HS": ("Hunter-Schmidt estimator", ""),
    "SJ": ("Sidik-Jonkman estimator", ""),
    "HE": ("Hedges estimator", ""),
    "EE": ("common-effect (equal-effects) model, without tau\u00b2", ""),
}


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover - the report runs from an installed whatworks
        return "not installed"


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages the numbers and figures depend on."""
    names = ("whatworks", "numpy", "scipy", "pandas", "matplotlib")
    return {"Python": platform.python_version(), **{n: _version(n) for n in names}}


def methods_text(options: ReportOptions, refs: References | None = None, finding: Any = None) -> str:
    """The methods paragraphs as HTML, from the options and (when given) the finding that ran."""
    o = options
    refs = refs if refs is not None else References()
    name, key = ESTIMATORS.get(o.method, (o.method, ""))
    cite = f" ({refs.method(key)})" if key else ""
    if o.method == "EE":
        model = "A common-effect (equal-effects) model was fitted."
    else:
        model = (f"Random-effects models were fitted; the between-trial variance (τ²) was estimated with the "
                 f"{esc(name)}{cite}, with a Q-profile confidence interval ({refs.method('viechtbauer2007')}).")
    if o.test == "knha":
        ci = (f"Tests and confidence intervals use the Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment, a t "
              f"distribution on k − 1 degrees of freedom ({refs.method('knapp2003')})")
    else:
        ci = "Tests and confidence intervals are Wald-type (normal distribution)"
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
    paras = [
        f"Effects are standardised mean differences (Hedges' g) unless a review's metric says otherwise; every effect "
        f"is signed so that negative values mean less loneliness in the intervention arm. {model} {ci}. Cochran's Q "
        f"({refs.method('cochran1954')}), I² in percent ({refs.method('higgins2002')}) and a {pct(o.level)} "
        f"prediction interval for the true effect in a new setting ({refs.method('riley2011')}; "
        f"{refs.method('inthout2016')}) are reported. A strategy with one trial shows that trial's own estimate "
        "(z interval), labelled as not pooled. Subgroup differences are tested with Q-between from separate models "
        "per subgroup. Influential trials are flagged by metafor's criteria and potential outliers by an "
        f"externally studentised residual beyond ±{OUTLIER_Z} ({refs.method('viechtbauer2010b')}).",
    ]
    eggers = _egger_runs(finding)
    funnel = (f"Funnel plots are drawn for analyses with at least {FUNNEL_MIN_K} trials. Egger's regression test "
              f"({refs.method('egger1997')}) and trim and fill (estimator L0; {refs.method('duval2000')}) were run "
              "for every strategy with at least 3 trials")
    if eggers:
        funnel += f" (here: {eggers})"
    funnel += (f"; with fewer than {EGGER_MIN_K} trials they have too little power to detect or rule out small-study "
               f"effects and are reported but not interpreted ({refs.method('sterne2011')}).")
    paras.append(funnel)
    if finding is not None:
        c = finding.contrast
        paras.append(
            f"The contrast is a mixed-effects meta-regression of the trials of Masi's four strategies with social "
            f"cognition as the reference; the difference is g(social cognition) − g(comparison). Dependence is "
            f"handled with cluster-robust CR2 standard errors and Satterthwaite df, trials as clusters "
            f"({refs.method('pustejovsky2018')}). Verdict rule, with the smallest meaningful difference δ = "
            f"{c.delta:g} ({refs.method('cohen1988')}, a 'small' effect): supported when the 95% CI lies below 0; "
            f"not supported when it excludes an advantage of δ or more; inconclusive when it includes both 0 and "
            f"an advantage of δ; cannot be tested with fewer than 2 trials in an arm. The claims are graded with "
            f"umbrella-review credibility classes ({refs.method('ioannidis2009')}; {refs.method('fusarpoli2018')}): "
            f"n > {THRESHOLDS['n']:,}, p thresholds {power_text(THRESHOLDS['p_strong'])} / "
            f"{power_text(THRESHOLDS['p_suggestive'])} / {THRESHOLDS['p_weak']:g}, I² < {THRESHOLDS['i2']:g}%, Egger p ≥ {THRESHOLDS['egger_p']:g}; these are "
            "not GRADE ratings. "
            + ("Certainty of the evidence was rated with GRADE per outcome "
               f"({refs.method('guyatt2008')})." if getattr(finding, "certainty", None) is not None else
               "Certainty of the evidence (GRADE) was not assessed in this run."))
    paras.append(
        f"The published reviews' own contrasts are computed from their printed subgroup estimates: the standard error "
        f"of each from its 95% CI (half-width / 1.96), combined as independent (subgroups of one review hold "
        f"different trials), z-test ({refs.method('altman2003')}). The collection's fingerprint is the SHA-256 of the "
        f"bytes of every file of the collection, concatenated in sorted path order. Analyses were carried out with "
        f"{esc(versions)}; the estimators are tested against R's metafor ({refs.method('viechtbauer2010')}).")
    return "".join(f"<p>{p}</p>" for p in paras)


def _egger_runs(finding: Any) -> str:
    """Which strategies had Egger's test in the sensitivity table, with their k."""
    if finding is None:
        return ""
    from ...plots._style import pretty

    t = finding.sensitivity.to_frame()
    t = t[(t["analysis"] == "small-study effects") & t["quantity"].astype(str).str.startswith("Egger slope (")]
    return ", ".join(f"{pretty(r.setting).lower()} k = {int(r.k)}" for r in t.itertuples() if r.k == r.k)


def section_methods(ctx: ReportContext) -> SectionOutput | None:
    """Methods paragraphs (generated from what ran) and the options."""
    o = ctx.options
    refs = refs_of(ctx)
    finding = ctx.results.get("finding")
    opts = (f"<code>method = {esc(repr(o.method))}, test = {esc(repr(o.test))}, level = {o.level:g}</code>; rerun "
            f"with <code>python -m whatworks.report --method {esc(o.method)} --test {esc(o.test)}</code>")
    effects = f"<p>Effect sizes: {esc(settings_of(ctx.effects).describe())}</p>"
    return SectionOutput("methods", "Methods", methods_text(o, refs, finding) + effects
                         + f"<p class=\"meta\">Options: {opts}.</p>")


def section_references(ctx: ReportContext) -> SectionOutput | None:
    """Every method and review cited on the page, linked (the last section)."""
    refs = refs_of(ctx)
    body = refs.reference_list()
    return SectionOutput("references", "References", body) if body else None
