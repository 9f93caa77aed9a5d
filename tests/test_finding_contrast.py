"""Strategy contrasts and verdicts (whatworks.finding.contrast, .dependence).

Reference values: tests/reference/finding.json, written by tests/reference/finding.R (metafor 3.8.1,
clubSandwich 0.5.8) from the committed fixture tests/reference/finding_fixture.csv.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from whatworks.finding import dependence_analysis, effect_verdict, strategy_contrasts, verdict

REF = Path(__file__).parent / "reference"
CASES = json.loads((REF / "finding.json").read_text())
FIXTURE = pd.read_csv(REF / "finding_fixture.csv")
#: metafor's iterative estimates are converged to 1e-12 (finding.R control); REML/PM roots agree to ~1e-9.
RTOL, ATOL = 1e-6, 1e-8
OTHERS = ("social_support", "social_access", "social_skills")


def _close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: f"{c['method']}-{c['test']}")
def test_contrast_equals_metafor(case):
    res = strategy_contrasts(FIXTURE, others=OTHERS, method=case["method"], test=case["test"])
    ref_f, ref_b = case["factor"], case["binary"]
    _close(res.model.coef, ref_f["coef"])  # patsy and R both sort the levels alphabetically
    tab = res.table.set_index("comparison")
    # metafor names: intrcpt, access, skills, support -> difference = minus the coefficient
    for j, level in ((1, "social_access"), (2, "social_skills"), (3, "social_support")):
        _close(tab.loc[level, "difference"], -ref_f["coef"][j])
        _close(tab.loc[level, "se"], ref_f["se"][j])
        _close([tab.loc[level, "ci_low"], tab.loc[level, "ci_high"]], [-ref_f["ci_high"][j], -ref_f["ci_low"][j]])
        _close(tab.loc[level, "pvalue"], ref_f["pvalue"][j])
    _close(res.model.tau2, ref_f["tau2"])
    _close(res.model.qm, ref_f["qm"])
    comb = res.combined()
    _close(comb["difference"], -ref_b["coef"][1])
    _close([comb["ci_low"], comb["ci_high"]], [-ref_b["ci_high"][1], -ref_b["ci_low"][1]])
    _close(comb["pvalue"], ref_b["pvalue"][1])
    _close(res.model_combined.tau2, ref_b["tau2"])
    assert comb["k"] == ref_b["k"] == len(FIXTURE)


def test_cr2_equals_clubsandwich():
    ref = CASES["cr2"]
    dep = dependence_analysis(strategy_contrasts(FIXTURE, others=OTHERS, method="REML", test="z"))
    row = dep.table[(dep.table["inference"] == "CR2") & (dep.table["comparison"] == " + ".join(OTHERS))].iloc[0]
    _close(row["difference"], -ref["coef"][1])
    _close(row["se"], ref["se"][1])
    _close(row["df"], ref["df"][1])
    _close(row["pvalue"], ref["pvalue"][1])
    _close([row["ci_low"], row["ci_high"]], [-ref["ci_high"][1], -ref["ci_low"][1]])
    assert dep.three_level is None and "one effect" in dep.notes[-1]


def test_three_level_when_trials_repeat():
    frame = FIXTURE.copy()
    frame.loc[:5, "study_id"] = ["a", "a", "b", "b", "c", "c"]
    dep = dependence_analysis(strategy_contrasts(frame, others=OTHERS))
    assert {"three-level", "three-level + CR2"} <= set(dep.table["inference"])
    assert dep.n_clusters == len(frame) - 3


# --- verdict logic --------------------------------------------------------------------------------

def _synthetic(ref_mean, cmp_mean, k=8, v=0.01):
    rng = np.random.default_rng(1)
    yi = np.r_[ref_mean + rng.normal(0, np.sqrt(v), k), cmp_mean + rng.normal(0, np.sqrt(v), k)]
    return pd.DataFrame({"strategy": ["social_cognition"] * k + ["social_support"] * k, "yi": yi,
                         "vi": np.full(2 * k, v), "study_id": [f"t{i}" for i in range(2 * k)]})


@pytest.mark.parametrize(("ref", "cmp", "k", "v", "expected"), [
    (-0.8, -0.1, 8, 0.01, "supported"),  # clearly better: CI below 0
    (-0.1, -0.8, 8, 0.01, "not supported"),  # other direction: CI above 0
    (-0.3, -0.3, 8, 0.002, "not supported"),  # clearly null: CI within +/- 0.2
    (-0.4, -0.2, 3, 0.5, "inconclusive"),  # wide: includes 0 and -0.2
])
def test_verdict_on_synthetic_frames(ref, cmp, k, v, expected):
    res = strategy_contrasts(_synthetic(ref, cmp, k, v), others=("social_support",))
    assert res.combined()["verdict"] == expected
    assert res.table.iloc[0]["verdict"] == expected


def test_verdict_cannot_be_tested_with_one_trial():
    frame = _synthetic(-0.8, -0.1).iloc[:9]  # 8 social_cognition, 1 social_support
    row = strategy_contrasts(frame, others=("social_support",)).combined()
    assert row["verdict"] == "cannot be tested" and "k = 8 vs 1" in row["reason"]
    row = strategy_contrasts(frame.iloc[:8], others=("social_support",)).combined()
    assert row["verdict"] == "cannot be tested" and np.isnan(row["difference"])


@pytest.mark.parametrize(("d", "lo", "hi", "expected"), [
    (-0.3, -0.5, -0.01, "supported"), (0.3, 0.01, 0.5, "not supported"), (0.0, -0.19, 0.19, "not supported"),
    (0.2, -0.19, 0.8, "not supported"), (-0.2, -0.21, 0.01, "inconclusive"), (np.nan, np.nan, np.nan, "inconclusive"),
])
def test_verdict_thresholds(d, lo, hi, expected):
    assert verdict(d, lo, hi, k_reference=5, k_comparison=5)[0] == expected
    assert effect_verdict(d, lo, hi, k=5)[0] == expected


def test_contrast_errors_are_clear():
    with pytest.raises(ValueError, match="lacks column"):
        strategy_contrasts(FIXTURE.drop(columns="vi"))
    with pytest.raises(ValueError, match="must not contain the reference"):
        strategy_contrasts(FIXTURE, others=("social_cognition",))
