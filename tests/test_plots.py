"""Tests of whatworks.plots: structure of the figures, the numbers they print, rendering, no overlaps.

The numbers printed in the figures are checked against metafor 3.8.1 (tests/reference/rma.json and
subgroups.json, written by tests/reference/metafor_reference.R), rounded as the figures print them.
"""

from __future__ import annotations

import io
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import reference  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from whatworks import meta_analyze  # noqa: E402
from whatworks.bias import trim_and_fill  # noqa: E402
from whatworks.plots import deterministic, forest_plot, funnel_plot, summary_plot, summary_table  # noqa: E402
from whatworks.subgroups import by_subgroup  # noqa: E402

MINUS = "\u2212"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _case(name: str, dataset: str, method: str, test: str) -> dict:
    return next(c for c in reference(name)["cases"]
                if c["dataset"] == dataset and c["method"] == method and c["test"] == test)


def _gid(ax, prefix: str) -> list:
    return ax.findobj(lambda a: a.get_gid() == prefix)


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.figure.findobj(Text) if t.get_text().strip()]


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}".replace("-", MINUS)


@pytest.fixture(scope="module")
def bcg():
    case = _case("rma", "bcg", "REML", "knha")
    labels = [f"Trial {i + 1}" for i in range(len(case["yi"]))]
    return case, meta_analyze(case["yi"], case["vi"], method="REML", test="knha", labels=labels)


@pytest.fixture(scope="module")
def bcg_sub():
    case = _case("subgroups", "bcg", "REML", "knha")
    frame = pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "alloc": case["group"],
                          "label": [f"Trial {i + 1}" for i in range(len(case["yi"]))]})
    return case, by_subgroup(frame, "alloc", method="REML", test="knha", label="label")


# --- forest plot --------------------------------------------------------------------------------------

def test_forest_structure_and_metafor_numbers(bcg):
    case, res = bcg
    ax = forest_plot(res)
    k = case["fit"]["k"]
    assert len(_gid(ax, "forest-study-points")[0].get_offsets()) == k
    assert len(_gid(ax, "forest-study-ci")[0].get_segments()) == k
    assert len(_gid(ax, "forest-diamond-overall")) == 1
    assert not _gid(ax, "forest-diamond-subgroup")
    assert len(_gid(ax, "forest-pi")) == 1
    texts = _texts(ax)
    f = case["fit"]
    # pooled estimate with CI, prediction interval and heterogeneity as metafor reports them
    assert f"{_fmt(f['estimate'])} [{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}]" in texts
    assert f"[{_fmt(f['pi_low'])}, {_fmt(f['pi_high'])}]" in texts
    het = next(t for t in texts if t.startswith("Heterogeneity"))
    assert f"\u03c4\u00b2 = {_fmt(f['tau2'], 3)}" in het and f"I\u00b2 = {f['i2']:.0f}%" in het
    assert f"df = {f['q_df']}" in het
    assert all(f"{w:.1f}" in texts for w in f["weights"])  # weights in percent
    assert {f"Trial {i + 1}" for i in range(k)} <= set(texts)
    assert any("Favours intervention" in t for t in texts) and any("Favours control" in t for t in texts)


def test_forest_sort_orders_rows(bcg):
    _, res = bcg
    ax = forest_plot(res, sort="estimate")
    pts = _gid(ax, "forest-study-points")[0].get_offsets()
    order = np.argsort(-pts[:, 1])  # top to bottom
    assert np.all(np.diff(pts[order, 0]) >= 0)
    ax = forest_plot(res, sort="weight")
    sizes = _gid(ax, "forest-study-points")[0].get_sizes()
    pts = _gid(ax, "forest-study-points")[0].get_offsets()
    assert np.all(np.diff(sizes[np.argsort(-pts[:, 1])]) <= 0)


