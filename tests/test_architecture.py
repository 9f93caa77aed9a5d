"""The package's shape (docs: STYLE.md): imports run one way, and ``import whatworks`` stays light.

report -> finding, data, plots, analyses -> model -> estimators. Statistics modules are pure: no I/O
layer, no plotting. Checked on the source with ``ast`` (nested, lazy imports included), so a violation
is caught even when it would only run on some code path.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).parents[1] / "src" / "whatworks"

STATISTICS = ("_dist", "_validation", "_frames", "_batch", "_wls", "estimators", "model", "results", "effects",
              "subgroups", "regression", "bias", "influence", "multilevel", "robust", "overlap", "grade", "rob", "_shown",
              "selection", "smallstudy", "excess", "failsafe", "henmi_copas", "permutation", "gosh", "baujat",
              "_chunks", "_selection_lik")  # fmt: skip
LAYERS_ABOVE_STATISTICS = ("data", "plots", "report", "finding", "cli")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["whatworks", *parts])


def _edges(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports by name (``from pkg import mod`` -> ``pkg.mod``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.update(f"{mod}.{a.name}" if f"{mod}.{a.name}" in FILES else mod for a in node.names)
    return out & FILES


def _imports(path: Path) -> set[str]:
    """Absolute names of every module imported anywhere in ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)  # "from . import x" imports module x
    return out


FILES = {_module_name(p) for p in PKG.rglob("*.py")}
MODULES = {_module_name(p): _imports(p) for p in sorted(PKG.rglob("*.py"))}
EDGES = {_module_name(p): _edges(p) for p in sorted(PKG.rglob("*.py"))}


def _top(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "whatworks" else ""


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) in STATISTICS))
def test_statistics_modules_are_pure(module):
    bad = {i for i in MODULES[module] if _top(i) in LAYERS_ABOVE_STATISTICS or i.split(".")[0] == "matplotlib"}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_imports_the_report(module):
    if _top(module) in ("report", "cli", "__main__"):
        return
    bad = {i for i in MODULES[module] if _top(i) == "report"}
    assert not bad, f"{module} imports the report module {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) in ("data", "plots")))
def test_data_and_plots_do_not_import_upwards(module):
    above = {"report", "finding", "cli"}
    above |= {"plots"} if _top(module) == "data" else {"data"}
    bad = {i for i in MODULES[module] if _top(i) in above}
    assert not bad, f"{module} imports {sorted(bad)}"


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in EDGES.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(EDGES):
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    """No set of modules imports each other round in a circle (lazy imports inside functions included)."""
    assert _cycles() == []


def test_the_circle_check_can_fail(monkeypatch):
    monkeypatch.setitem(EDGES, "whatworks.estimators", EDGES["whatworks.estimators"] | {"whatworks.model"})
    assert ["whatworks.estimators", "whatworks.model"] in [c for c in _cycles() if len(c) == 2] or any(
        {"whatworks.estimators", "whatworks.model"} <= set(c) for c in _cycles())


def test_import_is_light():
    code = (
        "import sys, whatworks; "
        "print(sorted(m for m in ('matplotlib', 'matplotlib.pyplot', 'scipy.stats', 'scipy.optimize', 'patsy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names_are_exported():
    import whatworks

    assert sorted(whatworks.__all__) == sorted(set(whatworks.__all__))
    for name in whatworks.__all__:
        assert hasattr(whatworks, name), name
    assert (PKG / "py.typed").exists()
