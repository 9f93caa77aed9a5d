"""whatworks: evidence synthesis for psychosocial interventions.

Meta-analysis whose numbers equal R's metafor, and a coded loneliness-intervention dataset in which
every number is traceable to its source. ``import whatworks`` does not import ``matplotlib.pyplot``.
"""

from .data import DataValidationError, list_reviews, load_pooled, load_reviews, validate
from .effects import (
    EffectSize,
    fisher_z,
    hedges_correction,
    log_or,
    log_or_from_ci,
    log_rr,
    md_from_ci,
    or_to_smd,
    smcc,
    smcr,
    smd,
    smd_from_d,
    smd_from_f,
    smd_from_md_ci,
    smd_from_t,
    smd_to_log_or,
)
from .model import meta_analyze
from .results import MetaResult

__version__ = "0.1.0"
__all__ = [
    "DataValidationError",
    "EffectSize",
    "MetaResult",
    "__version__",
    "fisher_z",
    "hedges_correction",
    "list_reviews",
    "load_pooled",
    "load_reviews",
    "log_or",
    "log_or_from_ci",
    "log_rr",
    "md_from_ci",
    "meta_analyze",
    "or_to_smd",
    "smcc",
    "smcr",
    "smd",
    "smd_from_d",
    "smd_from_f",
    "smd_from_md_ci",
    "smd_from_t",
    "smd_to_log_or",
    "validate",
]
