"""Bounded report figures (issue 11.7, report part): forests of more than FOREST_MAX_ROWS effects become a
sentence and a CSV table, page tables are cut at HTML_MAX_ROWS rows, funnels with many points are
rasterised inside the SVG. The bounds are lowered here so that the small fixture crosses them; the
20,000-effect measurement is benchmarks/bench_scale.py (measured, not timed here)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from whatworks.report import api, run_report  # noqa: E402
from whatworks.report.sections import section_overlap, section_reviews, section_strategies  # noqa: E402

DATA = Path(__file__).parent / "fixtures" / "report_data"


@pytest.fixture(scope="module")
def small_bounds(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(api, "FOREST_MAX_ROWS", 5)
    mp.setattr(api, "RASTER_MIN_POINTS", 5)
    out = tmp_path_factory.mktemp("bounded")
    try:
        res = run_report(data=DATA, out=out, formats=["svg"], jobs=1,
                         sections=[section_strategies, section_reviews, section_overlap])
    finally:
        mp.undo()
    return res, out


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_forest_over_the_bound_is_a_table(small_bounds):
    res, out = small_bounds
    names = {p.name for p in (out / "figures").iterdir()}
    assert "forest_strategy.svg" not in names  # 15 effects > 5
    rows = _rows(out / "forest_strategy.csv")
    assert len(rows) == 15 and {"strategy", "label", "yi", "ci_low", "ci_high", "weight", "n"} <= set(rows[0])
    for strategy in ("social_access", "social_cognition", "social_support"):  # weights per strategy fit: 100 %
        assert sum(float(r["weight"]) for r in rows if r["strategy"] == strategy) == pytest.approx(100, abs=1e-3)
    skills = [r for r in rows if r["strategy"] == "social_skills"]  # k = 1: not pooled, listed without weight
    assert len(skills) == 1 and skills[0]["weight"] == "" and skills[0]["yi"] == "-0.5000"
    assert "forest_strategy_social_cognition.svg" in names  # k = 5: still drawn
    assert "forest_review_demo_review.svg" in names and "forest_review_living.svg" not in names  # k = 3 / 13
    assert len(_rows(out / "forest_review_living.csv")) == 13
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Forest plot stratified by strategy: 15 effects, more than the 5 rows a forest plot draws" in page
    assert "every effect&#x27;s estimate, CI and weight are in forest_review_living.csv" in page
    assert "{{figure:" not in page and "not drawn" not in page


def test_page_tables_are_cut_with_the_csv_named(tmp_path, monkeypatch):
    import pandas as pd

    from collection_builder import Trial, write_collection
    from whatworks.data import list_reviews, load_pooled, load_reviews

    frame = pd.DataFrame({"study": ["a", "b", "c"], "n_reviews": [2, 2, 2]})
    assert api.bounded_table(frame, "x.csv") == api.html_table(frame)  # within the bound: the whole table
    monkeypatch.setattr(api, "HTML_MAX_ROWS", 2)
    cut = api.bounded_table(frame, "x.csv")
    assert cut.count("<tr>") == 3 and "2 of 3 rows shown; all rows: x.csv" in cut  # header + 2 rows
    trials = [Trial(f"{n}201{i}", 2010 + i) for i, n in enumerate(("alpha", "bravo", "charlie"))]
    root = write_collection(tmp_path / "data", trials, second=trials)
    ctx = api.ReportContext(load_reviews(root), load_pooled(root), list_reviews(root), api.ReportOptions(), "x")
    out = section_overlap(ctx)
    assert "2 of 3 rows shown; all rows: overlap_trials.csv" in out.html
    assert len(dict(out.tables)["overlap_trials"]) == 3


def test_funnels_with_many_points_are_rasterised(small_bounds):
    _, out = small_bounds
    svg = (out / "figures" / "funnel_review_living.svg").read_text(encoding="utf-8")
    assert "<image" in svg  # the 13 points as one embedded image


def test_default_bounds():
    assert api.FOREST_MAX_ROWS == 200 and api.HTML_MAX_ROWS == 200 and api.RASTER_MIN_POINTS == 1000
    assert api.draws_forest(200) and not api.draws_forest(201)


def test_traffic_light_over_the_bound_is_a_sentence(monkeypatch):
    """The risk-of-bias traffic light has one row per trial: bounded like a forest (bundled data, bound 3)."""
    import matplotlib.pyplot as plt

    from whatworks.data import list_reviews, load_pooled, load_reviews, load_risk_of_bias
    from whatworks.report.sections import section_risk_of_bias

    plt.close("all")  # figures other tests left open would trip matplotlib's 20-figure warning
    monkeypatch.setattr(api, "FOREST_MAX_ROWS", 3)
    ctx = api.ReportContext(load_reviews(), load_pooled(), list_reviews(), api.ReportOptions(), "bundled",
                            risk_of_bias=load_risk_of_bias())
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        out = section_risk_of_bias(ctx)
    drawn = {f.name for f in out.figures if f.name.endswith("_traffic")}
    assert "rob_social_cognition_traffic" not in drawn  # more than 3 assessed trials
    assert "more than the 3 rows a traffic-light plot draws; every trial&#x27;s judgements are in risk_of_bias.csv" \
        in out.html
    assert [f for f in out.figures if f.name.endswith("_summary")]  # the summary bars stay (bounded)
    plt.close("all")
