"""selection_model against metafor 3.8.1 ``selmodel()`` (tests/reference/selection.json, written by
tests/reference/publication_bias.R).

The reference is metafor run with a tight optimiser (``optim`` BFGS, ``reltol = 1e-13``; ``integrate``
``rel.tol = 1e-11`` for beta and halfnorm). Tolerances, from the measured agreement:

- SEL_RTOL = 1e-4 relative for every estimate, SE, CI bound, delta and the LRT (measured at most 3e-5:
  the likelihood is flat near its maximum, so metafor's BFGS stops up to ~1e-5 short even when tight;
  whatworks' log-likelihood at its maximum is never lower than metafor's). metafor's own default
  ``reltol = 1e-8`` differs from the tight result by up to 1e-4 relative.
- LL_ATOL = 1e-6 on the maximised log-likelihood (measured <= 3e-10 inside the parameter space; up to
  2e-6 with a parameter on its bound, where metafor's transformed parameters cannot reach it: 1e-5 there).
  An estimate or CI bound near 0 is compared to 1e-4 of its SE.
- A delta at its upper bound 100 (an empty first interval): metafor's logistic map stops near 99.98 (and
  then may not warn); whatworks reaches 100 and warns. Both must end above 99.
- tau2 at its boundary 0: metafor's numerical Hessian straddles the boundary, so standard errors are not
  compared there; the estimates are.
- beta on dat.molloy2014: metafor's adaptive integral is itself ~1e-7 off in the log-likelihood, which
  moves this flat maximum (mu = -0.014) by 4e-5 absolute; compared at 1e-3 SE, and the log-likelihood.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks import meta_analyze, selection_model
from whatworks.selection import SelectionResult

SEL_RTOL, LL_ATOL = 1e-4, 1e-6
REF = reference("selection")
CASES = REF["cases"]
SCALARS = ("estimate", "se", "stat", "pvalue", "ci_low", "ci_high", "tau2", "se_tau2", "tau2_ci_low", "tau2_ci_high",
           "lrt", "lrt_pvalue")  # fmt: skip


def _id(c: dict) -> str:
    return f"{c['dataset']}-{c['method']}-{c['type']}-{c['alternative']}-{c['steps']}-{c['delta_fixed']}"


def _fit(case: dict):
    d = REF["datasets"][case["dataset"]]
    return meta_analyze(d["yi"], d["vi"], method=case["method"])


def _run(case: dict) -> SelectionResult:
    kw = {"alternative": case["alternative"]}
    if case["type"] == "stepfun":
        kw["steps"] = case["steps"]
    if case["delta_fixed"] is not None:
        kw["delta"] = case["delta_fixed"]
    return selection_model(_fit(case), case["type"], **kw)


def _arr(x) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in x], dtype=float)


FITTED = [c for c in CASES if "error" not in c["tight"]]


@pytest.mark.parametrize("case", FITTED, ids=_id)
def test_matches_metafor(case):
    ref, res = case["tight"], _run(case)
    r_warns = any("'delta' estimates" in w for w in ref["warnings"])
    at_bound = r_warns or bool(np.any(_arr(ref["delta"])[1:] > 99))
    tau2_zero = case["method"] != "EE" and ref["tau2"] < 1e-6
    assert res.loglik >= ref["loglik"] - 1e-9  # at least as high a maximum as metafor's
    assert res.loglik == pytest.approx(ref["loglik"], abs=LL_ATOL * (10 if at_bound or tau2_zero else 1))
    assert res.loglik0 == pytest.approx(ref["loglik0"], rel=1e-10)
    assert res.lrt_df == ref["lrt_df"]
    if case["type"] != "beta":  # beta has no steps (metafor: NA)
        assert res.steps.tolist() == pytest.approx(ref["steps"])
    if case["type"] == "stepfun":
        assert res.k_per_interval.tolist() == ref["k_per_interval"]
    # metafor warns when delta >= 100 - 100 eps^(1/4); its map may stop just short of that, whatworks reaches 100
    assert any("delta estimates" in w for w in res.warnings) == at_bound
    if case["type"] == "beta" and case["dataset"] == "molloy2014":  # see the module docstring
        assert abs(res.estimate - ref["estimate"]) < 1e-3 * ref["se"]
        np.testing.assert_allclose(res.delta, ref["delta"], rtol=1e-3)
        return
    names = [n for n in SCALARS if not (tau2_zero and n in ("se", "stat", "pvalue", "ci_low", "ci_high", "se_tau2",
                                                                 "tau2_ci_high"))]  # fmt: skip
    for name in names:
        want = np.nan if ref[name] is None else ref[name]
        if name == "tau2" and tau2_zero:
            assert res.tau2 == pytest.approx(want, abs=1e-6)
            continue
        rtol = 1e-3 if at_bound and name in ("lrt", "lrt_pvalue") else SEL_RTOL
        atol = SEL_RTOL * ref["se"] if name in ("estimate", "ci_low", "ci_high") else 1e-12  # bounds near 0
        np.testing.assert_allclose(getattr(res, name), want, rtol=rtol, atol=atol, err_msg=name)
    free = np.isnan(_arr(case["delta_fixed"])) if case["delta_fixed"] is not None else slice(None)
    d_ref, d_res = _arr(ref["delta"]), res.delta
    if at_bound:
        assert (d_ref[1:] > 99).any() and (d_res[1:] > 99).any()
        return
    np.testing.assert_allclose(d_res, d_ref, rtol=SEL_RTOL)
    if not tau2_zero:
        np.testing.assert_allclose(res.se_delta[free], _arr(ref["se_delta"])[free], rtol=SEL_RTOL)
        np.testing.assert_allclose(res.delta_ci_low[free], _arr(ref["delta_ci_low"])[free], rtol=SEL_RTOL, atol=1e-12)
        np.testing.assert_allclose(res.delta_pvalue[free], _arr(ref["delta_pvalue"])[free], rtol=1e-3)


@pytest.mark.parametrize("case", [c for c in CASES if "error" in c["tight"]], ids=_id)
def test_empty_interval_is_refused_as_by_metafor(case):
    assert "do not contain any observed p-values" in case["tight"]["error"]
    with pytest.raises(ValueError, match="no observed p-value in the interval 0.025 < p <= 0.026"):
        _run(case)


def test_no_selection_is_the_ml_fit():
    d = REF["datasets"]["hackshaw1998"]
    ml = meta_analyze(d["yi"], d["vi"], method="ML")
    res = selection_model(meta_analyze(d["yi"], d["vi"]), delta=[1, 1])
    assert res.estimate == pytest.approx(ml.estimate, rel=1e-8) and res.tau2 == pytest.approx(ml.tau2, rel=1e-6)
    assert res.lrt == pytest.approx(0, abs=1e-9) and res.lrt_df == 0 and np.isnan(res.lrt_pvalue)


def test_mirror_image_with_the_other_alternative():
    d = REF["datasets"]["molloy2014"]
    a = selection_model(meta_analyze(d["yi"], d["vi"]), alternative="greater")
    b = selection_model(meta_analyze(-np.array(d["yi"]), d["vi"]), alternative="less")
    assert b.estimate == pytest.approx(-a.estimate, rel=1e-7) and b.tau2 == pytest.approx(a.tau2, rel=1e-6)
    np.testing.assert_allclose(b.delta, a.delta, rtol=1e-6)


def test_result_shows_itself():
    res = _run(FITTED[0])
    frame = res.to_frame()
    assert frame["term"].tolist() == ["mu", "tau2", "delta_1", "delta_2"]
    assert frame["interval"].tolist()[2:] == ["0 < p <= 0.025", "0.025 < p <= 1"]
    assert frame["k_interval"].tolist()[2:] == [7, 30]
    assert "LRT for selection" in res.summary() and repr(res).startswith("SelectionResult(estimate=")
    assert "<table" in res._repr_html_()
    with pytest.raises(AttributeError):
        res.estimate = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"type": "power"}, "unknown type"), ({"alternative": "up"}, "unknown alternative"),
     ({"steps": [0.025, 1.5]}, r"steps must lie in \(0, 1\]"), ({"delta": [2, 1]}, "first delta"),
     ({"delta": [1, 1, 1]}, "delta must have 2 entries"), ({"type": "halfnorm", "steps": [0.1, 0.2]}, "single step")],
)  # fmt: skip
def test_bad_options_name_the_problem(kwargs, message):
    d = REF["datasets"]["hackshaw1998"]
    with pytest.raises(ValueError, match=message):
        selection_model(meta_analyze(d["yi"], d["vi"]), **kwargs)


def test_too_few_studies():
    with pytest.raises(ValueError, match="too small"):
        selection_model(meta_analyze([0.1, 0.5], [0.01, 0.02]))
