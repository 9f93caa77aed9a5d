"""Citations on the page: review ids as linked short citations, method references, and the reference list.

A :class:`References` is made from the catalogue (``list_reviews()``: ``citation`` and ``url`` of every
``review.toml``); sections cite reviews (:meth:`References.cite`) and methods (:meth:`References.method`)
as they write, and the last section lists everything cited, linked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd

#: Method references: key -> (short citation, full reference, link).
METHODS = {
    "altman2003": ("Altman & Bland 2003", "Altman DG, Bland JM (2003). Interaction revisited: the difference "
                   "between two estimates. BMJ 326:219.", "https://doi.org/10.1136/bmj.326.7382.219"),
    "cochran1954": ("Cochran 1954", "Cochran WG (1954). The combination of estimates from different experiments. "
                    "Biometrics 10:101-129.", "https://doi.org/10.2307/3001666"),
    "cohen1988": ("Cohen 1988", "Cohen J (1988). Statistical power analysis for the behavioral sciences, 2nd ed. "
                  "Hillsdale, NJ: Lawrence Erlbaum.", ""),
    "dersimonian1986": ("DerSimonian & Laird 1986", "DerSimonian R, Laird N (1986). Meta-analysis in clinical "
                        "trials. Control Clin Trials 7:177-188.", "https://doi.org/10.1016/0197-2456(86)90046-2"),
    "duval2000": ("Duval & Tweedie 2000", "Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based "
                  "method of testing and adjusting for publication bias in meta-analysis. Biometrics 56:455-463.",
                  "https://doi.org/10.1111/j.0006-341X.2000.00455.x"),
    "egger1997": ("Egger et al. 1997", "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis "
                  "detected by a simple, graphical test. BMJ 315:629-634.", "https://doi.org/10.1136/bmj.315.7109.629"),
    "fusarpoli2018": ("Fusar-Poli & Radua 2018", "Fusar-Poli P, Radua J (2018). Ten simple rules for conducting "
                      "umbrella reviews. Evid Based Ment Health 21:95-100.",
                      "https://doi.org/10.1136/ebmental-2018-300014"),
    "guyatt2008": ("Guyatt et al. 2008", "Guyatt GH, Oxman AD, Vist GE, et al. (2008). GRADE: an emerging consensus "
                   "on rating quality of evidence and strength of recommendations. BMJ 336:924-926.",
                   "https://doi.org/10.1136/bmj.39489.470347.AD"),
    "higgins2002": ("Higgins & Thompson 2002", "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a "
                    "meta-analysis. Stat Med 21:1539-1558.", "https://doi.org/10.1002/sim.1186"),
    "inthout2016": ("IntHout et al. 2016", "IntHout J, Ioannidis JPA, Rovers MM, Goeman JJ (2016). Plea for "
                    "routinely presenting prediction intervals in meta-analysis. BMJ Open 6:e010247.",
                    "https://doi.org/10.1136/bmjopen-2015-010247"),
    "ioannidis2009": ("Ioannidis 2009", "Ioannidis JPA (2009). Integration of evidence from multiple meta-analyses: "
                      "a primer on umbrella reviews, treatment networks and multiple treatments meta-analyses. "
                      "CMAJ 181:488-493.", "https://doi.org/10.1503/cmaj.081086"),
    "knapp2003": ("Knapp & Hartung 2003", "Knapp G, Hartung J (2003). Improved tests for a random effects "
                  "meta-regression with a single covariate. Stat Med 22:2693-2710.", "https://doi.org/10.1002/sim.1482"),
    "paule1982": ("Paule & Mandel 1982", "Paule RC, Mandel J (1982). Consensus values and weighting factors. "
                  "J Res Natl Bur Stand 87:377-385.", "https://doi.org/10.6028/jres.087.022"),
    "pieper2014": ("Pieper et al. 2014", "Pieper D, Antoine SL, Mathes T, Neugebauer EAM, Eikermann M (2014). "
                   "Systematic review finds overlapping reviews were not mentioned in every other overview. "
                   "J Clin Epidemiol 67:368-375.", "https://doi.org/10.1016/j.jclinepi.2013.11.007"),
    "pustejovsky2018": ("Pustejovsky & Tipton 2018", "Pustejovsky JE, Tipton E (2018). Small-sample methods for "
                        "cluster-robust variance estimation and hypothesis testing in fixed effects models. "
                        "J Bus Econ Stat 36:672-683.", "https://doi.org/10.1080/07350015.2016.1247004"),
    "riley2011": ("Riley et al. 2011", "Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects "
                  "meta-analyses. BMJ 342:d549.", "https://doi.org/10.1136/bmj.d549"),
    "sterne2011": ("Sterne et al. 2011", "Sterne JAC, Sutton AJ, Ioannidis JPA, et al. (2011). Recommendations for "
                   "examining and interpreting funnel plot asymmetry in meta-analyses of randomised controlled trials. "
                   "BMJ 343:d4002.", "https://doi.org/10.1136/bmj.d4002"),
    "viechtbauer2005": ("Viechtbauer 2005", "Viechtbauer W (2005). Bias and efficiency of meta-analytic variance "
                        "estimators in the random-effects model. J Educ Behav Stat 30:261-293.",
                        "https://doi.org/10.3102/10769986030003261"),
    "viechtbauer2007": ("Viechtbauer 2007", "Viechtbauer W (2007). Confidence intervals for the amount of "
                        "heterogeneity in meta-analysis. Stat Med 26:37-52.", "https://doi.org/10.1002/sim.2514"),
    "viechtbauer2010": ("Viechtbauer 2010", "Viechtbauer W (2010). Conducting meta-analyses in R with the metafor "
                        "package. J Stat Softw 36(3):1-48.", "https://doi.org/10.18637/jss.v036.i03"),
    "viechtbauer2010b": ("Viechtbauer & Cheung 2010", "Viechtbauer W, Cheung MWL (2010). Outlier and influence "
                         "diagnostics for meta-analysis. Res Synth Methods 1:112-125.", "https://doi.org/10.1002/jrsm.11"),
}


def _year(review: str, citation: str) -> str:
    m = re.search(r"(19|20)\d\d$", review) or re.search(r"\b(19|20)\d\d\b", citation)
    return m.group(0) if m else ""


def short_citation(review: str, citation: object, kind: object = None) -> str:
    """``"Fu et al. 2022"`` from a ``review.toml`` citation (first author's surname, the year of the id);
    the review id when the citation names no author."""
    if kind == "living":
        return "whatworks living review"
    text = "" if citation is None or (not isinstance(citation, str) and pd.isna(citation)) else str(citation)
    m = re.match(r"\s*([A-Z][A-Za-zÀ-ÿ'\-]+(?: [a-z]{1,3} [A-Z][A-Za-zÀ-ÿ'\-]+)?)[ ,]", text)
    if not m or m.group(1).lower() in ("authors", "author", "title"):
        return review
    year = _year(review, text)
    return f"{m.group(1)} et al. {year}".strip()


@dataclass
class References:
    """Citations of one report: reviews from the catalogue, method references, and what was cited."""

    reviews: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> (short, full, url)
    dois: dict[str, str] = field(default_factory=dict)  # id -> doi
    cited_reviews: list[str] = field(default_factory=list)
    cited_methods: list[str] = field(default_factory=list)

    @classmethod
    def from_catalogue(cls, catalogue: pd.DataFrame) -> References:
        out, dois = {}, {}
        for r in catalogue.itertuples():
            doi = getattr(r, "doi", None)
            if isinstance(doi, str) and doi.startswith("10."):
                dois[str(r.review)] = doi
            citation = r.citation if isinstance(r.citation, str) else ""
            url = r.url if isinstance(r.url, str) and r.url.startswith(("http://", "https://")) else ""
            out[str(r.review)] = (short_citation(str(r.review), citation, getattr(r, "kind", None)),
                                  citation or str(r.review), url)
        return cls(reviews=out, dois=dois)

    def known(self, review: str) -> bool:
        return review in self.reviews

    def short(self, review: str) -> str:
        """The short citation in plain text (the id if unknown)."""
        return self.reviews[review][0] if review in self.reviews else review

    def cite(self, review: str) -> str:
        """HTML: the short citation linking to its entry in the reference list; records the citation."""
        if review not in self.reviews:
            return html.escape(review)
        if review not in self.cited_reviews:
            self.cited_reviews.append(review)
        return f'<a href="#ref-{html.escape(review)}">{html.escape(self.reviews[review][0])}</a>'

    def method(self, key: str) -> str:
        """HTML: a method reference's short citation linking to the reference list; records it."""
        if key not in self.cited_methods:
            self.cited_methods.append(key)
        return f'<a href="#ref-{key}">{html.escape(METHODS[key][0])}</a>'

    def reference_list(self) -> str:
        """HTML of every cited reference: methods first, then reviews (with links to the sources)."""
        def item(key: str, full: str, url: str) -> str:
            links = []
            if key in self.dois:
                doi = html.escape(self.dois[key])
                links.append(f'<a href="https://doi.org/{doi}">doi:{doi}</a>')
            if url:
                what = "source read: " if key in self.reviews else ""
                links.append(f'{what}<a href="{html.escape(url)}">{html.escape(url)}</a>')
            return f'<li id="ref-{html.escape(key)}">{html.escape(full)} {"; ".join(links)}</li>'

        methods = sorted(self.cited_methods, key=lambda k: METHODS[k][1])
        reviews = sorted(self.cited_reviews, key=lambda r: self.reviews[r][1].lower())
        parts = []
        if methods:
            parts += ["<h3>Methods</h3>", '<ol class="refs">',
                      *(item(k, METHODS[k][1], METHODS[k][2]) for k in methods), "</ol>"]
        if reviews:
            parts += ["<h3>Reviews and data sources</h3>", '<ol class="refs">',
                      *(item(r, self.reviews[r][1], self.reviews[r][2]) for r in reviews), "</ol>"]
        return "\n".join(parts)
