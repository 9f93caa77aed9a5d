"""risk_of_bias.csv: validation (one broken variant per rule, reported as file:row:column), loading and the
join onto effect rows (load_reviews' rob_tool / rob_overall, attach_risk_of_bias).

Each case copies the valid synthetic fixture tests/fixtures/reviews/demo_smd, adds a valid
risk_of_bias.csv (built here), breaks one thing and checks that exactly that problem is reported.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from whatworks.data import DataValidationError, attach_risk_of_bias, load_reviews, load_risk_of_bias, validate
from whatworks.data import schema as S

VALID = Path(__file__).parent / "fixtures" / "reviews" / "demo_smd"
ROB = "demo_smd/risk_of_bias.csv"
Q = '"participants were randomised by a computer-generated list"'


def _row(study_id: str, **cells: str) -> dict[str, str]:
    row = {c: "" for c in S.column_names(S.RISK_OF_BIAS_COLUMNS)}
    row.update(review="demo_smd", study_id=study_id, tool="rob2", source_url="https://example.org/trial",
               locator="abstract", assessed_by="test coder", assessed_on="2026-01-15")
    for d in S.ROB2_DOMAINS:
        row[d], row[f"{d}_support"] = "low", f"Methods: {Q}"
    row.update(overall="low", overall_support="all domains low")
    row.update(cells)
    return row


def _valid_rows() -> list[dict[str, str]]:
    return [
        _row("alpha2020"),
        _row("beta2019", d1="no_information", d1_support="abstract only: allocation method not reported",
             d4="some_concerns", d4_support='self-report, "wait-list control"', overall="some_concerns",
             overall_support="algorithm: some concerns (D4) and no information (D1)"),
        _row("gamma2021", effect_id="gamma2021_wl", d3="high", d3_support='"dropout rate was 50.6%"',
             overall="high", overall_support="D3 high"),
        _row("delta2018", **{d: "no_information" for d in S.ROB2_DOMAINS},
             **{f"{d}_support": "only another review's extraction sheet reachable" for d in S.ROB2_DOMAINS},
             overall="no_information", overall_support="nothing could be judged"),
    ]


def _write(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header or list(S.column_names(S.RISK_OF_BIAS_COLUMNS)), lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def make(tmp_path: Path, mutate: Callable[[list[dict[str, str]]], None] | None = None,
         effects: Callable[[str], str] | None = None) -> Path:
    folder = tmp_path / "demo_smd"
    shutil.copytree(VALID, folder)
    rows = _valid_rows()
    if mutate is not None:
        mutate(rows)
    _write(folder / S.RISK_OF_BIAS_FILE, rows)
    if effects is not None:
        (folder / "effects.csv").write_text(effects((folder / "effects.csv").read_text("utf-8")), "utf-8")
    return folder


def cell(row: int, column: str, value: str) -> Callable:
    def mutate(rows: list[dict[str, str]]) -> None:
        rows[row - 1][column] = value
    return mutate


def test_valid_file_has_no_problems_and_no_unexpected_file_warning(tmp_path):
    assert validate(make(tmp_path)) == []


CASES = [
    ("unknown study", cell(1, "study_id", "omega2020"), 1, "study_id", "'omega2020' is not in effects.csv"),
    ("unknown effect", cell(1, "effect_id", "alpha2020_fu"), 1, "effect_id", "'alpha2020_fu' is not in effects.csv"),
    ("effect of another trial", cell(1, "effect_id", "beta2019_wl"), 1, "effect_id",
     "belongs to study_id 'beta2019', not 'alpha2020'"),
    ("duplicate trial", lambda rows: rows.append(_row("alpha2020")), 5, "study_id",
     "a second assessment of study_id 'alpha2020' for the whole trial (effect_id empty) (first in row 1)"),
    ("duplicate effect", lambda rows: rows.append(_row("gamma2021", effect_id="gamma2021_wl", d3="high",
                                                       overall="high")), 5, "effect_id",
     "a second assessment of study_id 'gamma2021' for effect_id 'gamma2021_wl' (first in row 3)"),
    ("bad tool", cell(1, "tool", "rob1"), 1, "tool", "'rob1' is not one of: rob2, robins_i"),
    ("bad judgement", cell(1, "d2", "unclear"), 1, "d2", "'unclear' is not a RoB 2 judgement"),
    ("ROBINS-I word in RoB 2", cell(1, "overall", "moderate"), 1, "overall", "is not a RoB 2 judgement"),
    ("empty domain", cell(1, "d5", ""), 1, "d5", "is empty but required: RoB 2 judges every domain"),
    ("missing support", cell(1, "d3_support", ""), 1, "d3_support", "d3 is low but d3_support is empty"),
    ("support without quote", cell(1, "d1_support", "random numbers were used"), 1, "d1_support",
     "a low judgement needs a verbatim quote"),
    ("missing overall support", cell(1, "overall_support", ""), 1, "overall_support", "is empty but required"),
    ("lenient overall", cell(3, "overall", "some_concerns"), 3, "overall",
     "more lenient than the RoB 2 algorithm, which gives high"),
    ("low with an unassessed domain", cell(2, "overall", "low"), 2, "overall", "more lenient"),
    ("overall no information with judged domains", cell(2, "overall", "no_information"), 2, "overall",
     "needs every domain to be no_information"),
    ("judged overall with nothing judged", cell(4, "overall", "some_concerns"), 4, "overall",
     "must be no_information"),
    ("bad date", cell(1, "assessed_on", "15.01.2026"), 1, "assessed_on", "must be an ISO date"),
    ("review id", cell(1, "review", "other"), 1, "review", "is 'other' but the folder is named 'demo_smd'"),
    ("bad url", cell(1, "source_url", "example.org"), 1, "source_url", "must be a URL"),
]


@pytest.mark.parametrize(("name", "mutate", "row", "column", "message"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_reports_file_row_column(tmp_path, name, mutate, row, column, message):
    problems = [p for p in validate(make(tmp_path, mutate)) if p.is_error]
    assert len(problems) == 1, problems
    p = problems[0]
    assert (p.file, p.row, p.column) == (ROB, row, column)
    assert message in p.message
    with pytest.raises(DataValidationError):
        load_risk_of_bias(tmp_path)


def test_stricter_overall_is_valid(tmp_path):
    folder = make(tmp_path, cell(2, "overall", "high"))
    assert validate(folder) == []


def test_tool_must_fit_the_design(tmp_path):
    non_randomised = lambda text: text.replace("demo_smd,alpha2020_wl,alpha2020,Alpha (2020),2020,Nowhere,rct",  # noqa: E731
                                               "demo_smd,alpha2020_wl,alpha2020,Alpha (2020),2020,Nowhere,non_randomised")
    problems = [p for p in validate(make(tmp_path, cell(1, "effect_id", "alpha2020_wl"), non_randomised))
                if p.is_error]
    assert [(p.row, p.column) for p in problems] == [(1, "tool")]
    assert "rob2 is for randomised trials" in problems[0].message


def test_trial_wide_row_needs_one_design(tmp_path):
    one_row = lambda text: text.replace("Alpha (2020),2020,Nowhere,rct", "Alpha (2020),2020,Nowhere,non_randomised")  # noqa: E731
    problems = [p for p in validate(make(tmp_path, effects=one_row)) if p.is_error]
    assert [(p.row, p.column) for p in problems] == [(1, "effect_id")]
    assert "assess each result (give effect_id)" in problems[0].message


def test_file_needs_effects_csv(tmp_path):
    folder = make(tmp_path)
    (folder / "effects.csv").unlink()
    problems = [p for p in validate(folder) if p.is_error and p.file == ROB]
    assert len(problems) == 1 and "needs the folder's effects.csv" in problems[0].message


def test_robins_i_overall_only(tmp_path):
    def robins(rows: list[dict[str, str]]) -> None:
        rows[0].update(tool="robins_i", effect_id="alpha2020_wl", overall="serious", overall_support="confounding serious: no adjustment",
                       **{d: "" for d in S.ROB2_DOMAINS}, **{f"{d}_support": "" for d in S.ROB2_DOMAINS})

    non_randomised = lambda text: text.replace("Alpha (2020),2020,Nowhere,rct", "Alpha (2020),2020,Nowhere,non_randomised")  # noqa: E731
    assert validate(make(tmp_path / "a", robins, non_randomised)) == []
    bad = [p for p in validate(make(tmp_path / "b", lambda r: (robins(r), r[0].update(d1="low")), non_randomised))
           if p.is_error]
    assert [(p.row, p.column) for p in bad] == [(1, "d1")] and "seven domains" in bad[0].message
    bad = [p for p in validate(make(tmp_path / "c", lambda r: (robins(r), r[0].update(overall="some_concerns")),
                                    non_randomised)) if p.is_error]
    assert [(p.row, p.column) for p in bad] == [(1, "overall")] and "not a ROBINS-I judgement" in bad[0].message
    rct = [p for p in validate(make(tmp_path / "d", robins)) if p.is_error]
    assert [(p.row, p.column) for p in rct] == [(1, "tool")] and "use rob2" in rct[0].message


def test_missing_required_column_and_computed_columns(tmp_path):
    folder = make(tmp_path)
    header = [c for c in S.column_names(S.RISK_OF_BIAS_COLUMNS) if c != "d4_support"]
    _write(folder / S.RISK_OF_BIAS_FILE, _valid_rows(), header)
    problems = [p for p in validate(folder) if p.is_error]
    assert (problems[0].file, problems[0].column) == (ROB, "d4_support")
    assert "missing required column" in problems[0].message
    (folder / "effects.csv").write_text((folder / "effects.csv").read_text("utf-8").replace(
        "review,effect_id", "rob_overall,review,effect_id", 1).replace("\ndemo_smd,", "\nlow,demo_smd,"), "utf-8")
    assert any(p.column == "rob_overall" and "computed by the library" in p.message for p in validate(folder))


def test_every_problem_of_the_file_at_once(tmp_path):
    folder = make(tmp_path, lambda rows: (rows[0].update(d2="unclear"), rows[2].update(overall="low"),
                                          rows[3].update(study_id="omega2020")))
    errors = [(p.row, p.column) for p in validate(folder) if p.is_error]
    assert errors == [(1, "d2"), (3, "overall"), (4, "study_id")]


def test_load_and_join(tmp_path):
    folder = make(tmp_path)
    rob = load_risk_of_bias(folder)
    assert list(rob.columns) == list(S.column_names(S.RISK_OF_BIAS_COLUMNS)) and len(rob) == 4
    eff = load_reviews(folder)
    by_id = dict(zip(eff["effect_id"], eff["rob_overall"]))
    assert by_id["alpha2020_wl"] == "low" and by_id["beta2019_wl"] == "some_concerns"
    assert by_id["gamma2021_wl"] == "high" and by_id["delta2018_uc"] == "no_information"
    assert by_id["eps2022_wl"] == S.ROB_NOT_ASSESSED
    tools = dict(zip(eff["effect_id"], eff["rob_tool"]))
    assert tools["alpha2020_wl"] == "rob2" and pd.isna(tools["eps2022_wl"])
    assert tools["alpha2020_wl_dup"] == "rob2"  # a trial-wide assessment covers every row of the trial
    full = attach_risk_of_bias(eff, rob)
    row = full.set_index("effect_id").loc["beta2019_wl"]
    assert (row["rob_d1"], row["rob_d4"]) == ("no_information", "some_concerns") and pd.isna(row["rob_effect_id"])
    assert full.set_index("effect_id").loc["gamma2021_wl", "rob_effect_id"] == "gamma2021_wl"


def test_effect_level_row_takes_precedence_over_trial_row(tmp_path):
    def two(rows: list[dict[str, str]]) -> None:
        rows.append(_row("gamma2021", overall="low"))  # trial-wide row besides the effect-level one

    eff = load_reviews(make(tmp_path, two))
    assert eff.set_index("effect_id").loc["gamma2021_wl", "rob_overall"] == "high"


def test_folders_without_the_file_load_as_before():
    eff = load_reviews(VALID)
    assert (eff["rob_overall"] == S.ROB_NOT_ASSESSED).all() and eff["rob_tool"].isna().all()
    assert load_risk_of_bias(VALID).empty
