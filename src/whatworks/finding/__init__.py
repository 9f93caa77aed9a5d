"""The finding (issue 5): do interventions on negative thoughts beat support, contact and skills?

From coded effects to a verdict, all computed from the data: :func:`primary_frame` (which rows),
:func:`pool_strategies` (pooled g per strategy), :func:`strategy_contrasts` (mixed-effects
meta-regression with social_cognition as reference, and the verdict), :func:`dependence_analysis`
(CR2 / three-level), :func:`sensitivity_analyses`, :func:`claims_table` (C1-C5 with grades) and
:func:`compare_published`; :func:`run_finding` runs them all. :func:`published_contrasts` computes the
published reviews' own contrasts from their printed numbers. Methods: ``docs/methods.md``.
"""

from .claims import CLAIM_COLUMNS, CLAIMS, ClaimsResult, claims_table
from .compare import ComparisonResult, compare_published
from .contrast import ContrastResult, effect_verdict, strategy_contrasts, verdict
from .dependence import DependenceResult, dependence_analysis
from .grading import GRADES, THRESHOLDS, grade
from .published import PublishedContrasts, published_contrasts
from .run import FindingResult, run_finding
from .select import primary_frame, selection_table
from .sensitivity import SensitivityResult, sensitivity_analyses
from .strategies import StrategyPooling, pool_strategies

__all__ = [
    "CLAIMS",
    "CLAIM_COLUMNS",
    "ClaimsResult",
    "ComparisonResult",
    "ContrastResult",
    "DependenceResult",
    "FindingResult",
    "GRADES",
    "PublishedContrasts",
    "SensitivityResult",
    "StrategyPooling",
    "THRESHOLDS",
    "claims_table",
    "compare_published",
    "dependence_analysis",
    "effect_verdict",
    "grade",
    "pool_strategies",
    "primary_frame",
    "published_contrasts",
    "run_finding",
    "selection_table",
    "sensitivity_analyses",
    "strategy_contrasts",
    "verdict",
]
