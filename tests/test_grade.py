"""GRADE rules (whatworks.grade) on fixtures with known answers.

The rules are the project's operationalisation of Guyatt et al. 2011 (GRADE 4-8), written in the module
docstring and docs/methods.md; each test builds the evidence so that exactly one rule decides, and the
answer follows from the rule's text, not from the code.
"""

from __future__ import annotations

import math

import pytest

from whatworks.grade import (
    DOMAINS,
    LEVELS,
    GradeInput,
    GradeRules,
    certainty_table,
    grade_certainty,
)


def clean(**kw) -> GradeInput:
    """Evidence that no rule rates down: 12 low-risk RCTs, n well above the OIS, consistent, precise."""
    base = dict(outcome="CBT vs control", intervention="CBT", k=12, n=2000, estimate=-0.35, ci_low=-0.50,
                ci_high=-0.20, pi_low=-0.60, pi_high=-0.10, i2=20.0, rob=["low"] * 12, weights=[1.0] * 12,
                borderline=[False] * 12, egger_p=0.5)
    base.update(kw)
    return GradeInput(**base)


def downgrades(ev: GradeInput) -> dict[str, int]:
    c = grade_certainty(ev)
    return {j.domain: j.downgrade for j in c.judgements}


def test_clean_evidence_is_high():
    c = grade_certainty(clean())
    assert c.certainty == "high" and c.start == "high"
    assert [j.domain for j in c.judgements] == list(DOMAINS)
    assert c.downgrades == 0
    assert c.statement == "CBT reduces loneliness."


def test_ois_is_cohens_n_for_a_small_effect():
    # Cohen (1988), Statistical Power Analysis, Table 2.4.1: d = 0.20, two-tailed alpha = .05, power = .80
    # needs n = 393 per group, i.e. 786 participants.
    assert GradeRules().ois() == 786


@pytest.mark.parametrize("rob, expected", [
    (["low"] * 12, 0),
    (["low"] * 6 + ["some_concerns"] * 6, 0),         # low-risk trials carry 50 %: enough
    (["low"] * 5 + ["some_concerns"] * 7, 1),         # low-risk 42 % < 50 %
    (["low"] * 9 + ["high"] * 3, 1),                  # high-risk 25 %
    (["low"] * 6 + ["high"] * 6, 2),                  # high-risk 50 %
    (["no_information"] * 12, 1),                     # cannot be judged: a concern, not low
    (["not_assessed"] * 12, 1),
    (["low"] * 6 + ["serious"] * 6, 2),               # ROBINS-I serious counts as high
    (["low"] * 5 + ["moderate"] * 7, 1),              # ROBINS-I moderate is a concern
    (["unheard of"] * 12, 1),                         # an unknown word: not assessed
])
def test_risk_of_bias_rule(rob, expected):
    assert downgrades(clean(rob=rob))["risk of bias"] == expected


def test_risk_of_bias_uses_the_weights():
    # one high-risk trial carrying 60 % of the weight: very serious; the same trial at 1/12: not serious
    heavy = clean(rob=["high"] + ["low"] * 11, weights=[16.5] + [1.0] * 11)
    light = clean(rob=["high"] + ["low"] * 11)
    assert downgrades(heavy)["risk of bias"] == 2
    assert downgrades(light)["risk of bias"] == 0


def test_no_assessment_at_all_is_serious():
    assert downgrades(clean(rob=(), weights=()))["risk of bias"] == 1


@pytest.mark.parametrize("i2, pi, expected", [
    (49.9, (-0.6, -0.1), 0),
    (50.0, (-0.6, -0.1), 1),
    (30.0, (-0.8, 0.1), 1),    # the PI crosses 0 while the CI does not
    (80.0, (-0.9, 0.2), 2),
    (80.0, (-0.9, -0.05), 1),  # I² very high but every plausible effect is a benefit
])
def test_inconsistency_rule(i2, pi, expected):
    assert downgrades(clean(i2=i2, pi_low=pi[0], pi_high=pi[1]))["inconsistency"] == expected


def test_inconsistency_not_assessable_with_one_trial():
    c = grade_certainty(clean(k=1, i2=math.nan, pi_low=math.nan, pi_high=math.nan, rob=["low"], weights=[1.0],
                              borderline=[False]))
    j = c.judgement("inconsistency")
    assert j.downgrade == 0 and "cannot be assessed" in j.reason


def test_indirectness_rule():
    assert downgrades(clean())["indirectness"] == 0
    assert downgrades(clean(indirect_comparison=True))["indirectness"] == 1
    assert downgrades(clean(borderline=[True] * 6 + [False] * 6))["indirectness"] == 1
    assert downgrades(clean(borderline=[True] * 5 + [False] * 7))["indirectness"] == 0
    assert downgrades(clean(indirect_comparison=True, borderline=[True] * 12))["indirectness"] == 2


