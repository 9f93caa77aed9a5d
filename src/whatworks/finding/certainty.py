"""GRADE certainty of the finding's outcomes: each strategy against control, and the central contrast.

Builds one :class:`whatworks.grade.GradeInput` per outcome from the finding's fits and rows (risk of
bias from the rows' ``rob_overall``, weights from the fit, borderline codings, Egger's test, small-study
adjusted estimates when given) and grades them with :func:`whatworks.grade.certainty_table`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..bias import egger_test
from ..data.schema import STRATEGY_LABELS
from ..grade import CertaintyTable, GradeInput, GradeRules, certainty_table
from ..regression import RegressionResult
from ..results import MetaResult
from .contrast import ContrastResult, precision_model
from .select import MASI_STRATEGIES
from .strategies import StrategyPooling

#: Small-study adjusted estimates per outcome key: (method, estimate, ci_low, ci_high).
Adjusted = Mapping[str, Sequence[tuple[str, float, float, float]]]


#: The small-study adjustment GRADE's publication-bias domain reads (PET-PEESE is shown in the sensitivity
#: table but not used here: its interval is uninformative with few trials and it is biased under
#: heterogeneity, Carter et al. 2019).
GRADE_ADJUSTMENT = "3PSM"


def selection_adjusted(small_study: Mapping[str, pd.DataFrame]) -> dict[str, list[tuple[str, float, float, float]]]:
    """The estimable :data:`GRADE_ADJUSTMENT` rows of each strategy's ``small_study_summary``, as
    ``assess_certainty(adjusted=...)`` takes them."""
    out: dict[str, list[tuple[str, float, float, float]]] = {}
    for strategy, table in small_study.items():
        r = table[(table["method"] == GRADE_ADJUSTMENT) & table["estimable"].astype(bool)]
        out[strategy] = [(GRADE_ADJUSTMENT, float(x.estimate), float(x.ci_low), float(x.ci_high))
                         for x in r.itertuples()]
    return out


def words(strategy: str) -> str:
    """A strategy in words (``social_access`` -> "Opportunities for social contact")."""
    return STRATEGY_LABELS.get(strategy, strategy.replace("_", " "))


def _trial_inputs(rows: pd.DataFrame, tau2: float) -> dict[str, object]:
    """Per-trial risk of bias, weights and borderline flags of ``rows``, aligned."""
    vi = rows["vi"].to_numpy(float)
    weights = 1 / (vi + (tau2 if np.isfinite(tau2) else 0.0))
    rob = (rows["rob_overall"].fillna("not_assessed").astype(str).tolist() if "rob_overall" in rows.columns
           else ["not_assessed"] * len(rows))
    border = (rows["borderline"].fillna(False).astype(bool).tolist() if "borderline" in rows.columns
              else [False] * len(rows))
    randomised = bool((rows["design"] == "rct").all()) if "design" in rows.columns else True
    return dict(rob=rob, weights=weights.tolist(), borderline=border, randomised=randomised)


def _egger_p(fit: MetaResult, rules: GradeRules) -> float:
    """Egger's test p (metafor ``regtest``) with at least ``min_k_bias`` trials, else NaN."""
    if fit.k < rules.min_k_bias:
        return float("nan")
    try:
        return float(egger_test(fit).pvalue)
    except ValueError:  # e.g. all sampling variances equal: no test
        return float("nan")


def _contrast_egger_p(contrast: ContrastResult, rules: GradeRules,
                      precision: RegressionResult | None = None) -> float:
    """Egger's test on the contrast model (the sqrt(vi) slope of :func:`precision_model`, metafor's
    ``regtest`` of a model with moderators) with at least ``min_k_bias`` trials, else NaN."""
    if len(contrast.rows) < rules.min_k_bias:
        return float("nan")
    fit = precision if precision is not None else precision_model(contrast)[0]
    return float("nan") if fit is None else float(np.asarray(fit.pvalue)[fit.names.index("_sei")])


