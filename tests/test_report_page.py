"""report.html on the bundled data, as a reader meets it: the answer first, words not codes, a page that works.

One report is written for the module (SVG figures only). The layout test renders it in headless Chromium
(Debian package ``chromium``; ``.ci/run`` installs it) at 400 px and 1,400 px: no horizontal page
overflow, and the bottom line on the first screen. It skips, saying why, only when chromium is absent.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from whatworks.data import collection_fingerprint  # noqa: E402
from whatworks.report import run_report  # noqa: E402

#: (width, height) of the screens the page is measured on: a phone and a desktop.
SCREENS = ((400, 800), (1400, 900))
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--allow-file-access-from-files", "--hide-scrollbars")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundled")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01: the run date printed on the page
    try:
        res = run_report(out=out, formats=["svg"], jobs=2)
    finally:
        mp.undo()
    return res, (out / "report.html").read_text(encoding="utf-8")


def _text(page_html: str) -> str:
    body = re.sub(r"<(style|script|code)[^>]*>.*?</\1>", " ", page_html, flags=re.S)  # code: commands to type
    body = re.sub(r'src="data:[^"]+"', "", body)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_bottom_line_first_with_verdict_numbers_and_run(page):
    res, text = page
    head = text[:text.index('<nav class="toc"')]
    assert '<section id="bottom-line"' in head  # under the title, before the contents
    finding = res.results  # results.csv is written; the finding itself is checked in test_finding_run
    assert not finding.empty
    words = _text(head)
    assert "Not shown: inconclusive" in words or "Yes, on these data" in words or "No, on these data" in words
    for phrase in ("The data rule out", "They cannot rule out", "Like for like", "Certainty", "randomised trials",
                   "participants", "Run 2026-01-01", "whatworks 0.1.0"):
        assert phrase in words, phrase
    assert f"sha256:{collection_fingerprint()[:16]}" in head and collection_fingerprint() in head
    assert "Masi et al. 2011" in words and "(−0.60 vs −0.16)" in words


def test_words_not_codes(page):
    _, text = page
    words = _text(text)
    for code in ("social_access", "social_cognition", "social_support", "social_skills", "mindfulness_acceptance",
                 "ci_low", "ci_high", "tau2", "q_pvalue", "pi_low", "usual_care", "knha"):
        assert not re.search(rf"\b{code}\b", words), code
    assert "Opportunities for social contact" in words
    assert not re.search(r"(?<![\w.])-\d", words.replace("--", "")), "numbers carry a typographic minus"


def test_contents_list_every_section_and_numbered_figures_and_tables(page):
    _, text = page
    ids = re.findall(r'<section id="([^"]+)"', text)
    toc = text[text.index('<nav class="toc"'):text.index("</nav>")]
    for sid in ids:
        if sid != "bottom-line":
            assert f'href="#{sid}"' in toc, sid
    for sid in ("summary-of-findings", "claims", "strategies", "published", "differs", "methods", "references"):
        assert sid in ids
    figures = re.findall(r"<figcaption><b>Figure (\d+)\.</b>", text)
    tables = re.findall(r'<p class="tcaption"><b>Table (\d+)\.</b>', text)
    assert figures == [str(i) for i in range(1, len(figures) + 1)] and len(figures) >= 5
    assert tables == [str(i) for i in range(1, len(tables) + 1)] and len(tables) >= 8
    assert text.count("<figcaption>") == len(figures) and text.count('<p class="tcaption">') == len(tables)


def test_claims_grades_explained_and_reviews_cited(page):
    _, text = page
    claims = _text(text[text.index('<section id="claims"'):text.index('<section id="strategies"')])
    assert "Umbrella-style grade" in claims and "not a GRADE" in claims.replace("not  a", "not a")
    for grade in ("I (convincing)", "II (highly suggestive)", "III (suggestive)", "IV (weak)", "NS (not significant)"):
        assert grade in claims
    refs = text[text.index('<section id="references"'):]
    for review in ("masi2011", "fu2022", "veronese2021"):
        assert f'id="ref-{review}"' in refs and f'href="#ref-{review}"' in text
    assert 'href="https://doi.org/10.1136/bmj.326.7382.219"' in refs  # Altman & Bland, the method of the contrasts


def test_published_contrasts_and_why_it_differs(page):
    res, text = page
    out = res.out
    csv = (out / "published_contrasts.csv").read_text(encoding="utf-8")
    assert "fu2022" in csv and "veronese2021" in csv and "masi2011" in csv
    section = _text(text[text.index('<section id="published"'):text.index('<section id="differs"')])
    assert "p = 0.257" in section and "p = 0.060" in section and "umbrella review" in section
    assert "without confidence intervals it cannot be tested" in section
    differs = _text(text[text.index('<section id="differs"'):text.index('<section id="reviews"')])
    for phrase in ("Design:", "Publication years:", "Delivery:", "Controls:", "trials shared with this synthesis",
                   "its own test of the difference", "Within-review tests"):
        assert phrase in differs, phrase


def test_social_skills_listed_not_dropped(page):
    _, text = page
    strategies = _text(text[text.index('<section id="strategies"'):text.index('<section id="finding"')])
    assert "Social skills" in strategies
    assert strategies.count("Social cognition") >= 1
    table = text[text.index('<section id="strategies"'):text.index('<section id="finding"')]
    first_rows = re.findall(r"<tbody><tr><td>(.*?)</td>", table)
    assert first_rows and "Social cognition" in first_rows[0]  # social cognition first


def test_print_stylesheet_and_details(page):
    _, text = page
    assert "@media print" in text and "details::details-content" in text and "beforeprint" in text
    assert "@media (max-width: 40rem)" in text and ".table-wrap { overflow-x: auto" in text


def _measure(report: Path, tmp: Path) -> dict:
    wrapper = tmp / "measure.html"
    frames = "".join(f'<iframe id="f{w}" src="{report.as_uri()}" style="width:{w}px;height:{h}px;border:0">'
                     f"</iframe>" for w, h in SCREENS)
    script = """
