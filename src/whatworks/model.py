"""Random- and common-effect meta-analysis: :func:`meta_analyze`, the one way in.

The statistics follow metafor's ``rma.uni`` (estimate, Wald or Knapp-Hartung inference, Q, I², H²),
``confint.rma.uni`` (Q-profile interval for tau², Viechtbauer 2007) and ``predict.rma`` (prediction
interval). The same vectorised core, :func:`fit_batch`, fits one dataset or many at once (leave-one-out,
bootstrap, permutation), so there is a single fit path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, overload

import numpy as np

from . import _dist
from . import _validation as v
from ._validation import check_effects
from .estimators import METHODS, Batch, fit_tau2, heterogeneity, solve_q, wls_fit
from .results import MetaResult, StudyLabels

if TYPE_CHECKING:  # the three-level module imports this one; imported lazily in meta_analyze
    from .multilevel import MultilevelResult

TESTS = ("z", "t", "knha", "adhoc")
#: Tests with t quantiles on k - p df (metafor 3.8 ``rma.uni``): "t" keeps the model-based SE, "knha" scales
#: it by the Knapp-Hartung factor s2w, "adhoc" by max(1, s2w).
T_TESTS = ("t", "knha", "adhoc")


def fit_batch(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    search: bool = False,
) -> dict[str, np.ndarray]:
    """Fit the model to every dataset of ``batch``; return a dict of arrays, one entry per dataset.

    ``search`` makes REML/ML search the whole likelihood profile of every dataset (see
    :func:`whatworks.estimators.fit_tau2`).

    Keys: ``beta`` (m, p), ``vb`` (m, p, p), ``tau2``, ``se_tau2``, ``iterations``, ``converged``,
    ``q``, ``q_df``, ``q_pvalue``, ``i2``, ``h2``, ``s2w`` (Knapp-Hartung scale, 1 for "z"), ``df``
    (residual df k - p of the t tests; inf for "z"), ``crit`` (quantile for level), ``weights`` (m, k; ``None``
    for the leave-one-out and cumulative layouts, ``Batch.leave_one_out`` / ``Batch.prefixes``),
    ``vt`` (the "typical" within-study variance of I² and H²; NaN for "EE").
    Inputs are assumed valid (see :func:`check_effects`).
    """
    k, p = batch.k, batch.p
    fit = fit_tau2(batch, method, search=search)
    tau2 = fit.tau2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        beta, M, rss = wls_fit(batch, tau2)  # rss: sum w e² at tau2
        # heterogeneity: Q with inverse-variance weights; I² and H² as metafor
        q, trp0 = heterogeneity(batch)
    q_df = k - p
    with np.errstate(divide="ignore", invalid="ignore"):
        q_pvalue = np.where(q_df > 0, _dist.chi2_sf(q, np.maximum(q_df, 1)), 1.0)
        if method == "EE":
            i2 = np.zeros_like(q)
            above = q > q_df  # 100 (Q - df) / Q only there: a subnormal Q would overflow it
            i2[above] = 100 * (q[above] - q_df[above]) / q[above]
            h2 = q / q_df
            s2 = np.full(q.shape, np.nan)
        else:
            s2 = q_df / trp0  # "typical" within-study variance
            i2 = 100 * tau2 / (s2 + tau2)
            h2 = tau2 / s2 + 1

    if test in T_TESTS:
        df = (k - p).astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = np.where(df > 0, rss / df, np.nan) if test != "t" else np.ones(k.shape)
        if test == "adhoc":  # metafor: the Knapp-Hartung factor truncated below at 1
            s2w = np.where(s2w < 1, 1.0, s2w)
        crit = _dist.t_ppf(0.5 + level / 2, np.where(df > 0, df, np.nan))
    else:
        df = np.full(k.shape, np.inf)
        s2w = np.ones(k.shape)
        crit = np.full(k.shape, _dist.norm_ppf(0.5 + level / 2))
    if hasattr(batch, "weights"):  # a dense batch: the study weights; leave-one-out batches have none
        w = batch.weights(tau2)
        weights = 100 * w / w.sum(-1, keepdims=True)
    else:
        weights = None
    return {
        "beta": beta,
        "vb": M * s2w[:, None, None],
        "tau2": tau2,
        "se_tau2": fit.se_tau2,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "q": q,
        "q_df": q_df,
        "q_pvalue": q_pvalue,
        "i2": i2,
        "h2": h2,
        "s2w": s2w,
        "df": df,
        "crit": crit,
        "weights": weights,
        "vt": s2,
    }


def _inside(tau2: float, ci: tuple[float, ...]) -> bool:
    """``tau2`` within ``ci`` up to rounding (NaN bounds: no interval, nothing to check)."""
    lo, hi = ci
    return not (tau2 < lo * (1 - 1e-8) - 1e-12 or tau2 > hi * (1 + 1e-8) + 1e-12)


def tau2_qprofile(batch: Batch, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Q-profile confidence interval for tau² (Viechtbauer 2007), as metafor's ``confint()``.

    Bounds are truncated at zero: when Q(0) is below a critical value the bound is set to 0.
    """
    df = batch.k - batch.p
    alpha = 1 - level
    m = batch.m
    targets = np.concatenate([_dist.chi2_ppf(1 - alpha / 2, df), _dist.chi2_ppf(alpha / 2, df)])
    roots, _ = solve_q(batch.repeat(2), targets)  # both bounds of every dataset in one batch
    return roots[:m], roots[m:]


