"""The report is written into a fresh folder and moved into place when complete (issue 11.8): files of an
earlier run never sit beside new ones, and a failed run leaves the previous report byte-identical."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from collection_builder import Trial, write_collection  # noqa: E402
from whatworks.report import UsageError, run_report  # noqa: E402
from whatworks.report.api import ReportContext, SectionOutput  # noqa: E402
from whatworks.report.sections import section_reviews, section_strategies  # noqa: E402

FAST = dict(formats=["svg"], jobs=1)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _trials(strategies):
    return [Trial(f"{n}{2010 + i}", 2010 + i, s, g=-0.1 * i, n_t=30 + i, n_c=30 + i)
            for i, (n, s) in enumerate(zip(("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"), strategies))]


@pytest.fixture
def earlier(tmp_path):
    root = write_collection(tmp_path / "data", _trials(["social_cognition"] * 2 + ["social_support"] * 2
                                                       + ["social_access"] * 2))
    out = tmp_path / "reports"
    run_report(data=root, out=out, sections=[section_strategies, section_reviews], **FAST)
    return root, out, _files(out)


def _broken_table(ctx: ReportContext) -> SectionOutput:
    """A section whose table cannot be written (its name is a path into a missing folder): the run fails
    while writing, after the figures and results.csv."""
    return SectionOutput("broken", "Broken", "<p>x</p>", tables=(("no/such/folder/table", pd.DataFrame({"a": [1]})),))


def test_a_failing_section_leaves_the_earlier_report_byte_identical(earlier):
    root, out, before = earlier

    def boom(ctx):
        raise RuntimeError("section failed")

    with pytest.raises(RuntimeError, match="section failed"):
        run_report(data=root, out=out, sections=[section_strategies, boom], **FAST)
    assert _files(out) == before


def test_a_run_failing_while_writing_leaves_the_earlier_report_byte_identical(earlier):
    """Was: the new figures and results.csv were written over the old ones, next to the old report.html."""
    root, out, before = earlier
    with pytest.raises(OSError):
        run_report(data=root, out=out, sections=[section_strategies, _broken_table], method="DL", **FAST)
    assert _files(out) == before
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no partial folder left


def test_stale_files_of_an_earlier_run_are_gone(earlier, tmp_path):
    """Was: figures of a strategy no longer in the data stayed beside the new report."""
    _, out, before = earlier
    assert "figures/forest_strategy_social_access.svg" in before
    root2 = write_collection(tmp_path / "data2", _trials(["social_cognition"] * 3 + ["social_support"] * 3))
    res = run_report(data=root2, out=out, sections=[section_strategies, section_reviews], **FAST)
    after = _files(out)
    assert "figures/forest_strategy_social_access.svg" not in after
    assert set(after) == {p.relative_to(out).as_posix() for p in res.files} | {".whatworks-report"}


def test_readme_figures_inside_and_outside_the_report(earlier, tmp_path):
    root, out, _ = earlier
    from whatworks.report.sections import DEFAULT_SECTIONS

    docs = tmp_path / "docs" / "figures"
    (docs).mkdir(parents=True)
    (docs / "other.png").write_bytes(b"keep me")  # a README folder holds other files: they stay
    res = run_report(data=root, out=out, readme_figures=docs, sections=DEFAULT_SECTIONS, formats=["png"], jobs=1)
    assert (docs / "summary.png").read_bytes() == (out / "figures" / "summary.png").read_bytes()
    assert (docs / "forest_living.png").read_bytes() == (out / "figures" / "forest_review_living.png").read_bytes()
    assert (docs / "other.png").read_bytes() == b"keep me" and docs / "summary.png" in res.files
    assert not [p for p in docs.iterdir() if p.name.endswith(".partial")]
    run_report(data=root, out=out, readme_figures=out / "readme", sections=DEFAULT_SECTIONS, formats=["png"], jobs=1)
    assert (out / "readme" / "summary.png").read_bytes() == (out / "figures" / "summary.png").read_bytes()


def test_a_folder_that_is_not_a_report_is_never_replaced(tmp_path, earlier):
    root, _, _ = earlier
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(UsageError, match="not a whatworks report"):
        run_report(data=root, out=mine, sections=[], **FAST)
    assert (mine / "thesis.docx").read_bytes() == b"precious" and len(list(mine.iterdir())) == 1


def test_the_working_directory_is_never_the_report_folder(tmp_path, earlier, monkeypatch):
    root, out, _ = earlier
    monkeypatch.chdir(out)
    with pytest.raises(UsageError, match="working directory"):
        run_report(data=root, out=".", sections=[], **FAST)
