"""Overlap of primary studies between reviews: citation matrix and corrected covered area (CCA).

The corrected covered area of Pieper et al. (2014) is ``CCA = (N - r) / (r c - r)``, in percent, where
``N`` is the number of inclusions (ticks of the citation matrix, a study counted once per review that
includes it), ``r`` the number of distinct primary studies (rows) and ``c`` the number of reviews
(columns). Pairwise CCA applies the same formula to two reviews (c = 2), where it reduces to
``shared / union``. Pieper et al. read 0-5 % as slight, over 5-10 % as moderate, over 10-15 % as high
and over 15 % as very high overlap.

Reference: Pieper D, Antoine SL, Mathes T, Neugebauer EAM, Eikermann M. Systematic review finds
overlapping reviews were not mentioned in every other overview. J Clin Epidemiol 2014;67(4):368-375.
doi:10.1016/j.jclinepi.2013.11.007
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import pandas as pd

from . import _validation as v
from .results import _fmt, frame_to_html

__all__ = ["review_overlap", "OverlapResult", "cca"]


def cca(n_inclusions: int, n_studies: int, n_reviews: int) -> float:
    """Corrected covered area in percent: ``100 (N - r) / (r c - r)`` (Pieper et al. 2014).

    Examples
    --------
    >>> cca(8, 5, 3)
    30.0
    """
    if n_reviews < 2 or n_studies < 1:
        raise ValueError(f"CCA needs at least two reviews and one study; got c={n_reviews}, r={n_studies}")
    return 100.0 * (n_inclusions - n_studies) / (n_studies * n_reviews - n_studies)


def _category(x: float) -> str:
    return "slight" if x <= 5 else "moderate" if x <= 10 else "high" if x <= 15 else "very high"


@dataclass(frozen=True)
class OverlapResult:
    """Result of :func:`review_overlap`.

    Attributes
    ----------
    citation_matrix : pandas.DataFrame
        One row per primary study (sorted ids), one column per review (sorted), 1 when the review
        includes the study, else 0.
    n_inclusions, n_studies, n_reviews : int
        N (sum of the matrix), r (rows) and c (columns).
    cca : float
        Corrected covered area, percent. ``overlap`` is Pieper et al.'s reading of it.
    pairwise : pandas.DataFrame
        One row per pair of reviews: review_a, review_b, n_a, n_b, n_shared, n_union, cca (percent).
    """

    citation_matrix: pd.DataFrame = field(repr=False)
    n_inclusions: int
    n_studies: int
    n_reviews: int
    cca: float
    pairwise: pd.DataFrame = field(repr=False)

    @property
    def overlap(self) -> str:
        """"slight" (<= 5 %), "moderate" (<= 10 %), "high" (<= 15 %) or "very high" (Pieper et al. 2014)."""
        return _category(self.cca)

    def to_frame(self) -> pd.DataFrame:
        """One row: n_reviews, n_studies, n_inclusions, cca (percent), overlap."""
        return pd.DataFrame([{
            "n_reviews": self.n_reviews, "n_studies": self.n_studies, "n_inclusions": self.n_inclusions,
            "cca": self.cca, "overlap": self.overlap}])  # fmt: skip

    def study_frame(self) -> pd.DataFrame:
        """One row per primary study: study, n_reviews (how many reviews include it), reviews."""
        m = self.citation_matrix
        return pd.DataFrame({
            "study": m.index.to_list(), "n_reviews": m.sum(axis=1).to_numpy(),
            "reviews": [", ".join(m.columns[row.astype(bool)]) for row in m.to_numpy()]})  # fmt: skip

    def summary(self) -> str:
        """Plain text: overall CCA and the pairwise table."""
        lines = [
            f"Overlap of {self.n_reviews} reviews: {self.n_studies} distinct studies, "
            f"{self.n_inclusions} inclusions; CCA = {_fmt(self.cca, 2)}% ({self.overlap})",
            "",
            self.pairwise.to_string(index=False, float_format=lambda x: _fmt(x, 2)),
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"OverlapResult(n_reviews={self.n_reviews}, n_studies={self.n_studies}, "
                f"n_inclusions={self.n_inclusions}, cca={_fmt(self.cca, 2)}%)")  # fmt: skip

    def _repr_html_(self) -> str:
        head = frame_to_html(self.to_frame(), "Overlap between reviews (corrected covered area)",
                             [self.summary().splitlines()[0]])
        return head + frame_to_html(self.pairwise, "Pairs of reviews")


def review_overlap(frame: pd.DataFrame, *, review: str = "review", study: str = "study_id") -> OverlapResult:
    """Which primary studies appear in which reviews, and the corrected covered area (CCA).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per effect (or per inclusion); several rows of the same study in the same review
        count as one inclusion.
    review, study : str
        Columns holding the review id and the canonical study id (the dataset's ``review`` and
        ``study_id``).

    Returns
    -------
    OverlapResult
        Citation matrix, N, r, c, CCA (percent) and the pairwise CCA of every pair of reviews.

    Raises
    ------
    ValueError
        ``frame`` not a DataFrame, a missing column, missing review or study ids (positions named),
        or fewer than two reviews.

    Examples
    --------
    >>> import pandas as pd
    >>> from whatworks.overlap import review_overlap
    >>> df = pd.DataFrame({"review": ["A", "A", "A", "B", "B", "B", "C", "C"],
    ...                    "study_id": ["s1", "s2", "s3", "s2", "s3", "s4", "s3", "s5"]})
    >>> res = review_overlap(df)
    >>> res.n_inclusions, res.n_studies, res.n_reviews, res.cca
    (8, 5, 3, 30.0)
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    for col, what in ((review, "review"), (study, "study")):
        if col not in frame.columns:
            raise ValueError(f"{what} column {col!r} not in the frame; available columns: {list(frame.columns)}")
        missing = pd.isna(frame[col]).to_numpy()
        if missing.any():
            raise ValueError(f"{what} column {col!r} has missing ids at {v.positions(missing)}")
    pairs = frame[[review, study]].astype(str).drop_duplicates()
    m = pd.crosstab(pairs[study], pairs[review]).clip(upper=1).astype(int)
    m = m.sort_index().sort_index(axis=1)
    m.index.name, m.columns.name = "study", "review"
    n, r, c = int(m.to_numpy().sum()), m.shape[0], m.shape[1]
    if c < 2:
        raise ValueError(f"overlap needs at least two reviews; found {c}: {list(m.columns)}")
    rows = []
    for a, b in combinations(m.columns, 2):
        ia, ib = m[a].to_numpy().astype(bool), m[b].to_numpy().astype(bool)
        union = int((ia | ib).sum())
        rows.append({"review_a": a, "review_b": b, "n_a": int(ia.sum()), "n_b": int(ib.sum()),
                     "n_shared": int((ia & ib).sum()), "n_union": union,
                     "cca": cca(int(ia.sum() + ib.sum()), union, 2)})  # fmt: skip
    return OverlapResult(
        citation_matrix=m,
        n_inclusions=n,
        n_studies=r,
        n_reviews=c,
        cca=cca(n, r, c),
        pairwise=pd.DataFrame(rows, columns=["review_a", "review_b", "n_a", "n_b", "n_shared", "n_union", "cca"]),
    )
