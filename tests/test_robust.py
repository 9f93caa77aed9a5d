"""Cluster-robust inference against metafor 3.8.1 ``robust()`` (CR1) and clubSandwich 0.5.8 (CR2).

Reference: tests/reference/robust.json, written by tests/reference/multilevel.R: rma.uni (REML,
intercept-only and with one moderator) and rma.mv (three-level, REML) on dat.konstantopoulos2011 and
dat.assink2016, each with ``robust(fit, cluster)`` and ``robust(fit, cluster, clubSandwich=TRUE)``
(= ``coef_test(fit, vcov="CR2")`` with Satterthwaite df).

Tolerance: RTOL = 1e-5 relative (issue 6). Single-level cases agree to ~1e-12; three-level ones inherit
the <= 1e-6 agreement of the variance components (see test_multilevel.py). ATOL = 1e-10 for p-values
near 0.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import reference
from whatworks import meta_analyze
from whatworks.multilevel import fit_three_level
from whatworks.regression import meta_regress
from whatworks.robust import RobustResult, robust

RTOL, ATOL = 1e-5, 1e-10
REF = reference("robust")
CASES = REF["cases"]
FIELDS = ("coef", "se", "stat", "df", "pvalue", "ci_low", "ci_high")


def _id(c: dict) -> str:
    return f"{c['dataset']}-{c['model']}-{'mods' if c['mods'] else 'int'}-{c['test']}"


def _fit(c: dict):
    ds = REF["datasets"][c["dataset"]]
    X = np.array(c["model_matrix"])
    if c["model"] == "rma.mv":
        X = X if c["mods"] else None
        return fit_three_level(ds["yi"], ds["vi"], ds["cluster"], X=X, coef_names=c["coef_names"])
    if not c["mods"]:
        return meta_analyze(ds["yi"], ds["vi"], method="REML", test=c["test"])
    frame = pd.DataFrame({"yi": ds["yi"], "vi": ds["vi"]} | {f"x{j}": X[:, j] for j in range(1, X.shape[1])})
    return meta_regress(frame, "~ " + " + ".join(f"x{j}" for j in range(1, X.shape[1])), method="REML")


@pytest.mark.parametrize("kind", ["CR1", "CR2"])
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_metafor_and_clubsandwich(case, kind):
    if kind == "CR1" and case["test"] == "knha":
        pytest.skip("metafor scales CR1 by the Knapp-Hartung factor; see test_knha_fit_gets_the_z_fit_cr1")
    fit = _fit(case)
    res = robust(fit, REF["datasets"][case["dataset"]]["cluster"], kind=kind)
    ref = case[kind]
    assert res.n_clusters == case["n_clusters"] and res.kind == kind
    for name in FIELDS:  # metafor's CR1 df is one number (n - p) for every coefficient
        want = np.broadcast_to(ref[name], res.coef.shape)
        np.testing.assert_allclose(getattr(res, name), want, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(res.vcov, np.reshape(ref["vcov"], res.vcov.shape), rtol=RTOL, atol=ATOL)
    if kind == "CR2":  # clubSandwich's own coef_test gives the same numbers as metafor's wrapper
        for name in ("se", "stat", "df", "pvalue"):
            np.testing.assert_allclose(getattr(res, name), case["coef_test_CR2"][name], rtol=RTOL, atol=ATOL)


def test_knha_fit_gets_the_z_fit_cr1():
    # The robust covariance does not depend on the model's test. metafor 3.8's robust() on a knha fit
    # multiplies the CR1 SE by the Knapp-Hartung factor (its bread uses x$vb); clubSandwich does not.
    knha = next(c for c in CASES if c["test"] == "knha")
    z = next(c for c in CASES if c["test"] == "z" and c["dataset"] == knha["dataset"]
             and c["model"] == "rma.uni" and not c["mods"])  # fmt: skip
    res = robust(_fit(knha), REF["datasets"][knha["dataset"]]["cluster"], kind="CR1")
    np.testing.assert_allclose(res.se, z["CR1"]["se"], rtol=RTOL)
    assert not np.allclose(res.se, knha["CR1"]["se"], rtol=1e-3)


def test_coarser_cluster_than_the_model():
    # three-level model by district; robust clusters = pairs of districts (model clusters nested)
    ds = REF["datasets"]["konstantopoulos2011"]
    fit = fit_three_level(ds["yi"], ds["vi"], ds["cluster"])
    codes = pd.factorize(np.asarray(ds["cluster"]), sort=True)[0]
    res = robust(fit, codes // 2)
    assert res.n_clusters == 6 and np.all(np.isfinite(res.se)) and np.all(res.df > 0)
    with pytest.raises(ValueError, match="nested"):
        robust(fit, np.arange(len(ds["yi"])) % 7)


def test_invariant_to_row_order():
    case = next(c for c in CASES if c["model"] == "rma.uni" and c["mods"] and c["dataset"] == "assink2016")
    ds = REF["datasets"][case["dataset"]]
    X = np.array(case["model_matrix"])
    perm = np.random.default_rng(3).permutation(len(ds["yi"]))
    frame = pd.DataFrame({"yi": np.asarray(ds["yi"])[perm], "vi": np.asarray(ds["vi"])[perm],
                          "x1": X[perm, 1], "x2": X[perm, 2]})  # fmt: skip
    res = robust(meta_regress(frame, "~ x1 + x2"), np.asarray(ds["cluster"])[perm])
    np.testing.assert_allclose(res.se, case["CR2"]["se"], rtol=RTOL)
    np.testing.assert_allclose(res.df, case["CR2"]["df"], rtol=RTOL)


# ---- bad input -------------------------------------------------------------------------------------

YI, VI = [0.1, 0.3, 0.2, 0.6, 0.4, 0.0], [0.05] * 6


@pytest.mark.parametrize(
    ("cluster", "kind", "message"),
    [
        ([1, 1, 2, 2, 3, 3], "CR3", "unknown kind"),
        ([1, 1, 2], "CR2", "one entry per effect"),
        ([1, 1, np.nan, 2, 3, 3], "CR2", r"missing identifiers at position \[2\]"),
        ([1] * 6, "CR2", "at least two clusters"),
    ],
)
def test_bad_input_names_the_problem(cluster, kind, message):
    with pytest.raises(ValueError, match=message):
        robust(meta_analyze(YI, VI), cluster, kind=kind)


def test_cr1_needs_more_clusters_than_coefficients():
    frame = pd.DataFrame({"yi": YI, "vi": VI, "x": [0, 1, 2, 3, 4, 5]})
    with pytest.raises(ValueError, match=r"more clusters \(2\) than coefficients \(2\)"):
        robust(meta_regress(frame, "~ x"), [1, 1, 1, 2, 2, 2], kind="CR1")


def test_unsupported_fit():
    with pytest.raises(ValueError, match="needs a fit"):
        robust("not a fit", [1, 2])


# ---- display ---------------------------------------------------------------------------------------


def test_result_is_frozen_and_shows_itself():
    case = next(c for c in CASES if c["model"] == "rma.mv" and c["mods"] and c["dataset"] == "assink2016")
    res = robust(_fit(case), REF["datasets"][case["dataset"]]["cluster"])
    assert isinstance(res, RobustResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.kind = "CR1"  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.se[0] = 0.0
    fr = res.to_frame()
    assert list(fr.columns) == ["term", "coef", "se", "stat", "df", "pvalue", "ci_low", "ci_high"]
    assert list(fr["term"]) == case["coef_names"]
    assert any("df below 4" in n for n in res.notes)  # deltypecovert: one study, df ~ 2.3
    assert "Satterthwaite" in res.summary() and "deltypeovert" in res.summary()
    assert repr(res).startswith("RobustResult(kind='CR2', n_clusters=17")
    assert "<table" in res._repr_html_()


def test_zero_residuals_give_nan_with_the_reason():
    """Identical effects per strategy: every residual is 0, so the CR2 variance is 0 up to rounding.

    clubSandwich 0.5.8 prints SE 0, t = -Inf/Inf, p < 0.001 for this model (rma(yi, vi, mods = ~ g)
    with yi = -.5, -.5, -.2, -.2, vi = .05, clusters = rows; run by hand); a 'significant' test from no
    residual variation is not inference, so the SE, test and CI are NaN and a note says why (issue 11.1:
    this was sqrt of a negative rounding error, a RuntimeWarning)."""
    frame = pd.DataFrame({"yi": [-0.5, -0.5, -0.2, -0.2], "vi": [0.05] * 4, "g": [0.0, 0.0, 1.0, 1.0]})
    fit = meta_regress(frame, "~ g", test="knha")
    rr = robust(fit, [1, 2, 3, 4], kind="CR2")
    assert np.allclose(rr.coef, [-0.5, 0.3])
    assert np.isnan(rr.se).all() and np.isnan(rr.pvalue).all() and np.isnan(rr.ci_low).all()
    assert any("robust variance 0" in n for n in rr.notes)
