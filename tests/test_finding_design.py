"""The finding under the effect-size settings: sensitivity rows for the pre-post correlation, post-only g,
ICC, baseline imbalance and uncorrected cluster trials, and run_finding(settings=).

Fixture: tests/fixtures/design/demo_design (synthetic), with some trials recoded as social cognition so
that the contrast is estimable. Each sensitivity row must equal the contrast refitted by hand on the
recomputed (or filtered) rows: the same code path, so the tolerance is exact equality up to 1e-12.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from whatworks.data import EffectSettings, load_reviews, recompute_effects
from whatworks.finding import primary_frame, run_finding, sensitivity_analyses, strategy_contrasts

FIXTURE = Path(__file__).parent / "fixtures" / "design"
COGNITION = ("morris2008", "gap2019", "clpp2019", "cld2019", "mark2021")
LABELS = {("pre-post correlation", 0.2), ("pre-post correlation", 0.8), ("pre-post trials", None),
          ("intracluster correlation", 0.01), ("intracluster correlation", 0.1), ("baseline imbalance", None),
          ("cluster trials", None)}


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = load_reviews(FIXTURE)
    df["strategy"] = df["strategy"].where(~df["study_id"].isin(COGNITION), "social_cognition")
    return df


@pytest.fixture(scope="module")
def table(frame):
    return sensitivity_analyses(primary_frame(frame), reviews=frame, others=("social_support",)).to_frame()


def _difference(rows):
    return strategy_contrasts(rows, others=("social_support",)).combined()["difference"]


def _row(table, analysis, contains=""):
    hit = table[(table["analysis"] == analysis) & table["setting"].str.contains(contains, regex=False)]
    assert len(hit) == 1, (analysis, contains)
    return hit.iloc[0]


def test_every_assumption_has_a_row_in_words(table):
    assert {a for a, _ in LABELS} <= set(table["analysis"])
    assert "primary: r = 0.5" in _row(table, "pre-post correlation", "r = 0.2")["setting"]
    assert "primary: ICC = 0.05" in _row(table, "intracluster correlation", "0.01")["setting"]
    assert "d_ppc2" in _row(table, "pre-post trials")["setting"]


@pytest.mark.parametrize("analysis, contains, settings", [
    ("pre-post correlation", "r = 0.2", EffectSettings(prepost_r=0.2)),
    ("pre-post correlation", "r = 0.8", EffectSettings(prepost_r=0.8)),
    ("pre-post trials", "post-test", EffectSettings(prepost="post")),
    ("intracluster correlation", "0.01", EffectSettings(icc=0.01)),
    ("intracluster correlation", "0.1", EffectSettings(icc=0.10)),
])
def test_recomputed_rows_equal_the_contrast_on_recomputed_effects(frame, table, analysis, contains, settings):
    want = _difference(primary_frame(recompute_effects(frame, settings)))
    got = _row(table, analysis, contains)
    assert got["estimate"] == pytest.approx(want, abs=1e-12)
    assert "primary effects change under this setting" in got["note"]


def test_the_post_only_row_moves_the_baseline_gap_trial(frame, table):
    post = primary_frame(recompute_effects(frame, EffectSettings(prepost="post")))
    assert post.set_index("study_id").loc["gap2019", "yi"] < -0.5  # post means: the gap counts as an effect
    assert primary_frame(frame).set_index("study_id").loc["gap2019", "yi"] == 0.0
    assert _row(table, "pre-post trials")["estimate"] != _row(table, "primary")["estimate"]


def test_baseline_imbalanced_trials_left_out(frame, table):
    prim = primary_frame(frame)
    flagged = prim["baseline_imbalance"].fillna(False).astype(bool)
    assert set(prim.loc[flagged, "study_id"]) == {"morris2008", "gap2019"}
    got = _row(table, "baseline imbalance")
    assert got["estimate"] == pytest.approx(_difference(prim[~flagged]), abs=1e-12)
    assert got["note"] == "2 excluded: morris2008, gap2019"


def test_without_all_rows_the_recomputed_rows_say_not_run(frame):
    tab = sensitivity_analyses(primary_frame(frame), others=("social_support",)).to_frame()
    assert (tab.loc[tab["analysis"] == "pre-post correlation", "note"] == "not run: pass reviews= (all loaded rows)").all()


def test_run_finding_under_other_settings(frame):
    s = EffectSettings(prepost_r=0.8)
    res = run_finding(frame, settings=s, others=("social_support",))
    assert res.settings == s
    want = primary_frame(recompute_effects(frame, s))
    assert res.primary["vi"].tolist() == want["vi"].tolist()
    rows = res.sensitivity.to_frame()
    r_rows = rows[rows["analysis"] == "pre-post correlation"]
    assert r_rows["setting"].tolist() == ["r = 0.2 where the source printed none (primary: r = 0.8)"]
    assert run_finding(frame, others=("social_support",)).settings == EffectSettings()
