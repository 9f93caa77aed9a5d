"""The ``whatworks`` command line: help for every command, exit codes, messages instead of tracebacks."""

from __future__ import annotations

import importlib.machinery
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from whatworks.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "reviews"


def test_version(capsys):
    from importlib import metadata

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"whatworks {metadata.version('whatworks')}"


@pytest.mark.parametrize("argv", [["--help"], ["validate", "--help"], ["new-review", "--help"], ["list", "--help"]])
def test_help_for_every_command(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: whatworks") and ("COMMAND" in out or argv[0] in out)


def test_no_command_and_unknown_command_are_usage_errors(capsys):
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_validate_clean(capsys):
    assert main(["validate", str(FIXTURES)]) == 0
    assert capsys.readouterr().out == f"data: {FIXTURES} (given)\nOK: 2 review folders in {FIXTURES}, no problems\n"


def test_validate_with_problems_lists_them(tmp_path, capsys):
    shutil.copytree(FIXTURES, tmp_path / "r")
    path = tmp_path / "r" / "demo_smd" / "effects.csv"
    path.write_text(path.read_text("utf-8").replace(",alpha2020_wl,", ",beta2019_wl,", 1), "utf-8")
    assert main(["validate", str(tmp_path / "r")]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"data: {tmp_path / 'r'} (given)"  # the folder read comes first
    assert out[1] == "demo_smd/effects.csv:2:effect_id: duplicate effect_id 'beta2019_wl' (first in row 1)"
    assert out[-1].startswith("1 problem in the data (1 error, 0 warnings); 2 review folders in")


def test_validate_warnings_pass_unless_strict(tmp_path, capsys):
    shutil.copytree(FIXTURES / "demo_smd", tmp_path / "demo_smd")
    path = tmp_path / "demo_smd" / "effects.csv"
    path.write_text(path.read_text("utf-8").replace(",means_post,30,6,", ",means_post,10,6,", 1), "utf-8")
    assert main(["validate", str(tmp_path)]) == 0
    assert "warning: extreme effect" in capsys.readouterr().out
    assert main(["validate", "--strict", str(tmp_path)]) == 1


def test_validate_missing_path_is_a_message(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("whatworks: error: not a folder") and "Traceback" not in err


def test_new_review_creates_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["new-review", "smith2027", "--root", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "smith2027").iterdir()) == ["effects.csv", "pooled.csv", "review.toml",
                                                                           "risk_of_bias.csv"]
    before = (tmp_path / "smith2027" / "review.toml").read_text("utf-8")
    assert main(["new-review", "smith2027", "--root", str(tmp_path)]) == 1
    assert "already exists; not overwriting it" in capsys.readouterr().err
    assert (tmp_path / "smith2027" / "review.toml").read_text("utf-8") == before
    assert main(["new-review", "Bad Id", "--root", str(tmp_path)]) == 2
    assert main(["new-review", "x2020", "--root", str(tmp_path / "missing")]) == 2


def test_list(capsys):
    assert main(["list", "--root", str(FIXTURES)]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]  # after the line naming the folder read
    assert lines[0].split() == ["review", "kind", "metric", "effects", "pooled", "published", "title"]
    assert lines[2].split()[:6] == ["demo_smd", "review", "SMD", "11", "8", "4"]


def test_list_with_broken_data_is_a_message(tmp_path, capsys):
    (tmp_path / "broken2020").mkdir()
    assert main(["list", "--root", str(tmp_path)]) == 1
    assert "review.toml is missing" in capsys.readouterr().err


def test_report_is_forwarded(monkeypatch):
    seen = []
    fake = types.ModuleType("whatworks.report")
    fake.__spec__ = importlib.machinery.ModuleSpec("whatworks.report", None)
    fake.main = lambda argv: seen.append(argv) or 0
    monkeypatch.setitem(sys.modules, "whatworks.report", fake)
    import whatworks

    monkeypatch.setattr(whatworks, "report", fake, raising=False)
    assert main(["report", "--out", "x", "--help"]) == 0
    assert seen == [["--out", "x", "--help"]]


def test_python_dash_m_without_matplotlib():
    """``python -m whatworks validate`` works, and the data layer and CLI never import matplotlib."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['whatworks', 'validate', {str(FIXTURES / 'demo_smd')!r}]\n"
        "try:\n    runpy.run_module('whatworks', run_name='__main__')\n"
        "except SystemExit as e:\n    print('exit', e.code, 'matplotlib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith("data: ") and lines[1].startswith("OK: 1 review folder") and lines[-1] == "exit 0 False", out.stdout + out.stderr
