"""Primary selection and per-strategy pooling (whatworks.finding.select, .strategies)."""

import numpy as np
import pandas as pd
import pytest

from whatworks import meta_analyze
from whatworks.finding import pool_strategies, primary_frame, selection_table

FIXTURE = pd.read_csv(__import__("pathlib").Path(__file__).parent / "reference" / "finding_fixture.csv")


def _reviews():
    """A small load_reviews-like frame: a living review and another review that codes one trial twice."""
    return pd.DataFrame({
        "review": ["living", "living", "living", "other", "other", "other", "other"],
        "effect_id": ["a", "b", "c", "a2", "d", "e", "f"],
        "study_id": ["t1", "t2", "t3", "t1", "t4", "t5", "t6"],
        "design": ["rct", "rct", "rct", "rct", "rct", "non_randomised", "rct"],
        "strategy": ["social_cognition", "social_support", "social_cognition", "social_cognition",
                     "social_support", "social_support", "social_access"],
        "yi": [-0.5, -0.1, -0.4, -0.6, -0.2, -0.3, np.nan],
        "vi": [0.04, 0.05, 0.03, 0.04, 0.05, 0.05, np.nan],
        "metric": ["SMD"] * 6 + ["SMD"],
        "pool": [True, True, False, True, True, True, False],
        "pool_reason": ["", "", "excluded: duplicate", "", "", "", "no statistics"],
        "n_treatment": [20, 30, 10, 20, 25, 15, pd.NA], "n_control": [20, 30, 10, 20, 25, 15, pd.NA],
    })


def test_selection_rule_names_every_reason():
    sel = selection_table(_reviews()).set_index("effect_id")
    assert sel["selected"].to_dict() == {"a": True, "b": True, "c": False, "a2": False, "d": True, "e": False,
                                         "f": False}
    assert "already in review living" in sel.loc["a2", "selection_reason"]
    assert "design non_randomised" in sel.loc["e", "selection_reason"]
    assert "duplicate" in sel.loc["c", "selection_reason"]


def test_primary_frame_counts_participants():
    prim = primary_frame(_reviews())
    assert prim["effect_id"].tolist() == ["a", "b", "d"]
    assert prim["n"].tolist() == [40.0, 60.0, 50.0]


@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
@pytest.mark.parametrize("test", ["knha", "z"])
def test_each_strategy_equals_meta_analyze_on_its_subset(method, test):
    res = pool_strategies(FIXTURE, method=method, test=test)
    frame = res.to_frame().set_index("strategy")
    for s, sub in FIXTURE.groupby("strategy"):
        ref = meta_analyze(sub["yi"], sub["vi"], method=method, test=test)
        fit = res.fits[s]
        for name in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "pvalue"):
            assert getattr(fit, name) == pytest.approx(getattr(ref, name), rel=1e-12, abs=1e-14), name
            assert frame.loc[s, name] == pytest.approx(getattr(ref, name), rel=1e-12, abs=1e-14), name
        assert frame.loc[s, "k"] == len(sub)


def test_single_trial_strategy_is_labelled_and_subgroups_skip_it():
    res = pool_strategies(FIXTURE)
    frame = res.to_frame().set_index("strategy")
    assert frame.loc["social_skills", "k"] == 1
    assert "not a pooled one" in frame.loc["social_skills", "note"]
    assert "social_skills" not in res.subgroups.groups
    assert list(res.fits)[:2] == ["social_cognition", "social_support"]  # Masi's order, reference first


def test_pool_strategies_errors():
    with pytest.raises(ValueError, match="lacks column"):
        pool_strategies(FIXTURE.drop(columns="strategy"))
    with pytest.raises(ValueError, match="nothing to pool"):
        pool_strategies(FIXTURE.assign(yi=np.nan))
