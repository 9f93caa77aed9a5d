"""The contrast itself: social_cognition against support, access and skills, as mixed-effects
meta-regression, and the verdict rule that turns its interval into words.

Differences are reported as ``g(reference) - g(comparison)``: with negative = less lonely, a negative
difference means the reference strategy (social_cognition) reduces loneliness more. This is minus the
meta-regression coefficient of the comparison level in ``rma(yi, vi, mods = ~ relevel(factor(strategy),
"social_cognition"))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..regression import RegressionResult, meta_regress
from ..results import _fmt, frame_to_html
from .select import MASI_STRATEGIES, total_n

if TYPE_CHECKING:  # pragma: no cover
    from ..results import MultilevelResult
    from ..robust import RobustResult

#: The three verdicts of a directional claim, plus the one for a comparison without data.
VERDICTS = ("supported", "not supported", "inconclusive", "cannot be tested")

#: Smallest difference in Hedges' g taken as meaningful (Cohen's "small" effect), see docs/methods.md.
DELTA = 0.2

#: The factor model and the binary model, patsy formulas (``_comparison`` = 1 for a non-reference row).
FACTOR_FORMULA = "~ C(strategy, Treatment({reference}))"
COMBINED_FORMULA = "~ _comparison"

#: Columns of :meth:`ContrastResult.to_frame`.
CONTRAST_COLUMNS = (
    "comparison", "reference", "k_reference", "k_comparison", "n_reference", "n_comparison", "k",
    "difference", "se", "ci_low", "ci_high", "pvalue", "df", "tau2", "inference", "verdict", "reason",
)  # fmt: skip


def verdict(
    difference: float,
    ci_low: float,
    ci_high: float,
    *,
    k_reference: int,
    k_comparison: int,
    delta: float = DELTA,
    min_k: int = 2,
) -> tuple[str, str]:
    """Verdict on "the reference reduces loneliness more than the comparison", from the difference's CI.

    The difference is ``g(reference) - g(comparison)`` (negative favours the reference).

    - ``"cannot be tested"``: an arm has fewer than ``min_k`` trials (none, or one trial whose effect
      is not a pooled one).
    - ``"inconclusive"``: the CI includes both 0 and an advantage of the reference of at least ``delta``.
    - ``"supported"``: the CI lies entirely below 0.
    - ``"not supported"``: the CI excludes an advantage of ``delta`` or more (``ci_low > -delta``): the
      difference is null, small, or in the other direction.

    Parameters
    ----------
    difference, ci_low, ci_high : float
        Estimated difference and its confidence interval.
    k_reference, k_comparison : int
        Trials in each arm.
    delta : float
        Smallest meaningful difference in g (default 0.2).
    min_k : int
        Minimum trials per arm for a verdict other than "cannot be tested".

    Returns
    -------
    (str, str)
        The verdict and the reason, in words with the deciding numbers.

    Examples
    --------
    >>> verdict(-0.4, -0.7, -0.1, k_reference=10, k_comparison=8)[0]
    'supported'
    >>> verdict(0.05, -0.1, 0.2, k_reference=10, k_comparison=8)[0]
    'not supported'
    >>> verdict(-0.3, -0.9, 0.3, k_reference=10, k_comparison=8)[0]
    'inconclusive'
    """
    if min(k_reference, k_comparison) < min_k:
        what = "no trials" if min(k_reference, k_comparison) == 0 else "too few trials"
        return "cannot be tested", f"{what}: k = {k_reference} vs {k_comparison} (need {min_k} per arm)"
    ci = f"difference {difference:.2f} [{ci_low:.2f}, {ci_high:.2f}]"
    case = _decide(ci_low, ci_high, delta)
    return _VERDICT[case], ci + ": " + {
        "na": "interval not estimable",
        "below": "the whole CI favours the reference (below 0)",
        "above": "the CI lies above 0 (the comparison does better)",
        "small": f"the CI excludes an advantage of {delta:g} or more for the reference",
        "wide": f"the CI includes no difference (0) and an advantage of the reference of {delta:g} or more",
    }[case]


_VERDICT = {"na": "inconclusive", "below": "supported", "above": "not supported", "small": "not supported",
            "wide": "inconclusive"}


def _decide(ci_low: float, ci_high: float, delta: float) -> str:
    """Where the CI lies: "below" 0, "above" 0, "small" (excludes -delta), "wide" (includes 0 and -delta)."""
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return "na"
    if ci_high < 0:
        return "below"
    if ci_low > 0:
        return "above"
    return "small" if ci_low > -delta else "wide"


def effect_verdict(estimate: float, ci_low: float, ci_high: float, *, k: int, delta: float = DELTA,
                   min_k: int = 2) -> tuple[str, str]:
    """Verdict on "the intervention reduces loneliness" (negative g) from a pooled estimate's CI.

    The rule of :func:`verdict` with the estimate in place of the difference: "supported" if the CI
    lies below 0, "not supported" if it excludes a benefit of ``delta`` or more, "cannot be tested"
    with fewer than ``min_k`` trials, otherwise "inconclusive".

    Examples
    --------
    >>> effect_verdict(-0.3, -0.5, -0.1, k=6)[0]
    'supported'
    >>> effect_verdict(-0.3, -0.5, -0.1, k=1)[0]
    'cannot be tested'
    """
    if k < min_k:
        return "cannot be tested", f"{'no trials' if k == 0 else 'too few trials'}: k = {k} (need {min_k})"
    ci = f"g {estimate:.2f} [{ci_low:.2f}, {ci_high:.2f}]"
    case = _decide(ci_low, ci_high, delta)
    return _VERDICT[case], ci + ": " + {
        "na": "interval not estimable",
        "below": "the whole CI lies below 0 (less lonely after the intervention)",
        "above": "the CI lies above 0 (lonelier after the intervention)",
        "small": f"the CI excludes a benefit of {delta:g} or more",
        "wide": f"the CI includes no effect (0) and a benefit of {delta:g} or more",
    }[case]


@dataclass(frozen=True)
class ContrastResult:
    """Result of :func:`strategy_contrasts`: one row per comparison, the fitted models, the verdicts.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`; one row per comparison strategy, then the combined one.
    model : RegressionResult or None
        ``rma(yi, vi, mods = ~ relevel(factor(strategy), reference))`` on the rows of the compared strategies.
    model_combined : RegressionResult or None
        ``rma(yi, vi, mods = ~ I(strategy != reference))``: reference vs the others together.
    reference : str
    others : tuple of str
    delta : float
    rows : pandas.DataFrame
        The rows both models were fitted to, in model order (for clusters and leave-one-out).
    """

    table: pd.DataFrame = field(repr=False)
    model: RegressionResult | None = field(repr=False)
    model_combined: RegressionResult | None = field(repr=False)
    reference: str
    others: tuple[str, ...]
    delta: float = DELTA
    method: str = "REML"
    test: str = "knha"
    rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())
        object.__setattr__(self, "rows", self.rows.copy())

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`table`."""
        return self.table.copy()

    def combined(self) -> pd.Series:
        """The row of the combined comparison (reference vs all others together)."""
        return self.table.iloc[-1]

    def summary(self) -> str:
        """Plain-text table with the verdicts and their reasons."""
        cols = ["comparison", "k_reference", "k_comparison", "difference", "ci_low", "ci_high", "pvalue", "verdict"]
        lines = [
            f"Difference in g: {self.reference} minus comparison (negative = {self.reference} reduces loneliness more); "
            f"mixed-effects meta-regression, {self.method}, test = {self.test!r}; meaningful difference {self.delta:g}",
            "",
            self.table[cols].to_string(index=False, float_format=_fmt, na_rep="NA"),
            "",
        ]
        lines += [f"{r.comparison}: {r.verdict} - {r.reason}" for r in self.table.itertuples()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        r = self.combined()
        return (f"ContrastResult(reference={self.reference!r}, combined difference={_fmt(r.difference, 3)} "
                f"[{_fmt(r.ci_low, 3)}, {_fmt(r.ci_high, 3)}], verdict={r.verdict!r})")

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, f"{self.reference} vs other strategies ({self.method}, {self.test})")


def coef_difference(fit: RegressionResult | RobustResult | MultilevelResult, j: int, *, inference: str, tau2: float,
                    k: int) -> dict:
    """The difference ``g(reference) - g(comparison)`` = minus coefficient ``j`` of a fit with moderators,
    whose ``coef``, ``se``, ``ci_low``, ``ci_high``, ``pvalue`` (per coefficient) and ``df`` (scalar or per
    coefficient) are read."""
    df = np.asarray(fit.df, dtype=float)
    # a MultilevelResult types its fields as float | ndarray (float for the intercept-only model only)
    se, ci_low, ci_high, pvalue = (np.asarray(a) for a in (fit.se, fit.ci_low, fit.ci_high, fit.pvalue))
    return dict(difference=-float(fit.coef[j]), se=float(se[j]), ci_low=-float(ci_high[j]),
                ci_high=-float(ci_low[j]), pvalue=float(pvalue[j]),
                df=float(df[j] if df.ndim else df), tau2=tau2, k=k, inference=inference)


def arm_sizes(rows: pd.DataFrame, strategies: tuple[str, ...]) -> tuple[dict[str, int], dict[str, float]]:
    """Trials (k) and participants (n; rows without a reported n add nothing) per strategy of ``rows``."""
    strat = rows["strategy"].astype(str).to_numpy()
    n_row = total_n(rows)
    return ({s: int((strat == s).sum()) for s in strategies},
            {s: float(np.nansum(n_row[strat == s])) for s in strategies})


def contrast_row(name: str, reference: str, est: dict | None, k_ref: int, k_cmp: int, n_ref: float, n_cmp: float,
                 delta: float = DELTA, min_k: int = 2) -> dict:
    """One row of :data:`CONTRAST_COLUMNS` with its verdict (``est`` from :func:`coef_difference`)."""
    if est is None:
        est = dict(difference=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan, pvalue=np.nan, df=np.nan,
                   tau2=np.nan, k=k_ref + k_cmp, inference="")
    v, why = verdict(est["difference"], est["ci_low"], est["ci_high"], k_reference=k_ref, k_comparison=k_cmp,
                     delta=delta, min_k=min_k)
    return dict(comparison=name, reference=reference, k_reference=k_ref, k_comparison=k_cmp, n_reference=n_ref,
                n_comparison=n_cmp, **est, verdict=v, reason=why)


def strategy_contrasts(
    frame: pd.DataFrame,
    *,
    reference: str = "social_cognition",
    others: tuple[str, ...] = MASI_STRATEGIES[1:],
    method: str = "REML",
    test: str = "knha",
    level: float = 0.95,
    delta: float = DELTA,
    min_k: int = 2,
) -> ContrastResult:
    """Mixed-effects meta-regression of the reference strategy against each other and against all together.

    Only rows whose ``strategy`` is the reference or one of ``others`` enter the models (so the residual
    tau² is that of the compared strategies). Two models are fitted: the factor model
    ``~ C(strategy, Treatment(reference))`` (one difference per comparison strategy) and the binary model
    ``~ I(strategy != reference)`` (the reference against the others combined).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``strategy``, ``yi``, ``vi`` (and optionally n columns), e.g. the primary frame.
    reference : str
        The strategy claimed to work best.
    others : tuple of str
        The strategies it is compared with.
    method, test, level
        As in :func:`whatworks.regression.meta_regress`.
    delta, min_k
        Passed to :func:`verdict`.

    Returns
    -------
    ContrastResult

    Raises
    ------
    ValueError
        If ``frame`` lacks a needed column or ``others`` is empty or contains ``reference``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"strategy": ["social_cognition"] * 4 + ["social_support"] * 4,
    ...                    "yi": [-0.7, -0.5, -0.9, -0.6, -0.1, 0.0, -0.2, -0.1],
    ...                    "vi": [0.03, 0.04, 0.05, 0.03, 0.03, 0.04, 0.05, 0.02]})
    >>> res = strategy_contrasts(df, others=("social_support",))
    >>> res.combined()["verdict"]
    'supported'
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("strategy", "yi", "vi") if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}")
    others = tuple(others)
    if not others or reference in others:
        raise ValueError(f"others must be non-empty and must not contain the reference {reference!r}; got {others}")
    data = frame.loc[frame["strategy"].isin([reference, *others]).fillna(False).to_numpy(dtype=bool)]
    data = data.dropna(subset=["yi", "vi"]).reset_index(drop=True)
    k_of, n_of = arm_sizes(data, (reference, *others))
    present = [s for s in others if k_of[s] > 0]

    model = combined = None
    if k_of[reference] > 0 and present and len(data) > 1 + len(present):
        model = meta_regress(data, FACTOR_FORMULA.format(reference=repr(reference)), method=method, test=test, level=level)
    if k_of[reference] > 0 and present and len(data) > 2:
        combined = meta_regress(with_indicator(data, reference), COMBINED_FORMULA, method=method, test=test, level=level)

    rows = []
    for s in others:
        est = None
        if model is not None and k_of[s] > 0:
            j = model.names.index(level_name(reference, s))
            est = coef_difference(model, j, inference=test, tau2=model.tau2, k=model.k)
        rows.append(contrast_row(s, reference, est, k_of[reference], k_of[s], n_of[reference], n_of[s], delta, min_k))
    est = None if combined is None else coef_difference(combined, 1, inference=test, tau2=combined.tau2, k=combined.k)
    rows.append(contrast_row(" + ".join(others), reference, est, k_of[reference], sum(k_of[s] for s in others),
                             n_of[reference], float(sum(n_of[s] for s in others)), delta, min_k))
    table = pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))
    return ContrastResult(table=table, model=model, model_combined=combined, reference=reference, others=others,
                          delta=delta, method=method, test=test, rows=data)


def with_indicator(rows: pd.DataFrame, reference: str) -> pd.DataFrame:
    """``rows`` with ``_comparison`` = 1 for a row of a comparison strategy, 0 for the reference."""
    return rows.assign(_comparison=(rows["strategy"].astype(str) != reference).to_numpy(dtype=float))


#: The contrast model with the standard error as a moderator (Egger's test of a model with moderators).
PRECISION_FORMULA = "~ _comparison + _sei"


def precision_model(contrast: ContrastResult) -> tuple[RegressionResult | None, str]:
    """``rma(yi, vi, mods = ~ comparison + sqrt(vi))`` on the contrast's rows, and why not when it cannot be
    fitted (no combined model, equal sampling variances).

    Its ``_sei`` coefficient is Egger's test of the contrast model (metafor ``regtest``); its
    ``_comparison`` coefficient is minus the difference expected between trials of equal precision.
    """
    rows = contrast.rows
    if contrast.model_combined is None:
        return None, "no contrast model"
    vi = rows["vi"].to_numpy(float)
    if np.ptp(vi) == 0:
        return None, "all sampling variances are equal"
    data = with_indicator(rows, contrast.reference).assign(_sei=np.sqrt(vi))
    try:
        return meta_regress(data, PRECISION_FORMULA, method=contrast.method, test=contrast.test), ""
    except ValueError as e:
        return None, str(e)


def level_name(reference: str, level: str) -> str:
    """patsy's name of the coefficient of ``level`` in ``~ C(strategy, Treatment(reference))``."""
    return f"C(strategy, Treatment({reference!r}))[T.{level}]"
