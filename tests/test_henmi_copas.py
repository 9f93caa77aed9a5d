"""henmi_copas against metafor 3.8.1 ``hc(fit)`` (tests/reference/smallstudy.json, written by
tests/reference/publication_bias.R with ``uniroot`` tol = 1e-12), six metadat datasets.

Tolerance: RTOL = 1e-6 relative. metafor's inner ``integrate()`` keeps its default rel.tol (about 1e-4,
not settable in ``hc()``), but its realised error is far smaller: measured agreement <= 1e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks import henmi_copas, meta_analyze

RTOL = 1e-6
CASES = reference("smallstudy")["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["dataset"])
def test_matches_hc(case):
    ref = case["hc"]
    res = henmi_copas(meta_analyze(case["yi"], case["vi"], method=ref["method_rma"]))
    np.testing.assert_allclose([res.estimate, res.se, res.ci_low, res.ci_high, res.tau2, res.estimate_fit],
                               [ref["estimate"], ref["se"], ref["ci_low"], ref["ci_high"], ref["tau2"],
                                ref["estimate_rma"]], rtol=RTOL)  # fmt: skip


def test_interval_is_wider_than_the_naive_one_and_displays():
    case = CASES[0]
    res = henmi_copas(meta_analyze(case["yi"], case["vi"]))
    assert res.ci_high - res.ci_low > 2 * 1.959964 * res.se
    frame = res.to_frame()
    assert frame["method"].tolist() == ["Henmi-Copas", "REML"]
    assert "Henmi-Copas" in res.summary() and repr(res).startswith("HenmiCopasResult(")
    with pytest.raises(ValueError, match="at least k = 2"):
        henmi_copas(meta_analyze([0.1], [0.1]))
