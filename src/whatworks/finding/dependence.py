"""Dependence between effects of one trial: the contrast with cluster-robust (CR2) inference and, when
some trial contributes several effects, with a three-level model (effects nested in trials).

Clusters are the trials (``study_id``). With the data's selection rule every trial usually contributes
one effect; the three-level model then cannot separate its two variance components and is not fitted
(the note says so), while CR2 still gives inference that does not rely on the model's variances.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..multilevel import MultilevelResult, fit_three_level
from ..results import _fmt, frame_to_html
from ..robust import robust
from .contrast import (
    CONTRAST_COLUMNS,
    ContrastResult,
    arm_sizes,
    coef_difference,
    contrast_row,
    level_name,
)


@dataclass(frozen=True)
class DependenceResult:
    """Result of :func:`dependence_analysis`.

    Attributes
    ----------
    table : pandas.DataFrame
        Contrast rows (:data:`~whatworks.finding.contrast.CONTRAST_COLUMNS`) with ``inference`` "CR2"
        (robust tests of the mixed-effects models) and, if fitted, "three-level".
    three_level : MultilevelResult or None
        The binary-moderator three-level model, when identifiable.
    n_clusters, k : int
        Trials and effects.
    notes : tuple of str
        What was and was not fitted, and why.
    """

    table: pd.DataFrame = field(repr=False)
    three_level: MultilevelResult | None = field(repr=False)
    n_clusters: int
    k: int
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", self.table.copy())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        cols = ["comparison", "inference", "difference", "ci_low", "ci_high", "df", "pvalue", "verdict"]
        head = f"Dependence: k = {self.k} effects in {self.n_clusters} trials (clusters = study_id)"
        body = self.table[cols].to_string(index=False, float_format=_fmt, na_rep="NA")
        return "\n".join([head, "", body, ""] + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        return f"DependenceResult(k={self.k}, n_clusters={self.n_clusters}, rows={len(self.table)})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.table, f"Contrast with dependence handled (k = {self.k}, {self.n_clusters} trials)")


def dependence_analysis(contrast: ContrastResult, *, cluster: str = "study_id") -> DependenceResult:
    """CR2 inference for the contrasts of ``contrast`` and, if identifiable, a three-level model.

    Parameters
    ----------
    contrast : ContrastResult
        From :func:`whatworks.finding.strategy_contrasts`; its ``rows`` must hold ``cluster``.
    cluster : str
        Column of the trial id.

    Returns
    -------
    DependenceResult

    Raises
    ------
    ValueError
        If the contrast's rows lack ``cluster`` or have a missing cluster id.

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.finding.contrast import strategy_contrasts
    >>> df = pd.DataFrame({"strategy": ["social_cognition"] * 4 + ["social_support"] * 4,
    ...                    "yi": [-0.7, -0.5, -0.9, -0.6, -0.1, 0.0, -0.2, -0.1],
    ...                    "vi": [0.03, 0.04, 0.05, 0.03, 0.03, 0.04, 0.05, 0.02],
    ...                    "study_id": list("abcdefgh")})
    >>> dep = dependence_analysis(strategy_contrasts(df, others=("social_support",)))
    >>> dep.table["inference"].tolist()
    ['CR2', 'CR2']
    """
    rows = contrast.rows
    if cluster not in rows.columns:
        raise ValueError(f"the contrast's rows lack the cluster column {cluster!r}")
    if rows[cluster].isna().any():
        bad = list(np.flatnonzero(rows[cluster].isna().to_numpy()))
        raise ValueError(f"missing cluster id ({cluster!r}) at row positions {bad}")
    ids = rows[cluster].astype(str).to_numpy()
    n_clusters = int(pd.unique(ids).size)
    ref, others = contrast.reference, contrast.others
    k_of, n_of = arm_sizes(rows, (ref, *others))
    notes: list[str] = []
    out = []

    def add(name: str, est: dict | None, k_cmp: int, n_cmp: float) -> None:
        out.append(contrast_row(name, ref, est, k_of[ref], k_cmp, n_of[ref], n_cmp, contrast.delta))

    single = [s for s in (ref, *others) if k_of[s] == 1]
    if contrast.model is not None and single:
        notes.append(f"CR2 per comparison not computed: {', '.join(single)} has a single trial, whose coefficient "
                     "is determined by one cluster (leverage 1), where CR2 is undefined; the combined comparison "
                     "is reported")
    elif contrast.model is not None:
        rr = robust(contrast.model, ids, kind="CR2")
        for s in others:
            if k_of[s] > 0:
                est = coef_difference(rr, contrast.model.names.index(level_name(ref, s)), inference="CR2",
                                      tau2=contrast.model.tau2, k=contrast.model.k)
                add(s, est, k_of[s], n_of[s])
        notes += list(rr.notes)
    name = " + ".join(others)
    k_rest, n_rest = sum(k_of[s] for s in others), float(sum(n_of[s] for s in others))
    if contrast.model_combined is not None:
        rr = robust(contrast.model_combined, ids, kind="CR2")
        add(name, coef_difference(rr, 1, inference="CR2", tau2=contrast.model_combined.tau2,
                                  k=contrast.model_combined.k), k_rest, n_rest)
        notes += [n for n in rr.notes if n not in notes]

    three = None
    if n_clusters == len(ids):
        notes.append(f"every trial contributes one effect (k = {len(ids)} = trials): the three-level model cannot "
                     "separate between- and within-trial variance and equals the two-level model, so it is not "
                     "fitted; CR2 with trials as clusters is reported instead")
    elif contrast.model_combined is not None:
        X = contrast.model_combined.X
        three = fit_three_level(rows["yi"].to_numpy(float), rows["vi"].to_numpy(float), ids, X=X,
                                coef_names=["intrcpt", "comparison"], method="REML", test="t")
        d = coef_difference(three, 1, inference="three-level", tau2=float(np.sum(three.sigma2)), k=len(ids))
        add(name, d, k_rest, n_rest)
        rr = robust(three, ids, kind="CR2")
        add(name, coef_difference(rr, 1, inference="three-level + CR2", tau2=float(np.sum(three.sigma2)),
                                  k=len(ids)), k_rest, n_rest)
    table = pd.DataFrame(out, columns=list(CONTRAST_COLUMNS))
    return DependenceResult(table=table, three_level=three, n_clusters=n_clusters, k=len(ids), notes=tuple(notes))
