"""Design-correct effects in the data layer: d_ppc2 rows, cluster trials, baseline balance, F rows,
analysis settings and the one-effect-per-trial rule (whatworks.data.compute/.design/.recompute/.trials).

Fixture: tests/fixtures/design/demo_design (synthetic rows). Reference values: tests/reference/prepost.json
(tests/reference/prepost.R; Morris 2008 study 1 and the cluster cases through metafor's escalc), and the
already-tested effect functions where a row only routes to them. Tolerance RTOL = 1e-10: the same closed-form
expressions in R and numpy, see tests/test_effects_prepost.py.
"""

from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import reference
from whatworks.data import (DataQualityWarning, EffectSettings, list_reviews, load_reviews, recompute_effects,
                            settings_of, validate)
from whatworks.data.compute import compute_effects
from whatworks.effects import smd, smd_from_md_ci, smd_ppc2

FIXTURE = Path(__file__).parent / "fixtures" / "design"
RTOL = 1e-10
R = reference("prepost")


@pytest.fixture(scope="module")
def effects():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fixture is clean: no DataQualityWarning
        return load_reviews(FIXTURE)


def row(frame, effect_id):
    return frame.set_index("effect_id").loc[effect_id]


def test_fixture_is_valid():
    assert validate(FIXTURE) == []


def test_prepost_rows_use_d_ppc2_equal_to_r(effects):
    m = R["morris2008"]
    r = row(effects, "morris2008_s1")  # r printed in both arms
    assert r["yi"] == pytest.approx(m["yi"][0], rel=RTOL) and r["vi"] == pytest.approx(m["vi_mo"][0], rel=RTOL)
    assert "r = 0.47 (printed r_t and r_c" in r["yi_note"]
    e = R["extra"]
    r = row(effects, "ppset2020")  # no r printed: the setting 0.5
    assert r["yi"] == pytest.approx(e["yi"][0], rel=RTOL) and r["vi"] == pytest.approx(e["vi_mo"][0], rel=RTOL)
    assert r["yi_note"].startswith("smd_ppc2") and "r = 0.5 (analysis setting" in r["yi_note"]


def test_two_printed_correlations_are_averaged_by_arm_size(effects):
    r = row(effects, "pprr2021")  # r_t = 0.6 (n 30), r_c = 0.0 (n 10): r = 0.45
    want = smd_ppc2(40.2, 45.0, 9.5, 30, 44.0, 44.1, 10.2, 10, 0.45)
    assert r["yi"] == pytest.approx(float(want.yi), rel=RTOL) and r["vi"] == pytest.approx(float(want.vi), rel=RTOL)
    assert "r = 0.45 (printed r_t and r_c, mean weighted by arm n)" in r["yi_note"]


def test_rows_without_baseline_sds_fall_back_to_post_means_and_say_so(effects):
    r = row(effects, "ppnosd2022")
    want = smd(40.2, 9.9, 33, 44.0, 10.0, 31)
    assert r["yi"] == pytest.approx(float(want.yi), rel=RTOL)
    assert r["yi_note"] == "smd (Hedges' g) from post means: d_ppc2 not computable (sd_pre_t, sd_pre_c missing)"
    assert np.isnan(r["baseline_smd"]) and pd.isna(r["baseline_imbalance"])  # baseline SDs missing: unknown


def test_a_baseline_gap_is_flagged_and_no_longer_an_effect(effects):
    r = row(effects, "gap2019")
    assert r["yi"] == 0.0
    base = smd(6.5, 3.62, 63, 8.5, 2.49, 56)  # Hedges' g of the baseline means
    assert r["baseline_smd"] == pytest.approx(float(base.yi), rel=RTOL) and bool(r["baseline_imbalance"])
    post = row(recompute_effects(effects, EffectSettings(prepost="post")), "gap2019")
    assert post["yi"] == pytest.approx(float(smd(6.0, 3.5, 63, 8.0, 2.32, 56).yi), rel=RTOL) and post["yi"] < -0.5
    assert "analysis setting: post-test means only" in post["yi_note"]


@pytest.mark.parametrize("effect_id, case", [("clpost2019", "means_post"), ("clpp2019", "means_prepost"),
                                             ("cld2019", "d"), ("clt2019", "t")])
