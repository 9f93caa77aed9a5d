"""Overlap between reviews: citation matrix and corrected covered area (CCA).

The formula is Pieper D, Antoine SL, Mathes T, Neugebauer EAM, Eikermann M. Systematic review finds
overlapping reviews were not mentioned in every other overview. J Clin Epidemiol 2014;67(4):368-375,
doi:10.1016/j.jclinepi.2013.11.007:  CCA = (N - r) / (r c - r), N = inclusions (ticks of the citation
matrix), r = distinct primary studies (rows), c = reviews (columns). The expected numbers below are
worked out by hand from that formula, next to each assertion; exact arithmetic, so exact comparisons.
"""

from __future__ import annotations

import pandas as pd
import pytest

from whatworks.overlap import OverlapResult, cca, review_overlap

#  citation matrix of the example      A  B  C
#                                 s1   x  .  .
#                                 s2   x  x  .
#                                 s3   x  x  x
#                                 s4   .  x  .
#                                 s5   .  .  x
# N = 3 + 3 + 2 = 8 ticks, r = 5 studies, c = 3 reviews.
EXAMPLE = pd.DataFrame({
    "review": ["A", "A", "A", "B", "B", "B", "C", "C", "A", "B"],
    # the last two rows are a second effect of s1 in A and of s4 in B: still one inclusion each
    "study_id": ["s1", "s2", "s3", "s2", "s3", "s4", "s3", "s5", "s1", "s4"],
})  # fmt: skip


def test_hand_worked_example():
    res = review_overlap(EXAMPLE)
    assert (res.n_inclusions, res.n_studies, res.n_reviews) == (8, 5, 3)
    assert res.cca == 100 * (8 - 5) / (5 * 3 - 5) == 30.0  # 3 / 10
    assert res.overlap == "very high"  # > 15 %
    m = res.citation_matrix
    assert list(m.columns) == ["A", "B", "C"] and list(m.index) == ["s1", "s2", "s3", "s4", "s5"]
    assert m.to_numpy().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1], [0, 1, 0], [0, 0, 1]]


def test_pairwise_cca():
    # pair (A, B): N = 3 + 3 = 6, r = |{s1, s2, s3, s4}| = 4 -> (6 - 4) / (4 * 2 - 4) = 2/4 = 50 %
    # pair (A, C): N = 3 + 2 = 5, r = |{s1, s2, s3, s5}| = 4 -> 1/4 = 25 %; likewise (B, C)
    pw = review_overlap(EXAMPLE).pairwise.set_index(["review_a", "review_b"])
    assert pw.loc[("A", "B"), "cca"] == 50.0 and pw.loc[("A", "B"), "n_shared"] == 2
    assert pw.loc[("A", "C"), "cca"] == 25.0 and pw.loc[("B", "C"), "cca"] == 25.0
    assert (pw["n_shared"] / pw["n_union"] * 100 == pw["cca"]).all()  # c = 2: shared / union


def test_no_and_full_overlap():
    disjoint = pd.DataFrame({"review": ["A", "A", "B"], "study_id": ["s1", "s2", "s3"]})
    assert review_overlap(disjoint).cca == 0.0  # N = r = 3
    same = pd.DataFrame({"review": ["A", "A", "B", "B"], "study_id": ["s1", "s2", "s1", "s2"]})
    assert review_overlap(same).cca == 100.0  # N = 4, r = 2, c = 2: 2 / 2


def test_pieper_categories():
    assert [OverlapResult.overlap.fget(_Fake(x)) for x in (0, 5, 5.5, 10, 12, 15, 15.1)] == [
        "slight", "slight", "moderate", "moderate", "high", "high", "very high"]  # fmt: skip


class _Fake:
    def __init__(self, cca: float) -> None:
        self.cca = cca


def test_study_frame_and_display():
    res = review_overlap(EXAMPLE.rename(columns={"review": "rev", "study_id": "trial"}), review="rev", study="trial")
    sf = res.study_frame()
    assert sf.set_index("study").loc["s3", "n_reviews"] == 3
    assert sf.set_index("study").loc["s2", "reviews"] == "A, B"
    assert res.to_frame().iloc[0].to_dict() == {"n_reviews": 3, "n_studies": 5, "n_inclusions": 8, "cca": 30.0,
                                                "overlap": "very high"}  # fmt: skip
    assert "CCA = 30.00%" in res.summary() and repr(res).startswith("OverlapResult(n_reviews=3")
    assert "<table" in res._repr_html_()


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        ([1, 2], {}, "DataFrame"),
        (EXAMPLE, {"study": "trial"}, "study column 'trial' not in the frame"),
        (EXAMPLE.assign(study_id=[None] + list(EXAMPLE.study_id[1:])), {}, r"missing ids at position \[0\]"),
        (EXAMPLE[EXAMPLE.review == "A"], {}, "at least two reviews"),
    ],
)
def test_bad_input_names_the_problem(frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        review_overlap(frame, **kwargs)


def test_cca_function():
    assert cca(8, 5, 3) == 30.0
    with pytest.raises(ValueError, match="two reviews"):
        cca(3, 3, 1)
