"""whatworks: evidence synthesis for psychosocial interventions.

Meta-analysis whose numbers equal R's metafor, and a coded loneliness-intervention dataset in which
every number is traceable to its source. ``import whatworks`` does not import ``matplotlib.pyplot``.
"""

from .data import DataValidationError, list_reviews, load_pooled, load_reviews, validate
from .finding import FindingResult, run_finding
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
from .baujat import BaujatResult, baujat
from .bias import EggerResult, RankResult, TrimFillResult, egger_test, rank_test, trim_and_fill
from .excess import ExcessResult, excess_significance
from .failsafe import FailSafeResult, fail_safe_n
from .gosh import GoshResult, gosh
from .henmi_copas import HenmiCopasResult, henmi_copas
from .grade import Certainty, CertaintyTable, GradeInput, GradeRules, certainty_table, grade_certainty
from .influence import InfluenceResult, cumulative, influence, leave_one_out
from .model import meta_analyze
from ._validation import UnstableResultWarning
from .multilevel import MultilevelResult, fit_three_level
from .overlap import OverlapResult, review_overlap
from .permutation import PermutationResult, permutation_test
from .regression import RegressionResult, meta_regress
from .results import MetaResult
from .robust import RobustResult, robust
from .selection import SelectionResult, selection_model
from .smallstudy import PetPeeseResult, pet_peese, small_study_summary
from .subgroups import SubgroupResult, by_subgroup

__version__ = "0.1.0"
__all__ = [
    "baujat",
    "BaujatResult",
    "by_subgroup",
    "Certainty",
    "certainty_table",
    "CertaintyTable",
    "cumulative",
    "DataValidationError",
    "EffectSize",
    "egger_test",
    "EggerResult",
    "excess_significance",
    "ExcessResult",
    "fail_safe_n",
    "FailSafeResult",
    "FindingResult",
    "fisher_z",
    "fit_three_level",
    "gosh",
    "GoshResult",
    "grade_certainty",
    "GradeInput",
    "GradeRules",
    "hedges_correction",
    "henmi_copas",
    "HenmiCopasResult",
    "influence",
    "InfluenceResult",
    "leave_one_out",
    "list_reviews",
    "load_pooled",
    "load_reviews",
    "log_or",
    "log_or_from_ci",
    "log_rr",
    "md_from_ci",
    "meta_analyze",
    "meta_regress",
    "MetaResult",
    "MultilevelResult",
    "or_to_smd",
    "OverlapResult",
    "permutation_test",
    "PermutationResult",
    "pet_peese",
    "PetPeeseResult",
    "rank_test",
    "RankResult",
    "RegressionResult",
    "review_overlap",
    "robust",
    "RobustResult",
    "run_finding",
    "selection_model",
    "SelectionResult",
    "small_study_summary",
    "smcc",
    "smcr",
    "smd",
    "smd_from_d",
    "smd_from_f",
    "smd_from_md_ci",
    "smd_from_t",
    "smd_to_log_or",
    "SubgroupResult",
    "trim_and_fill",
    "TrimFillResult",
    "UnstableResultWarning",
    "validate",
    "__version__",
]