def test_forest_columns_labels_and_options(bcg):
    case, res = bcg
    k = res.k
    cols = pd.DataFrame({"n": np.arange(100, 100 + k), "Year": np.arange(1950, 1950 + k)})
    ax = forest_plot(res, columns=cols, labels=[f"S{i}" for i in range(k)], show_pi=False, title="BCG")
    texts = _texts(ax)
    assert {"n", "Year", "BCG", "S0", "112", "1962"} <= set(texts)
    assert not _gid(ax, "forest-pi")
    with pytest.raises(ValueError, match="columns must have one row per study"):
        forest_plot(res, columns=cols.iloc[:3])
    with pytest.raises(ValueError, match="labels must have one entry per study"):
        forest_plot(res, labels=["a"])
    with pytest.raises(ValueError, match="sort must be one of"):
        forest_plot(res, sort="size")


def test_forest_transform_puts_null_at_one(bcg):
    _, res = bcg
    ax = forest_plot(res, transform=np.exp, xscale="log", xlabel="Risk ratio")
    null = _gid(ax, "forest-null")[0]
    assert np.allclose(null.get_xdata(), 1.0)
    assert ax.get_xscale() == "log"
    assert f"{np.exp(res.estimate):.2f}" in " ".join(_texts(ax))


def test_forest_clips_with_arrows(bcg):
    _, res = bcg
    ax = forest_plot(res, xlim=(-1.0, 0.5))
    assert ax.get_xlim() == (-1.0, 0.5)
    assert _gid(ax, "forest-clipped")  # at least one CI reaches beyond the limits


def test_forest_subgroups_match_metafor(bcg_sub):
    case, sub = bcg_sub
    ax = forest_plot(sub)
    n_groups = len(case["levels"])
    assert len(_gid(ax, "forest-diamond-subgroup")) == n_groups
    assert len(_gid(ax, "forest-diamond-overall")) == 1
    assert len(_gid(ax, "forest-study-points")[0].get_offsets()) == len(case["yi"])
    texts = _texts(ax)
    qb = case["separate"]["q_between"]
    line = next(t for t in texts if t.startswith("Test for subgroup differences"))
    assert f"Q = {qb['q']:.2f}, df = {qb['df']}, p = {qb['pvalue']:.3f}" in line
    for level in case["levels"]:
        g = case["separate"]["groups"][level]
        assert level.capitalize() in texts
        assert f"Subtotal (k = {g['k']})" in texts
        assert f"{_fmt(g['estimate'])} [{_fmt(g['ci_low'])}, {_fmt(g['ci_high'])}]" in texts


def test_forest_returns_given_ax(bcg):
    _, res = bcg
    fig, ax = plt.subplots(figsize=(4, 5))
    assert forest_plot(res, ax=ax) is ax
    assert funnel_plot(res, ax=ax) is ax


