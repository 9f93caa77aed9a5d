"""Shared test helpers: loading the metafor reference JSON files."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference"


@cache
def reference(name: str) -> dict:
    """Load ``tests/reference/<name>.json`` (written by the R scripts next to it)."""
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)
