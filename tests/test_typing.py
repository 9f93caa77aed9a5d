"""The package's type hints are checked: ``mypy src/whatworks --ignore-missing-imports`` reports no error.

Skipped when mypy is not installed: it is in the ``dev`` extra (``pip install -e '.[test,dev]'``),
pinned, and not in ``test``, so that a new mypy or numpy/matplotlib stub release cannot break CI on its
own. The mypy cache lives in the system's temporary directory, not in the source tree, so a rerun takes
well under a second.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "whatworks"


def test_mypy_reports_no_errors() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test,dev]')")
    if not PACKAGE.is_dir():
        pytest.skip(f"no source tree at {PACKAGE} (tests run against an installed copy)")
    cache = Path(tempfile.gettempdir()) / "whatworks-mypy-cache"
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", str(PACKAGE.relative_to(ROOT)), "--ignore-missing-imports",
         "--cache-dir", str(cache), "--no-error-summary", "--show-error-codes"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"mypy found type errors:\n{proc.stdout}{proc.stderr}"
