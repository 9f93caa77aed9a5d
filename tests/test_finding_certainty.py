"""GRADE of the finding's outcomes (whatworks.finding.certainty).

Egger's test of the contrast model is checked against metafor's ``regtest()`` (tests/reference/finding.R,
metafor 3.8.1) on the committed fixture tests/reference/finding_fixture.csv; the rest checks that the
finding feeds the GRADE rules the right numbers (rules themselves: tests/test_grade.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from whatworks.finding import pool_strategies, strategy_contrasts
from whatworks.finding.certainty import _contrast_egger_p, assess_certainty, contrast_evidence, words
from whatworks.grade import GradeRules

REF = Path(__file__).parent / "reference"
FIXTURE = pd.read_csv(REF / "finding_fixture.csv").assign(design="rct", borderline=False, n_treatment=40,
                                                          n_control=40)
REGTEST = json.loads((REF / "finding.json").read_text())["regtest"]
RTOL = 1e-6  # closed-form WLS after a converged REML fit


@pytest.mark.parametrize("case", REGTEST, ids=lambda c: c["test"])
def test_contrast_egger_equals_metafor_regtest(case):
    contrast = strategy_contrasts(FIXTURE, method="REML", test=case["test"])
    assert _contrast_egger_p(contrast, GradeRules()) == pytest.approx(case["pvalue"], rel=RTOL)


def test_contrast_is_an_indirect_comparison_with_both_arms_counted():
    contrast = strategy_contrasts(FIXTURE)
    ev = contrast_evidence(contrast)
    assert ev is not None and ev.indirect_comparison
    assert ev.k == len(FIXTURE) and ev.n == 80 * len(FIXTURE)
    row = contrast.combined()
    assert (ev.estimate, ev.ci_low, ev.ci_high) == (row["difference"], row["ci_low"], row["ci_high"])
    assert ev.comparison == "enhancing social support, opportunities for social contact or improving social skills"


def test_risk_of_bias_comes_from_the_rows_with_the_fit_weights():
    rows = FIXTURE.assign(rob_overall="low")
    table = assess_certainty(rows, pool_strategies(rows), strategy_contrasts(rows))
    assert all(c.judgement("risk of bias").downgrade == 0 for c in table.rows)
    # the largest-weight trials of social cognition at high risk
    cog = rows["strategy"] == "social_cognition"
    heavy = rows.loc[cog, "vi"].nsmallest(4).index
    rows.loc[heavy, "rob_overall"] = "high"
    table = assess_certainty(rows, pool_strategies(rows), strategy_contrasts(rows))
    cog_row = next(c for c in table.rows if c.outcome.startswith(words("social_cognition") + " vs control"))
    assert cog_row.judgement("risk of bias").downgrade >= 1
    w = 1 / (rows.loc[cog, "vi"] + pool_strategies(rows).fits["social_cognition"].tau2)
    share = float(w[heavy].sum() / w.sum())
    assert f"high {share:.0%}" in cog_row.judgement("risk of bias").reason


def test_unassessed_rows_count_as_not_assessed():
    table = assess_certainty(FIXTURE, pool_strategies(FIXTURE), strategy_contrasts(FIXTURE))
    assert all("not assessed 100%" in c.judgement("risk of bias").reason for c in table.rows)
    frame = table.to_frame()
    assert frame["outcome"].iloc[0].endswith("(difference in g)")
    assert list(frame["outcome"].iloc[1:]) == [f"{words(s)} vs control" for s in pool_strategies(FIXTURE).fits]


def test_a_fit_that_does_not_match_its_rows_is_refused():
    pooling = pool_strategies(FIXTURE)
    fewer = FIXTURE.drop(index=FIXTURE.index[FIXTURE["strategy"] == "social_support"][:1])
    with pytest.raises(ValueError, match="social_support"):
        assess_certainty(fewer, pooling, strategy_contrasts(fewer))


def test_words_for_every_strategy():
    assert words("social_access") == "Opportunities for social contact"
    assert words("something_new") == "something new"
    assert np.isfinite(GradeRules().ois())


@pytest.mark.parametrize("case", REGTEST, ids=lambda c: c["test"])
def test_contrast_adjusted_for_precision_equals_metafor(case):
    from whatworks.finding.sensitivity_bias import adjusted_contrast_row

    row = adjusted_contrast_row(strategy_contrasts(FIXTURE, method="REML", test=case["test"]))
    ref = case["adjusted"]  # rma(yi, vi, mods = ~ I(strategy != ref) + sqrt(vi)): coefficient 1 = -difference
    assert row["estimate"] == pytest.approx(-ref["coef"][1], rel=RTOL)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-ref["ci_high"][1], -ref["ci_low"][1]), rel=RTOL)
    assert row["pvalue"] == pytest.approx(ref["pvalue"][1], rel=RTOL)


def test_grade_reads_the_3psm_only():
    from whatworks.finding.certainty import selection_adjusted

    table = pd.DataFrame({"method": ["random-effects model", "3PSM", "PET-PEESE"], "estimate": [-0.3, -0.2, -0.05],
                          "ci_low": [-0.5, -0.45, -0.8], "ci_high": [-0.1, 0.05, 0.7], "estimable": [True, True, True]})
    assert selection_adjusted({"social_cognition": table}) == {"social_cognition": [("3PSM", -0.2, -0.45, 0.05)]}
    table.loc[1, "estimable"] = False
    assert selection_adjusted({"social_cognition": table}) == {"social_cognition": []}
