"""PET-PEESE (Stanley & Doucouliagos 2014) and a one-table summary of the small-study adjustments.

PET and PEESE are *unrestricted* weighted least squares regressions (multiplicative heterogeneity, not a
random-effects model): R's ``lm(yi ~ sqrt(vi), weights = 1/vi)`` and ``lm(yi ~ vi, weights = 1/vi)``.
The intercept is the effect of a study with standard error 0. Coefficients come from the engine's
weighted least squares (:func:`whatworks.estimators.wls`); their covariance is scaled by the residual
variance ``sum(w e^2) / (k - 2)`` and the tests use t on k - 2 df, as ``lm``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _dist
from . import _validation as v
from ._shown import Shown
from .estimators import Batch, wls
from .influence import _check_fit
from .results import MetaResult, _fmt

ALTERNATIVES = ("two.sided", "greater", "less")


@dataclass(frozen=True)
class Limit:
    """One WLS regression of :func:`pet_peese`: the intercept (estimate at se = 0) and the slope.

    ``estimate, se, stat, pvalue, ci_low, ci_high`` are the intercept's (t on ``df`` = k - 2, two-sided
    p-value); ``slope, slope_se, slope_pvalue`` the coefficient of sqrt(vi) (PET) or vi (PEESE);
    ``sigma`` the residual standard deviation (multiplicative heterogeneity).
    """

    model: str
    estimate: float
    se: float
    stat: float
    df: int
    pvalue: float
    ci_low: float
    ci_high: float
    slope: float
    slope_se: float
    slope_pvalue: float
    sigma: float


def _wls_limit(yi: np.ndarray, vi: np.ndarray, predictor: np.ndarray, name: str, level: float) -> Limit:
    k = yi.size
    X = np.column_stack([np.ones(k), predictor])
    beta, e, M = wls(Batch.make(yi, vi, X=X), 1 / vi[None, :])
    beta, e, M = beta[0], e[0], M[0]
    df = k - 2
    sigma2 = float(np.sum(e**2 / vi) / df)
    se = np.sqrt(np.diag(M) * sigma2)
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect fit: se = 0, no test (lm warns)
        stat = beta / se
    p = 2 * _dist.t_sf(np.abs(stat), df)
    crit = float(_dist.t_ppf(0.5 + level / 2, df))
    return Limit(name, float(beta[0]), float(se[0]), float(stat[0]), df, float(p[0]), float(beta[0] - crit * se[0]),
                 float(beta[0] + crit * se[0]), float(beta[1]), float(se[1]), float(p[1]), float(np.sqrt(sigma2)))  # fmt: skip


@dataclass(frozen=True, repr=False)
class PetPeeseResult(Shown):
    """Result of :func:`pet_peese`.

    Attributes
    ----------
    pet, peese : Limit
        The two regressions (intercept = estimate at se = 0, with se, t test, CI and p-value).
    chosen : {"PET", "PEESE"}
        The conditional estimator's choice; ``rule`` says why, in words.
    estimate, ci_low, ci_high : float
        The chosen regression's intercept and CI.
    alpha, alternative : float, str
        Level and direction of the test of PET's intercept that decides the choice.
    """

    pet: Limit
    peese: Limit
    chosen: str
    rule: str
    alpha: float
    alternative: str
    k: int
    level: float
    estimate: float = field(init=False)
    ci_low: float = field(init=False)
    ci_high: float = field(init=False)

    def __post_init__(self) -> None:
        pick = self.pet if self.chosen == "PET" else self.peese
        for name in ("estimate", "ci_low", "ci_high"):
            object.__setattr__(self, name, getattr(pick, name))

    def to_frame(self) -> pd.DataFrame:
        """One row per regression (PET, PEESE): model, the intercept's estimate, se, stat, df, pvalue,
        ci_low, ci_high, the slope, its se and p-value, sigma, and ``chosen`` (bool)."""
        rows = [{**vars(r), "chosen": r.model == self.chosen} for r in (self.pet, self.peese)]
        return pd.DataFrame(rows)

    def _title(self) -> str:
        return f"PET-PEESE (k = {self.k}): {self.chosen} chosen, estimate {_fmt(self.estimate)}"

    def _key(self) -> tuple[str, ...]:
        return ("model", "estimate", "ci_low", "ci_high")

    def __repr__(self) -> str:
        return (f"PetPeeseResult(chosen={self.chosen!r}, estimate={_fmt(self.estimate)}, "
                f"ci=[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}])")  # fmt: skip

    def _lines(self) -> list[str]:
        return ["", f"Rule: {self.rule}"]


def pet_peese(fit: MetaResult, *, alpha: float = 0.10, alternative: str = "two.sided") -> PetPeeseResult:
    """PET, PEESE and the conditional PET-PEESE estimator (Stanley & Doucouliagos 2014).

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze` (only its ``yi``, ``vi`` and ``level`` are used) with
        k >= 3 and sampling variances that differ.
    alpha : float
        Level of the test of PET's intercept (H0: no effect once small-study effects are removed).
    alternative : {"two.sided", "greater", "less"}
        Its direction. The default, two-sided at 0.10, is the one-tailed 5% test of Stanley &
        Doucouliagos (2014) and Stanley (2017) in the direction of the effect, as used by Carter et al.
        (2019) and JASP.

    Returns
    -------
    PetPeeseResult
        ``pet``, ``peese``, ``chosen`` ("PEESE" if PET's intercept is significant, else "PET") and the
        ``rule`` in words.

    Examples
    --------
    >>> from whatworks import meta_analyze, pet_peese
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> res = pet_peese(fit)
    >>> res.chosen, res.pet.df
    ('PEESE', 8)
    >>> res.to_frame()["model"].tolist()
    ['PET', 'PEESE']
    """
    fit = _check_fit(fit, 3, "pet_peese", " (the regressions have k - 2 df)")
    alternative = v.check_option("alternative", alternative, ALTERNATIVES)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if np.ptp(fit.vi) == 0:
        raise ValueError("pet_peese needs sampling variances that differ: all vi are equal")
    pet = _wls_limit(fit.yi, fit.vi, np.sqrt(fit.vi), "PET", fit.level)
    peese = _wls_limit(fit.yi, fit.vi, fit.vi, "PEESE", fit.level)
    if alternative == "two.sided":
        p, how = pet.pvalue, "two-sided"
    else:
        p = float(_dist.t_sf(pet.stat if alternative == "greater" else -pet.stat, pet.df))
        how = f"one-sided ({'positive' if alternative == 'greater' else 'negative'} effect)"
    chosen = "PEESE" if p < alpha else "PET"
    verdict = "is" if p < alpha else "is not"
    rule = (f"PET's intercept {verdict} significant ({how} p = {p:.4g} {'<' if p < alpha else '>='} {alpha:g}), "
            f"so the {chosen} estimate is used (conditional PET-PEESE, Stanley & Doucouliagos 2014).")  # fmt: skip
    return PetPeeseResult(pet, peese, chosen, rule, alpha, alternative, fit.k, fit.level)


#: Columns of :func:`small_study_summary`.
SUMMARY_COLUMNS = ("method", "estimate", "ci_low", "ci_high", "pvalue", "k", "estimable", "reason")


def small_study_summary(
    fit: MetaResult,
    *,
    steps: tuple[float, ...] = (0.025,),
    alternative: str | None = None,
    min_k: int = 10,
    alpha: float = 0.10,
) -> pd.DataFrame:
    """The pooled estimate beside its small-study adjustments: 3PSM and PET-PEESE, one row each.

    For a sensitivity table or the publication-bias domain of GRADE: rows "random-effects model" (the
    fit), "3PSM" (:func:`whatworks.selection_model` with ``steps``), "PET", "PEESE" and "PET-PEESE"
    (the conditional choice, :func:`pet_peese`). A method that cannot be used says why instead of
    giving numbers.

    Parameters
    ----------
    fit : MetaResult
        A fit from :func:`whatworks.meta_analyze`.
    steps : tuple of float
        Cutpoints of the step-function selection model (default: the 3PSM, one-sided 0.025).
    alternative : {"greater", "less"}, optional
        Direction of the selection on p-values. Default: the direction of the pooled estimate
        ("less" when it is negative, as for loneliness reductions in this project's data).
    min_k : int
        Fewer effects than this: the adjustments are reported as not estimable. The default 10 follows
        Sterne et al. (2011, BMJ 343:d4002), taken up by the Cochrane Handbook (chapter 13): funnel-plot
        methods only with at least 10 studies; 0 turns the check off.
    alpha : float
        Level of PET-PEESE's two-sided test of PET's intercept.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`; ``estimable`` is False and ``reason`` says why (too few
        studies, an empty p-value interval, a selection parameter at its bound, equal variances) where
        a method gives no usable estimate. NaN where there is no number.

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> from whatworks.smallstudy import small_study_summary
    >>> fit = meta_analyze([0.61, 0.12, 0.83, 0.05, 0.4, 0.71, -0.1, 0.33, 0.52, 0.09],
    ...                    [0.04, 0.02, 0.09, 0.01, 0.03, 0.08, 0.02, 0.05, 0.06, 0.01])
    >>> tab = small_study_summary(fit)
    >>> tab["method"].tolist()
    ['random-effects model', '3PSM', 'PET', 'PEESE', 'PET-PEESE']
    >>> small_study_summary(fit, min_k=20)["reason"].iloc[1]
    'not estimable: k = 10, fewer than 20 studies'
    """
    from .selection import selection_model

    fit = _check_fit(fit, 1, "small_study_summary")
    model = "common-effect model" if fit.method == "EE" else "random-effects model"
    rows = [(model, fit.estimate, fit.ci_low, fit.ci_high, fit.pvalue, True, "")]
    none = (np.nan, np.nan, np.nan, np.nan, False)
    names = ("3PSM", "PET", "PEESE", "PET-PEESE")
    if fit.k < max(min_k, 3):
        why = f"not estimable: k = {fit.k}, fewer than {max(min_k, 3)} studies"
        rows += [(n, *none, why) for n in names]
    else:
        alt = alternative or ("less" if fit.estimate < 0 else "greater")
        try:
            sel = selection_model(fit, "stepfun", steps=steps, alternative=alt)
            bound = [w for w in sel.warnings if "bound" in w and "delta" in w]
            ok = not bound and np.isfinite(sel.se)
            reason = "" if ok else "not estimable: " + (bound[0] if bound else "no standard error")
            rows.append(("3PSM", sel.estimate, sel.ci_low, sel.ci_high, sel.pvalue, ok, reason))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as e:
            rows.append(("3PSM", *none, f"not estimable: {e}"))
        try:
            pp = pet_peese(fit, alpha=alpha)
            for r in (pp.pet, pp.peese):
                rows.append((r.model, r.estimate, r.ci_low, r.ci_high, r.pvalue, True, ""))
            pick = pp.pet if pp.chosen == "PET" else pp.peese
            rows.append(("PET-PEESE", pick.estimate, pick.ci_low, pick.ci_high, pick.pvalue, True, pp.rule))
        except ValueError as e:
            rows += [(n, *none, f"not estimable: {e}") for n in names[1:]]
    frame = pd.DataFrame(rows, columns=[c for c in SUMMARY_COLUMNS if c != "k"])
    frame.insert(5, "k", fit.k)
    return frame
