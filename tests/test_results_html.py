"""Every result's ``_repr_html_`` (Jupyter) shows what ``summary()`` shows, escaped, with counts as integers.

The numbers are the library's own (their values are checked against metafor elsewhere); here the check is
that the HTML display carries the same statistics as the text display.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import whatworks as ww
from whatworks.results import _fmt

YI = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02])
VI = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06, 0.07, 0.01, 0.53, 0.07])


@pytest.fixture(scope="module")
def fit():
    return ww.meta_analyze(YI, VI, method="REML", test="knha", labels=[f"T<{i}>" for i in range(len(YI))])


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?\d+\.\d{4}(?:e-?\d+)?", text))


def test_trim_and_fill_html_shows_the_adjusted_estimate(fit):
    tf = ww.trim_and_fill(fit)
    page = tf._repr_html_()
    assert _fmt(tf.fit.estimate) in page and _fmt(tf.fit.ci_low) in page and _fmt(tf.fit.ci_high) in page
    assert f"{tf.k0} missing studies" in page
    assert _numbers(tf.summary()) <= _numbers(page)  # every number of summary() is on the page


def test_regression_html_shows_tau2_r2_and_the_moderator_test():
    df = pd.DataFrame({"yi": YI, "vi": VI, "x": np.arange(len(YI), dtype=float)})
    res = ww.meta_regress(df, "~ x", test="knha")
    page = res._repr_html_()
    for value in (_fmt(res.tau2), _fmt(res.r2, 2), _fmt(res.qm), _fmt(res.qe)):
        assert value in page
    assert "R^2" in page and "Test of moderators" in page
    assert _numbers(res.summary()) <= _numbers(page)


def test_subgroup_html_shows_the_test_of_differences_and_integer_counts():
    df = pd.DataFrame({"yi": YI, "vi": VI, "g": ["a"] * 6 + ["b"] * 6 + ["c"]})
    res = ww.by_subgroup(df, "g")
    page = res._repr_html_()
    assert _fmt(res.q_between) in page and "Definition:" in page and "Skipped" in page
    assert not re.search(r"<td>\d+\.0+</td>", page.split("<table")[1].split("</tr>")[1])  # k as an integer


@pytest.mark.parametrize("make", [
    lambda f: f,
    lambda f: ww.egger_test(f),
    lambda f: ww.influence(f),
    lambda f: ww.robust(f, cluster=np.repeat(np.arange(7), 2)[: f.k], kind="CR2"),
], ids=["meta", "egger", "influence", "robust"])
def test_summary_numbers_appear_in_html(fit, make):
    res = make(fit)
    page = res._repr_html_()
    assert _numbers(res.summary()) - {"-0.0000", "0.0000"} <= _numbers(page) | {"-0.0000", "0.0000"}
    assert "<script" not in page and "T&lt;0&gt;" in page or "T<0>" not in page  # labels escaped


def test_counts_are_integers_in_html():
    from whatworks.results import frame_to_html

    page = frame_to_html(pd.DataFrame({"k": [11.0, np.nan], "n": [1073.0, 90.0], "estimate": [-0.28, 0.1]}), "t")
    assert "<td>11</td>" in page and "<td>1073</td>" in page and "11.0000" not in page
    assert "<td>-0.2800</td>" in page


def test_overlap_html_shows_the_pairs():
    frame = pd.DataFrame({"review": ["a", "a", "b", "b", "c"], "study_id": ["s1", "s2", "s1", "s3", "s2"]})
    res = ww.review_overlap(frame)
    page = res._repr_html_()
    assert "CCA" in page and "Pairs of reviews" in page
