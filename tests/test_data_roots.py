"""Where a collection lives (whatworks.data.roots): one rule for every command and loader (issue 11.2).

explicit folder > ./data/reviews in the working directory > the bundled copy. The installed-package
situation is simulated: the working directory is a temporary folder and the bundled root a fake one.
"""

from __future__ import annotations

import warnings

import pytest

from collection_builder import Trial, write_collection
from whatworks.cli import main
from whatworks.data import find_root, list_reviews, load_reviews, roots, validate


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """A working directory without data/reviews and a fake bundled collection holding review 'living'."""
    bundled = write_collection(tmp_path / "site-packages" / "whatworks" / "_bundled" / "reviews",
                               [Trial("alpha2010", 2010)])
    monkeypatch.setattr(roots, "bundled_root", lambda: bundled)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return bundled, work


def test_bundled_when_no_working_collection(installed):
    bundled, _ = installed
    c = find_root()
    assert (c.path, c.source) == (bundled, "bundled")
    assert c.describe() == "the data bundled with whatworks"
    assert list(list_reviews()["review"]) == ["living"]


def test_working_directory_collection_wins_over_bundled(installed):
    _, work = installed
    write_collection(work / "data" / "reviews", [Trial("bravo2011", 2011)])
    c = find_root()
    assert c.source == "working directory" and c.path == work / "data" / "reviews"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(load_reviews()["study_id"]) == ["bravo2011"]
    assert c.describe() == "data/reviews in the working directory"  # no absolute path on the page


def test_explicit_folder_wins(installed, tmp_path):
    _, work = installed
    write_collection(work / "data" / "reviews", [Trial("bravo2011", 2011)])
    mine = write_collection(tmp_path / "mine", [Trial("charlie2012", 2012)])
    assert find_root(mine).source == "given"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(load_reviews(mine)["study_id"]) == ["charlie2012"]
    with pytest.raises(FileNotFoundError, match="not a folder"):
        find_root(tmp_path / "nope")


def test_new_review_then_every_command_reads_it(installed, capsys):
    """The issue's path: new-review wrote into ./data/reviews while list/report read the bundled copy."""
    bundled, work = installed
    assert main(["new-review", "smith2027"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"data: {work / 'data' / 'reviews'} (data/reviews in the working directory, created)"
    assert f"cp -r {bundled}/. data/reviews/" in out  # how to keep the bundled reviews next to yours
    assert (work / "data" / "reviews" / "smith2027" / "review.toml").is_file()

    assert main(["list"]) in (0, 1)  # the scaffold is not filled in yet: list may refuse it, but reads it
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == f"data: {work / 'data' / 'reviews'} (data/reviews in the working directory)"
    assert main(["validate"]) == 1  # the unfilled template has errors, and they are the new review's
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"data: {work / 'data' / 'reviews'}")
    assert "smith2027/review.toml" in out and "living" not in out
    assert [p for p in validate() if p.is_error] and all(p.file.startswith("smith2027/") for p in validate())


def test_report_reads_the_working_collection(installed, capsys):
    from whatworks.report import main as report_main

    _, work = installed
    write_collection(work / "data" / "reviews", [Trial("bravo2011", 2011), Trial("delta2012", 2012)])
    assert report_main(["--out", "out", "--format", "svg", "--jobs", "1", "--review", "living"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == f"report: data: {work / 'data' / 'reviews'} (data/reviews in the working directory)"
    page = (work / "out" / "report.html").read_text(encoding="utf-8")
    assert "data/reviews in the working directory" in page and str(work) not in page


def test_list_prints_the_bundled_path(installed, capsys):
    bundled, _ = installed
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"data: {bundled} (bundled with whatworks; no data/reviews in the working directory)"
    assert lines[1].split()[0] == "review" and lines[2].split()[0] == "living"
