"""The vectorised tau² estimators: a batch of datasets gives what one-at-a-time fits give.

Values are checked against metafor in test_model.py; here the batch machinery (datasets axis,
``present`` masks, shared or per-dataset model matrices) is checked against itself fitted one by one,
an invariant that does not depend on the code under test being right about any single number.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks.estimators import METHODS, estimate_tau2

BCG = reference("rma")["datasets"]["bcg"]
YI, VI = np.array(BCG["yi"]), np.array(BCG["vi"])


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_single_fits(method):
    rng = np.random.default_rng(1)
    ys = YI + rng.normal(0, 0.3, size=(6, YI.size))
    vs = VI * rng.uniform(0.5, 2, size=(6, YI.size))
    batch = estimate_tau2(ys, vs, method).tau2
    single = [estimate_tau2(y, v, method).tau2[0] for y, v in zip(ys, vs)]
    np.testing.assert_allclose(batch, single, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_present_mask_equals_dropping(method):
    present = np.ones((YI.size, YI.size), bool)
    np.fill_diagonal(present, False)  # leave-one-out as one batch
    masked = estimate_tau2(np.tile(YI, (YI.size, 1)), np.tile(VI, (YI.size, 1)), method, present=present).tau2
    dropped = [estimate_tau2(np.delete(YI, i), np.delete(VI, i), method).tau2[0] for i in range(YI.size)]
    np.testing.assert_allclose(masked, dropped, rtol=1e-9, atol=1e-12)


def test_likelihood_converges_where_plain_fisher_scoring_struggles():
    # One huge and many tiny variances: a badly scaled likelihood. The fit must converge, stay >= 0
    # and sit at a stationary point of the REML likelihood (score ~ 0) or at the boundary.
    yi = np.array([0.0, 5.0, -4.0, 0.1, 3.0, -2.5])
    vi = np.array([1e-6, 1e3, 1e-5, 1e-4, 50.0, 1e-6])
    fit = estimate_tau2(yi, vi, "REML")
    assert fit.converged.all() and fit.tau2[0] >= 0
    from whatworks.estimators import Batch, loglik

    b = Batch.make(yi, vi)
    t = fit.tau2
    h = 1e-6 * max(1.0, t[0])
    assert loglik(b, t, reml=True)[0] >= loglik(b, t + h, reml=True)[0] - 1e-9
    assert t[0] == 0 or loglik(b, t, reml=True)[0] >= loglik(b, t - h, reml=True)[0] - 1e-9


@pytest.mark.parametrize("case", reference("convergence")["cases"], ids=lambda c: f"tau2={c['fit']['tau2']:.4f}")
def test_converges_where_metafor_fisher_scoring_fails(case):
    # tests/reference/convergence.R: metafor's rma(method="REML") stops with "Fisher scoring algorithm did
    # not converge" on these data; with its remedy (stepadj = 0.5) it reaches the values compared here.
    from whatworks import meta_analyze

    assert "did not converge" in case["default_error"]
    res = meta_analyze(case["yi"], case["vi"], method="REML")
    assert res.converged
    ref = case["fit"]
    np.testing.assert_allclose([res.tau2, res.estimate, res.se, res.ci_low, res.ci_high, res.i2],
                               [ref["tau2"], ref["estimate"], ref["se"], ref["ci_low"], ref["ci_high"], ref["i2"]],
                               rtol=1e-6)
