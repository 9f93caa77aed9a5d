"""Claims table C1-C5 (whatworks.finding.claims) on a synthetic frame: columns, subsets, verdicts, grades."""

import numpy as np
import pandas as pd

from whatworks.finding import CLAIM_COLUMNS, claims_table, strategy_contrasts
from whatworks.finding.claims import matches


def _frame():
    rows = []
    def add(sid, strategy, yi, label="", age="adults", fmt="individual", n=100):
        rows.append(dict(study_id=sid, strategy=strategy, yi=yi, vi=0.02, strategy_source_label=label,
                         intervention="", age_band=age, delivery_format=fmt, n_treatment=n // 2,
                         n_control=n // 2, n_total=pd.NA))
    for i, y in enumerate([-0.6, -0.7, -0.5]):
        add(f"cbm{i}", "social_cognition", y, label="cognitive bias modification (CBM-I)")
    for i, y in enumerate([-0.4, -0.5, -0.3]):
        add(f"cbt{i}", "social_cognition", y, label="internet CBT")
    for i, y in enumerate([-0.1, 0.0, -0.2, -0.1]):
        add(f"sup{i}", "social_support", y, label="befriending", age="older_adults", fmt="group")
    add("edu1", "social_access", -0.3, label="health education course", age="older_adults", fmt="group")
    add("mind1", "mindfulness_acceptance", -0.4, label="MBSR")
    return pd.DataFrame(rows)


def test_claims_table_columns_and_ids():
    f = _frame()
    tab = claims_table(f, strategy_contrasts(f, others=("social_support", "social_access"))).to_frame()
    assert tuple(tab.columns) == CLAIM_COLUMNS
    assert tab["claim_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]
    assert set(tab["verdict"]) <= {"supported", "not supported", "inconclusive", "cannot be tested"}


def test_claims_verdicts_follow_the_numbers():
    f = _frame()
    tab = claims_table(f, strategy_contrasts(f, others=("social_support", "social_access"))).to_frame().set_index(
        "claim_id")
    assert tab.loc["C1", "verdict"] == "supported"  # social_cognition clearly below support/access
    assert tab.loc["C1", "estimate"] < 0 and tab.loc["C1", "ci_high"] < 0
    assert tab.loc["C2", "k"] == 3 and tab.loc["C2", "verdict"] == "supported"  # the CBM subset, from labels
    assert "cbm0" in tab.loc["C2", "note"]
    for cid, k in (("C3", 1), ("C4", 1), ("C5", 0)):  # one or no trial: cannot be tested, and says why
        assert tab.loc[cid, "k"] == k
        assert tab.loc[cid, "verdict"] == "cannot be tested" and tab.loc[cid, "grade"] == "-"
        assert "needs" in tab.loc[cid, "note"]
    assert np.isnan(tab.loc["C5", "estimate"])
    assert tab.loc["C1", "grade"] in ("I", "II", "III", "IV", "NS")


def test_subset_patterns():
    f = pd.DataFrame({"strategy_source_label": ["Interpretation Bias Modification", "CBT", "self-efficacy beliefs"],
                      "intervention": ["", "group course for seniors", ""]})
    assert matches(f, "C2").tolist() == [True, False, False]
    assert matches(f, "C4").tolist() == [False, True, False]
    assert matches(f, "C5").tolist() == [False, False, True]
