"""Pre-post-control designs: Morris's (2008) d_ppc2, and the cluster design effect.

d_ppc2 compares the mean *changes* of two randomised arms, standardised by the pooled *pretest* SD, so
that a baseline gap between the arms is not counted as an effect of the intervention (a post-test-only
SMD counts it). Cluster-randomised trials inflate the sampling variance of any such effect by the design
effect (:func:`design_effect`). Everything here is pure and vectorised like :mod:`whatworks.effects.means`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from whatworks._validation import check_option, check_positive
from whatworks.effects._core import (
    EffectSize,
    _arrays,
    _check_at_least,
    _check_between,
    _check_group_sizes,
    _es,
    _raise_where,
    hedges_correction,
)

__all__ = ["design_effect", "smd_ppc2"]

#: Sampling-variance formulas of :func:`smd_ppc2`.
PPC2_VTYPES = ("MO", "LS")


def smd_ppc2(
    m_post_t: ArrayLike, m_pre_t: ArrayLike, sd_pre_t: ArrayLike, n_t: ArrayLike,
    m_post_c: ArrayLike, m_pre_c: ArrayLike, sd_pre_c: ArrayLike, n_c: ArrayLike,
    r: ArrayLike, *, vtype: str = "MO",
) -> EffectSize:
    """Standardised mean difference of pre-post changes, Morris's (2008) d_ppc2, and its variance.

    ``yi = J(n_t + n_c - 2) * ((m_post_t - m_pre_t) - (m_post_c - m_pre_c)) / SD_pre``, where
    ``SD_pre = sqrt(((n_t - 1) sd_pre_t**2 + (n_c - 1) sd_pre_c**2) / (n_t + n_c - 2))`` is the pooled
    pretest SD (Morris 2008, eq. 8) and ``J`` the exact Hedges correction
    (:func:`~whatworks.effects.hedges_correction`, metafor's ``.cmicalc``; Morris uses its approximation
    ``1 - 3 / (4 (n_t + n_c - 2) - 1)``, which agrees to three decimals at these sizes).

    The sampling variance (``vtype="MO"``, Morris 2008, eq. 25, with the population effect and
    correlation replaced by ``yi`` and ``r``)::

        vi = 2 J**2 (1 - r) (n_t + n_c) / (n_t n_c) * (N - 2) / (N - 4)
             * (1 + yi**2 / (2 (1 - r) (n_t + n_c) / (n_t n_c)))  -  yi**2,      N = n_t + n_c,

    evaluated in the algebraically identical form ``J**2 (N-2)/(N-4) (2 (1-r) (n_t+n_c)/(n_t n_c) + yi**2)
    - yi**2``, which stays finite at ``r = 1``. ``vtype="LS"`` gives the large-sample approximation
    ``2 (1 - r) (1/n_t + 1/n_c) + yi**2 / (2 N)`` that metafor's website uses for the same example
    (https://www.metafor-project.org/doku.php/analyses:morris2008).

    Parameters
    ----------
    m_post_t, m_pre_t, sd_pre_t, n_t : array_like
        Posttest mean, pretest mean, pretest SD (> 0) and size of the treatment arm.
    m_post_c, m_pre_c, sd_pre_c, n_c : array_like
        The same for the control arm. Arm sizes at least 2, and ``n_t + n_c > 4`` for ``vtype="MO"``.
    r : array_like
        Pre-post correlation, in [-1, 1], assumed common to both arms (Morris 2008); see
        :func:`whatworks.data.settings.EffectSettings` for how the data layer chooses it.
    vtype : {"MO", "LS"}, default "MO"
        Morris's exact-moment variance (eq. 25) or the large-sample approximation.

    Returns
    -------
    EffectSize
        ``(yi, vi)``, float arrays of the broadcast shape; positive ``yi`` = the treatment arm's scores
        rose more (or fell less) than the control arm's.

    Raises
    ------
    ValueError
        Non-numeric or non-finite input, pretest SD <= 0, an arm below 2, ``r`` outside [-1, 1],
        ``n_t + n_c <= 4`` with ``vtype="MO"``, an unknown ``vtype``.

    References
    ----------
    Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group designs.
    *Organizational Research Methods*, 11(2), 364-386.
    Becker, B. J. (1988). Synthesizing standardized mean-change measures. *British Journal of
    Mathematical and Statistical Psychology*, 41(2), 257-278.

    Examples
    --------
    The first study of Morris's (2008) Table 5 (Carlson & Schmidt 1999 data); Morris prints
    d_ppc2 = 0.77:

    >>> from whatworks.effects import smd_ppc2
    >>> yi, vi = smd_ppc2(38.5, 30.6, 15.0, 20, 19.7, 23.1, 13.8, 20, r=0.47)
    >>> print(np.round(yi, 4), np.round(vi, 4))
    0.7684 0.1157
    """
    vtype = check_option("vtype", vtype, PPC2_VTYPES)
    m_post_t, m_pre_t, sd_pre_t, n_t, m_post_c, m_pre_c, sd_pre_c, n_c, r = _arrays(
        m_post_t=m_post_t, m_pre_t=m_pre_t, sd_pre_t=sd_pre_t, n_t=n_t,
        m_post_c=m_post_c, m_pre_c=m_pre_c, sd_pre_c=sd_pre_c, n_c=n_c, r=r,
    )
    check_positive("sd_pre_t", sd_pre_t)
    check_positive("sd_pre_c", sd_pre_c)
    _check_group_sizes(n_t, n_c)
    _check_between("r", r, -1, 1)
    total = n_t + n_c
    if vtype == "MO":
        _raise_where(total <= 4, "n_t + n_c must exceed 4 (Morris's variance has (N - 2)/(N - 4))")
    sd_pre = np.sqrt(((n_t - 1) * sd_pre_t**2 + (n_c - 1) * sd_pre_c**2) / (total - 2))
    j = hedges_correction(total - 2)
    yi = j * ((m_post_t - m_pre_t) - (m_post_c - m_pre_c)) / sd_pre
    base = 2 * (1 - r) * total / (n_t * n_c)  # 2 (1 - rho) (n_t + n_c) / (n_t n_c)
    if vtype == "MO":
        vi = j**2 * (total - 2) / (total - 4) * (base + yi**2) - yi**2
    else:
        vi = base + yi**2 / (2 * total)
    return _es(yi, vi)


def design_effect(cluster_size: ArrayLike, icc: ArrayLike) -> np.ndarray:
    """Design effect of a cluster-randomised trial, ``1 + (m - 1) * ICC``.

    Cochrane Handbook (version 6), section 23.1.4 (Higgins, Eldridge & Li): the effective sample size
    of an arm is its size divided by the design effect, with ``m`` the average cluster size and ICC
    the intracluster correlation coefficient; means and SDs stay as reported. Equivalently (section
    23.1.6) the variance of an effect estimated ignoring the clustering is multiplied by it.

    Parameters
    ----------
    cluster_size : array_like
        Average number of participants per cluster, ``m = n / n_clusters`` (>= 1).
    icc : array_like
        Intracluster correlation, in [0, 1].

    Returns
    -------
    numpy.ndarray
        The design effect (>= 1), the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        ``cluster_size < 1`` (more clusters than participants), ``icc`` outside [0, 1], non-finite input.

    Examples
    --------
    12 senior centres with 240 participants in all (m = 20) and ICC = 0.05:

    >>> from whatworks.effects import design_effect
    >>> print(np.round(design_effect(240 / 12, 0.05), 4))
    1.95
    """
    m, icc = _arrays(cluster_size=cluster_size, icc=icc)
    _check_at_least("cluster_size", m, 1, "an average cluster holds at least one participant")
    _check_between("icc", icc, 0, 1)
    return np.asarray(1 + (m - 1) * icc, dtype=float)
