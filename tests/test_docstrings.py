"""Every docstring Example in the package runs and prints what it says (numpydoc Examples cannot rot).

The same as ``pytest --doctest-modules src/whatworks``, but on the installed package, so it also runs in
CI, where the tests import whatworks from site-packages.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import whatworks

matplotlib.use("Agg")

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(whatworks.__path__, "whatworks.") if m.name != "whatworks.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


def test_examples_exist():
    counts = {}
    for name in MODULES:
        finder = doctest.DocTestFinder()
        counts[name] = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert sum(counts.values()) > 100
