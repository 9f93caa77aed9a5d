"""meta_analyze against metafor 3.8.1 (tests/reference/rma.json, from metafor_reference.R; test="t" and
"adhoc" from tests/reference/rma_tests.json, written by publication_bias.R).

Tolerance: RTOL = 1e-6 relative. The reference was computed with metafor's convergence threshold at
1e-12, and the reference README reports <= 3e-10 relative error of metafor's tau2 against the exact
score roots, so 1e-6 leaves ample room while catching any formula difference (which show at 1e-3 or
more). ATOL = 1e-9 covers values that are exactly 0 (tau2 at the boundary).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import examples, reference
from whatworks import meta_analyze

RTOL, ATOL = 1e-6, 1e-9
CASES = reference("rma")["cases"]
SCALARS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_pvalue",
           "pi_low", "pi_high", "se_tau2", "tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low",
           "h2_ci_high")  # fmt: skip


def _id(case: dict) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}-{case['level']}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_matches_metafor(case):
    ref = case["fit"]
    res = meta_analyze(case["yi"], case["vi"], method=case["method"], test=case["test"], level=case["level"])
    assert res.k == ref["k"]
    for name in SCALARS:
        want = ref[name]
        if want is None:  # metafor gives no value (EE: no tau2 CI, no se_tau2; k = 1: no confint)
            assert np.isnan(getattr(res, name)), name
            continue
        if name in ("tau2_ci_high", "i2_ci_high", "h2_ci_high") and ref["k"] == 2 and ref["tau2_ci_high"] == 100:
            continue  # metafor's search cap tau2.max = 100, not a real bound (see reference README)
        np.testing.assert_allclose(getattr(res, name), want, rtol=RTOL, atol=ATOL, err_msg=name)
    np.testing.assert_allclose(res.weights, ref["weights"], rtol=RTOL, atol=ATOL)
    assert res.q_df == ref["q_df"]
    if case["test"] == "knha" and ref["k"] > 1:
        assert res.df == ref["df"]


T_CASES = reference("rma_tests")["cases"]
T_FIELDS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "df", "tau2", "i2", "h2", "q", "q_pvalue",
            "tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high", "pi_low", "pi_high")


@pytest.mark.parametrize("case", T_CASES, ids=_id)
def test_t_and_adhoc_match_metafor(case):
    """test="t" (model-based SE, t on k - 1 df) and "adhoc" (Knapp-Hartung truncated at s2w >= 1)."""
    ref = case["fit"]
    data = reference("rma_tests")["datasets"][case["dataset"]]
    res = meta_analyze(data["yi"], data["vi"], method=case["method"], test=case["test"])
    assert ref["test_used"] == case["test"]
    for name in T_FIELDS:
        want = np.nan if ref[name] is None else ref[name]
        np.testing.assert_allclose(getattr(res, name), want, rtol=RTOL, atol=ATOL, err_msg=name)
    if case["test"] == "adhoc":
        assert res.se >= meta_analyze(data["yi"], data["vi"], method=case["method"], test="t").se * (1 - 1e-12)


def test_t_and_adhoc_bracket_knha():
    """"adhoc" is "knha" when s2w >= 1 and "t" otherwise; "t" has the z SE with a t quantile."""
    data = reference("rma_tests")["datasets"]["bcg"]
    z, t, kn, ad = (meta_analyze(data["yi"], data["vi"], test=x) for x in ("z", "t", "knha", "adhoc"))
    assert t.se == pytest.approx(z.se, rel=1e-12) and t.df == z.k - 1 and t.ci_high > z.ci_high
    assert ad.se == pytest.approx(max(kn.se, t.se), rel=1e-12)
    assert "t(df = 12)" in t.summary() and "I^2 = " in t.summary() and "95% CI [" in t.summary().split("I^2")[1]


def test_k1_is_the_single_study():
    res = meta_analyze([0.3], [0.04], method="REML", test="knha")
    assert res.estimate == 0.3 and res.tau2 == 0 and res.se == pytest.approx(0.2)
    assert any("k = 1" in n for n in res.notes)


def test_boundary_is_explained():
    case = next(c for c in CASES if c["dataset"] == "hackshaw1998_first4" and c["method"] == "REML")
    res = meta_analyze(case["yi"], case["vi"])
    assert res.tau2 == 0 and any("boundary" in n for n in res.notes)


# ---- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("yi", "vi", "kwargs", "message"),
    [
        ([0.1, np.nan, 0.3], [0.1, 0.1, 0.1], {}, r"yi has NaN or infinite values at position \[1\]"),
        ([0.1, 0.2, 0.3], [0.1, np.inf, 0.1], {}, r"vi has NaN or infinite values at position \[1\]"),
        ([0.1, 0.2, 0.3], [0.1, 0.0, -1], {}, r"vi must be positive; offending values at positions \[1, 2\]"),
        ([0.1, 0.2], [0.1, 0.1, 0.1], {}, r"equal lengths; got yi=2, vi=3"),
        ([], [], {}, "no effects given"),
        ([0.1, "a", 0.3], [0.1, 0.1, 0.1], {}, r"yi must be numeric; non-numeric values at position \[1\]: 'a'"),
        ([0.1, 0.2], [0.1, 0.1], {"method": "reml"}, r"unknown method='reml'; expected one of 'EE', 'DL', 'REML'"),
        ([0.1, 0.2], [0.1, 0.1], {"test": "hksj"}, r"unknown test='hksj'; expected one of 'z', 't', 'knha', 'adhoc'"),
        ([0.1, 0.2], [0.1, 0.1], {"level": 1.5}, "level must be in"),
        ([0.1, 0.2], [0.1, 0.1], {"labels": ["a"]}, "labels must have one entry per effect"),
    ],
)
def test_bad_input_names_the_problem(yi, vi, kwargs, message):
    with pytest.raises(ValueError, match=message):
        meta_analyze(yi, vi, **kwargs)


# ---- invariants (hypothesis) -----------------------------------------------------------------------

effects = st.integers(2, 12).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.005, 1.0), min_size=k, max_size=k),
    )
)
methods = st.sampled_from(["EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB"])


@settings(max_examples=examples(60), deadline=None)
@given(effects, methods, st.randoms(use_true_random=False))
def test_permutation_invariance(data, method, rnd):
    yi, vi = map(np.array, data)
    order = list(range(len(yi)))
    rnd.shuffle(order)
    a = meta_analyze(yi, vi, method=method)
    b = meta_analyze(yi[order], vi[order], method=method)
    np.testing.assert_allclose([a.estimate, a.se, a.tau2], [b.estimate, b.se, b.tau2], rtol=1e-7, atol=1e-10)


@settings(max_examples=examples(60), deadline=None)
@given(effects, methods, st.floats(-5, 5), st.floats(0.2, 5))
def test_shift_and_scale_equivariance(data, method, shift, scale):
    yi, vi = map(np.array, data)
    a = meta_analyze(yi, vi, method=method)
    b = meta_analyze(scale * yi + shift, scale**2 * vi, method=method)
    np.testing.assert_allclose(b.estimate, scale * a.estimate + shift, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.tau2, scale**2 * a.tau2, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(b.i2, a.i2, rtol=1e-6, atol=1e-6)


@settings(max_examples=examples(100), deadline=None)
@given(effects, methods, st.sampled_from(["z", "knha"]))
@example(([0.0, 2.5e-154], [1.0, 1.0]), "EE", "z")  # Q subnormal: I² = 100 (Q - df) / Q overflowed
@example(([0.0, 0.0, 7.12e-160], [1.0, 1.0, 1.0]), "EE", "knha")
@example(([0.0, 0.0, 7.12e-160], [1.0, 1.0, 1.0]), "REML", "knha")
def test_ranges(data, method, test):
    yi, vi = map(np.array, data)
    res = meta_analyze(yi, vi, method=method, test=test)
    assert res.tau2 >= 0
    assert 0 <= res.i2 <= 100
    assert yi.min() - 1e-12 <= res.estimate <= yi.max() + 1e-12
    assert res.ci_low <= res.estimate <= res.ci_high
    assert res.pi_low <= res.ci_low + 1e-12 and res.pi_high >= res.ci_high - 1e-12
    assert res.weights.sum() == pytest.approx(100)


@settings(max_examples=examples(60), deadline=None)
@given(effects)
def test_ee_is_inverse_variance_mean(data):
    yi, vi = map(np.array, data)
    res = meta_analyze(yi, vi, method="EE")
    w = 1 / vi
    assert res.estimate == pytest.approx((w * yi).sum() / w.sum(), rel=1e-12, abs=1e-12)
    assert res.se == pytest.approx(np.sqrt(1 / w.sum()), rel=1e-12)


def test_result_is_frozen_and_displays():
    res = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6], [0.04, 0.09, 0.1, 0.05, 0.07])
    with pytest.raises(AttributeError):
        res.estimate = 0  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.weights[0] = 1
    frame = res.to_frame()
    assert list(frame.columns)[:3] == ["k", "estimate", "se"] and len(frame) == 1
    assert "tau^2" in res.summary() and "MetaResult(k=5" in repr(res)
    assert "<table" in res._repr_html_() and "<script" not in meta_analyze(
        [0.1, 0.2], [0.1, 0.1], labels=["<script>", "b"]
    )._repr_html_()
    assert list(res.study_frame().columns) == ["label", "yi", "vi", "se", "ci_low", "ci_high", "weight"]


def test_default_labels_are_made_on_demand():
    res = meta_analyze([0.1, 0.2, 0.3], [0.1, 0.1, 0.1])
    assert list(res.labels) == ["Study 1", "Study 2", "Study 3"]
    assert res.labels[-1] == "Study 3" and res.labels[1:] == ["Study 2", "Study 3"]
    with pytest.raises(IndexError):
        res.labels[3]
    assert meta_analyze([0.1, 0.2], [0.1, 0.1], labels=["a", "b"]).labels == ("a", "b")


# ---- the array gate (issue 11, item 9) ----------------------------------------------------------------

def test_pandas_series_pair_by_index_not_position():
    import pandas as pd

    yi = pd.Series([0.1, 0.5, 0.3], index=["a", "b", "c"])
    vi = pd.Series([0.03, 0.02, 0.01], index=["c", "b", "a"])  # same labels, another order
    by_label = meta_analyze(yi, vi, method="EE")
    assert by_label.estimate == pytest.approx(meta_analyze([0.1, 0.5, 0.3], [0.01, 0.02, 0.03], method="EE").estimate)
    assert meta_analyze(yi, vi.loc[["a", "b", "c"]], method="EE").estimate == by_label.estimate  # equal indexes
    with pytest.raises(ValueError, match=r"vi and yi are pandas Series whose indexes do not match "
                                         r"\(only in vi: \['x'\]; only in yi: \['c'\]\)"):
        meta_analyze(yi, pd.Series([0.01, 0.02, 0.03], index=["a", "b", "x"]))
    with pytest.raises(ValueError, match="repeated labels"):
        meta_analyze(yi, pd.Series([0.01, 0.02, 0.03], index=["a", "a", "b"]))
    assert meta_analyze(yi, [0.01, 0.02, 0.03], method="EE").k == 3  # a list pairs by position


@pytest.mark.parametrize(("values", "what"), [
    ([True, False, True], "true/false values"),
    (np.array([True, False, True]), "true/false values"),
    (np.array([0.1 + 1j, 0.2, 0.3]), "complex numbers"),
    (np.array(["2020-01-01", "2021-01-01", "2022-01-01"], dtype="datetime64[D]"), "dates/times"),
    (np.array([1, 2, 3], dtype="timedelta64[D]"), "time spans"),
])
def test_bool_complex_and_datetime_input_is_refused(values, what):
    # numpy would turn these into 1.0/0.0, drop the imaginary part, or count nanoseconds
    with pytest.raises(ValueError, match=f"yi must be real numbers; got {what}"):
        meta_analyze(values, [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=f"vi must be real numbers; got {what}"):
        meta_analyze([0.1, 0.2, 0.3], values)
