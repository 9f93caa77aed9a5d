"""Effect sizes and their sampling variances, ``(yi, vi)``, computed as metafor's ``escalc()``.

Every function is vectorised: inputs are scalars, sequences, numpy arrays or pandas Series that
broadcast like numpy, and the result is an :class:`EffectSize` named tuple of float arrays, so
``yi, vi = smd(...)`` works. Bad input raises :class:`ValueError` naming the argument, the problem
and the positions (0-based, in the flattened broadcast shape).

Topics: :mod:`~whatworks.effects.means` (SMD, SMCC, SMCR), :mod:`~whatworks.effects.intervals`
(from reported confidence intervals), :mod:`~whatworks.effects.counts` (log OR, log RR from 2x2
tables), :mod:`~whatworks.effects.conversions` (OR <-> SMD, Fisher z), :mod:`~whatworks.effects.prepost`
(Morris's d_ppc2 for pre-post-control designs, the cluster design effect).
"""

from whatworks.effects._core import EffectSize, hedges_correction
from whatworks.effects.conversions import fisher_z, or_to_smd, smd_to_log_or
from whatworks.effects.counts import log_or, log_rr
from whatworks.effects.intervals import log_or_from_ci, md_from_ci, smd_from_md_ci
from whatworks.effects.means import smcc, smcr, smd, smd_from_d, smd_from_f, smd_from_t
from whatworks.effects.prepost import design_effect, smd_ppc2

__all__ = [
    "EffectSize",
    "design_effect",
    "fisher_z",
    "hedges_correction",
    "log_or",
    "log_or_from_ci",
    "log_rr",
    "md_from_ci",
    "or_to_smd",
    "smcc",
    "smcr",
    "smd",
    "smd_from_d",
    "smd_from_f",
    "smd_from_md_ci",
    "smd_from_t",
    "smd_ppc2",
    "smd_to_log_or",
]
