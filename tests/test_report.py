"""Tests of ``python -m whatworks.report`` on a synthetic fixture (tests/fixtures/report_data).

The fixture's numbers are made up (see make_fixture.py there); the statistics themselves are checked
against metafor in test_model / test_subgroups. Here: files, exit codes, determinism, plumbing (the CSV
holds what meta_analyze gives for the same rows), the HTML, the section extension point.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from whatworks import meta_analyze  # noqa: E402
from whatworks.data import load_reviews  # noqa: E402
from whatworks.report import RESULT_COLUMNS, main, run_report  # noqa: E402

DATA = Path(__file__).parent / "fixtures" / "report_data"
RUN_DATE = "1767225600"  # 2026-01-01 00:00 UTC


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report1")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", RUN_DATE)  # the page prints the run's date: fixed, so that runs compare equal
    try:
        code = main(["--data", str(DATA), "--out", str(out), "--quiet", "--readme-figures", str(out / "readme"),
                     "--jobs", "2"])
    finally:
        mp.undo()
    return code, out


def test_report_writes_figures_csv_and_html(first_run):
    code, out = first_run
    assert code == 0
    files = _files(out)
    for name in ("summary", "forest_strategy", "forest_review_living", "forest_review_demo_review",
                 "funnel_strategy", "funnel_review_living"):
        assert f"figures/{name}.png" in files and f"figures/{name}.svg" in files
    assert {"results.csv", "report.html", "readme/summary.png", "readme/forest_living.png"} <= set(files)
    assert files["readme/summary.png"] == files["figures/summary.png"]


def test_results_csv_rows_and_numbers(first_run):
    _, out = first_run
    with open(out / "results.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(RESULT_COLUMNS)
    rows = [r for r in rows if r["analysis"].startswith(("review:", "strategy"))]  # this module's sections
    keys = [(r["analysis"], r["subgroup"]) for r in rows]
    assert keys == [("review:demo_review", "overall"), ("review:living", "overall"),
                    ("strategy", "social_access"), ("strategy", "social_cognition"),
                    ("strategy", "social_skills"), ("strategy", "social_support"), ("strategy", "overall")]
    # the strategy analysis takes bravo2012 once (from the living review): 13 + 2 rows
    overall = rows[-1]
    assert overall["k"] == "15" and overall["n_unknown"] == "0"
    skills = rows[-3]
    assert skills["k"] == "1" and skills["estimate"] == ""  # too small for a random-effects fit
    # plumbing: the living review's row is meta_analyze on its rows, rounded to 4 decimals
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eff = load_reviews(DATA, reviews=["living"])
    fit = meta_analyze(eff["yi"], eff["vi"], method="REML", test="knha")
    living = rows[1]
    for col in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2"):
        assert living[col] == f"{getattr(fit, col):.4f}"
    assert living["i2"] == f"{fit.i2:.2f}" and living["k"] == "13"
    assert living["n"] == str(int((eff["n_treatment"] + eff["n_control"]).sum()))
    assert living["method"] == "REML" and living["test"] == "knha"


def test_html_is_self_contained_with_methods(first_run):
    _, out = first_run
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/svg+xml;base64,") == len(list((out / "figures").glob("*.svg")))
    assert not re.search(r'<(img|script|link)[^>]+(src|href)="https?:', page)  # nothing fetched from outside
    assert "{{figure:" not in page
    for words in ("restricted maximum-likelihood", "Knapp-Hartung", "prediction interval", "matplotlib",
                  "Test for subgroup differences", "demo_review", "d_ppc2", "ICC = 0.05"):
        assert words in page


def test_two_runs_are_byte_identical(first_run, tmp_path, monkeypatch):
    """Every file, figures included, is the same in a second run, rendered serially this time."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", RUN_DATE)
    _, out1 = first_run
    out2 = tmp_path / "again"
    assert main(["--data", str(DATA), "--out", str(out2), "--quiet", "--readme-figures",
                 str(out2 / "readme"), "--jobs", "1"]) == 0
    a, b = _files(out1), _files(out2)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