window.addEventListener('load', function () {
  var out = {};
  document.querySelectorAll('iframe').forEach(function (f) {
    var d = f.contentDocument, h = f.clientHeight;
    var box = d.getElementById('bottom-line').getBoundingClientRect();
    var verdict = d.querySelector('#bottom-line .verdict').getBoundingClientRect();
    out[f.id] = {scrollWidth: d.documentElement.scrollWidth, clientWidth: d.documentElement.clientWidth,
                 height: h, bottomLineTop: box.top, verdictBottom: verdict.bottom};
  });
  var p = document.createElement('pre'); p.id = 'measure'; p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
});"""
    wrapper.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{frames}<script>{script}</script></body></html>",
                       encoding="utf-8")
    profile = tmp / "profile"
    cmd = [shutil.which("chromium") or "chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
           "--window-size=1500,1000", "--dump-dom", wrapper.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    m = re.search(r'<pre id="measure">(.*?)</pre>', proc.stdout, flags=re.S)
    assert m, f"chromium wrote no measurement (exit {proc.returncode}): {proc.stderr[-500:]}"
    return json.loads(html.unescape(m.group(1)))


@pytest.mark.skipif(shutil.which("chromium") is None,
                    reason="headless Chromium not installed (Debian: apt-get install chromium; .ci/run installs it)")
def test_layout_in_chromium_no_overflow_and_bottom_line_on_first_screen(page, tmp_path):
    res, _ = page
    got = _measure(res.out / "report.html", tmp_path)
    for width, height in SCREENS:
        m = got[f"f{width}"]
        assert m["clientWidth"] == width
        assert m["scrollWidth"] <= m["clientWidth"], f"page wider than the {width} px screen: {m['scrollWidth']} px"
        assert 0 <= m["bottomLineTop"] < height / 4, m
        assert m["verdictBottom"] <= height, f"the verdict is not on the first {width} x {height} screen: {m}"


def test_robustness_sentence_names_the_analyses_that_disagree():
    import pandas as pd

    from whatworks.report.sections.bottom_line import robustness_sentence

    sens = pd.DataFrame({
        "analysis": ["primary", "estimator", "control", "small-study effects", "leave-one-out"],
        "setting": ["REML, knha", "DL, knha", "passive controls only (usual_care)", "social_cognition", "22 refits"],
        "quantity": ["difference", "difference", "difference", "Egger slope", "range of the difference"],
        "estimate": [-0.17, -0.18, -0.26, 0.5, float("nan")], "ci_low": [-0.39, -0.4, -0.51, None, -0.2],
        "ci_high": [0.06, 0.05, -0.01, None, -0.1],
        "verdict": ["inconclusive", "inconclusive", "supported", "", "inconclusive (21), supported (1)"],
        "note": ["", "", "", "", "verdict changes when leaving out: Trial A"]})
    text = robustness_sentence(sens, "inconclusive")
    assert text.startswith("1 of 2 sensitivity analyses of the contrast reach the same verdict")
    assert "passive controls only (usual care): supported (\u22120.26 [\u22120.51, \u22120.01])" in text
    assert text.endswith("leaving out single trials: Trial A.")
