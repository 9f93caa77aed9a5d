"""The collection fingerprint: SHA-256 over every file's bytes in sorted path order."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from whatworks.data import bundled_root, collection_files, collection_fingerprint

FIXTURE = Path(__file__).parent / "fixtures" / "report_data"


def test_equals_sha256_of_the_concatenated_sorted_files(tmp_path):
    root = tmp_path / "c"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    expected = hashlib.sha256(b"".join((root / n).read_bytes() for n in names)).hexdigest()
    assert collection_fingerprint(root) == expected


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="sha256sum not installed")
def test_matches_the_shell_command_of_the_docstring():
    cmd = ("find . -type f -not -path '*/.*' -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs cat | sha256sum")
    out = subprocess.run(["bash", "-c", cmd], cwd=bundled_root(), capture_output=True, text=True, check=True)
    assert collection_fingerprint() == out.stdout.split()[0]


def test_any_byte_changes_it_the_location_does_not(tmp_path):
    a, b = tmp_path / "a", tmp_path / "elsewhere" / "b"
    shutil.copytree(FIXTURE, a, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(a, b)
    assert collection_fingerprint(a) == collection_fingerprint(b)
    target = next(p for p in sorted(b.rglob("*.csv")))
    data = bytearray(target.read_bytes())
    data[-2] = ord("9") if data[-2] != ord("9") else ord("8")
    target.write_bytes(bytes(data))
    assert collection_fingerprint(a) != collection_fingerprint(b)


def test_hidden_files_caches_and_links_are_not_read(tmp_path):
    root = tmp_path / "c"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("__pycache__"))
    before = collection_fingerprint(root)
    (root / ".DS_Store").write_bytes(b"x")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"x")
    outside = tmp_path / "secret.txt"
    outside.write_text("not part of the collection")
    os.symlink(outside, root / "link.txt")
    assert collection_fingerprint(root) == before
    assert all(p.resolve().is_relative_to(root.resolve()) for p in collection_files(root))