def test_options_format_and_quiet(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["--data", str(DATA), "--out", str(out), "--format", "svg", "--method", "dl", "--test", "Z"]) == 0
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "checking the data" in err and "wrote" in err  # one progress line per step, in words
    assert "the pooled effect of each strategy" in err and "section_" not in err and "section " not in err
    assert lines[-1].endswith(str(out / "report.html"))  # the last line names the page
    assert not list(out.rglob("*.png"))
    res = pd.read_csv(out / "results.csv")
    assert set(res["method"]) == {"DL"} and set(res["test"]) == {"z"}  # case-insensitive names, canonical spelling
    assert main(["--data", str(DATA), "--out", str(out), "--format", "svg", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_review_selection(tmp_path):
    from whatworks.report.sections import section_reviews, section_strategies

    res = run_report(data=DATA, out=tmp_path, formats=["svg"], reviews=["living"],
                     sections=[section_strategies, section_reviews])
    assert set(res.results["analysis"]) == {"review:living", "strategy"}
    assert res.results.loc[res.results["subgroup"] == "overall", "k"].tolist() == [13, 13]


def test_data_problems_exit_1_with_locations(tmp_path, capsys):
    broken = tmp_path / "data"
    shutil.copytree(DATA, broken, ignore=shutil.ignore_patterns("*.py"))
    path = broken / "living" / "effects.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",rct,", ",rtc,", 1)  # data row 2: a design outside the vocabulary
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["--data", str(broken), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"living/effects\.csv:2:design: .*rtc", err)
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("argv", [["--method", "nonsense"], ["--format", "gif"], ["--review", "nope"],
                                  ["--data", "/nonexistent/folder"], ["--bogus"]])
def test_usage_errors_exit_2(argv, tmp_path, capsys):
    args = ["--data", str(DATA), "--out", str(tmp_path / "o"), *argv]
    assert main(args) == 2
    assert "error" in capsys.readouterr().err


def test_version(capsys):
    from whatworks.report.sections import software_versions

    with pytest.raises(SystemExit) as exc:  # argparse's version action exits 0 after printing
        from whatworks.report import build_parser

        build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    assert main(["--version"]) == 0
    assert software_versions()["whatworks"] in capsys.readouterr().out


def test_run_date_from_source_date_epoch(monkeypatch):
    from whatworks.report.run import run_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", RUN_DATE)
    assert run_date() == "2026-01-01"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", run_date())


def test_help(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--data", "--out", "--method", "--test", "--format", "--review", "--quiet", "--readme-figures",
                   "--jobs", "--version"):
        assert option in text
    proc = subprocess.run([sys.executable, "-m", "whatworks.report", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "usage:" in proc.stdout


def test_a_section_can_be_added(tmp_path):
    from whatworks.report.api import ReportContext, SectionOutput, figure_ref, result_row

    def section_extra(ctx: ReportContext) -> SectionOutput:
        rows = ctx.effects[ctx.effects["pool"]]
        fit = meta_analyze(rows["yi"], rows["vi"], method=ctx.options.method, test=ctx.options.test)
        claims = pd.DataFrame({"claim": ["C1"], "verdict": ["inconclusive"]})
        return SectionOutput("extra", "Extra", f"<p>extra section</p>{figure_ref('missing')}",
                             rows=(result_row("extra", "overall", fit, rows),), tables=(("claims", claims),))

    res = run_report(data=DATA, out=tmp_path, formats=["svg"], sections=[section_extra])
    assert list(res.results["analysis"]) == ["extra"]
    assert (tmp_path / "claims.csv").read_text(encoding="utf-8") == "claim,verdict\nC1,inconclusive\n"
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "extra section" in page and "figure missing not drawn" in page


def test_overlap_section_counts_trials_across_folders():
    from whatworks import list_reviews, load_pooled, load_reviews
    from whatworks.report.api import ReportContext, ReportOptions
    from whatworks.report.sections import section_overlap

    effects = load_reviews()
    ctx = ReportContext(effects=effects, pooled=load_pooled(), catalogue=list_reviews(), options=ReportOptions(),
                        data_root="bundled")
    out = section_overlap(ctx)
    tables = dict(out.tables)
    trials = tables["overlap_trials"]
    # every coded trial appears once, with the number of folders that code it (counted here directly)
    per_trial = effects.dropna(subset=["study_id"]).groupby("study_id")["review"].nunique()
    assert dict(zip(trials["study"], trials["n_reviews"])) == per_trial.to_dict()
    assert "CCA" in out.html


def test_strategy_section_draws_one_forest_per_fitted_strategy():
    import matplotlib.pyplot as plt

    from whatworks import list_reviews, load_pooled, load_reviews
    from whatworks.report.api import ReportContext, ReportOptions
    from whatworks.report.sections import section_strategies

    ctx = ReportContext(effects=load_reviews(), pooled=load_pooled(), catalogue=list_reviews(), options=ReportOptions(),
                        data_root="bundled")
    out = section_strategies(ctx)
    names = {f.name for f in out.figures}
    fitted = ctx.results["strategy"].groups
    assert {f"forest_strategy_{s}" for s in fitted} <= names and "forest_strategy" in names
    for s in fitted:  # every per-strategy figure shows that strategy's pooled estimate
        fig = next(f.figure for f in out.figures if f.name == f"forest_strategy_{s}")
        texts = " ".join(t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text")))
        assert f"k = {fitted[s].k}" in texts
    plt.close("all")


def test_risk_of_bias_section_counts_and_draws(tmp_path):
    """The section counts the primary trials' judgements and draws robvis figures per strategy."""
    from whatworks.data import load_reviews, load_risk_of_bias
    from whatworks.finding.select import primary_frame
    from whatworks.report.api import ReportContext, ReportOptions
    from whatworks.report.sections import section_risk_of_bias

    effects = load_reviews()
    rob = load_risk_of_bias()
    ctx = ReportContext(effects, pd.DataFrame(), pd.DataFrame(), ReportOptions(), "bundled", risk_of_bias=rob)
    out = section_risk_of_bias(ctx)
    primary = primary_frame(effects)
    expected = primary["rob_overall"].value_counts()
    assert f"of {len(primary)} trials in the primary analysis were assessed with RoB 2" in out.html
    assert f"high {expected.get('high', 0)}" in out.html
    names = {f.name for f in out.figures}
    assert {f"rob_{s}_traffic" for s in primary["strategy"].unique()} <= names
    empty = ReportContext(effects, pd.DataFrame(), pd.DataFrame(), ReportOptions(), "bundled")
    assert "No trial of the primary analysis has a risk-of-bias assessment" in section_risk_of_bias(empty).html
