"""Every notebook in notebooks/ executes top to bottom (so the walkthrough cannot rot) and shows its figures."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes_and_shows_figures_inline(path, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebook chooses the inline backend itself
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert 'matplotlib.use("Agg")' not in src, "a notebook must not force a headless backend"
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    plotting = [c for c in nb.cells if c.cell_type == "code" and "_plot(" in c.source]
    assert len(images) >= len(plotting) > 0, "every plotting cell shows its figure inline"
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert html, "results display as HTML tables"


def test_there_is_a_notebook():
    assert NOTEBOOKS, "notebooks/ should hold the walkthrough"
