"""Validation of review folders: one malformed variant of the valid fixture per rule, each with its message.

Every case copies ``tests/fixtures/reviews/demo_smd`` (a valid, synthetic review) into a temporary
folder, breaks one thing, and checks that :func:`whatworks.data.validate` reports exactly that problem
(file, row, column, message) and that the loader refuses to load.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from whatworks.data import DataValidationError, Problem, load_pooled, load_reviews, validate
from whatworks.data._csvfile import SEMICOLON_EXPLANATION

FIXTURES = Path(__file__).parent / "fixtures"
VALID = FIXTURES / "reviews" / "demo_smd"
EFFECTS, POOLED, TOML = "demo_smd/effects.csv", "demo_smd/pooled.csv", "demo_smd/review.toml"

Rows = list[dict[str, str]]


def _read(path: Path) -> tuple[list[str], Rows]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: Rows) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def make_review(tmp_path: Path, *, effects: Callable | None = None, pooled: Callable | None = None,
                toml: Callable[[str], str] | None = None) -> Path:
    """Copy the valid fixture; ``effects``/``pooled`` mutate (header, rows) in place, ``toml`` maps text."""
    folder = tmp_path / "demo_smd"
    shutil.copytree(VALID, folder)
    for name, mutate in (("effects.csv", effects), ("pooled.csv", pooled)):
        if mutate is not None:
            header, rows = _read(folder / name)
            mutate(header, rows)
            _write(folder / name, header, rows)
    if toml is not None:
        (folder / "review.toml").write_text(toml((folder / "review.toml").read_text("utf-8")), "utf-8")
    return folder


def set_cell(row: int, column: str, value: str) -> Callable:
    """Mutation: data row ``row`` (1-based) gets ``value`` in ``column``."""
    def mutate(header: list[str], rows: Rows) -> None:
        rows[row - 1][column] = value
    return mutate


def both(*mutations: Callable) -> Callable:
    def mutate(header: list[str], rows: Rows) -> None:
        for m in mutations:
            m(header, rows)
    return mutate


def drop_column(column: str) -> Callable:
    def mutate(header: list[str], rows: Rows) -> None:
        header.remove(column)
    return mutate


def add_column(column: str, value: str) -> Callable:
    def mutate(header: list[str], rows: Rows) -> None:
        header.append(column)
        for r in rows:
            r[column] = value
    return mutate


def only(problems: list[Problem], severity: str = "error") -> list[Problem]:
    return [p for p in problems if p.severity == severity]


def test_valid_fixture_has_no_problems():
    assert validate(FIXTURES / "reviews") == []


# (id, mutation kwargs for make_review, expected file, row, column, message fragment)
CASES = [
    ("missing required column", dict(effects=drop_column("strategy")), EFFECTS, None, "strategy",
     "missing required column"),
    ("unknown column", dict(effects=add_column("colour", "red")), EFFECTS, None, "colour", "unknown column"),
    ("unknown metadata key", dict(toml=lambda t: t + 'colour = "red"\n'), TOML, None, "colour", "unknown key"),
    ("wrong type int", dict(effects=set_cell(1, "n_treatment", "twenty")), EFFECTS, 1, "n_treatment",
     "must be a whole number"),
    ("wrong type float", dict(effects=set_cell(1, "m_t", "thirty")), EFFECTS, 1, "m_t", "must be a number"),
    ("inequality as number", dict(effects=set_cell(5, "p_value", "<.05")), EFFECTS, 5, "p_value",
     "write inequalities such as p < .001 in notes"),
    ("decimal comma in a cell", dict(effects=set_cell(1, "sd_t", "6,5")), EFFECTS, 1, "sd_t",
     "decimal comma in '6,5': write '6.5'"),
    ("wrong type bool", dict(effects=set_cell(2, "borderline", "yes")), EFFECTS, 2, "borderline",
     "must be true or false"),
    ("wrong type toml", dict(toml=lambda t: t.replace('title = "Demo review (SMD)"', "title = 3")), TOML, None,
     "title", "must be a string"),
    ("vocabulary", dict(effects=set_cell(1, "design", "RCT")), EFFECTS, 1, "design",
     "'RCT' is not one of: rct, non_randomised, single_group (did you mean 'rct'?)"),
    ("vocabulary strategy", dict(effects=set_cell(3, "strategy", "cbt")), EFFECTS, 3, "strategy", "is not one of"),
    ("vocabulary toml", dict(toml=lambda t: t.replace('kind = "review"', 'kind = "meta"')), TOML, None, "kind",
     "'meta' is not one of: review, living"),
    ("n < 2", dict(effects=set_cell(1, "n_control", "1")), EFFECTS, 1, "n_control", "must be >= 2, got 1"),
    ("SD <= 0", dict(effects=set_cell(1, "sd_t", "0")), EFFECTS, 1, "sd_t", "must be > 0, got 0"),
    ("negative SD", dict(effects=set_cell(1, "sd_c", "-6.5")), EFFECTS, 1, "sd_c", "must be > 0"),
    ("CI not bracketing", dict(effects=set_cell(7, "es", "-10")), EFFECTS, 7, "es",
     "CI [-9.1, -1.3] does not bracket the estimate -10"),
    ("CI reversed", dict(effects=both(set_cell(7, "es_ci_low", "-1.3"), set_cell(7, "es_ci_high", "-9.1"))),
     EFFECTS, 7, "es_ci_low", "is not below the upper bound"),
    ("CI half", dict(effects=set_cell(7, "es_ci_high", "")), EFFECTS, 7, "es_ci_high", "needs both bounds"),
    ("pooled CI not bracketing", dict(pooled=set_cell(1, "estimate", "0.1")), POOLED, 1, "estimate",
     "does not bracket"),
    ("p > 1", dict(effects=set_cell(5, "p_value", "1.5")), EFFECTS, 5, "p_value", "p must be in (0, 1], got 1.5"),
    ("p = 0", dict(effects=set_cell(5, "p_value", "0")), EFFECTS, 5, "p_value", "p must be in (0, 1], got 0"),
    ("pooled p", dict(pooled=set_cell(1, "p_value", "-0.2")), POOLED, 1, "p_value", "p must be in (0, 1]"),
    ("duplicate effect_id", dict(effects=set_cell(2, "effect_id", "alpha2020_wl")), EFFECTS, 2, "effect_id",
     "duplicate effect_id 'alpha2020_wl' (first in row 1)"),
    ("missing sign convention", dict(effects=set_cell(3, "sign_convention", "")), EFFECTS, 3, "sign_convention",
     "missing sign convention"),
    ("undeclared metric", dict(toml=lambda t: t.replace('metric = "SMD"\n', "")), TOML, None, "metric",
     "missing required key (effects.csv exists: declare the metric of its yi)"),
    ("undeclared pooled metric", dict(pooled=set_cell(2, "metric", "")), POOLED, 2, "metric",
     "is empty but required"),
    ("yi typed", dict(effects=add_column("yi", "-0.5")), EFFECTS, None, "yi",
     "yi is computed by the library, not typed"),
    ("vi typed", dict(effects=add_column("vi", "0.1")), EFFECTS, None, "vi", "computed by the library, not typed"),
    ("exclude without reason", dict(effects=set_cell(10, "exclude_reason", "")), EFFECTS, 10, "exclude_reason",
     "exclude is true but exclude_reason is empty"),
    ("second hand without source", dict(effects=set_cell(10, "secondary_source", "")), EFFECTS, 10,
     "secondary_source", "hand is second but secondary_source is empty"),
    ("review column", dict(effects=set_cell(4, "review", "other_review")), EFFECTS, 4, "review",
     "is 'other_review' but the folder is named 'demo_smd'"),
    ("toml id", dict(toml=lambda t: t.replace('id = "demo_smd"', 'id = "demo"')), TOML, None, "id",
     "is 'demo' but the folder is named 'demo_smd'"),
    ("undirected without favours", dict(effects=set_cell(6, "favours", "")), EFFECTS, 6, "favours",
     "undirected statistics need favours"),
    ("study_id form", dict(effects=set_cell(1, "study_id", "Alpha 2020")), EFFECTS, 1, "study_id",
     "is not surname + year"),
    ("url", dict(effects=set_cell(1, "source_url", "www.example.org")), EFFECTS, 1, "source_url",
     "must be a URL starting with http:// or https://"),
    ("empty required value", dict(effects=set_cell(1, "locator", "")), EFFECTS, 1, "locator", "is empty but required"),
    ("correlation > 1", dict(effects=set_cell(1, "r_t", "1.2")), EFFECTS, 1, "r_t", "must be <= 1"),
    ("odds ratio <= 0", dict(effects=set_cell(8, "es_ci_low", "-0.1")), EFFECTS, 8, "es_ci_low",
     "an odds ratio must be > 0"),
    ("ci_level as percent", dict(effects=set_cell(7, "ci_level", "95")), EFFECTS, 7, "ci_level",
     "must be in (0, 1), e.g. 0.95, got 95"),
    ("impossible F", dict(effects=set_cell(6, "test_stat", "-4.41")), EFFECTS, 6, "stat_type",
     "cannot compute SMD from the reported f statistics"),
    ("coded_on date", dict(toml=lambda t: t.replace("coded_on = 2026-11-27", 'coded_on = "27-11-2026"')), TOML,
     None, "coded_on", "must be an ISO date"),
    ("invalid toml", dict(toml=lambda t: t + "this is not toml\n"), TOML, None, None, "not valid TOML"),
]


@pytest.mark.parametrize("kwargs, file, row, column, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_malformed_variant_reports_its_problem(tmp_path, kwargs, file, row, column, fragment):
    folder = make_review(tmp_path, **kwargs)
    errors = only(validate(folder))
    hits = [p for p in errors if (p.file, p.row, p.column) == (file, row, column) and fragment in p.message]
    assert hits, f"expected {file}:{row}:{column}: ...{fragment}...; got:\n" + "\n".join(map(str, errors))
    with pytest.raises(DataValidationError) as info:
        load_reviews(tmp_path)
    assert str(hits[0]) in str(info.value)


def _raw_file_case(tmp_path: Path, name: str, data: bytes) -> list[Problem]:
    folder = make_review(tmp_path)
    (folder / name).write_bytes(data)
    return only(validate(folder))


def test_empty_file(tmp_path):
    (p,) = _raw_file_case(tmp_path, "effects.csv", b"")
    assert (p.file, p.row, p.message) == (EFFECTS, None, "file is empty (not even a header)")


def test_bom_is_rejected(tmp_path):
    data = b"\xef\xbb\xbf" + (VALID / "effects.csv").read_bytes()
    (p,) = _raw_file_case(tmp_path, "effects.csv", data)
    assert "byte-order mark (BOM)" in p.message and "save it as UTF-8 without BOM" in p.message


def test_dutch_excel_export_is_rejected_with_the_explanation(tmp_path):
    """A real-shaped Dutch Excel export: semicolons between fields, decimal commas, cp1252."""
    data = (FIXTURES / "malformed" / "effects_dutch_excel.csv").read_bytes()
    (p,) = _raw_file_case(tmp_path, "effects.csv", data)
    assert p.message == SEMICOLON_EXPLANATION.format(decimal=" with decimal commas")
    assert "semicolon-separated with decimal commas (a Dutch/European spreadsheet export)" in p.message


def test_not_utf8(tmp_path):
    (p,) = _raw_file_case(tmp_path, "pooled.csv", "review,analysis\ndemo_smd,Käll\n".encode("latin-1"))
    assert p.file == POOLED and "not valid UTF-8 (byte 26, line 2)" in p.message


def test_ragged_row_and_duplicate_header(tmp_path):
    text = (VALID / "effects.csv").read_text("utf-8").splitlines()
    text[2] += ",extra"
    text[0] = text[0].replace("country", "notes")
    problems = _raw_file_case(tmp_path, "effects.csv", ("\n".join(text) + "\n").encode())
    messages = {(p.row, p.column, p.message) for p in problems}
    assert (None, "notes", "column appears twice in the header") in messages
    assert any(r == 2 and "fields, the header has" in m for r, _, m in messages)


def test_missing_review_toml_and_no_data_files(tmp_path):
    folder = tmp_path / "bare2020"
    folder.mkdir()
    messages = {p.message for p in validate(folder.parent)}
    assert any(m.startswith("review.toml is missing") for m in messages)
    assert "folder holds neither effects.csv nor pooled.csv" in messages


def test_empty_collection_is_one_problem(tmp_path):
    (p,) = validate(tmp_path)
    assert "no review folders found" in p.message
    with pytest.raises(DataValidationError):
        load_pooled(tmp_path)


def test_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        validate(tmp_path / "nope")


def test_all_problems_of_all_files_are_reported_at_once(tmp_path):
    make_review(tmp_path, effects=both(set_cell(1, "sd_t", "0"), set_cell(2, "n_control", "1")),
                pooled=set_cell(3, "p_value", "2"), toml=lambda t: t + 'extra = "x"\n')
    with pytest.raises(DataValidationError) as info:
        load_reviews(tmp_path)
    lines = str(info.value).splitlines()
    assert lines[0] == "4 problems in the data (4 errors, 0 warnings):"
    assert lines[1:] == [
        "  demo_smd/effects.csv:1:sd_t: must be > 0, got 0",
        "  demo_smd/effects.csv:2:n_control: must be >= 2, got 1",
        "  demo_smd/pooled.csv:3:p_value: p must be in (0, 1], got 2",
        "  demo_smd/review.toml:extra: unknown key; allowed keys: id, title, kind, citation, url, doi, scope, "
        "metric, model, sign_convention, notes, coded_by, coded_on, prisma",
    ]
    assert len(info.value.problems) == 4 and isinstance(info.value, ValueError)


def test_extreme_effect_is_a_warning_that_does_not_block(tmp_path):
    make_review(tmp_path, effects=set_cell(1, "m_t", "10"))  # (10 - 34) / ~6.3: |g| ~ 3.7
    problems = validate(tmp_path)
    (w,) = problems
    assert (w.severity, w.row, w.column) == ("warning", 1, "stat_type")
    assert "extreme effect: SMD = -3.7" in w.message and "(|yi| > 3)" in w.message
    assert str(w).startswith("demo_smd/effects.csv:1:stat_type: warning: extreme effect")
    from whatworks.data import DataQualityWarning

    with pytest.warns(DataQualityWarning, match="extreme effect"):
        df = load_reviews(tmp_path)
    assert df.loc[0, "yi"] < -3 and bool(df.loc[0, "pool"])


def test_favours_contradicting_the_sign_is_a_warning(tmp_path):
    make_review(tmp_path, effects=set_cell(1, "favours", "control"))
    (w,) = validate(tmp_path)
    assert w.severity == "warning" and "favours control contradicts the normalised effect -0.626" in w.message


def test_unexpected_file_is_a_warning(tmp_path):
    folder = make_review(tmp_path)
    (folder / "effects_old.csv").write_text("x\n")
    (folder / "README.md").write_text("notes\n")
    (w,) = validate(folder)
    assert w.severity == "warning" and w.file == "demo_smd/effects_old.csv"


def test_problem_formatting():
    assert str(Problem("a/effects.csv", None, None, "file is empty")) == "a/effects.csv: file is empty"
    assert str(Problem("a/review.toml", None, "id", "bad")) == "a/review.toml:id: bad"


def test_same_study_id_with_different_years_across_reviews_is_a_warning(tmp_path):
    make_review(tmp_path)
    shutil.copytree(FIXTURES / "reviews" / "demo_smcc", tmp_path / "demo_smcc")
    path = tmp_path / "demo_smcc" / "effects.csv"
    path.write_text(path.read_text("utf-8").replace("nu2020,Nu,2020", "alpha2020,Nu,2021"), "utf-8")
    problems = validate(tmp_path)  # every row of the trial is flagged: 1 here, 2 in demo_smd
    assert [(p.severity, p.file, p.row) for p in problems] == [
        ("warning", "demo_smcc/effects.csv", 3), ("warning", "demo_smd/effects.csv", 1),
        ("warning", "demo_smd/effects.csv", 10)]
    w = problems[0]
    assert "study_id 'alpha2020' has year 2021 here but 2020 in demo_smd/effects.csv:1" in w.message


def test_a_ragged_row_does_not_hide_the_other_problems_of_its_file(tmp_path):
    # issue 11 item 9: one row with too many fields used to be the only problem reported for the file
    folder = make_review(tmp_path, effects=both(set_cell(3, "sd_t", "-1"), set_cell(6, "design", "RCT")))
    path = folder / "effects.csv"
    lines = path.read_text("utf-8").splitlines()
    lines[2] += ",extra"  # data row 2
    path.write_text("\n".join(lines) + "\n", "utf-8")
    found = {(p.row, p.column) for p in only(validate(folder))}
    assert {(2, None), (3, "sd_t"), (6, "design")} <= found


@pytest.mark.parametrize(("mutations", "row"), [
    ((set_cell(7, "es_ci_low", "-1e308"), set_cell(7, "es_ci_high", "1e308")), 7),  # SE from the CI overflows
    ((set_cell(1, "sd_t", "1e200"),), 1),  # the pooled SD overflows
])
def test_an_overflowing_derived_value_is_an_error_not_yi_0(tmp_path, mutations, row):
    # issue 11 item 9: the CI +-1e308 gave SD = inf, yi = 0 and a pooled row
    folder = make_review(tmp_path, effects=both(*mutations))
    errors = [p for p in only(validate(folder)) if (p.file, p.row, p.column) == (EFFECTS, row, "stat_type")]
    assert errors and "overflow a derived value" in errors[0].message
    with pytest.raises(DataValidationError):
        load_reviews(tmp_path)


def test_a_broken_quote_names_its_row(tmp_path):
    folder = make_review(tmp_path)
    lines = (folder / "effects.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",", ',"a "quoted" word",', 1)  # data row 2: a quote not doubled
    (folder / "effects.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = [p for p in validate(folder) if "not a readable CSV" in p.message]
    assert len(problems) == 1 and problems[0].row == 2
    assert 'written twice, ""' in problems[0].message
