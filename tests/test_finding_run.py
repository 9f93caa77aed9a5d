"""The whole finding on the bundled data (whatworks.finding.run, .sensitivity, .compare, .plots, report
section): structure and invariants, not the numbers of the day (those are in the report)."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from whatworks.data import list_reviews, load_pooled, load_reviews
from whatworks.finding import CLAIM_COLUMNS, run_finding, strategy_contrasts
from whatworks.finding.compare import COMPARISON_COLUMNS, OURS
from whatworks.finding.sensitivity import SENSITIVITY_COLUMNS


@pytest.fixture(scope="module")
def res():
    return run_finding(load_reviews(), load_pooled(), catalogue=list_reviews())


def test_primary_rows_are_rcts_on_g_one_row_per_trial_across_reviews(res):
    p = res.primary
    assert (p["design"] == "rct").all() and (p["metric"] == "SMD").all() and p["pool"].all()
    per_trial_reviews = p.groupby("study_id")["review"].nunique()
    assert (per_trial_reviews == 1).all()  # a trial never enters from two reviews
    assert len(res.selection) == len(load_reviews())


def test_verdict_and_headline_come_from_the_contrast(res):
    row = res.contrast.combined()
    assert res.verdict == row["verdict"]
    assert f"{row['difference']:.2f}" in res.headline and f"{row['ci_low']:.2f}" in res.headline
    # the verdict is the rule applied to the numbers
    if row["ci_high"] < 0:
        assert res.verdict == "supported"
    elif row["ci_low"] > -res.contrast.delta:
        assert res.verdict == "not supported"


def test_sensitivity_table(res):
    tab = res.sensitivity.to_frame()
    assert tuple(tab.columns) == SENSITIVITY_COLUMNS
    need = {"primary", "estimator", "control", "borderline", "second-hand numbers", "leave-one-out", "design",
            "age band", "small-study effects", "dependence"}
    assert need <= set(tab["analysis"])
    assert tab.loc[tab["analysis"] == "primary", "estimate"].iloc[0] == res.contrast.combined()["difference"]
    loo = res.sensitivity.leave_one_out
    assert len(loo) == res.contrast.model_combined.k
    rows = res.contrast.rows
    direct = strategy_contrasts(rows.drop(index=rows.index[0])).combined()
    assert loo["difference"].iloc[0] == pytest.approx(direct["difference"], rel=1e-9)
    assert loo["ci_high"].iloc[0] == pytest.approx(direct["ci_high"], rel=1e-9)


def test_claims_and_comparison(res):
    claims = res.to_frame()
    assert tuple(claims.columns) == CLAIM_COLUMNS and claims["claim_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]
    assert claims.loc[0, "verdict"] == res.verdict
    cmp = res.comparison.to_frame()
    assert tuple(cmp.columns) == COMPARISON_COLUMNS
    ours = cmp[cmp["source"] == OURS].set_index("strategy")
    for s, fit in res.pooling.fits.items():
        assert ours.loc[s, "estimate"] == fit.estimate
    assert (cmp.loc[cmp["source"] != OURS, "explanation"].str.len() > 0).all()
    assert "masi2011" in set(cmp["source"])


def test_displays(res):
    for obj in (res, res.pooling, res.contrast, res.dependence, res.sensitivity, res.claims, res.comparison):
        assert isinstance(obj.summary(), str) and repr(obj)
        assert obj._repr_html_().startswith("<div>")
        assert isinstance(obj.to_frame(), pd.DataFrame)


def test_plots_return_axes(res):
    from whatworks.finding.plots import comparison_plot, contrast_plot

    ax = comparison_plot(res.comparison)
    ours = ax.findobj(lambda a: a.get_gid() == "comparison-ours")
    assert len(ours) == (res.comparison.to_frame()["source"] == OURS).sum()
    ax = contrast_plot(res.contrast)
    assert len(ax.findobj(lambda a: a.get_gid() == "contrast-point")) == res.contrast.table["difference"].notna().sum()
    import matplotlib.pyplot as plt
    plt.close("all")


def test_report_sections_of_the_finding(res):
    """The finding's numbers reach the page through four sections, each table once."""
    from whatworks.report.api import ReportContext, ReportOptions
    from whatworks.report.sections import section_bottom_line, section_claims, section_finding, section_published

    ctx = ReportContext(effects=load_reviews(), pooled=load_pooled(), catalogue=list_reviews(),
                        options=ReportOptions(), data_root="bundled")
    bottom = section_bottom_line(ctx)
    claims = section_claims(ctx)
    finding = section_finding(ctx)
    published = section_published(ctx)
    assert tuple(dict(claims.tables)["claims"].columns) == CLAIM_COLUMNS
    assert {"finding_contrasts"} <= {f.name for f in finding.figures}
    assert {"finding_vs_published", "published_contrasts"} <= {f.name for f in published.figures}
    assert {"published_contrasts", "finding_comparison"} <= set(dict(published.tables))
    assert not finding.rows  # per-strategy rows and figures come from the strategies section, not twice
    assert "finding_strategies" in dict(finding.tables) and "Pooled g per strategy" not in finding.html
    c = res.contrast.combined()
    assert res.verdict == "inconclusive" and "inconclusive" in bottom.html.lower()
    assert f"{abs(c['difference']):.2f}".replace("-", "\u2212") in bottom.html
    import matplotlib.pyplot as plt
    plt.close("all")


