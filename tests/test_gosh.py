"""gosh against metafor 3.8.1 ``gosh()`` (tests/reference/resampling.json, written by
tests/reference/publication_bias.R): every subset of dat.normand1999 (511; REML, DL, EE) and of
dat.hackshaw1998 rows 1-10 (1023; REML, PM), row by row in metafor's order.

Tolerance: 1e-6 relative; absolute 1e-8 on tau2 and 1e-5 on I² (percent), for subsets whose tau2 is at
or near 0, where metafor's Fisher scoring stops at ~1e-9 rather than exactly 0. For EE and DL, I² and H²
follow gosh()'s own fast formulas (from Q), which the test checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks import gosh, meta_analyze

REF = reference("resampling")
ATOL = {"estimate": 1e-10, "tau2": 1e-8, "i2": 1e-5, "h2": 1e-8, "q": 1e-10}


@pytest.mark.parametrize("case", REF["gosh"], ids=lambda c: f"{c['dataset']}-{c['method']}")
def test_matches_metafor_row_by_row(case):
    d = REF["datasets"][case["dataset"]]
    res = gosh(meta_analyze(d["yi"], d["vi"], method=case["method"]))
    assert res.exact and res.n_subsets == case["n"]
    frame = res.to_frame()
    assert frame["k"].tolist() == case["k"]
    assert res.incl[:5].tolist() == case["incl_first"]
    for col in ("estimate", "tau2", "i2", "h2", "q"):
        np.testing.assert_allclose(frame[col], case[col], rtol=1e-6, atol=ATOL[col], err_msg=col)


def test_full_set_row_is_the_fit():
    d = REF["datasets"]["normand1999"]
    fit = meta_analyze(d["yi"], d["vi"])
    last = gosh(fit).to_frame().iloc[-1]
    assert last["k"] == fit.k
    assert last["estimate"] == pytest.approx(fit.estimate) and last["i2"] == pytest.approx(fit.i2)


def test_random_subsets_are_seeded():
    d = REF["datasets"]["hackshaw1998"]
    fit = meta_analyze(d["yi"], d["vi"], method="DL")
    a, b = gosh(fit, max_subsets=500, seed=5), gosh(fit, max_subsets=500, seed=5)
    assert not a.exact and a.n_subsets == 500 and np.array_equal(a.incl, b.incl)
    assert a.incl.any(1).all() and 0.4 < a.incl.mean() < 0.6
    assert "random subsets, seed = 5" in a.summary() and "GoshResult(k=37" in repr(a)
    with pytest.raises(ValueError, match="max_subsets"):
        gosh(fit, max_subsets=1)