def strategy_evidence(rows: pd.DataFrame, fit: MetaResult, strategy: str, n: float, *,
                      adjusted: Sequence[tuple[str, float, float, float]] = (),
                      rules: GradeRules | None = None) -> GradeInput:
    """The GRADE input of one strategy against control, from its rows and its fit."""
    r = rules or GradeRules()
    return GradeInput(outcome=f"{words(strategy)} vs control", intervention=words(strategy), k=fit.k, n=n,
                      estimate=fit.estimate, ci_low=fit.ci_low, ci_high=fit.ci_high, pi_low=fit.pi_low,
                      pi_high=fit.pi_high, i2=fit.i2 if fit.k > 1 else float("nan"),
                      egger_p=_egger_p(fit, r), adjusted=tuple(adjusted),
                      **_trial_inputs(rows, fit.tau2))  # type: ignore[arg-type]


def contrast_evidence(contrast: ContrastResult, *, adjusted: Sequence[tuple[str, float, float, float]] = (),
                      rules: GradeRules | None = None, precision: RegressionResult | None = None
                      ) -> GradeInput | None:
    """The GRADE input of the combined contrast (reference vs the others), or ``None`` when not estimated."""
    model = contrast.model_combined
    if model is None:
        return None
    row = contrast.combined()
    table = contrast.table.iloc[:-1].set_index("comparison")  # one row per comparison strategy (not the combined)
    with_trials = [s for s in contrast.others if s in table.index and int(table.loc[s, "k_comparison"]) > 0]
    others = [words(s).lower() for s in with_trials or contrast.others]
    comparison = ", ".join(others[:-1]) + " or " + others[-1] if len(others) > 1 else others[0]
    return GradeInput(outcome=f"{words(contrast.reference)} vs {comparison} (difference in g)",
                      intervention=words(contrast.reference), comparison=comparison, k=int(model.k),
                      n=float(row["n_reference"] + row["n_comparison"]), estimate=float(row["difference"]),
                      ci_low=float(row["ci_low"]), ci_high=float(row["ci_high"]), i2=float(model.i2),
                      indirect_comparison=True, adjusted=tuple(adjusted),
                      egger_p=_contrast_egger_p(contrast, rules or GradeRules(), precision),
                      **_trial_inputs(contrast.rows, float(model.tau2)))  # type: ignore[arg-type]


def assess_certainty(
    primary: pd.DataFrame,
    pooling: StrategyPooling,
    contrast: ContrastResult,
    *,
    adjusted: Adjusted | None = None,
    rules: GradeRules | None = None,
    expected: Sequence[str] = MASI_STRATEGIES,
    precision: RegressionResult | None = None,
) -> CertaintyTable:
    """GRADE every strategy with at least one trial and the central contrast.

    Parameters
    ----------
    primary : pandas.DataFrame
        The rows of the primary analysis (with ``rob_overall`` when risk of bias was assessed).
    pooling : StrategyPooling
        Per-strategy fits of those rows.
    contrast : ContrastResult
        The reference strategy against the others.
    adjusted : mapping, optional
        Small-study adjusted estimates per strategy name and ``"contrast"``.
    rules : GradeRules, optional
    expected : sequence of str
        Strategies the question is about: those without any trial are listed as "no evidence".
    precision : RegressionResult, optional
        :func:`whatworks.finding.contrast.precision_model` of ``contrast`` (fitted here when absent).

    Returns
    -------
    CertaintyTable
        The contrast first, then the strategies in the pooling's order.

    Examples
    --------
    >>> from whatworks import load_reviews
    >>> from whatworks.finding import primary_frame, pool_strategies, strategy_contrasts
    >>> prim = primary_frame(load_reviews())
    >>> table = assess_certainty(prim, pool_strategies(prim), strategy_contrasts(prim))
    >>> set(table.to_frame()["certainty"]) <= {"high", "moderate", "low", "very low", "no evidence"}
    True
    """
    adjusted = adjusted or {}
    r = rules or GradeRules()
    evidence = []
    main = contrast_evidence(contrast, adjusted=adjusted.get("contrast", ()), rules=r, precision=precision)
    if main is not None:
        evidence.append(main)
    for s, fit in pooling.fits.items():
        rows = primary[primary["strategy"] == s]
        if len(rows) != fit.k:  # defensive: the fit was made from exactly these rows
            raise ValueError(f"strategy {s!r}: {len(rows)} rows but the fit has k = {fit.k}")
        evidence.append(strategy_evidence(rows, fit, s, float(pooling.n[s]) if pooling.n_missing[s] < fit.k
                                          else float("nan"), adjusted=adjusted.get(s, ()), rules=r))
    absent = [f"{words(s)} vs control" for s in expected if s not in pooling.fits]
    return certainty_table(evidence, r, no_evidence=absent)
