"""How the page writes numbers and words (whatworks.report.format, interpret, the bottom line's logic)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from whatworks import meta_analyze
from whatworks.report.format import Markup, count, fold, html_table, p_text, pvalue, signed, words
from whatworks.report.interpret import diagnose, prediction
from whatworks.report.sections.bottom_line import gap_statements, interval_statements

M = "\u2212"


def test_numbers_minus_thousands_p_values():
    assert signed("-0.05 [-0.29, 0.20]") == f"{M}0.05 [{M}0.29, 0.20]"
    assert signed("well-known 2-arm") == "well-known 2-arm"  # hyphens in words stay
    assert count(3118.0) == "3,118" and count(None) == ""
    assert pvalue(0.0004) == "< 0.001" and p_text(0.0004) == "p < 0.001" and p_text(0.1234) == "p = 0.123"


def test_codes_become_words():
    text = words("social_access vs social_support + social_access + social_skills (knha, tau2, usual_care)")
    assert "social_" not in text and "knha" not in text and "tau2" not in text and "usual_care" not in text
    assert text.startswith("opportunities for social contact vs support, contact and skills combined")
    assert "Knapp-Hartung" in text and "τ²" in text and "usual care" in text


def test_long_notes_fold_behind_details():
    short = fold("one trial")
    assert short == "one trial" and "<details>" not in short
    long = fold("first clause; " + "x " * 80)
    assert long.startswith("first clause <details><summary>more</summary>") and long.endswith("</details>")


def test_html_table_headers_merged_intervals_and_escaping():
    frame = pd.DataFrame({"strategy": ["social_access"], "k": [5], "n": [1234.0], "estimate": [-0.2],
                          "ci_low": [-0.5], "ci_high": [0.1], "pi_low": [-0.8], "pi_high": [0.4], "tau2": [0.0327],
                          "i2": [53.7], "q_pvalue": [0.0001], "note": ["<b>not bold</b>"],
                          "review": [Markup("<a href='#x'>X</a>")]})
    out = html_table(frame, caption="Test")
    for text in ('<p class="tcaption">Test</p>', "Opportunities for social contact", "g [95% CI]",
                 f"{M}0.20 [{M}0.50, 0.10]", "95% prediction interval", "τ²", "0.033", "54%", "< 0.001",
                 "1,234", "&lt;b&gt;not bold&lt;/b&gt;", "<a href='#x'>X</a>", 'class="table-wrap"', 'class="num"'):
        assert text in out, text
    for code in ("ci_low", "pi_high", "q_pvalue", "tau2", "social_access"):
        assert f">{code}<" not in out


def test_what_an_interval_rules_out():
    out, keep = interval_statements(-0.39, 0.06, 0.2)
    assert out == ["an advantage for social cognition larger than 0.39", "a disadvantage larger than 0.06"]
    assert keep == ["no difference", "a small advantage (below 0.2)", "an advantage of 0.2 up to 0.39"]
    out, keep = interval_statements(-0.9, -0.3, 0.2)  # a clear advantage: no difference is ruled out
    assert "no difference" not in keep and keep == ["an advantage of 0.30 up to 0.90"]
    excluded, edge, included = gap_statements(-0.47, 0.04, [("Fu", -0.57), ("Masi", -0.436), ("Veronese", -0.36)])
    assert excluded == ["Fu, a gap of 0.57"] and edge == [] and included == ["Masi, a gap of 0.44",
                                                                             "Veronese, a gap of 0.36"]
    assert gap_statements(-0.357, 0.2, [("V", -0.36)])[1] == ["V, a gap of 0.36"]  # equal when printed: the edge


def test_numbers_in_words_explain_trim_and_fill_and_prediction_intervals():
    yi = np.array([-0.9, -0.5, -0.2, 0.1, -0.4, -0.3, 0.2, -0.6])
    vi = np.array([0.02, 0.03, 0.05, 0.08, 0.04, 0.06, 0.09, 0.03])
    fit = meta_analyze(yi, vi, method="REML", test="knha", labels=list("ABCDEFGH"))
    d = diagnose(fit)
    text = " ".join(d.sentences)
    assert "prediction interval" in text and "Leaving out one trial" in text
    assert "not interpreted" in text and "fewer than 10" in text  # Egger with k = 8
    if d.k0 and d.tf_side == "left":
        assert "opposite of the pattern publication bias produces" in text
    elif d.k0:
        assert "may be overstated" in text
    wide = meta_analyze([-0.9, 0.5, -0.2, 0.6], [0.01, 0.01, 0.01, 0.01])
    assert "crosses zero" in prediction(wide)