def test_leave_one_out_in_chunks_equals_one_batch(res, monkeypatch):
    """The refits are fitted in bounded batches (LOO_CHUNK effects at a time); the numbers do not change."""
    import numpy as np

    from whatworks.finding import sensitivity

    whole = sensitivity._leave_one_out(res.contrast)
    monkeypatch.setattr(sensitivity, "LOO_CHUNK", 3 * res.contrast.model_combined.k)  # 3 refits per batch
    chunked = sensitivity._leave_one_out(res.contrast)
    pd.testing.assert_frame_equal(whole, chunked, rtol=1e-12)
    assert np.isfinite(whole["difference"]).all()


def test_leave_one_out_of_a_tiny_contrast_is_not_estimable_rather_than_singular():
    """Issue 11.1: one reference trial and two comparison trials (k = 3, p = 2): every refit either loses an
    arm or has no residual df; they were a LinAlgError ('Singular matrix'), now 'not estimable'."""
    from whatworks.finding import sensitivity

    df = pd.DataFrame({"strategy": ["social_cognition", "social_support", "social_support"],
                       "yi": [-0.4, 0.0, 0.3], "vi": [0.05, 0.05, 0.06], "study": ["a", "b", "c"]})
    loo = sensitivity._leave_one_out(strategy_contrasts(df, others=("social_support",)))
    assert loo["verdict"].tolist() == ["not estimable"] * 3


@pytest.mark.parametrize("test", ["knha", "z"])
def test_leave_one_out_above_the_exact_bound_uses_deletion_formulas(monkeypatch, test):
    """Above LOO_EXACT_MAX_K the refits keep the full-data tau²: checked against each refit done by brute
    force (weighted least squares with W = 1/(vi + tau²) on the k - 1 rows, in numpy, row by row)."""
    import numpy as np

    from whatworks import _dist
    from whatworks.finding import sensitivity

    rng = np.random.default_rng(11)
    k = 30
    df = pd.DataFrame({"strategy": ["social_cognition"] * 12 + ["social_support"] * 18,
                       "yi": rng.normal(-0.3, 0.3, k), "vi": rng.uniform(0.02, 0.1, k),
                       "study": [f"s{i}" for i in range(k)]})
    contrast = strategy_contrasts(df, others=("social_support",), test=test)
    exact = sensitivity._leave_one_out(contrast)
    monkeypatch.setattr(sensitivity, "LOO_EXACT_MAX_K", 10)
    fast = sensitivity._leave_one_out(contrast)
    assert fast.attrs["refits"] == "fixed tau2" and exact.attrs["refits"] == "exact"
    fit = contrast.model_combined
    X, y, w = fit.X, fit.yi, 1 / (fit.vi + fit.tau2)
    for i in (0, 5, 29):
        keep = np.arange(k) != i
        Xi, yi, wi = X[keep], y[keep], w[keep]
        M = np.linalg.inv(Xi.T @ (wi[:, None] * Xi))
        b = M @ Xi.T @ (wi * yi)
        s2 = (wi * (yi - Xi @ b) ** 2).sum() / (k - 1 - 2) if test == "knha" else 1.0
        se = np.sqrt(M[1, 1] * s2)
        crit = _dist.t_ppf(0.975, k - 3) if test == "knha" else _dist.norm_ppf(0.975)
        assert fast["difference"].iloc[i] == pytest.approx(-b[1], rel=1e-10)
        assert fast["ci_low"].iloc[i] == pytest.approx(-b[1] - crit * se, rel=1e-10)
        assert fast["ci_high"].iloc[i] == pytest.approx(-b[1] + crit * se, rel=1e-10)
    # tau² re-estimated or held: close on these data (a check of the plumbing, not of the approximation)
    assert np.allclose(fast["difference"], exact["difference"], atol=0.05)


def test_recompute_affected_equals_recomputing_everything():
    """The sensitivity rows recompute only pre-post and cluster rows (whole trials); the frame is the same
    as recompute_effects of every row, for each setting varied (bundled data: both kinds are present)."""
    from whatworks.data import EffectSettings, recompute_effects
    from whatworks.finding.sensitivity_design import recompute_affected

    reviews = load_reviews()
    assert (reviews["stat_type"] == "means_prepost").any() and (reviews["randomisation_unit"] == "cluster").any()
    for alt in (EffectSettings(prepost_r=0.2), EffectSettings(prepost="post"), EffectSettings(icc=0.1)):
        pd.testing.assert_frame_equal(recompute_affected(reviews, alt), recompute_effects(reviews, alt))
    plain = reviews[(reviews["stat_type"] != "means_prepost").fillna(True)
                    & (reviews["randomisation_unit"] != "cluster").fillna(True)]
    pd.testing.assert_frame_equal(recompute_affected(plain, EffectSettings(icc=0.1)),
                                  recompute_effects(plain, EffectSettings(icc=0.1)))
