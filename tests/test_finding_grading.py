"""Credibility classes (whatworks.finding.grading); thresholds from Fusar-Poli & Radua 2018, Evid Based
Ment Health 21:95-100, Table 1 (n > 1000; p < 1e-6 / 1e-3 / 0.05; I² < 50 %; PI excluding the null;
no small-study effects; largest study significant)."""

import numpy as np
import pytest

from whatworks.finding import THRESHOLDS, grade
from whatworks.finding.grading import largest_trial_significant

STRONG = dict(n=5000, pvalue=1e-8, i2=20.0, pi_excludes_null=True, small_study=False, largest_significant=True)


def test_thresholds_as_published():
    assert THRESHOLDS == {"n": 1000, "p_strong": 1e-6, "p_suggestive": 1e-3, "p_weak": 0.05, "i2": 50.0,
                          "egger_p": 0.10, "largest_p": 0.05}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, "I"),
    ({"i2": 50.0}, "II"), ({"pi_excludes_null": False}, "II"), ({"small_study": True}, "II"),
    ({"small_study": None}, "II"),  # not assessed counts as not met
    ({"largest_significant": False}, "III"), ({"pvalue": 1e-6}, "III"), ({"pvalue": 9.9e-4}, "III"),
    ({"pvalue": 1e-3}, "IV"), ({"n": 1000}, "IV"), ({"n": np.nan}, "IV"), ({"pvalue": 0.049}, "IV"),
    ({"pvalue": 0.05}, "NS"), ({"pvalue": 0.7, "n": 10}, "NS"),
])
def test_grade_boundaries(change, expected):
    g, reason = grade(**{**STRONG, **change})
    assert g == expected
    assert reason


def test_grade_rejects_bad_pvalue():
    with pytest.raises(ValueError, match="pvalue"):
        grade(n=10, pvalue=1.5)


def test_largest_trial():
    assert largest_trial_significant([-0.5, 0.0], [0.01, 0.01], [100, 50]) is True
    assert largest_trial_significant([-0.5, 0.0], [0.01, 0.01], [50, 100]) is False
    assert largest_trial_significant([-0.5, 0.0], [0.01, 0.001], [np.nan, np.nan]) is False  # by precision
    assert largest_trial_significant([], [], []) is None


def test_no_pvalue_cannot_be_graded():
    """Issue 11.1: a difference of 0 with a standard error of 0 has no p-value; it was a ValueError."""
    assert grade(n=240, pvalue=np.nan) == ("-", "cannot be graded: the p-value is not defined")
    assert grade(n=240, pvalue=None)[0] == "-"
