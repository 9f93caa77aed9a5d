"""Design-specific pieces of the effect computation: pre-post correlation, clustering, baseline balance.

Used by :mod:`whatworks.data.compute` (each row's ``yi``/``vi``) and :mod:`whatworks.data.validate` (the
row rules of the design columns). Rows are the typed dicts of the validator (``None`` = missing).

- **Pre-post correlation** (:func:`prepost_r`): a printed ``r_t``/``r_c`` is used (both printed: their
  mean weighted by arm size, as Hunter & Schmidt pool correlations); otherwise the analysis setting
  :attr:`EffectSettings.prepost_r`.
- **Cluster trials** (:func:`cluster_design`): ``randomisation_unit = cluster`` with ``n_clusters`` gives
  the design effect ``1 + (m - 1) ICC`` with ``m = n / n_clusters`` (Cochrane Handbook v6, 23.1.4), the
  printed ``icc`` or else :attr:`EffectSettings.icc`. Without ``n_clusters`` the row cannot be corrected:
  it is pooled uncorrected, flagged ``cluster_uncorrected`` (a validation warning says so unless the row's
  ``missing`` records that the number of clusters could not be read), and the finding has a sensitivity
  row without such trials.
- **Baseline balance** (:func:`baseline`): Hedges' g of the baseline means (pre means, pre SDs, arm n;
  :func:`whatworks.effects.smd`), signed like ``yi`` (negative = treatment arm less lonely at baseline);
  ``|g| >`` :data:`BASELINE_IMBALANCE` flags the row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import SupportsFloat, cast

from .settings import EffectSettings

Row = Mapping[str, object]  # a typed row (a dict or a whatworks.data.table.RowView)

#: |baseline Hedges' g| above which a row is flagged as baseline-imbalanced.
BASELINE_IMBALANCE = 0.3
#: Inputs of Morris's d_ppc2 (post SDs are not needed).
PPC2_NEEDS = ("m_t", "m_pre_t", "sd_pre_t", "n_treatment", "m_c", "m_pre_c", "sd_pre_c", "n_control")
_BASELINE_NEEDS = ("m_pre_t", "sd_pre_t", "n_treatment", "m_pre_c", "sd_pre_c", "n_control")
#: Statistics that are already an effect with its own uncertainty: clustering inflates their variance
#: (Cochrane Handbook v6, 23.1.6) instead of shrinking the arm sizes (23.1.4).
VARIANCE_INFLATED = ("md_ci", "or_ci", "smcc_diff")


def _num(row: Row, name: str) -> float:
    return float(cast(SupportsFloat, row[name]))


def prepost_r(row: Row, settings: EffectSettings) -> tuple[float, str]:
    """The pre-post correlation for d_ppc2 and how it was chosen (for ``yi_note``)."""
    rt, rc = row.get("r_t"), row.get("r_c")
    if rt is not None and rc is not None:
        nt, nc = row.get("n_treatment"), row.get("n_control")
        if nt is not None and nc is not None:
            w_t, w_c = _num(row, "n_treatment"), _num(row, "n_control")
        else:
            w_t = w_c = 1.0
        r = (w_t * _num(row, "r_t") + w_c * _num(row, "r_c")) / (w_t + w_c)
        return r, f"r = {r:.3g} (printed r_t and r_c, mean weighted by arm n)"
    for name in ("r_t", "r_c"):
        if row.get(name) is not None:
            r = _num(row, name)
            return r, f"r = {r:.3g} (printed {name}, the only arm with a printed r)"
    return settings.prepost_r, f"r = {settings.prepost_r:g} (analysis setting: the source printed no pre-post r)"


@dataclass(frozen=True)
class ClusterDesign:
    """How a row's clustering is handled: ``factor`` (the design effect, 1 = none) and the note."""

    factor: float = 1.0
    note: str = ""
    corrected: bool = False
    uncorrected: bool = False


def _arm_total(row: Row) -> float | None:
    if row.get("n_treatment") is not None and row.get("n_control") is not None:
        return _num(row, "n_treatment") + _num(row, "n_control")
    return _num(row, "n_total") if row.get("n_total") is not None else None


