"""Every example of the README runs: the Python block on the bundled data, and the report options it names."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_readme_has_a_python_example():
    assert _python_blocks(), "README.md should show the library in a ```python block"


def test_the_python_examples_run_on_the_bundled_data():
    import matplotlib.pyplot as plt

    for block in _python_blocks():
        namespace: dict[str, object] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # data-quality warnings of the bundled data are not the point here
            exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
        assert "fit" in namespace and "effects" in namespace
    plt.close("all")


def test_every_report_option_the_readme_names_exists():
    from whatworks.report import build_parser

    section = README[README.index("## The report"):README.index("## The dataset")]
    named = set(re.findall(r"`(--[a-z][a-z-]*)", section))
    known = {a for action in build_parser()._actions for a in action.option_strings}
    assert named and named <= known, sorted(named - known)


def test_the_headline_numbers_are_the_findings():
    """The README's answer quotes the numbers run_finding computes on the bundled data (they move as the
    data grow: when this fails, update the README's "What the bundled data say")."""
    import whatworks as ww

    def g(x: float) -> str:
        return f"{x:.2f}".replace("-", "\u2212")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ww.run_finding(ww.load_reviews(), ww.load_pooled())
    c = res.contrast.combined()
    section = " ".join(README[README.index("## What the bundled data say"):README.index("## Using the library")].split())
    assert f"**{c['verdict']}**" in section
    assert f"{g(c['difference'])} [{g(c['ci_low'])}, {g(c['ci_high'])}]" in section
    assert f"{c['k_reference']} vs {c['k_comparison']} trials, p = {c['pvalue']:.2f}" in section
    cog = res.pooling.fits["social_cognition"]
    assert f"g {g(cog.estimate)} [{g(cog.ci_low)}, {g(cog.ci_high)}], k = {cog.k}" in section
    main = res.certainty.to_frame().iloc[0]
    assert f"**{main['certainty']}**" in section
