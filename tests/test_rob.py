"""whatworks.rob: the RoB 2 overall algorithm and the robvis-style summary, on fixtures with known answers.

The expected overall judgements are the published rule (Sterne et al. 2019, BMJ 366:l4898, Table 2:
"low risk of bias in all domains" -> low; "some concerns in at least one domain, but not at high risk
for any domain" -> some concerns; "high risk of bias in at least one domain" -> high) plus this
project's rule for no_information (docs/risk-of-bias.md): overall no_information only when every domain
is no_information, any other mix without a high domain -> some concerns. The weighted shares are
worked by hand in the comments (robvis's rob_summary(weighted = TRUE) sums the weights per judgement).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from whatworks.rob import (
    ROB2_JUDGEMENTS,
    RobSummary,
    rob2_overall,
    rob2_overall_problem,
    summarize_rob,
)

L, S, H, N = "low", "some_concerns", "high", "no_information"

# (domains D1-D5, overall) pairs: the published rule and the project's no_information rule
KNOWN = [
    ([L, L, L, L, L], L),
    ([L, S, L, L, L], S),
    ([S, S, S, S, S], S),
    ([L, L, H, L, L], H),
    ([S, S, S, S, H], H),
    ([H, N, N, N, N], H),
    ([N, N, N, N, N], N),
    ([N, N, N, S, N], S),  # abstract-only trial: only D4 judged (self-report, unblinded)
    ([L, N, N, N, N], S),  # a domain that was not assessed cannot be called low
    ([L, L, L, L, N], S),
    ([N, S, H, S, N], H),
]


@pytest.mark.parametrize(("domains", "expected"), KNOWN)
def test_overall_algorithm_known_answers(domains, expected):
    assert rob2_overall(domains) == expected
    assert rob2_overall_problem(expected, domains) is None


def test_overall_algorithm_invariants_over_every_combination():
    severity = {L: 0, S: 1, H: 2}
    for domains in itertools.product(ROB2_JUDGEMENTS, repeat=5):
        got = rob2_overall(list(domains))
        judged = [d for d in domains if d != N]
        if not judged:
            assert got == N
        else:  # never more lenient than the worst judged domain; low only when all five are low
            assert got != N and severity[got] >= max(severity[d] for d in judged)
            assert (got == L) == all(d == L for d in domains)


def test_stricter_overall_is_allowed_lenient_is_not():
    assert rob2_overall_problem(H, [S, S, S, L, L]) is None  # several concerns -> high, with a reason
    assert rob2_overall_problem(S, [L] * 5) is None
    assert "more lenient" in rob2_overall_problem(S, [L, H, L, L, L])
    assert "more lenient" in rob2_overall_problem(L, [L, S, L, L, L])
    assert "must be no_information" in rob2_overall_problem(S, [N] * 5)
    assert "needs every domain" in rob2_overall_problem(N, [N, N, S, N, N])


@pytest.mark.parametrize("bad", [["low"] * 4, ["low"] * 6, ["low", "unclear", "low", "low", "low"]])
def test_algorithm_refuses_bad_input(bad):
    with pytest.raises(ValueError):
        rob2_overall(bad)


def _three() -> dict[str, list[str]]:
    return {"d1": [L, N, L], "d2": [L, S, S], "d3": [L, H, S], "d4": [S, S, S], "d5": [L, N, L],
            "overall": [S, H, H]}  # trial 3: stricter than the algorithm (some concerns in three domains)


def test_summary_counts_and_weighted_shares_by_hand():
    res = summarize_rob(_three(), weights=[50.0, 30.0, 20.0], labels=["A", "B", "C"])
    assert isinstance(res, RobSummary) and res.k == 3 and res.weighted
    fr = res.to_frame()
    assert len(fr) == 6 * 4  # five domains and overall, four judgements each

    def cell(domain: str, judgement: str, col: str) -> float:
        return float(fr.query("domain == @domain and judgement == @judgement")[col].iloc[0])

    # D3: A low (50), B high (30), C some concerns (20)
    assert cell("d3", L, "weight_percent") == pytest.approx(50.0)
    assert cell("d3", H, "weight_percent") == pytest.approx(30.0)
    assert cell("d3", S, "weight_percent") == pytest.approx(20.0)
    # D1: A and C low = 50 + 20 = 70 %; B no information = 30 %; by count 2 of 3 and 1 of 3
    assert cell("d1", L, "weight_percent") == pytest.approx(70.0)
    assert cell("d1", N, "percent") == pytest.approx(100 / 3)
    assert cell("overall", H, "n") == 2 and cell("overall", S, "n") == 1
    # every domain's shares sum to 100 %
    sums = fr.groupby("domain")[["percent", "weight_percent"]].sum()
    assert np.allclose(sums.to_numpy(), 100.0)
    assert res.n_no_information == 1 and res.n_overall_no_information == 0
    assert res.stricter.tolist() == [False, False, True]
    assert res.algorithm.tolist() == [S, H, S]


def test_weights_are_rescaled_and_equal_by_default():
    res = summarize_rob(_three(), weights=[5, 3, 2])
    assert np.allclose(res.weights, [50, 30, 20])
    eq = summarize_rob(_three())
    assert not eq.weighted and np.allclose(eq.weights, 100 / 3)
    assert eq.labels == ("Trial 1", "Trial 2", "Trial 3")


def test_labels_from_study_id_column_and_tool_check():
    frame = pd.DataFrame(_three()).assign(study_id=["a2020", "b2021", "c2022"], tool="rob2")
    assert summarize_rob(frame).labels == ("a2020", "b2021", "c2022")
    with pytest.raises(ValueError, match="summarise ROBINS-I"):
        summarize_rob(frame.assign(tool=["rob2", "robins_i", "rob2"]))


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.pop("d5"), "lack the column"),
    (lambda d: d["d2"].__setitem__(0, "unclear"), "not a RoB 2 judgement"),
    (lambda d: d["overall"].__setitem__(1, S), "more lenient"),
])
def test_summary_refuses_bad_assessments(mutate, message):
    data = _three()
    mutate(data)
    with pytest.raises(ValueError, match=message):
        summarize_rob(data)


@pytest.mark.parametrize(("weights", "message"), [([1, 2], "one value per assessment"), ([1, -1, 2], "non-negative"),
                                                   ([0, 0, 0], "not all zero"), ([1, np.nan, 1], "finite")])
def test_summary_refuses_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        summarize_rob(_three(), weights=weights)


def test_result_is_frozen_and_displays_from_its_frame():
    res = summarize_rob(_three(), labels=["A <b>", "B", "C"])
    with pytest.raises(AttributeError):
        res.k = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.weights[0] = 1.0
    assert repr(res) == "RobSummary(k=3, low=0, some_concerns=1, high=2, no_information=0)"
    text = res.summary()
    assert "Overall: Some concerns 1, High 2" in text and "no information: 1 of 3" in text
    assert "<table" in res._repr_html_()
    trial = res.trial_frame()
    assert trial["label"].tolist() == ["A <b>", "B", "C"] and trial["stricter"].tolist() == [False, False, True]


def test_empty_summary():
    res = summarize_rob({c: [] for c in ("d1", "d2", "d3", "d4", "d5", "overall")})
    assert res.k == 0 and res.to_frame()["n"].sum() == 0