def test_cluster_trials_use_effective_sample_sizes(effects, effect_id, case):
    r, ref = row(effects, effect_id), R["cluster"][case]
    assert r["yi"] == pytest.approx(ref["yi"], rel=RTOL) and r["vi"] == pytest.approx(ref["vi"], rel=RTOL)
    assert r["design_effect"] == pytest.approx(R["cluster"]["design_effect"], rel=RTOL)
    assert "design effect 1.91 = 1 + (19.2 - 1) x ICC 0.05" in r["yi_note"] and not r["cluster_uncorrected"]


def test_reported_effects_of_cluster_trials_get_their_variance_inflated(effects):
    r = row(effects, "clmd2019")
    plain = smd_from_md_ci(-2.9, -4.6, -1.2, 120, 110, dist="t")
    assert r["yi"] == pytest.approx(float(plain.yi), rel=RTOL)
    assert r["vi"] == pytest.approx(float(plain.vi) * R["cluster"]["design_effect"], rel=RTOL)


def test_the_icc_setting_applies_only_where_none_was_printed(effects):
    high = recompute_effects(effects, EffectSettings(icc=0.10))
    de = 1 + (230 / 12 - 1) * 0.10
    assert row(high, "clpost2019")["design_effect"] == pytest.approx(de, rel=1e-14)
    assert row(high, "clpost2019")["vi"] > row(effects, "clpost2019")["vi"]
    assert row(high, "cld2019")["vi"] == row(effects, "cld2019")["vi"]  # ICC 0.05 printed


def test_the_r_setting_applies_only_where_none_was_printed(effects):
    low = recompute_effects(effects, EffectSettings(prepost_r=0.2))
    assert row(low, "ppset2020")["vi"] > row(effects, "ppset2020")["vi"]
    assert row(low, "ppset2020")["yi"] == row(effects, "ppset2020")["yi"]  # r enters the variance only
    assert row(low, "morris2008_s1")["vi"] == row(effects, "morris2008_s1")["vi"]
    assert "r = 0.2 (analysis setting" in row(low, "ppset2020")["yi_note"]


def test_settings_are_recorded_and_load_equals_recompute(effects):
    s = EffectSettings(prepost_r=0.8, icc=0.01)
    loaded = load_reviews(FIXTURE, settings=s)
    assert settings_of(loaded) == s and settings_of(effects) == EffectSettings()
    again = recompute_effects(effects, s)
    assert list(again.columns) == list(effects.columns) and len(again) == len(effects)
    np.testing.assert_array_equal(loaded["vi"].to_numpy(), again["vi"].to_numpy())
    assert (loaded["pool_reason"] == again["pool_reason"]).all()
    with pytest.raises(ValueError, match="settings must be an EffectSettings"):
        load_reviews(FIXTURE, settings={"prepost_r": 0.2})


@pytest.mark.parametrize("kw, match", [(dict(prepost_r=1.5), "prepost_r must be a number in"),
                                       (dict(icc=-0.01), "icc must be"), (dict(icc=float("nan")), "icc must be"),
                                       (dict(prepost="change"), "unknown prepost")])
def test_settings_are_validated(kw, match):
    with pytest.raises(ValueError, match=match):
        EffectSettings(**kw)


def test_settings_describe_themselves():
    text = EffectSettings(prepost_r=0.2, icc=0.1).describe()
    assert "r = 0.2 where the source printed none" in text and "ICC = 0.1 where the source printed none" in text
    assert EffectSettings().to_dict() == {"prepost_r": 0.5, "icc": 0.05, "prepost": "ppc2"}


# --- one effect per trial ------------------------------------------------------------------------------

@pytest.mark.parametrize("trial, pooled, step", [
    ("multi2020", "multi2020_wl", {"multi2020_active": "passive control", "multi2020_wl_fu": "post-intervention"}),
    ("mark2021", "mark2021_b", {"mark2021_a": "marked as the trial's primary effect"}),
    ("hand2018", "hand2018_first", {"hand2018_second": "first-hand numbers"}),
    ("file2017", "file2017_a", {"file2017_b": "earlier in the file"}),
])
def test_one_effect_per_trial(effects, trial, pooled, step):
    rows = effects[effects["study_id"] == trial].set_index("effect_id")
    assert rows.index[rows["pool"]].tolist() == [pooled]
    for eid, why in step.items():
        assert rows.loc[eid, "pool_reason"].startswith(f"another effect of the same trial is pooled: {pooled}")
        assert why in rows.loc[eid, "pool_reason"]
        assert not np.isnan(rows.loc[eid, "yi"])  # the row keeps its effect


def test_excluded_rows_do_not_compete(effects):
    rows = effects[effects["study_id"] == "excl2016"].set_index("effect_id")
    assert rows["pool"].tolist() == [False, True]
    assert rows.loc["excl2016_a", "pool_reason"] == "excluded: duplicate of excl2016_b"


