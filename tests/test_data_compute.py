"""yi/vi computed from the fixture rows equal metafor's.

Reference: ``tests/fixtures/compute_reference.json``, written by ``tests/fixtures/compute_reference.R``
(metafor 3.8.1 ``escalc``; the Hedges' g, md_ci and OR rows use the formulas written in that script).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from whatworks.data import load_reviews
from whatworks.data.compute import compute_effects

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "compute_reference.json").read_text("utf-8"))
# The same closed-form formulas evaluated in R and in numpy: only floating-point rounding differs.
TOL = 1e-10


@pytest.fixture(scope="module")
def effects():
    return load_reviews(FIXTURES / "reviews").set_index("effect_id")


@pytest.mark.parametrize("effect_id", [k for k in REFERENCE if not k.startswith("_")])
def test_yi_vi_equal_metafor(effects, effect_id):
    row = effects.loc[effect_id]
    assert row["yi"] == pytest.approx(REFERENCE[effect_id]["yi"], abs=TOL)
    assert row["vi"] == pytest.approx(REFERENCE[effect_id]["vi"], abs=TOL)


def test_rows_without_an_effect_say_why(effects):
    reasons = effects["pool_reason"]
    assert reasons["iota2014_wl"].startswith("stat_type other")
    assert reasons["kappa2013_wl"] == "cannot compute SMD from d: n_treatment, n_control missing"
    assert reasons["nu2020"] == "stat_type means_post does not give the review metric SMCC_diff"
    assert reasons["alpha2020_wl_dup"] == "excluded: duplicate of alpha2020_wl (same comparison, second-hand)"
    assert np.isnan(effects.loc["iota2014_wl", "yi"])
    assert not effects.loc[["iota2014_wl", "kappa2013_wl", "nu2020", "alpha2020_wl_dup"], "pool"].any()
    pooled = effects[effects["pool"]]
    assert (pooled["pool_reason"] == "").all() and pooled["yi"].notna().all()


def _row(**kw):
    base = dict(stat_type="means_post", m_t=30.0, sd_t=6.0, m_c=34.0, sd_c=6.5, n_treatment=20, n_control=22,
                sign_convention="higher_lonelier", favours=None, ci_level=None)
    return base | kw


def test_sign_normalisation_is_a_pure_flip():
    """Invariant: the same numbers under the reversed convention give the negated yi and equal vi."""
    a, b = compute_effects([(1, _row()), (2, _row(sign_convention="higher_less_lonely"))], "SMD")
    assert b.yi == -a.yi and b.vi == a.vi
    und_t, und_c = compute_effects([(1, _row(sign_convention="undirected", favours="treatment")),
                                    (2, _row(sign_convention="undirected", favours="control"))], "SMD")
    assert und_t.yi == -abs(a.yi) and und_c.yi == abs(a.yi)


def test_md_metric_uses_raw_means():
    (c,) = compute_effects([(1, _row())], "MD")
    assert c.yi == -4.0 and c.vi == pytest.approx(36 / 20 + 6.5**2 / 22, rel=1e-15)
    (c,) = compute_effects([(1, _row(stat_type="md_ci", es=-5.2, es_ci_low=-9.1, es_ci_high=-1.3))], "MD")
    # SE from a normal-based 95% CI: (high - low) / (2 * 1.959964)
    assert c.yi == -5.2 and c.vi == pytest.approx((7.8 / (2 * 1.959963984540054)) ** 2, rel=1e-12)


def test_ci_level_is_used():
    base = _row(stat_type="md_ci", es=-5.2, es_ci_low=-9.1, es_ci_high=-1.3)
    (c95,) = compute_effects([(1, base)], "MD")
    (c90,) = compute_effects([(1, base | {"ci_level": 0.90})], "MD")
    assert c90.vi > c95.vi  # the same width at a lower level means a larger SE


def test_undeclared_metric_and_missing_sign_give_reasons():
    (c,) = compute_effects([(1, _row())], None)
    assert c.yi is None and c.reason == "review metric not declared in review.toml"
    (c,) = compute_effects([(1, _row(sign_convention=None))], "SMD")
    assert c.yi is None and c.reason == "sign convention missing"


def test_impossible_numbers_are_errors_not_exceptions():
    (c,) = compute_effects([(1, _row(m_t=1e308, m_c=-1e308, sd_t=1e-308, sd_c=1e-308))], "SMD")
    assert c.yi is None and c.error


def test_undirected_with_unknown_direction_gives_no_effect():
    (c,) = compute_effects([(1, _row(sign_convention="undirected", favours="unknown"))], "SMD")
    assert c.yi is None and "does not say which arm" in c.reason


def test_grouped_computation_equals_row_by_row():
    # compute_effects computes rows of one route in one vectorised call (issue 11 item 7); the reference
    # is each row computed alone, the path every row took before. Bundled data and fixtures, every row.
    import importlib

    from whatworks.data import bundled_root
    from whatworks.data.compute import compute_effects

    V = importlib.import_module("whatworks.data.validate")
    roots = [bundled_root(), Path(__file__).parent / "fixtures" / "reviews"]
    n = 0
    for folder in (f for root in roots for f in V.discover(root)):
        d = V.check_folder(folder)
        if d.effects is None:
            continue
        metric = d.meta.get("metric")
        rows = list(d.effects)
        together = compute_effects(d.effects, metric)
        alone = [compute_effects([pair], metric)[0] for pair in rows]
        assert together == alone, folder.name
        n += len(rows)
    assert n > 100
