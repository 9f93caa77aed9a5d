"""Every review folder in the repository's ``data/reviews`` is valid (folders are discovered, not listed).

A failure prints every problem of the folder as ``file:row:column: message``; fix the data (see
``docs/adding-a-review.md``), never this test.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from whatworks.data import load_pooled, load_reviews, validate

DATA = Path(__file__).resolve().parents[1] / "data" / "reviews"
FOLDERS = sorted(p for p in DATA.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) if DATA.is_dir() else []


def test_the_repository_has_review_folders():
    assert FOLDERS, f"no review folders found under {DATA}"


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_review_folder_is_valid(folder):
    errors = [p for p in validate(folder) if p.is_error]
    if errors:
        pytest.fail(f"{len(errors)} error(s) in {folder.name}:\n" + "\n".join(f"  {p}" for p in errors),
                    pytrace=False)


@pytest.mark.parametrize("folder", FOLDERS, ids=[p.name for p in FOLDERS])
def test_review_folder_loads(folder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects, pooled = load_reviews(folder), load_pooled(folder)
    assert set(effects["review"]) <= {folder.name} and set(pooled["review"]) <= {folder.name}
    # a pooled row always has an effect size, and an unpooled row always says why
    assert effects.loc[effects["pool"], "yi"].notna().all()
    assert (effects.loc[~effects["pool"], "pool_reason"].str.len() > 0).all()
