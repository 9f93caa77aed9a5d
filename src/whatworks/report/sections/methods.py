"""Report section: the methods paragraph (in the spirit of metafor's ``reporter()``) and software versions."""

from __future__ import annotations

import platform
from importlib import metadata

from ...data import settings_of
from ..api import FUNNEL_MIN_K, ReportContext, ReportOptions, SectionOutput, esc, pct

ESTIMATORS = {
    "REML": "restricted maximum-likelihood estimator (Viechtbauer, 2005)",
    "ML": "maximum-likelihood estimator",
    "DL": "DerSimonian-Laird estimator (DerSimonian & Laird, 1986)",
    "PM": "Paule-Mandel estimator (Paule & Mandel, 1982)",
    "EB": "empirical Bayes estimator (Morris, 1983)",
    "HS": "Hunter-Schmidt estimator",
    "SJ": "Sidik-Jonkman estimator (Sidik & Jonkman, 2005)",
    "HE": "Hedges estimator (Hedges & Olkin, 1985)",
    "EE": "common-effect (equal-effects) model, without tau\u00b2",
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


def methods_text(options: ReportOptions) -> str:
    """The methods paragraph, in the spirit of metafor's ``reporter()``."""
    o = options
    if o.method == "EE":
        model = "A common-effect (equal-effects) model was fitted to the data."
    else:
        model = (f"A random-effects model was fitted to the data; the amount of heterogeneity (tau\u00b2) was "
                 f"estimated with the {ESTIMATORS.get(o.method, o.method)}, with a Q-profile confidence interval "
                 f"(Viechtbauer, 2007).")
    ci = ("Tests and confidence intervals of the pooled effect use the Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) "
          "adjustment with a t distribution on k - 1 degrees of freedom (Knapp & Hartung, 2003)"
          if o.test == "knha" else "Tests and confidence intervals of the pooled effect are Wald-type (normal "
                                   "distribution)")
    versions = ", ".join(f"{k} {v}" for k, v in software_versions().items())
    return (f"Effects are standardised mean differences (Hedges' g) unless a review's metric says otherwise; every "
            f"effect is signed so that negative values mean less loneliness in the intervention arm. {model} "
            f"{ci}. The Q-test for heterogeneity (Cochran, 1954) and I\u00b2 (Higgins & Thompson, 2002) are "
            f"reported, and a {pct(o.level)} prediction interval for the true effect in a new setting (Riley et al., "
            f"2011). Subgroup differences are tested with Q-between from separate models per subgroup. With at "
            f"least {FUNNEL_MIN_K} effects, funnel-plot asymmetry is tested with Egger's regression test (Egger et "
            f"al., 1997) and trim and fill (Duval & Tweedie, 2000) is shown. n sums the analysed participants of "
            f"the pooled comparisons; a control arm shared by two comparisons is counted twice, and n_unknown in "
            f"results.csv counts the effects without a reported n. Analyses were carried out with {versions}; "
            f"the estimators are tested against R's metafor.")


def section_methods(ctx: ReportContext) -> SectionOutput | None:
    """Methods paragraph and software versions."""
    o = ctx.options
    opts = f"method = {o.method!r}, test = {o.test!r}, level = {o.level:g}"
    effects = f"<p>Effect sizes: {esc(settings_of(ctx.effects).describe())}</p>"
    return SectionOutput("methods", "Methods", f"<p>{esc(methods_text(o))}</p>{effects}<p>Options: {esc(opts)}.</p>")
