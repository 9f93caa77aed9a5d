"""Shared test helpers: the hypothesis profiles and loading the metafor reference JSON files.

Hypothesis profiles (``HYPOTHESIS_PROFILE``):

- ``ci`` (the default, and what ``.ci/run`` sets): derandomised -- the same examples on every run and
  machine, no example database -- so a landing cannot fail by chance; a moderate number of examples.
- ``long``: randomised, ``LONG_FACTOR`` times more examples, failures saved in ``.hypothesis/`` and
  replayed; run it before a release (``HYPOTHESIS_PROFILE=long python -m pytest -q tests``) and turn
  every failure it finds into an ``@example`` plus a fix.

Tests give their budget as ``max_examples=examples(n)`` (n under ``ci``); tests without one get the
profile's ``max_examples``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from hypothesis import settings

REFERENCE = Path(__file__).parent / "reference"

#: How many more examples the ``long`` profile runs than ``ci``.
LONG_FACTOR = 20
CI_EXAMPLES = 50

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=CI_EXAMPLES,
                          print_blob=True)
settings.register_profile("long", derandomize=False, deadline=None, max_examples=CI_EXAMPLES * LONG_FACTOR,
                          print_blob=True)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or "ci"
settings.load_profile(PROFILE)


def examples(n: int) -> int:
    """A test's example budget: ``n`` under the ``ci`` profile, ``LONG_FACTOR * n`` under ``long``."""
    return n * LONG_FACTOR if PROFILE == "long" else n


@cache
def reference(name: str) -> dict:
    """Load ``tests/reference/<name>.json`` (written by the R scripts next to it)."""
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)