@overload
def meta_analyze(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = ...,
    test: str = ...,
    level: float = ...,
    labels: Sequence[str] | None = ...,
    cluster: None = ...,
) -> MetaResult: ...


@overload
def meta_analyze(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = ...,
    test: str = ...,
    level: float = ...,
    labels: Sequence[str] | None = ...,
    cluster: Sequence[object] | np.ndarray,
) -> MultilevelResult: ...


def meta_analyze(
    yi: Sequence[float] | np.ndarray,
    vi: Sequence[float] | np.ndarray,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    labels: Sequence[str] | None = None,
    cluster: Sequence[object] | np.ndarray | None = None,
) -> MetaResult | MultilevelResult:
    """Fit a random-effects (or common-effect) meta-analysis, as metafor's ``rma(yi, vi, ...)``.

    Parameters
    ----------
    yi : array_like, shape (k,)
        Effect sizes (e.g. Hedges' g; negative = less lonely in this project's data).
    vi : array_like, shape (k,)
        Sampling variances, strictly positive.
    method : {"REML", "ML", "DL", "PM", "EB", "HS", "SJ", "HE", "EE"}
        tau² estimator, with metafor's spellings; "EE" is the common-effect (equal-effects) model.
    test : {"z", "t", "knha", "adhoc"}
        Inference as metafor 3.8: Wald-type z; "t", the same standard error with a t distribution on
        k - 1 df; "knha", the Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment, which scales the
        variance by ``s2w`` (not truncated) and uses t on k - 1 df; "adhoc", Knapp-Hartung with
        ``s2w`` truncated below at 1 (never narrower than "t").
    level : float
        Confidence level for CI, tau² CI and prediction interval (0.95 or 95).
    labels : sequence of str, optional
        Study labels, kept for tables and plots (not used by the three-level model).
    cluster : sequence, optional
        Cluster id per effect (e.g. the trial). When given, fits the three-level model
        ``rma.mv(yi, vi, random = ~ 1 | cluster/es_id)`` with
        :func:`whatworks.multilevel.fit_three_level` and returns its ``MultilevelResult``; ``method``
        must then be "REML" or "ML" and ``test`` "z" or "t".

    Returns
    -------
    MetaResult or MultilevelResult
        Frozen result with estimate, se, CI, p-value, tau² (with Q-profile CI), I² and H² (with the
        intervals implied by the tau² CI, as metafor's ``confint()``), Q, the prediction interval and
        the study weights (percent); a ``MultilevelResult`` when ``cluster``
        is given.

    Raises
    ------
    ValueError
        For NaN/infinite effects, non-positive variances, unequal lengths, empty or non-numeric input,
        or an unknown option.

    Notes
    -----
    With k = 1 tau² cannot be estimated: it is set to 0, the result is the single study's estimate with
    a z interval, and ``notes`` says so (metafor does the same). When the estimate of tau² is 0 (the
    boundary), the random-effects result equals the common-effect one; ``notes`` says so as well.

    Examples
    --------
    >>> from whatworks import meta_analyze
    >>> res = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07],
    ...                    method="REML", test="knha")
    >>> res.k, round(res.estimate, 3)
    (5, -0.588)
    >>> res.ci_low < res.estimate < res.ci_high
    True
    """
    args = v.align_indexed(yi=yi, vi=vi, labels=labels, cluster=cluster)  # Series pair by index, not position
    yi, vi, labels, cluster = args["yi"], args["vi"], args["labels"], args["cluster"]  # type: ignore[assignment]
    if cluster is not None:  # effects nested in clusters: the three-level model
        from .multilevel import fit_three_level

        return fit_three_level(yi, vi, cluster, method=method, test=test, level=level)
    y, s = check_effects(yi, vi)
    method = v.check_option("method", method, METHODS)
    test = v.check_option("test", test, TESTS)
    level = v.check_level(level)
    k = y.size
    study_labels: Sequence[str] = StudyLabels(k) if labels is None else tuple(str(lab) for lab in labels)
    if len(study_labels) != k:
        raise ValueError(f"labels must have one entry per effect; got {len(study_labels)} labels for k={k}")

    notes: list[str] = []
    fit_method, fit_test = method, test
    if k == 1:
        fit_method, fit_test = "EE", "z"
        notes.append("k = 1: tau2 cannot be estimated and is set to 0; the estimate is the single study's.")
    ratio_note = v.warn_variance_ratio(s)
    if ratio_note:
        notes.append(ratio_note)
    batch = Batch.make(y, s)
    f = fit_batch(batch, method=fit_method, test=fit_test, level=level)
    tau2_ci = (np.nan, np.nan) if fit_method == "EE" or k == 1 else tuple(float(b[0]) for b in tau2_qprofile(batch, level))
    if fit_method in ("REML", "ML") and not _inside(float(f["tau2"][0]), tau2_ci):
        # a likelihood maximum outside its own Q-profile CI is suspect: search the whole profile
        f = fit_batch(batch, method=fit_method, test=fit_test, level=level, search=True)
        if not _inside(float(f["tau2"][0]), tau2_ci):
            notes.append(f"tau2 lies outside its Q-profile confidence interval [{tau2_ci[0]:.4g}, {tau2_ci[1]:.4g}]; "
                         "it is the highest likelihood found on a grid of tau2 values")
    estimate = float(f["beta"][0, 0])
    se = float(np.sqrt(f["vb"][0, 0, 0]))
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 only for degenerate knha data
        stat = float(np.float64(estimate) / se)
    df = float(f["df"][0])
    crit = float(f["crit"][0])
    pvalue = float(_dist.two_sided_p(stat, df, fit_test))
    tau2 = float(f["tau2"][0])
    if not (fit_method == "EE" or k == 1):
        if tau2 == 0:
            notes.append("tau2 is estimated at its boundary 0: the random-effects fit equals the common-effect fit.")
    vt = float(f["vt"][0])  # I² and H² bounds from the tau² bounds (metafor confint.rma.uni)
    i2_ci = tuple(100 * t / (vt + t) for t in tau2_ci)
    h2_ci = tuple(t / vt + 1 for t in tau2_ci)
    half_pi = crit * np.sqrt(se**2 + tau2)
    if not bool(f["converged"][0]):  # pragma: no cover - the Brent fallback always converges
        notes.append("the tau2 estimator did not converge")
    return MetaResult(
        k=k,
        estimate=estimate,
        se=se,
        stat=stat,
        pvalue=pvalue,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        tau2=tau2,
        se_tau2=float(f["se_tau2"][0]),
        tau2_ci_low=tau2_ci[0],
        tau2_ci_high=tau2_ci[1],
        i2=float(f["i2"][0]) if k > 1 else 0.0,  # metafor: I2 = 0, H2 = 1 when k = 1
        h2=float(f["h2"][0]) if k > 1 else 1.0,
        i2_ci_low=i2_ci[0],
        i2_ci_high=i2_ci[1],
        h2_ci_low=h2_ci[0],
        h2_ci_high=h2_ci[1],
        q=float(f["q"][0]),
        q_df=int(f["q_df"][0]),
        q_pvalue=float(f["q_pvalue"][0]),
        pi_low=estimate - half_pi,
        pi_high=estimate + half_pi,
        df=df,
        weights=f["weights"][0],
        yi=y,
        vi=s,
        labels=study_labels,
        method=method,
        test=test,
        level=level,
        iterations=int(f["iterations"][0]),
        converged=bool(f["converged"][0]),
        notes=tuple(notes),
    )