def cluster_design(row: Row, settings: EffectSettings) -> ClusterDesign:
    """The design effect of a cluster-randomised row (``factor = 1`` for individually randomised ones).

    Raises
    ------
    ValueError
        If the row has more clusters than participants (through :func:`whatworks.effects.design_effect`).
    """
    if row.get("randomisation_unit") != "cluster":
        return ClusterDesign()
    k, n = row.get("n_clusters"), _arm_total(row)
    if k is None or n is None:
        what = "n_clusters" if k is None else "the number of participants"
        return ClusterDesign(note=f"cluster-randomised, {what} not reported: not corrected for clustering "
                                  "(its variance is too small)", uncorrected=True)
    from whatworks.effects import design_effect

    m = n / _num(row, "n_clusters")
    if row.get("icc") is not None:
        icc, source = _num(row, "icc"), "as printed"
    else:
        icc, source = settings.icc, "analysis setting: the source printed none"
    factor = float(design_effect(m, icc))
    return ClusterDesign(factor=factor, corrected=True,
                         note=f"cluster-randomised: design effect {factor:.3g} = 1 + ({m:.3g} - 1) x ICC {icc:g} "
                              f"({source}; m = {n:g} participants / {k} clusters)")


def baseline(row: Row) -> tuple[float | None, bool | None]:
    """Baseline Hedges' g (signed like ``yi``; ``None`` if not computable or undirected) and the flag.

    Examples
    --------
    Hernández-Ascanio et al. (2023, as extracted by Meier 2026) start at 6.51 (SD 3.62, n = 63) and 8.38
    (SD 2.49, n = 56) on a scale where higher = lonelier:

    >>> row = dict(m_pre_t=6.51, sd_pre_t=3.62, n_treatment=63, m_pre_c=8.38, sd_pre_c=2.49, n_control=56,
    ...            sign_convention="higher_lonelier")
    >>> g, flag = baseline(row)
    >>> round(g, 2), flag
    (-0.59, True)
    """
    if any(row.get(name) is None for name in _BASELINE_NEEDS):
        return None, None
    from whatworks.effects import smd

    try:
        g = float(smd(_num(row, "m_pre_t"), _num(row, "sd_pre_t"), _num(row, "n_treatment"),
                      _num(row, "m_pre_c"), _num(row, "sd_pre_c"), _num(row, "n_control")).yi)
    except ValueError:  # impossible numbers are reported by the effect computation itself
        return None, None
    if not math.isfinite(g):
        return None, None
    flag = abs(g) > BASELINE_IMBALANCE
    sign = row.get("sign_convention")
    if sign == "higher_less_lonely":
        return -g + 0.0, flag
    if sign == "higher_lonelier":
        return g, flag
    return None, flag


#: :func:`design_problems` reports nothing for a row that is not an F row, not cluster-randomised and has
#: all of these empty (the validator skips such rows: 200,000 rows are checked in a fraction of a second).
DESIGN_COLUMNS = ("n_clusters", "icc", "cluster_unit", "n_randomised")


def design_problems(row: Row) -> list[tuple[str, str, str]]:
    """Row rules of the design columns: ``(column, message, severity)`` for each problem found."""
    out: list[tuple[str, str, str]] = []
    if row.get("stat_type") == "f" and row.get("sign_convention") in ("higher_lonelier", "higher_less_lonely"):
        out.append(("sign_convention", "an F statistic carries no direction: set sign_convention = undirected and "
                    "favours = treatment or control (the arm the source reports as less lonely), or unknown when "
                    "the source does not say (the row is then not pooled)", "error"))
    cluster = row.get("randomisation_unit") == "cluster"
    for name in ("n_clusters", "icc", "cluster_unit"):
        if row.get(name) is not None and not cluster:
            out.append((name, f"{name} is for cluster-randomised trials: set randomisation_unit = cluster, or leave "
                        f"{name} empty", "warning"))
    n = _arm_total(row)
    acknowledged = "clusters" in str(row.get("missing") or "").lower()  # the coder says it could not be read
    if cluster and row.get("n_clusters") is None and not acknowledged:
        out.append(("n_clusters", "cluster-randomised but n_clusters is empty: the effect cannot be corrected for "
                    "clustering and is pooled uncorrected (flagged cluster_uncorrected); code the number of "
                    "clusters from the source, or say in missing that it could not be read", "warning"))
    if cluster and row.get("n_clusters") is not None and n is not None and _num(row, "n_clusters") > n:
        out.append(("n_clusters", f"{row['n_clusters']} clusters but only {n:g} participants", "error"))
    if row.get("n_randomised") is not None and row.get("n_treatment") is not None and row.get("n_control") is not None:
        arms = _num(row, "n_treatment") + _num(row, "n_control")
        if arms > _num(row, "n_randomised"):
            out.append(("n_randomised", f"the arm sizes add up to {arms:g}, more than the {row['n_randomised']} "
                        "randomised: one of them is misread", "warning"))
    return out
