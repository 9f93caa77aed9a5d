"""Distribution functions for inference, from :mod:`scipy.special`.

``scipy.stats`` takes about half a second to import; these few functions are all the statistics
modules need, and ``scipy.special`` is a fraction of that, which keeps ``import whatworks`` fast.
Each mirrors the ``scipy.stats`` method of the same name (``df = inf`` gives the normal limit).
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_sf(x):
    """Upper tail of the standard normal, ``stats.norm.sf``."""
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_cdf(x):
    """``stats.norm.cdf``."""
    return special.ndtr(np.asarray(x, dtype=float))


def norm_ppf(p):
    """``stats.norm.ppf``."""
    return special.ndtri(p)


def t_sf(x, df):
    """Upper tail of Student's t, ``stats.t.sf``."""
    return special.stdtr(df, -np.asarray(x, dtype=float))


def t_ppf(p, df):
    """``stats.t.ppf``."""
    return special.stdtrit(df, p)


def chi2_sf(x, df):
    """``stats.chi2.sf``."""
    return special.chdtrc(df, x)


def chi2_cdf(x, df):
    """``stats.chi2.cdf``."""
    return special.chdtr(df, x)


def chi2_ppf(p, df):
    """``stats.chi2.ppf``: the x with lower-tail probability p."""
    return special.chdtri(df, 1 - np.asarray(p, dtype=float))


def f_sf(x, dfn, dfd):
    """``stats.f.sf``."""
    return special.fdtrc(dfn, dfd, x)


def two_sided_p(stat, df, test: str):
    """Two-sided p-value of a z (``test="z"``) or a t statistic on ``df`` (every other test: "t", "knha",
    "adhoc")."""
    if test != "z":
        return 2 * t_sf(np.abs(stat), df)
    return 2 * norm_sf(np.abs(stat))
