"""One call for the whole finding: :func:`run_finding` -> :class:`FindingResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..data.recompute import recompute_effects, settings_of
from ..data.settings import EffectSettings
from ..grade import CertaintyTable
from ..results import frame_to_html
from ..smallstudy import small_study_summary
from .certainty import assess_certainty, selection_adjusted
from .claims import ClaimsResult, claims_table
from .compare import ComparisonResult, compare_published
from .contrast import DELTA, ContrastResult, precision_model, strategy_contrasts
from .dependence import DependenceResult, dependence_analysis
from .outliers import OutlierResult, strategy_outliers
from .select import MASI_STRATEGIES, primary_frame, selection_table
from .sensitivity import SensitivityResult, sensitivity_analyses
from .strategies import StrategyPooling, pool_strategies


@dataclass(frozen=True)
class FindingResult:
    """Everything the finding computes (all from the data passed to :func:`run_finding`).

    Attributes
    ----------
    primary : pandas.DataFrame
        The rows of the primary analysis. selection : every input row with why it is in or out.
    pooling : StrategyPooling
        Pooled g per strategy (``pooling.subgroups`` feeds the stratified forest plot).
    contrast : ContrastResult
        social_cognition vs support, access, skills and all three (mixed-effects meta-regression).
    dependence : DependenceResult
        The contrast with CR2 inference (trials as clusters) and, if identifiable, a three-level model.
    sensitivity : SensitivityResult
    claims : ClaimsResult
    comparison : ComparisonResult or None
        Ours vs published (``None`` without published results).
    outliers : OutlierResult
        Studentised residuals, Cook's distance and influence flags per trial of each strategy (k >= 3).
    certainty : CertaintyTable
        GRADE certainty of the contrast and of each strategy against control (the summary of findings).
    verdict : str
        The verdict on the central claim (C1). headline : str, the same in a sentence with its numbers.
    settings : EffectSettings
        The effect-size settings of the primary analysis (``settings.describe()`` for a methods text).
    """

    primary: pd.DataFrame = field(repr=False)
    selection: pd.DataFrame = field(repr=False)
    pooling: StrategyPooling = field(repr=False)
    contrast: ContrastResult = field(repr=False)
    dependence: DependenceResult = field(repr=False)
    sensitivity: SensitivityResult = field(repr=False)
    claims: ClaimsResult = field(repr=False)
    comparison: ComparisonResult | None = field(repr=False)
    certainty: CertaintyTable | None = field(default=None, repr=False)
    outliers: OutlierResult | None = field(default=None, repr=False)
    verdict: str = ""
    headline: str = ""
    method: str = "REML"
    test: str = "knha"
    settings: EffectSettings = field(default_factory=EffectSettings)

    def to_frame(self) -> pd.DataFrame:
        """The claims table (``claims.csv``)."""
        return self.claims.to_frame()

    def summary(self) -> str:
        """The headline, then per-strategy pooling, contrasts, dependence, sensitivity and claims."""
        parts = [self.headline, self.pooling.summary(), self.contrast.summary(), self.dependence.summary(),
                 self.sensitivity.summary(), self.claims.summary()]
        if self.certainty is not None:
            parts.insert(1, self.certainty.summary())
        if self.outliers is not None:
            parts.insert(-2, self.outliers.summary())
        return "\n\n".join(parts)

    def __repr__(self) -> str:
        return f"FindingResult(verdict={self.verdict!r}, k={len(self.primary)}, method={self.method!r}, test={self.test!r})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.claims.to_frame(), self.headline)


def headline(contrast: ContrastResult) -> str:
    """The verdict on C1 in one sentence with the numbers that decide it."""
    r = contrast.combined()
    if r["verdict"] == "cannot be tested":
        return f"C1 cannot be tested: {r['reason']}."
    return (f"C1 ({contrast.reference} reduces loneliness more than {r['comparison']}): {r['verdict'].upper()}. "
            f"Difference in Hedges' g {r['difference']:.2f}, 95% CI [{r['ci_low']:.2f}, {r['ci_high']:.2f}], "
            f"p = {r['pvalue']:.3f} ({contrast.method} + {contrast.test}; k = {r['k_reference']} vs "
            f"{r['k_comparison']} trials). {_first_upper(r['reason'].split(': ', 1)[-1])}.")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def run_finding(
    frame: pd.DataFrame,
    pooled: pd.DataFrame | None = None,
    *,
    catalogue: pd.DataFrame | None = None,
    method: str = "REML",
    test: str = "knha",
    reference: str = "social_cognition",
    others: tuple[str, ...] = MASI_STRATEGIES[1:],
    delta: float = DELTA,
    settings: EffectSettings | None = None,
) -> FindingResult:
    """Run the whole finding on a collection: primary selection, pooling, contrast, dependence,
    sensitivity, claims and the comparison with published reviews.

    Parameters
    ----------
    frame : pandas.DataFrame
        All coded effects, from :func:`whatworks.data.load_reviews` (``root=`` for your own collection).
    pooled : pandas.DataFrame, optional
        Published pooled results, from :func:`whatworks.data.load_pooled`.
    catalogue : pandas.DataFrame, optional
        :func:`whatworks.data.list_reviews`, for review titles in the comparison.
    method, test : str
        tau² estimator and inference (metafor's spellings; default REML + Knapp-Hartung).
    reference, others : str, tuple of str
        The strategy claimed to work best and those it is compared with.
    delta : float
        Smallest meaningful difference in g for the verdict.
    settings : EffectSettings, optional
        Effect-size settings (assumed pre-post correlation, ICC). Default: those ``frame`` was loaded
        with; other settings recompute the effects first (:func:`whatworks.data.recompute_effects`).

    Returns
    -------
    FindingResult

    Examples
    --------
    >>> from whatworks.data import load_reviews, load_pooled
    >>> res = run_finding(load_reviews(), load_pooled())
    >>> res.verdict in ("supported", "not supported", "inconclusive", "cannot be tested")
    True
    """
    loaded = settings_of(frame)
    if settings is not None and settings != loaded:
        frame = recompute_effects(frame, settings)
    settings = settings if settings is not None else loaded
    primary = primary_frame(frame)
    selection = selection_table(frame)
    pooling = pool_strategies(primary, method=method, test=test)
    contrast = strategy_contrasts(primary, reference=reference, others=others, method=method, test=test, delta=delta)
    dependence = dependence_analysis(contrast)
    outliers = strategy_outliers(primary, pooling)
    small = {s: small_study_summary(fit) for s, fit in pooling.fits.items()}
    precision = precision_model(contrast)[0]  # read by the sensitivity table and GRADE's publication bias
    sensitivity = sensitivity_analyses(primary, reviews=frame, pooling=pooling, contrast=contrast, dependence=dependence.table,
                                       reference=reference, others=others, method=method, test=test, delta=delta,
                                       settings=settings, flagged=outliers.flagged["study_id"].tolist(),
                                       small_study=small, precision=precision)
    claims = claims_table(primary, contrast, reviews=frame, method=method, test=test)
    certainty = assess_certainty(primary, pooling, contrast, adjusted=selection_adjusted(small), precision=precision)
    comparison = None
    if pooled is not None:
        comparison = compare_published(pooling, pooled, reviews=frame, catalogue=catalogue, primary=primary)
    return FindingResult(primary=primary, selection=selection, pooling=pooling, contrast=contrast,
                         dependence=dependence, sensitivity=sensitivity, claims=claims, comparison=comparison,
                         certainty=certainty, outliers=outliers,
                         verdict=str(contrast.combined()["verdict"]), headline=headline(contrast), method=method,
                         test=test, settings=settings)
