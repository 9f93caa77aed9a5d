"""Risk-of-bias figures (whatworks.plots.rob): structure, colours and symbols per judgement, the weighted
shares drawn, layout without overlapping text, deterministic rendering. In the style of test_plots.py.

The weighted shares drawn are checked against hand arithmetic on the fixture (weights 50/30/20).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from whatworks.plots import ROB_COLOURS, ROB_SYMBOLS, deterministic, rob_summary_plot, traffic_light_plot  # noqa: E402
from whatworks.rob import summarize_rob  # noqa: E402

L, S, H, N = "low", "some_concerns", "high", "no_information"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def res():
    return summarize_rob({"d1": [L, N, S], "d2": [L, L, H], "d3": [H, L, L], "d4": [S, S, S], "d5": [L, N, N],
                          "overall": [H, S, H]}, weights=[50, 30, 20], labels=["Alpha 2020", "Beta 2021", "Gamma 2022"])


def _gid(ax, gid: str) -> list:
    return ax.findobj(lambda a: a.get_gid() == gid)


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_traffic_light_one_coloured_symbol_per_cell(res):
    ax = traffic_light_plot(res, title="RoB 2")
    pts = _gid(ax, "rob-traffic-points")[0]
    assert len(pts.get_offsets()) == 3 * 6
    colours = [to_hex(c) for c in pts.get_facecolors()]
    expected = [to_hex(ROB_COLOURS[v]) for v in res.judgements.ravel()]
    assert colours == expected
    symbols = [t.get_text() for t in _gid(ax, "rob-traffic-symbol")]
    assert symbols == [ROB_SYMBOLS[v] for v in res.judgements.ravel()]
    # rows top to bottom in the summary's order; the overall column set apart to the right
    offsets = pts.get_offsets()
    assert offsets[0, 1] == 0 and offsets[-1, 1] == 2 and ax.yaxis_inverted()
    assert offsets[5, 0] - offsets[4, 0] > offsets[4, 0] - offsets[3, 0]
    texts = [t.get_text() for t in _texts(ax.figure)]
    assert {"D1", "D5", "Overall", "Study", "Alpha 2020", "RoB 2"} <= set(texts)
    assert "D3: Bias due to missing outcome data" in texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["+ Low", "\u2212 Some concerns", "\u00d7 High", "? No information"]


def test_summary_bars_draw_the_weighted_shares(res):
    ax = rob_summary_plot(res)
    d1 = {j: _gid(ax, f"rob-summary-bar-d1-{j}")[0] for j in (L, S, H, N)}
    # D1: Alpha low (50), Beta no information (30), Gamma some concerns (20); bars stacked from 0 to 100
    assert [d1[j].get_width() for j in (L, S, H, N)] == pytest.approx([50, 20, 0, 30])
    assert d1[S].get_x() == pytest.approx(50) and d1[N].get_x() == pytest.approx(70)
    over = {j: _gid(ax, f"rob-summary-bar-overall-{j}")[0].get_width() for j in (L, S, H, N)}
    assert over == pytest.approx({L: 0, S: 30, H: 70, N: 0})
    assert "Share of the meta-analytic weight" in [t.get_text() for t in _texts(ax.figure)]
    unweighted = rob_summary_plot(res, weighted=False)
    assert _gid(unweighted, "rob-summary-bar-overall-high")[0].get_width() == pytest.approx(200 / 3)
    assert "Share of the assessments" in [t.get_text() for t in _texts(unweighted.figure)]


def test_given_ax_is_returned(res):
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    assert traffic_light_plot(res, ax=a) is a
    assert rob_summary_plot(res, ax=b) is b


@pytest.mark.parametrize(("k", "label"), [(40, "Author{i} et al. ({y}) with a long label"), (3, "A{i}")])
@pytest.mark.parametrize("plot", [traffic_light_plot, rob_summary_plot])
def test_no_overlapping_text_and_everything_inside_the_figure(k, label, plot):
    rng = np.random.default_rng(7)  # arbitrary judgements: only the layout is tested
    cols = {d: list(rng.choice([L, S, N], k)) for d in ("d1", "d2", "d3", "d4", "d5")}
    cols["overall"] = [S if any(cols[d][i] != N for d in ("d1", "d2", "d3", "d4", "d5")) else N for i in range(k)]
    res = summarize_rob(cols, labels=[label.format(i=i, y=1980 + i) for i in range(k)])
    ax = plot(res)
    fig = ax.figure
    if plot is traffic_light_plot:
        assert fig.get_size_inches()[1] > 0.25 * k
    fig.canvas.draw()  # lays out the legend
    renderer = fig.canvas.get_renderer()
    texts = [t for t in _texts(fig) if t.get_gid() != "rob-traffic-symbol"]  # symbols sit inside their circle
    b = np.array([t.get_window_extent(renderer).extents for t in texts])
    hit = ((b[:, None, 0] < b[None, :, 2]) & (b[None, :, 0] < b[:, None, 2])
           & (b[:, None, 1] < b[None, :, 3]) & (b[None, :, 1] < b[:, None, 3]))
    np.fill_diagonal(hit, False)
    assert [(texts[i].get_text(), texts[j].get_text()) for i, j in zip(*np.nonzero(np.triu(hit)))] == []
    width, height = fig.canvas.get_width_height()
    assert b[:, :2].min() >= 0 and b[:, 2].max() <= width and b[:, 3].max() <= height


def _render(fig, fmt: str) -> bytes:
    buf = io.BytesIO()
    with deterministic():
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


@pytest.mark.parametrize("plot", [traffic_light_plot, rob_summary_plot])
def test_renders_identically_twice(res, plot):
    outputs = []
    for _ in range(2):
        fig = plot(res).figure
        outputs.append((_render(fig, "png"), _render(fig, "svg")))
        plt.close(fig)
    (png, svg), (png2, svg2) = outputs
    assert png.startswith(b"\x89PNG") and png == png2 and svg == svg2
    assert b"No information" in svg
