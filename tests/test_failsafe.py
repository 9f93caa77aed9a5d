"""fail_safe_n against metafor 3.8.1 ``fsn(yi, vi, type)`` (tests/reference/smallstudy.json, written by
tests/reference/publication_bias.R): Rosenthal (alpha 0.05 and 0.01), Orwin (default and a given target),
Rosenberg on six metadat datasets. Closed forms: the fail-safe numbers must be equal, p-values at 1e-9."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import reference
from whatworks import fail_safe_n, meta_analyze

CASES = [(c, f) for c in reference("smallstudy")["cases"] for f in c["fsn"]]


@pytest.mark.parametrize(("case", "ref"), CASES, ids=lambda x: x.get("dataset", x.get("type")))
def test_matches_fsn(case, ref):
    fit = meta_analyze(case["yi"], case["vi"])
    given_target = ref["type"] == "Orwin" and abs(ref["target"]) == 0.05
    res = fail_safe_n(fit, ref["type"], alpha=ref["alpha"], **({"target": ref["target"]} if given_target else {}))
    assert res.fsn == ref["fsnum"]
    for mine, theirs in ((res.pvalue, ref["pvalue"]), (res.mean_effect, ref["meanes"]), (res.target, ref["target"])):
        if theirs is None:
            assert np.isnan(mine)
        else:
            assert mine == pytest.approx(theirs, rel=1e-9)


def test_orwin_edge_cases_and_display():
    fit = meta_analyze([0.3, 0.5, 0.4], [0.01, 0.02, 0.03])
    assert fail_safe_n(fit, "Orwin", target=0).fsn == np.inf
    assert fail_safe_n(fit, "Orwin", target=-0.2).target == 0.2  # given the mean's sign, as metafor
    weighted = fail_safe_n(fit, "Orwin", weighted=True)
    assert weighted.mean_effect == pytest.approx(np.average([0.3, 0.5, 0.4], weights=[100, 50, 100 / 3]))
    res = fail_safe_n(fit)
    assert res.fsn == float(int(res.fsn)) and "Fail-safe N (Rosenthal)" in res.summary()
    with pytest.raises(ValueError, match="unknown method"):
        fail_safe_n(fit, "REM")
