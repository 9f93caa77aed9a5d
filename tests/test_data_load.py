"""Loading: frame shape and types, row order, pooled normalisation, catalogue, round trip, bundled data."""

from __future__ import annotations

import importlib
import warnings
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from whatworks.data import bundled_root, list_reviews, load_pooled, load_reviews, scaffold, validate
from whatworks.data import schema as S

FIXTURES = Path(__file__).parent / "fixtures" / "reviews"
COMPUTED = ["yi", "vi", "metric", "yi_note", "pool", "pool_reason", "baseline_smd", "baseline_imbalance",
            "design_effect", "cluster_uncorrected"]
ROB = ["rob_tool", "rob_overall"]


@pytest.fixture(scope="module")
def effects():
    return load_reviews(FIXTURES)


def test_effects_frame_has_every_schema_column_then_the_computed_ones(effects):
    assert list(effects.columns) == [*S.column_names(S.EFFECT_COLUMNS), *ROB, *COMPUTED]
    assert str(effects["n_treatment"].dtype) == "Int64"
    assert effects["yi"].dtype == np.float64 and effects["pool"].dtype == bool
    assert effects["borderline"].dtype == bool and not effects["borderline"].any()


def test_rows_sorted_by_review_then_file_order(effects):
    assert list(effects["review"].unique()) == ["demo_smcc", "demo_smd"]
    assert list(effects.loc[effects["review"] == "demo_smd", "effect_id"])[:3] == [
        "alpha2020_wl", "beta2019_wl", "gamma2021_wl"]
    assert effects.index.tolist() == list(range(len(effects)))


def test_optional_columns_absent_from_a_file_are_missing(effects):
    smcc = effects[effects["review"] == "demo_smcc"]
    assert smcc["country"].isna().all() and (smcc["metric"] == "SMCC_diff").all()


def test_reviews_filter_and_unknown_id():
    assert set(load_reviews(FIXTURES, reviews=["demo_smcc"])["review"]) == {"demo_smcc"}
    with pytest.raises(ValueError, match="unknown review id.*'nope'.*available: demo_smcc, demo_smd"):
        load_reviews(FIXTURES, reviews=["nope"])


def test_one_review_folder_as_root():
    assert set(load_reviews(FIXTURES / "demo_smd")["review"]) == {"demo_smd"}


def test_pooled_normalisation():
    pooled = load_pooled(FIXTURES).set_index("analysis")
    assert list(pooled.columns[-3:]) == ["estimate_norm", "ci_low_norm", "ci_high_norm"]
    neg = pooled.loc["overall"]
    assert (neg.estimate_norm, neg.ci_low_norm, neg.ci_high_norm) == (-0.35, -0.52, -0.18)
    pos = pooled.loc["strategy: social cognition"]  # 0.40 [0.10, 0.70], positive = less lonely
    assert (pos.estimate_norm, pos.ci_low_norm, pos.ci_high_norm) == (-0.40, -0.70, -0.10)
    lost = pooled.loc["RCTs (sign lost)"]
    assert np.isnan([lost.estimate_norm, lost.ci_low_norm, lost.ci_high_norm]).all()
    odds = pooled.loc["odds of loneliness"]  # OR 0.5 [0.25, 1.0] -> log scale
    assert odds.estimate_norm == pytest.approx(np.log(0.5)) and odds.ci_high_norm == 0.0


def test_catalogue():
    cat = list_reviews(FIXTURES)
    assert list(cat["review"]) == ["demo_smcc", "demo_smd"]
    row = cat.set_index("review").loc["demo_smd"]
    assert (row.kind, row.metric, row.n_effects, row.n_pooled_effects, row.n_published) == (
        "review", "SMD", 11, 8, 4)


def test_round_trip_through_csv(tmp_path, effects):
    """Writing the loaded schema columns back and reloading gives the same frame."""
    shutil.copytree(FIXTURES, tmp_path / "reviews")
    for rid, part in effects.groupby("review", sort=False):
        part[list(S.column_names(S.EFFECT_COLUMNS))].to_csv(tmp_path / "reviews" / rid / "effects.csv", index=False)
    assert validate(tmp_path / "reviews") == []
    pd.testing.assert_frame_equal(load_reviews(tmp_path / "reviews"), effects)


def test_scaffold_then_fill_then_load(tmp_path):
    folder = scaffold("smith2027", tmp_path)
    assert {p.column for p in validate(folder)} >= {"title", "citation", "url", "scope"}
    text = (folder / "review.toml").read_text("utf-8")
    for key in ("title", "citation", "scope", "sign_convention", "coded_by"):
        text = text.replace(f'{key} = ""', f'{key} = "x"')
    (folder / "review.toml").write_text(text.replace('url = ""', 'url = "https://example.org"'), "utf-8")
    assert validate(folder) == []  # the risk_of_bias.csv template (a header) included
    assert load_reviews(folder).empty and list(load_reviews(folder).columns)[-len(COMPUTED):] == COMPUTED
    with pytest.raises(FileExistsError, match="already exists"):
        scaffold("smith2027", tmp_path)
    with pytest.raises(ValueError, match="invalid review id 'Smith 2027'"):
        scaffold("Smith 2027", tmp_path)


def test_bundled_root_is_a_folder():
    root = bundled_root()
    assert root.is_dir() and root.name == "reviews"



# ---- one validation for everything the report reads (issue 11, item 7) -------------------------------

def test_load_collection_validates_once_and_equals_the_separate_loaders(monkeypatch):
    from whatworks.data import DataQualityWarning, load_collection, load_risk_of_bias

    V = importlib.import_module("whatworks.data.validate")  # the module (whatworks.data.validate is the function)

    calls = []
    real = V.check_folder
    monkeypatch.setattr(V, "check_folder", lambda folder, **kw: calls.append(folder.name) or real(folder, **kw))
    with warnings.catch_warnings():  # the bundled data load without warnings since dae1435; any would be fine
        warnings.simplefilter("ignore", DataQualityWarning)
        separate = (load_reviews(), load_pooled(), load_risk_of_bias(), list_reviews())
    n_folders = len(separate[3])
    assert len(calls) == 4 * n_folders  # each loader validates every folder again
    calls.clear()
    col = load_collection()
    assert len(calls) == n_folders  # once
    for ours, theirs in zip((col.effects, col.pooled, col.risk_of_bias, col.catalogue), separate):
        pd.testing.assert_frame_equal(ours, theirs)
    living = col.select(["living"])
    pd.testing.assert_frame_equal(living.effects, load_reviews(reviews=["living"]))
    assert list(living.catalogue["review"]) == ["living"]
    with pytest.raises(ValueError, match="unknown review id"):
        col.select(["nope"])


def test_the_report_validates_the_collection_once(monkeypatch, tmp_path):
    from whatworks.report.run import run_report

    V = importlib.import_module("whatworks.data.validate")

    calls = []
    real = V.check_folder
    monkeypatch.setattr(V, "check_folder", lambda folder, **kw: calls.append(folder.name) or real(folder, **kw))
    run_report(data=FIXTURES, out=tmp_path / "out", sections=(), formats=("svg",))
    assert sorted(calls) == sorted(p.name for p in FIXTURES.iterdir() if (p / "review.toml").exists())
