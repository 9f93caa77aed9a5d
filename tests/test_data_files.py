"""Only regular files inside the collection are read (issue 11.4): links leading out of it, FIFOs,
devices and oversized files are refused with a message naming the file and why, never its contents."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from whatworks.data import DataValidationError, load_pooled, load_reviews, validate
from whatworks.data import _csvfile

DEMO = Path(__file__).parent / "fixtures" / "reviews" / "demo_smd"
SECRET = "TOP-SECRET-TOKEN-1234,do,not,print"

posix_only = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and /dev/zero are POSIX")


@pytest.fixture
def collection(tmp_path):
    root = tmp_path / "collection"
    shutil.copytree(DEMO, root / "demo_smd")
    return root


def _messages(root: Path) -> list[str]:
    return [str(p) for p in validate(root) if p.is_error]


@posix_only
def test_a_link_to_a_file_outside_is_refused_without_printing_it(collection, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    pooled = collection / "demo_smd" / "pooled.csv"
    pooled.unlink()
    pooled.symlink_to(secret)
    msgs = _messages(collection)
    assert any(m.startswith("demo_smd/pooled.csv: is a link to") and "outside the collection" in m for m in msgs)
    assert not any("TOP-SECRET" in m for m in msgs)  # was: unknown column 'TOP-SECRET-TOKEN-1234'
    with pytest.raises(DataValidationError) as exc:
        load_pooled(collection)
    assert "TOP-SECRET" not in str(exc.value)


@posix_only
def test_a_link_to_dev_zero_is_refused_at_once(collection):
    effects = collection / "demo_smd" / "effects.csv"
    effects.unlink()
    effects.symlink_to("/dev/zero")
    start = time.perf_counter()
    msgs = _messages(collection)
    assert time.perf_counter() - start < 5  # was: 24 GB read in 28 s
    assert any(m.startswith("demo_smd/effects.csv: is a link to /dev/zero") for m in msgs)


@posix_only
def test_a_device_inside_the_boundary_is_not_a_regular_file(tmp_path):
    problems: list = []
    assert _csvfile.read_bytes(Path("/dev/zero"), "zero.csv", problems, base=None) is None
    assert problems[0].message == "is not a regular file (a character device): not read"


@posix_only
def test_a_fifo_is_refused_without_blocking(collection):
    pooled = collection / "demo_smd" / "pooled.csv"
    pooled.unlink()
    os.mkfifo(pooled)
    result: list = []
    worker = threading.Thread(target=lambda: result.append(_messages(collection)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test run can end, then fail
        with open(pooled, "wb"):
            pass
        pytest.fail("validate() blocked on a FIFO")
    assert "demo_smd/pooled.csv: is not a regular file (a named pipe (FIFO)): not read" in result[0]


@posix_only
def test_a_review_folder_linked_from_outside_is_refused(collection, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "other_review"
    shutil.copytree(DEMO, elsewhere)
    (collection / "other_review").symlink_to(elsewhere, target_is_directory=True)
    msgs = _messages(collection)
    assert any(m.startswith("other_review/: review folder is a link to") for m in msgs)
    with pytest.raises(DataValidationError):
        load_reviews(collection)  # was: loaded silently


@posix_only
def test_links_inside_the_collection_are_fine(collection):
    (collection / "copy_review").mkdir()
    for name in ("effects.csv", "pooled.csv"):
        (collection / "copy_review" / name).symlink_to(collection / "demo_smd" / name)
    toml = (collection / "demo_smd" / "review.toml").read_text(encoding="utf-8").replace('"demo_smd"', '"copy_review"')
    (collection / "copy_review" / "review.toml").write_text(toml, encoding="utf-8")
    problems = [p for p in validate(collection) if p.is_error and "outside" in p.message]
    assert problems == []


@posix_only
def test_the_collection_itself_may_be_a_link(collection, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(collection, target_is_directory=True)
    assert [p for p in validate(link) if p.is_error] == []


def test_an_oversized_file_is_refused_with_the_limit(collection, monkeypatch):
    monkeypatch.setattr(_csvfile, "MAX_FILE_BYTES", 1000)
    msgs = _messages(collection)
    assert any(m.startswith("demo_smd/effects.csv: file is larger than 0 MB") for m in msgs)
    assert _csvfile.MAX_FILE_BYTES == 1000


def test_the_documented_limit():
    assert _csvfile.MAX_FILE_BYTES == 512 * 2**20
    doc = (Path(__file__).parents[1] / "docs" / "data-schema.md").read_text(encoding="utf-8")
    assert "512 MB" in doc
