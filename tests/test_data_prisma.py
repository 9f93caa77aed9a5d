"""The PRISMA 2020 flow: [prisma] checked by validate, drawn by prisma_plot, in the report; the living review's."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import matplotlib
import pytest

from whatworks.data import bundled_root, validate
from whatworks.data.prisma import check_prisma, prisma_frame, prisma_gaps, prisma_note, total
from whatworks.plots import prisma_plot

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")

FIXTURE = Path(__file__).parent / "fixtures" / "double_coding" / "coder_a" / "demo2027"
FLOW = tomllib.loads((FIXTURE / "review.toml").read_text("utf-8"))["prisma"]


def test_the_worked_example_is_consistent():
    assert check_prisma(FLOW, "demo2027/review.toml") == []
    assert total(FLOW, "identified") == 200 and total(FLOW, "reports_excluded") == 14
    assert prisma_gaps(FLOW) == [] and prisma_note(FLOW).startswith("Every count is recorded")


@pytest.mark.parametrize("key, value, message", [
    ("records_screened", 150, "prisma.records_screened: 200 records identified - 40 duplicate records removed = "
                              "160, but records_screened is 150"),
    ("reports_sought", 31, "prisma.reports_sought: 160 records screened - 130 records excluded = 30, but "
                           "reports_sought is 31"),
    ("reports_assessed", 27, "prisma.reports_assessed: 30 reports sought for retrieval - 2 reports not retrieved = "
                             "28, but reports_assessed is 27"),
    ("reports_included", 15, "prisma.reports_included: 28 reports assessed for eligibility - 14 reports excluded = "
                             "14, but reports_included is 15"),
    ("studies_included", 15, "prisma.studies_included: 15 studies included but only 14 reports"),
    ("records_excluded", -1, "prisma.records_excluded: must be a whole number >= 0 or \"not recorded\", got -1"),
    ("records_excluded", "about 130", "prisma.records_excluded: must be a whole number >= 0"),
    ("screened", 160, "prisma.screened: unknown key"),
])
def test_each_broken_step_is_an_error_at_its_key(key, value, message):
    flow = {**FLOW, key: value}
    problems = check_prisma(flow, "demo2027/review.toml")
    assert any(str(p).startswith(f"demo2027/review.toml:{message}") for p in problems), problems


def test_a_count_not_recorded_skips_its_equations_only():
    flow = {**FLOW, "reports_not_retrieved": "not recorded", "reports_included": 99}
    (problem,) = check_prisma(flow, "x/review.toml")
    assert problem.column == "prisma.reports_included"  # sought - not retrieved = assessed is not checked
    flow = {**FLOW, "identified": {"MEDLINE": 120, "hand search": "not recorded"}, "duplicates_removed": 999}
    assert check_prisma(flow, "x/review.toml") == []


def test_validate_reports_prisma_problems_at_file_and_key(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "demo2027")
    (folder / "risk_of_bias.csv").unlink()
    text = (folder / "review.toml").read_text("utf-8").replace("records_screened = 160", "records_screened = 161")
    (folder / "review.toml").write_text(text, "utf-8")
    assert [str(p) for p in validate(folder) if p.is_error] == [
        "demo2027/review.toml:prisma.records_screened: 200 records identified - 40 duplicate records removed = 160, "
        "but records_screened is 161",
        "demo2027/review.toml:prisma.reports_sought: 161 records screened - 130 records excluded = 31, but "
        "reports_sought is 30"]


def test_frame_and_plot_say_not_recorded():
    flow = {"identified": {"source notes": "not recorded"}, "studies_included": 61}
    frame = prisma_frame(flow)
    assert frame.loc[frame["step"] == "Studies included in review", "n"].tolist() == [61]
    assert frame["n"].isna().sum() == len(frame) - 1
    ax = prisma_plot(flow, note=prisma_note(flow), title="living")
    texts = "\n".join(t.get_text() for t in ax.texts)
    assert "Records screened\n(not recorded)" in texts and "Studies included in review\n(n = 61)" in texts
    assert "source notes (not recorded)" in texts and "Not a complete flow" in texts
    assert "61" not in texts.replace("(n = 61)", "")  # no other number is drawn


def test_plot_draws_on_a_given_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert prisma_plot(FLOW, ax=ax) is ax
    assert "PsycINFO (n = 80)" in "\n".join(t.get_text() for t in ax.texts)
    plt.close(fig)


def test_the_living_review_flow_is_as_logged():
    flow = tomllib.loads((bundled_root() / "living" / "review.toml").read_text("utf-8"))["prisma"]
    log = (Path(__file__).parents[1] / "docs" / "living-review.md").read_text("utf-8")
    assert flow["studies_included"] == 61 and "84 rows, 61 trials" in log
    numbers = {k: v for k, v in flow.items() if isinstance(v, int)}
    assert numbers == {"studies_included": 61}  # the log records no other count
    assert set(flow["identified"].values()) == {"not recorded"}
    assert "Not a complete flow" in prisma_note(flow)


def test_report_section_draws_one_flow_per_review_with_one(tmp_path):
    from whatworks.report.api import ReportContext, ReportOptions
    from whatworks.report.sections import DEFAULT_SECTIONS, section_prisma

    assert section_prisma in DEFAULT_SECTIONS
    root = tmp_path / "reviews"
    shutil.copytree(FIXTURE, root / "demo2027")
    shutil.copytree(bundled_root() / "teoh2021", root / "teoh2021")
    import pandas as pd

    empty = pd.DataFrame()
    ctx = ReportContext(empty, empty, empty, ReportOptions(), "test", root=root)
    out = section_prisma(ctx)
    assert out is not None and [f.name for f in out.figures] == ["prisma_demo2027"]
    assert out.tables[0][1]["review"].unique().tolist() == ["demo2027"]
    assert section_prisma(ReportContext(empty, empty, empty, ReportOptions(reviews=("teoh2021",)), "t",
                                        root=root)) is None
    assert section_prisma(ReportContext(empty, empty, empty, ReportOptions(), "t")) is None
