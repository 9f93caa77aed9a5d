"""Property: whatever bytes a data file holds, the loader either loads or raises DataValidationError.

It never crashes with anything else, and it refuses to load exactly when :func:`validate` reports an
error.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from whatworks.data import DataValidationError, load_pooled, load_reviews, validate

VALID = Path(__file__).parent / "fixtures" / "reviews" / "demo_smd"
FILES = ("effects.csv", "pooled.csv", "review.toml")
SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.just(""),
    st.sampled_from(["0", "-1", "1", "2", "1e308", "-1e308", "1e-320", "nan", "inf", "0,5", "true", "rct",
                     "undirected", "other", "or_ci", "smcc_diff", "\ufeff", '"', ";", "\n", "x" * 60,
                     "99999999999999999999"]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10, 10**6).map(str),
    st.text(max_size=12),
)


def _check(folder: Path) -> None:
    errors = [p for p in validate(folder) if p.is_error]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_reviews(folder)
            load_pooled(folder)
        except DataValidationError as exc:
            assert errors, "the loader refused data that validate() found clean"
            assert exc.problems
        else:
            assert not errors, "the loader accepted data with errors"


def _copy() -> tuple[tempfile.TemporaryDirectory, Path]:
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name) / "demo_smd"
    shutil.copytree(VALID, folder)
    return tmp, folder


@SETTINGS
@given(name=st.sampled_from(FILES), data=st.binary(max_size=400))
def test_random_bytes(name, data):
    tmp, folder = _copy()
    with tmp:
        (folder / name).write_bytes(data)
        _check(folder)


@SETTINGS
@given(name=st.sampled_from(FILES), text=st.text(max_size=300))
def test_random_text(name, text):
    tmp, folder = _copy()
    with tmp:
        (folder / name).write_text(text, encoding="utf-8")
        _check(folder)


@SETTINGS
@given(name=st.sampled_from(("effects.csv", "pooled.csv")), data=st.data())
def test_mutated_cells_of_valid_files(name, data):
    tmp, folder = _copy()
    with tmp:
        lines = (folder / name).read_text("utf-8").splitlines()
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(lines) - 1))
            fields = lines[i].split(",")
            j = data.draw(st.integers(0, len(fields) - 1))
            fields[j] = data.draw(cells)
            lines[i] = ",".join(fields)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        _check(folder)


@SETTINGS
@given(data=st.data())
def test_mutated_characters_of_valid_files(data):
    tmp, folder = _copy()
    with tmp:
        name = data.draw(st.sampled_from(FILES))
        text = (folder / name).read_text("utf-8")
        pos = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 20))
        text = text[:pos] + data.draw(st.text(max_size=5)) + text[pos + cut:]
        (folder / name).write_text(text, encoding="utf-8")
        _check(folder)


def test_the_unmutated_fixture_loads():
    _check(VALID)
    assert not validate(VALID)


@pytest.mark.parametrize("text", ["review\n", "review,effect_id\n\n\n", ",,,\n,,,\n", '"unterminated\n'])
def test_degenerate_tables(tmp_path, text):
    shutil.copytree(VALID, tmp_path / "demo_smd")
    (tmp_path / "demo_smd" / "effects.csv").write_text(text, encoding="utf-8")
    _check(tmp_path / "demo_smd")
