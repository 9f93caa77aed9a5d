"""meta_regress against metafor 3.8.1 ``rma(yi, vi, mods=...)`` (tests/reference/regression.json, written
by tests/reference/metafor_reference.R): dat.bcg, 4 formulas x REML/ML/DL/EE x z/knha.

Tolerance: RTOL = 1e-6 relative. metafor ran with threshold 1e-12 and the engine converges to ~1e-11,
so agreement is ~1e-10 (measured worst: 4e-10); 1e-6 still catches any formula difference, which
shows at 1e-3 or more. ATOL = 1e-9 only matters for values that are exactly 0 on one side (R² = 0,
tau2 at the boundary, where metafor's Fisher scoring stops at ~1e-13 instead of 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples, reference
from whatworks import meta_analyze
from whatworks.regression import RegressionResult, meta_regress

RTOL, ATOL = 1e-6, 1e-9
REF = reference("regression")
CASES = REF["cases"]
BCG = pd.DataFrame({k: REF["data"][k] for k in ("yi", "vi", "ablat", "year", "alloc", "author")})
ARRAYS = ("coef", "se", "stat", "pvalue", "ci_low", "ci_high", "vcov")
SCALARS = ("tau2", "se_tau2", "tau2_ci_low", "tau2_ci_high", "qm", "qm_pvalue", "qe", "qe_pvalue", "r2", "i2", "h2")


def _id(case: dict) -> str:
    return f"{case['formula']}-{case['method']}-{case['test']}"


def _params():
    # ~ factor(alloc) + ablat with ML has a boundary local maximum at tau2 = 0 (loglik -7.2088) besides
    # metafor's interior maximum tau2 = 0.02939 (loglik -7.0135): a case that once trapped the engine.
    for case in CASES:
        yield pytest.param(case, id=_id(case))


@pytest.mark.parametrize("case", list(_params()))
def test_matches_metafor(case):
    mods = case["formula"].replace("factor(alloc)", "C(alloc)")
    res = meta_regress(BCG, mods, method=case["method"], test=case["test"])
    assert (res.k, res.p) == (case["k"], case["p"])
    # patsy's names for R's: intrcpt -> Intercept, factor(alloc)random -> C(alloc)[T.random]
    r_names = [n.replace("intrcpt", "Intercept") for n in case["coef_names"]]
    r_names = [n.replace("factor(alloc)", "C(alloc)[T.") + "]" if "factor" in n else n for n in r_names]
    assert list(res.names) == r_names
    np.testing.assert_allclose(res.X, case["model_matrix"], rtol=0, atol=0)
    for name in ARRAYS:
        np.testing.assert_allclose(getattr(res, name), case[name], rtol=RTOL, atol=ATOL, err_msg=name)
    for name in SCALARS:
        want = case[name]
        if want is None:  # EE: no tau2 CI and no se_tau2 in metafor
            assert np.isnan(getattr(res, name)), name
            continue
        np.testing.assert_allclose(getattr(res, name), want, rtol=RTOL, atol=ATOL, err_msg=name)
    assert res.qm_df == case["qm_df"] and res.qe_df == case["qe_df"]
    if case["test"] == "knha":
        assert res.qm_df2 == case["qm_df2"] and res.df == case["df"]
    else:
        assert res.qm_df2 is None and res.df == np.inf


EXTRA = reference("analyses_extra")  # predict() values, written by tests/reference/analyses_extra.R


@pytest.mark.parametrize("case", EXTRA["predict"], ids=_id)
def test_predict_matches_metafor(case):
    df = pd.DataFrame({k: EXTRA["data"][k] for k in ("yi", "vi", "ablat", "alloc")})
    mods = case["formula"].replace("factor(alloc)", "C(alloc)")
    res = meta_regress(df, mods, method=case["method"], test=case["test"])
    pred = res.predict(pd.DataFrame(case["newdata"]))
    for name in ("pred", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
        np.testing.assert_allclose(pred[name].to_numpy(), case[name], rtol=RTOL, atol=ATOL, err_msg=name)


def test_predict_names_unusable_newdata():
    res = meta_regress(BCG, "~ C(alloc) + ablat")
    with pytest.raises(ValueError, match="cannot build model rows"):
        res.predict(pd.DataFrame({"ablat": [10.0]}))


# ---- invariants ----------------------------------------------------------------------------------

effects = st.lists(
    st.tuples(st.floats(-2, 2), st.floats(0.01, 1), st.floats(-1, 1)), min_size=4, max_size=12
)


@settings(max_examples=examples(40), deadline=None)
@given(effects, st.sampled_from(["REML", "DL", "EE", "PM"]), st.sampled_from(["z", "knha"]))
def test_intercept_only_equals_meta_analyze(rows, method, test):
    df = pd.DataFrame(rows, columns=["yi", "vi", "x"])
    reg = meta_regress(df, "~ 1", method=method, test=test)
    fit = meta_analyze(df["yi"], df["vi"], method=method, test=test)
    assert reg.names == ("Intercept",)
    np.testing.assert_allclose([reg.coef[0], reg.se[0], reg.ci_low[0], reg.ci_high[0], reg.pvalue[0]],
                               [fit.estimate, fit.se, fit.ci_low, fit.ci_high, fit.pvalue], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([reg.tau2, reg.qe, reg.i2], [fit.tau2, fit.q, fit.i2], rtol=1e-9, atol=1e-9)
    assert np.isnan(reg.r2)  # no moderators: R² undefined, as metafor (NULL)


@settings(max_examples=examples(30), deadline=None)
@given(effects, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(rows, rnd):
    df = pd.DataFrame(rows, columns=["yi", "vi", "x"])
    if np.ptp(df["x"]) < 1e-3:
        return
    shuffled = df.sample(frac=1, random_state=rnd.randint(0, 10**6))
    a, b = meta_regress(df, "~ x", method="DL"), meta_regress(shuffled, "~ x", method="DL")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.tau2, b.tau2, rtol=1e-8, atol=1e-10)


def test_knha_f_test_is_wald_over_m():
    z = meta_regress(BCG, "~ ablat + year", method="REML", test="knha")
    # with one coefficient tested, F(1, k - p) = t²
    one = meta_regress(BCG, "~ ablat", method="REML", test="knha")
    assert one.qm == pytest.approx(one.stat[1] ** 2, rel=1e-12)
    assert z.qm_df == 2 and z.qm_df2 == BCG.shape[0] - 3


# ---- missing values, bad input ---------------------------------------------------------------------


def test_rows_with_missing_values_are_dropped_and_listed():
    df = BCG.copy()
    df.loc[2, "ablat"] = np.nan
    df.loc[5, "yi"] = np.nan
    df.loc[7, "alloc"] = None
    res = meta_regress(df, "~ C(alloc) + ablat")
    assert res.k == 10
    assert res.dropped == (("2", "missing ablat"), ("5", "missing yi"), ("7", "missing alloc"))
    full = meta_regress(BCG.drop(index=[2, 5, 7]), "~ C(alloc) + ablat")
    np.testing.assert_allclose(res.coef, full.coef, rtol=1e-12)
    assert "Dropped row 5: missing yi" in res.summary()


def test_level_only_in_dropped_rows_gets_no_column():
    df = BCG.copy()
    df.loc[df["alloc"] == "systematic", "ablat"] = np.nan
    res = meta_regress(df, "~ C(alloc) + ablat")
    assert res.names == ("Intercept", "C(alloc)[T.random]", "ablat")


@pytest.mark.parametrize(
    ("frame", "mods", "kwargs", "message"),
    [
        (BCG, "~ ablat", {"yi": "g"}, r"yi column 'g' not in the frame; available columns: \['yi', 'vi'"),
        (BCG, "~ latitude", {}, r"(?s)cannot build the model matrix of mods=.~ latitude.*available columns"),
        (BCG, "~ ablat", {"method": "reml"}, r"unknown method='reml'"),
        (BCG, "~ ablat", {"test": "hksj"}, r"unknown test='hksj'"),
        (BCG, "~ ablat + I(2 * ablat)", {}, r"not of full column rank"),
        (BCG.head(2), "~ ablat", {}, r"too few effects: k = 2 for p = 2"),
        (BCG.assign(vi=-BCG["vi"]), "~ ablat", {}, r"vi must be positive"),
        (BCG.to_dict(), "~ ablat", {}, r"frame must be a pandas DataFrame"),
        (BCG, ["ablat"], {}, r"mods must be a formula string"),
    ],
)
def test_bad_input_names_the_problem(frame, mods, kwargs, message):
    with pytest.raises(ValueError, match=message):
        meta_regress(frame, mods, **kwargs)


# ---- display ---------------------------------------------------------------------------------------


def test_result_is_frozen_and_shows_itself():
    res = meta_regress(BCG, "~ C(alloc) + ablat", method="REML", test="knha")
    assert isinstance(res, RegressionResult)
    frame = res.to_frame()
    assert list(frame.columns) == ["term", "coef", "se", "stat", "pvalue", "ci_low", "ci_high"]
    assert frame["term"].tolist() == list(res.names)
    with pytest.raises(AttributeError):
        res.tau2 = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.coef[0] = 1.0
    assert "F(df1 = 3, df2 = 9)" in res.summary()
    assert "meta_regress" not in repr(res) and "qm=" in repr(res)
    assert "<table" in res._repr_html_() and "C(alloc)[T.random]" in res._repr_html_()


T_REG = reference("rma_tests")["regression"]


@pytest.mark.parametrize("case", T_REG["cases"], ids=lambda c: f"{c['formula']}-{c['method']}-{c['test']}")
def test_t_and_adhoc_match_metafor(case):
    """rma(yi, vi, mods, test = "t" | "adhoc"): t tests on k - p df and F(m, k - p) for QM
    (tests/reference/rma_tests.json, written by publication_bias.R)."""
    d = T_REG["data"]
    frame = pd.DataFrame({"yi": d["yi"], "vi": d["vi"], "ablat": d["ablat"], "alloc": d["alloc"]})
    res = meta_regress(frame, case["formula"].replace("factor(alloc)", "C(alloc)"), method=case["method"],
                       test=case["test"])
    for name in ("coef", "se", "stat", "pvalue", "ci_low", "ci_high"):
        np.testing.assert_allclose(getattr(res, name), case[name], rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose([res.qm, res.qm_pvalue, res.tau2], [case["qm"], case["qm_pvalue"], case["tau2"]],
                               rtol=RTOL, atol=ATOL)
    assert (res.df, res.qm_df, res.qm_df2) == (case["df"], case["qm_df"], case["qm_df2"])
    assert "F(df1" in res.summary()