@pytest.mark.parametrize("ci, n, expected", [
    ((-0.50, -0.20), 2000, 0),
    ((-0.50, -0.20), 500, 1),     # OIS (786) not met
    ((-0.40, 0.05), 2000, 1),     # CI includes 0
    ((-0.40, 0.05), 500, 2),      # both
    ((-0.30, 0.25), 5000, 2),     # CI includes -0.2 and +0.2
    ((-0.50, -0.20), math.nan, 1),  # n unknown: OIS not met
])
def test_imprecision_rule(ci, n, expected):
    assert downgrades(clean(ci_low=ci[0], ci_high=ci[1], n=n))["imprecision"] == expected


def test_publication_bias_rule():
    assert downgrades(clean(egger_p=0.09))["publication bias"] == 1
    assert downgrades(clean(egger_p=0.10))["publication bias"] == 0
    # too few trials: never rated down on tests, and the reason says it was not assessable
    few = grade_certainty(clean(k=9, egger_p=0.01, rob=["low"] * 9, weights=[1.0] * 9, borderline=[False] * 9))
    assert few.judgement("publication bias").downgrade == 0
    assert "too few trials" in few.judgement("publication bias").reason
    # an adjusted estimate whose CI includes 0 while the unadjusted one does not
    adj = clean(adjusted=[("3PSM", -0.15, -0.40, 0.10)])
    assert downgrades(adj)["publication bias"] == 1
    assert downgrades(clean(adjusted=[("PET-PEESE", -0.30, -0.45, -0.15)]))["publication bias"] == 0


def test_levels_add_up_and_stop_at_very_low():
    ev = clean(rob=["high"] * 12, i2=80.0, pi_low=-1.0, pi_high=0.4, ci_low=-0.5, ci_high=0.1, n=300)
    c = grade_certainty(ev)
    assert c.downgrades == 6 and c.certainty == "very low"
    assert grade_certainty(clean(n=500)).certainty == "moderate"
    assert grade_certainty(clean(n=500, egger_p=0.01)).certainty == "low"


def test_non_randomised_evidence_starts_low():
    c = grade_certainty(clean(randomised=False))
    assert c.start == "low" and c.certainty == "low"


@pytest.mark.parametrize("kw, text", [
    (dict(), "CBT reduces loneliness."),
    (dict(n=500), "CBT probably reduces loneliness."),
    (dict(n=500, egger_p=0.01), "CBT may reduce loneliness."),
    (dict(rob=["high"] * 12, n=500), "The evidence is very uncertain about the effect of CBT on loneliness."),
    (dict(estimate=-0.05, ci_low=-0.15, ci_high=-0.01), "CBT results in little to no difference in loneliness."),
    (dict(estimate=-0.05, ci_low=-0.15, ci_high=-0.01, n=500),
     "CBT probably results in little to no difference in loneliness."),
    (dict(estimate=0.3, ci_low=0.21, ci_high=0.4, pi_low=0.1, pi_high=0.5), "CBT increases loneliness."),
    (dict(comparison="support", estimate=-0.05, ci_low=-0.15, ci_high=-0.01, n=500),
     "There is probably little to no difference between CBT and support in loneliness."),
    (dict(comparison="support", n=500, egger_p=0.01), "CBT may reduce loneliness more than support."),
])
def test_plain_language_statements(kw, text):
    assert grade_certainty(clean(**kw)).statement == text


def test_table_and_displays():
    table = certainty_table([clean(), clean(outcome="Support vs control", intervention="Support", n=500)])
    frame = table.to_frame()
    assert list(frame["certainty"]) == ["high", "moderate"]
    assert frame["k"].dtype == "Int64" and frame["n"].tolist() == [2000, 500]
    assert frame.loc[1, "imprecision"].startswith("serious (\u22121)")
    assert "Support vs control" in table.summary() and "moderate" in table._repr_html_()
    one = table.rows[0]
    assert "not serious" in one.summary() and "<table" in one._repr_html_() and "high" in repr(one)
    assert set(LEVELS) >= set(frame["certainty"])


def test_html_is_escaped():
    c = grade_certainty(clean(outcome="<script>x</script>"))
    assert "<script>" not in c._repr_html_()


def test_bad_input():
    with pytest.raises(ValueError, match="GradeInput"):
        grade_certainty({"k": 3})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be"):
        grade_certainty(clean(k=-1))


def test_outcomes_without_evidence_are_listed_not_graded():
    table = certainty_table([clean()], no_evidence=["Skills vs control"])
    frame = table.to_frame()
    assert frame["outcome"].tolist() == ["CBT vs control", "Skills vs control"]
    assert frame.loc[1, "certainty"] == "no evidence" and frame.loc[1, "k"] == 0
    assert "Skills vs control: no trial" in table.summary()


def test_numbers_in_reasons_are_fixed_point():
    c = grade_certainty(clean(ci_low=-0.56, ci_high=0.0071))
    assert "[-0.56, 0.01]" in c.judgement("imprecision").reason
