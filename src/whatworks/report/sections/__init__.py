"""The report's sections, one module each, in the order of :data:`DEFAULT_SECTIONS`.

A section is a function ``ReportContext -> SectionOutput | None`` (see :mod:`whatworks.report.api`).
The order is the page's: the answer first (bottom line, summary of findings, claims), then the evidence
behind it, the reconciliation with the published reviews, each review, the data, methods and references.
"""

from __future__ import annotations

from ..api import Section
from .bottom_line import section_bottom_line
from .claims import section_claims
from .dataset import section_data
from .differs import section_differs
from .finding import section_finding
from .methods import methods_text, section_methods, section_references, software_versions
from .overlap import section_overlap
from .published import section_published
from .prisma import section_prisma
from .reviews import section_reviews
from .risk_of_bias import section_risk_of_bias
from .strategies import section_strategies
from .summary_of_findings import section_summary_of_findings

#: The sections of the report, in order. Add a section by appending a function ``ReportContext -> SectionOutput``.
DEFAULT_SECTIONS: tuple[Section, ...] = (
    section_bottom_line, section_summary_of_findings, section_claims, section_strategies, section_finding,
    section_risk_of_bias, section_published, section_differs, section_reviews, section_prisma,
    section_overlap, section_data, section_methods, section_references,
)  # fmt: skip

#: Progress words per section (the command line prints them instead of function names).
SECTION_WORDS = {
    "section_bottom_line": "the bottom line",
    "section_summary_of_findings": "the summary of findings",
    "section_claims": "the claims",
    "section_strategies": "the pooled effect of each strategy",
    "section_finding": "the contrast and its sensitivity analyses",
    "section_risk_of_bias": "the risk of bias",
    "section_published": "the published reviews' own contrasts",
    "section_differs": "why this synthesis differs from the published reviews",
    "section_reviews": "each review",
    "section_prisma": "the flow of studies (PRISMA)",
    "section_overlap": "the overlap between reviews",
    "section_data": "the data",
    "section_methods": "the methods",
    "section_references": "the references",
}

__all__ = ["DEFAULT_SECTIONS", "SECTION_WORDS", "methods_text", "section_bottom_line", "section_claims",
           "section_data", "section_differs", "section_finding", "section_methods", "section_overlap",
           "section_prisma", "section_published", "section_references", "section_reviews", "section_risk_of_bias",
           "section_strategies",
           "section_summary_of_findings", "software_versions"]
