"""baujat against metafor 3.8.1 ``baujat()`` (tests/reference/resampling.json, written by
tests/reference/publication_bias.R): bcg and hackshaw1998 REML, normand1999 EE, molloy2014 DL knha, and
the meta-regression bcg ~ ablat. Tolerance 1e-6 relative (closed forms of the leave-one-out fits;
measured ~1e-10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import reference
from whatworks import baujat, meta_analyze, meta_regress

REF = reference("resampling")


@pytest.mark.parametrize("case", REF["baujat"], ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}-{c['mods']}")
def test_matches_metafor(case):
    if case["mods"] is None:
        d = REF["datasets"][case["dataset"]]
        fit = meta_analyze(d["yi"], d["vi"], method=case["method"], test=case["test"])
    else:
        d = REF["datasets"]["bcg"]
        frame = pd.DataFrame({"yi": d["yi"], "vi": d["vi"], "ablat": case["ablat"]})
        fit = meta_regress(frame, "~ ablat", method=case["method"], test=case["test"])
    res = baujat(fit)
    np.testing.assert_allclose(res.x, case["x"], rtol=1e-6)
    np.testing.assert_allclose(res.y, case["y"], rtol=1e-6)


def test_frame_and_limits():
    fit = meta_analyze([-0.9, -0.2, -1.4, 0.1, -0.6, 2.5], [0.04, 0.09, 0.1, 0.05, 0.07, 0.05], labels=list("ABCDEF"))
    res = baujat(fit)
    assert res.to_frame().columns.tolist() == ["label", "x", "y"]
    assert "'F'" in repr(res) and "contribution to heterogeneity" in res.summary()
    with pytest.raises(ValueError, match="at least k = 3"):
        baujat(meta_analyze([0.1, 0.2], [0.1, 0.1]))