def test_forest_100_rows_no_overlapping_text():
    rng = np.random.default_rng(20261127)  # arbitrary data: only the layout is tested
    k = 100
    res = meta_analyze(rng.normal(-0.3, 0.3, k), rng.uniform(0.01, 0.2, k),
                       labels=[f"Author{i} et al. ({1900 + i}) long label {i}" for i in range(k)])
    cols = pd.DataFrame({"n": rng.integers(20, 999, k), "Year": 1900 + np.arange(k)})
    ax = forest_plot(res, columns=cols, sort="estimate")
    fig = ax.figure
    assert fig.get_size_inches()[1] > 0.18 * k  # the figure grows with the rows
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 4 * k
    b = np.array([t.get_window_extent(renderer).extents for t in texts])  # x0, y0, x1, y1 in pixels
    hit = ((b[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < b[:, None, 2])
           & (b[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < b[:, None, 3]))
    np.fill_diagonal(hit, False)
    assert [(texts[i].get_text(), texts[j].get_text()) for i, j in zip(*np.nonzero(np.triu(hit)))] == []
    # and everything lies inside the figure
    width, height = fig.canvas.get_width_height()
    assert b[:, :2].min() >= 0 and b[:, 2].max() <= width and b[:, 3].max() <= height


# --- funnel and summary -----------------------------------------------------------------------------

def test_funnel_structure_with_trim_and_fill():
    case = next(c for c in reference("bias")["cases"] if c["dataset"] == "bcg" and c["method"] == "REML")
    res = meta_analyze(case["yi"], case["vi"], method="REML")
    tf = trim_and_fill(res)
    ax = funnel_plot(res, trimfill=tf, contours=(0.9, 0.95, 0.99))
    assert ax.yaxis_inverted()
    assert len(_gid(ax, "funnel-contour")) == 3
    assert len(_gid(ax, "funnel-studies")[0].get_offsets()) == res.k
    filled = _gid(ax, "funnel-filled")
    assert (len(filled[0].get_offsets()) if filled else 0) == tf.k0
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == ["p > 0.1", "0.05 < p \u2264 0.1", "0.01 < p \u2264 0.05", "p \u2264 0.01"]
    ax = funnel_plot(res, contours=())
    assert not _gid(ax, "funnel-contour") and "Studies" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match="contours"):
        funnel_plot(res, contours=(95,))


def _table() -> pd.DataFrame:
    return pd.DataFrame({"strategy": ["social_support", "social_cognition", "social_access"],
                         "estimate": [-0.1, -0.4, -0.2], "ci_low": [-0.3, -0.6, -0.5], "ci_high": [0.1, -0.2, 0.1],
                         "pi_low": [-0.5, -0.9, np.nan], "pi_high": [0.3, 0.1, np.nan], "k": [8, 12, 2],
                         "n": [700, 1500, 90]})


def test_summary_plot_structure_and_order():
    fig, ax = plt.subplots()
    assert summary_plot(_table(), ax=ax) is ax
    assert len(_gid(ax, "summary-ci")) == 3
    assert len(_gid(ax, "summary-pi")) == 2  # no PI drawn when it is missing
    ys = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert ys["Social cognition"] > ys["Opportunities for social contact"] > ys["Social support"]  # most negative on top
    assert "12 / 1,500" in ys


def test_summary_plot_checks_its_input_and_takes_a_subgroup_result(bcg_sub):
    _, sub = bcg_sub
    ax = summary_plot(sub)
    assert len(_gid(ax, "summary-ci")) == len(sub.groups)
    assert list(summary_table(sub)["strategy"]) == list(sub.groups)
    with pytest.raises(ValueError, match="lacks column"):
        summary_plot(_table().drop(columns="pi_low"))
    with pytest.raises(ValueError, match="'strategy' or 'label'"):
        summary_plot(_table().drop(columns="strategy"))


# --- rendering --------------------------------------------------------------------------------------

def _render(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    with deterministic():
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def test_known_figure_renders_to_png_and_svg_identically_twice(bcg_sub):
    _, sub = bcg_sub
    outputs = []
    for _ in range(2):
        fig = forest_plot(sub, sort="estimate").figure
        outputs.append((_render(fig, "png"), _render(fig, "svg")))
        plt.close(fig)
    (png, svg), (png2, svg2) = outputs
    assert png.startswith(b"\x89PNG") and b"<svg" in svg[:500]
    assert png == png2 and svg == svg2
    assert b"Test for subgroup differences" in svg  # text stays text (svg.fonttype none)


def test_import_whatworks_does_not_import_pyplot():
    code = ("import sys, whatworks, whatworks.plots, whatworks.report; "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- publication bias and sensitivity figures ---------------------------------------------------------

from whatworks import baujat, gosh, meta_regress, pet_peese, selection_model  # noqa: E402
from whatworks.plots import (  # noqa: E402
    baujat_plot,
    bubble_plot,
    cumulative_forest_plot,
    gosh_plot,
    radial_plot,
)


def test_baujat_plot_draws_metafors_coordinates(bcg):
    _, res = bcg
    b = baujat(res)
    fig, ax = plt.subplots()
    assert baujat_plot(b, ax=ax) is ax
    pts = _gid(ax, "baujat-studies")[0].get_offsets()
    np.testing.assert_allclose(pts, np.column_stack([b.x, b.y]))
    assert len(_gid(ax, "baujat-label")) == res.k
    assert len(_gid(baujat_plot(b, n_labels=3), "baujat-label")) == 3


def test_gosh_plot_hexbin_marginals_and_highlight(bcg):
    _, res = bcg
    g = gosh(res)
    ax = gosh_plot(g, highlight=0)
    assert _gid(ax, "gosh-hexbin") and len(ax.child_axes) == 2
    assert len(_gid(ax, "gosh-highlight")[0].get_offsets()) == int(g.incl[:, 0].sum())
    assert "8,191 subsets (all) of 13 studies" in _texts(ax)
    fig, ax2 = plt.subplots()
    assert gosh_plot(g, ax=ax2, marginals=False) is ax2 and not ax2.child_axes


def test_bubble_plot_line_bands_and_bubbles():
    data = reference("regression")["data"]
    frame = pd.DataFrame({"yi": data["yi"], "vi": data["vi"], "ablat": data["ablat"], "year": data["year"]})
    res = meta_regress(frame, "~ ablat + year")
    ax = bubble_plot(res, "ablat")
    assert len(_gid(ax, "bubble-studies")[0].get_offsets()) == res.k
    assert len(_gid(ax, "bubble-pi")) == 2 and _gid(ax, "bubble-ci")
    line = _gid(ax, "bubble-line")[0]
    x0 = line.get_xdata()[0]  # the other moderator at its mean, as metafor's regplot
    want = res.coef[0] + res.coef[1] * x0 + res.coef[2] * np.mean(data["year"])
    assert line.get_ydata()[0] == pytest.approx(want)
    assert not _gid(bubble_plot(res, pi=False), "bubble-pi")
    with pytest.raises(ValueError, match="mod must be one of"):
        bubble_plot(res, "latitude")


def test_cumulative_forest_plot_rows_match_cumulative():
    case = next(c for c in reference("bias")["cases"] if c["dataset"] == "bcg" and c["method"] == "REML")
    res = meta_analyze(case["yi"], case["vi"], labels=[f"Trial {i + 1}" for i in range(len(case["yi"]))])
    cum = case["cumul"]
    ax = cumulative_forest_plot(res, order=cum["order"])
    assert len(_gid(ax, "cumulative-points")[0].get_offsets()) == res.k
    texts = _texts(ax)
    first = cum["order"][0]
    assert f"+ Trial {first + 1}" in texts
    assert f"{_fmt(cum['estimate'][-1])} [{_fmt(cum['ci_low'][-1])}, {_fmt(cum['ci_high'][-1])}]" in texts


def test_radial_plot_coordinates(bcg):
    _, res = bcg
    ax = radial_plot(res)
    s = np.sqrt(res.vi + res.tau2)
    np.testing.assert_allclose(_gid(ax, "radial-studies")[0].get_offsets(), np.column_stack([1 / s, res.yi / s]))
    line = _gid(ax, "radial-estimate")[0]
    assert line.get_ydata()[1] == pytest.approx(res.estimate * line.get_xdata()[1])


def test_funnel_marks_3psm_and_pet_peese():
    case = next(c for c in reference("bias")["cases"] if c["dataset"] == "hackshaw1998" and c["method"] == "REML")
    res = meta_analyze(case["yi"], case["vi"])
    sel, pp = selection_model(res), pet_peese(res)
    ax = funnel_plot(res, selection=sel, pet_peese=pp)
    assert _gid(ax, "funnel-selection")[0].get_xdata()[0] == pytest.approx(sel.estimate)
    assert _gid(ax, "funnel-pet-peese-estimate")[0].get_offsets()[0, 0] == pytest.approx(pp.estimate)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"3PSM estimate {_fmt(sel.estimate)}" in labels
    assert any(t.startswith(f"{pp.chosen} (PET-PEESE) estimate") for t in labels)


def test_new_figures_render_identically_twice(bcg):
    _, res = bcg
    g = gosh(res)
    outputs = []
    for _ in range(2):
        figs = [gosh_plot(g).figure, baujat_plot(baujat(res)).figure, radial_plot(res).figure]
        outputs.append([(_render(f, "png"), _render(f, "svg")) for f in figs])
        plt.close("all")
    assert outputs[0] == outputs[1]