def test_every_pool_holds_one_effect_per_trial(effects):
    pooled = effects[effects["pool"]]
    assert pooled.groupby(["review", "study_id"]).size().max() == 1
    n_trials = effects.loc[effects["pool"], "study_id"].nunique()
    assert list_reviews(FIXTURE)["n_pooled_effects"].tolist() == [n_trials]  # the catalogue counts the same


# --- F rows and validation of the design columns ---------------------------------------------------------

def _f_row(**kw):
    base = dict(stat_type="f", test_stat=4.0, n_treatment=30, n_control=30, sign_convention="higher_lonelier",
                favours=None, ci_level=None)
    return base | kw


def test_an_f_with_a_directed_sign_convention_is_not_pooled():
    """Issue 9: F = 4.0 with higher_lonelier pooled as "treatment lonelier" (+0.51). It must not pool."""
    (c,) = compute_effects([(1, _f_row())], "SMD")
    assert c.yi is None and "carries no direction" in c.reason
    (c,) = compute_effects([(1, _f_row(sign_convention="undirected", favours="control"))], "SMD")
    assert round(c.yi, 2) == 0.51  # the number the issue cites, now only with the arm the source names
    (c,) = compute_effects([(1, _f_row(sign_convention="undirected", favours="treatment"))], "SMD")
    assert round(c.yi, 2) == -0.51


def _copy(tmp_path: Path, edit) -> Path:
    folder = tmp_path / "demo_design"
    shutil.copytree(FIXTURE / "demo_design", folder)
    path = folder / "effects.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header, rows = list(reader.fieldnames or []), list(reader)
    edit({r["effect_id"]: r for r in rows})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return folder


def _problems(folder: Path, effect_row: int):
    return [(p.column, p.severity, p.message) for p in validate(folder) if p.row == effect_row]


def test_validate_refuses_a_directed_f_naming_the_row_and_the_fix(tmp_path):
    def edit(rows):
        rows["cld2019"].update(stat_type="f", es="", test_stat="4.0", df="1,228")
    folder = _copy(tmp_path, edit)
    errors = [p for p in validate(folder) if p.is_error]
    assert len(errors) == 1
    p = errors[0]
    assert (p.file, p.row, p.column) == ("demo_design/effects.csv", 8, "sign_convention")
    assert "set sign_convention = undirected and favours = treatment or control" in p.message


def test_cluster_trial_without_clusters_is_pooled_uncorrected_with_a_warning(tmp_path):
    folder = _copy(tmp_path, lambda rows: rows["clpost2019"].update(n_clusters=""))
    (col, severity, message), = _problems(folder, 6)
    assert (col, severity) == ("n_clusters", "warning") and "pooled uncorrected" in message
    with pytest.warns(DataQualityWarning, match="cannot be corrected for clustering"):
        r = row(load_reviews(folder), "clpost2019")
    assert r["pool"] and r["cluster_uncorrected"] and np.isnan(r["design_effect"])
    assert r["vi"] == pytest.approx(R["cluster"]["means_post"]["vi_uncorrected"], rel=RTOL)
    assert "not corrected for clustering" in r["yi_note"]
    quiet = _copy(tmp_path / "ack", lambda rows: rows["clpost2019"].update(
        n_clusters="", missing="number of clusters not reported"))
    assert validate(quiet) == []  # the coder recorded that it could not be read: no warning, still flagged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert row(load_reviews(quiet), "clpost2019")["cluster_uncorrected"]


@pytest.mark.parametrize("effect_id, edit, column, severity, text", [
    ("clpost2019", dict(n_clusters="300"), "n_clusters", "error", "300 clusters but only 230 participants"),
    ("ppset2020", dict(n_clusters="8"), "n_clusters", "warning", "is for cluster-randomised trials"),
    ("ppset2020", dict(icc="0.02"), "icc", "warning", "is for cluster-randomised trials"),
    ("ppset2020", dict(n_randomised="50"), "n_randomised", "warning", "more than the 50 randomised"),
    ("mark2021_a", dict(primary_effect="true"), "primary_effect", "error", "a second primary_effect row"),
])
def test_design_column_rules(tmp_path, effect_id, edit, column, severity, text):
    folder = _copy(tmp_path, lambda rows: rows[effect_id].update(edit))
    found = [p for p in validate(folder) if p.column == column]
    assert len(found) == 1 and found[0].severity == severity and text in found[0].message
