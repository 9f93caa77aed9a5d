"""The report's sections, one module each, in the order of :data:`DEFAULT_SECTIONS`.

A section is a function ``ReportContext -> SectionOutput | None`` (see :mod:`whatworks.report.api`).
"""

from __future__ import annotations

from ..api import Section
from .dataset import section_data
from .finding import section_finding
from .methods import methods_text, section_methods, software_versions
from .overlap import section_overlap
from .prisma import section_prisma
from .reviews import section_reviews
from .risk_of_bias import section_risk_of_bias
from .strategies import section_strategies

#: The sections of the report, in order. Add a section by appending a function ``ReportContext -> SectionOutput``.
DEFAULT_SECTIONS: tuple[Section, ...] = (section_strategies, section_finding, section_risk_of_bias, section_reviews,
                                         section_prisma, section_overlap, section_data, section_methods)

__all__ = ["DEFAULT_SECTIONS", "methods_text", "section_data", "section_finding", "section_methods",
           "section_overlap", "section_prisma", "section_reviews", "section_risk_of_bias", "section_strategies",
           "software_versions"]
