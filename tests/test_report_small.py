"""The report on small and degenerate collections: it always ends with exit 0 (or 1 with a data message).

Collections are SYNTHETIC (tests/collection_builder.py): random strategies with 0-3 trials each,
identical or random effects, any design and control, missing n, a second review re-coding trials,
published pooled rows or none. RuntimeWarnings from whatworks are errors (pyproject), so a
divide-by-zero inside any section fails here too.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from collection_builder import Trial, pooled_row, write_collection  # noqa: E402
from conftest import examples  # noqa: E402
from whatworks.data import schema as S  # noqa: E402
from whatworks.report import main, run_report  # noqa: E402

NAMES = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor",
         "whiskey", "xray", "yankee", "zulu")


def _run(root: Path, out: Path, capsys) -> tuple[int, str]:
    code = main(["--data", str(root), "--out", str(out), "--format", "svg", "--jobs", "1", "--quiet"])
    return code, capsys.readouterr().err


def test_two_strategies_one_trial_each(tmp_path, capsys):
    """Issue 11.1: was a traceback 'table has no rows: nothing to draw' (summary plot), exit 1."""
    root = write_collection(tmp_path / "data", [Trial("alpha2010", 2010, "social_cognition", g=-0.6),
                                                Trial("bravo2011", 2011, "social_support", g=-0.2)])
    code, err = _run(root, tmp_path / "out", capsys)
    assert code == 0, err
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "no strategy has two or more trials to pool" in page  # the section says why nothing was pooled


def test_two_identical_trials_per_strategy(tmp_path, capsys):
    """Issue 11.1: identical effects within each strategy gave divide-by-zero warnings (Knapp-Hartung SE 0)
    and then 'pvalue must be a number in [0, 1], got nan' from the grading."""
    trials = [Trial(f"{n}{2010 + i}", 2010 + i, s, g=g) for i, (n, s, g) in enumerate(
        [("alpha", "social_cognition", -0.5), ("bravo", "social_cognition", -0.5),
         ("charlie", "social_support", -0.2), ("delta", "social_support", -0.2)])]
    root = write_collection(tmp_path / "data", trials)
    code, err = _run(root, tmp_path / "out", capsys)
    assert code == 0, err


def test_four_identical_trials(tmp_path, capsys):
    """Issue 11.1: the same g in both strategies: a difference of 0 with SE 0 has no p-value, and the
    claim's grade was a ValueError ('pvalue must be a number in [0, 1], got nan'); now 'cannot be graded'."""
    trials = [Trial(f"{n}{2010 + i}", 2010 + i, s, g=-0.5) for i, (n, s) in enumerate(
        [("alpha", "social_cognition"), ("bravo", "social_cognition"), ("charlie", "social_support"),
         ("delta", "social_support")])]
    root = write_collection(tmp_path / "data", trials)
    code, err = _run(root, tmp_path / "out", capsys)
    assert code == 0, err
    c1 = next(r for r in csv.DictReader(open(tmp_path / "out" / "claims.csv", encoding="utf-8"))
              if r["claim_id"] == "C1")
    assert c1["grade"] == "-" and "cannot be graded" in c1["note"]


@st.composite
def collections(draw):
    """(trials, trials re-coded by a second review, its published pooled rows, method, test)."""
    names = iter(NAMES)
    trials: list[Trial] = []
    mode = draw(st.sampled_from(("random", "identical per strategy", "all identical")))
    strategies = draw(st.lists(st.sampled_from(S.STRATEGIES[:4] + ("other",)), min_size=1, max_size=4, unique=True))
    for strategy in strategies:
        g0 = -0.5 if mode == "all identical" else draw(st.sampled_from([-0.4, 0.0, 0.3]))
        for _ in range(draw(st.integers(0, 3))):
            year = draw(st.integers(2000, 2020))
            same = mode != "random"
            trials.append(Trial(
                f"{next(names)}{year}", year, strategy,
                design=draw(st.sampled_from(("rct", "rct", "rct") + S.DESIGNS[1:])),
                control=draw(st.sampled_from(S.CONTROLS)),
                g=g0 if same else round(draw(st.floats(-1.5, 1.0, allow_nan=False)), 2),
                n_t=40 if same else draw(st.integers(5, 200)), n_c=40 if same else draw(st.integers(5, 200)),
                n=draw(st.sampled_from(("arms", "arms", "arms", "total", "none"))),
                stat=draw(st.sampled_from(("g", "g", "or_ci"))),
                exclude=draw(st.integers(0, 5)) == 0,
            ))
    recoded = [t for t in trials if draw(st.booleans())] if trials and draw(st.booleans()) else []
    pooled = []
    for _ in range(draw(st.integers(0, 3))):
        strategy = draw(st.sampled_from(("",) + tuple(strategies)))
        pooled.append(pooled_row("other_review", f"strategy: {strategy}" if strategy else "overall", strategy,
                                 draw(st.sampled_from([-0.3, 0.0, 0.2])), draw(st.sampled_from([0.05, 0.3])),
                                 metric=draw(st.sampled_from(("SMD", "g", "OR", "MD"))),
                                 sign=draw(st.sampled_from(S.POOLED_SIGNS))))
    method = draw(st.sampled_from(("REML", "REML", "DL", "EE")))
    return trials, recoded, pooled, method, draw(st.sampled_from(("knha", "knha", "z")))


@pytest.fixture
def no_rendering(monkeypatch):
    """Figures are drawn by the sections but not rasterised (rendering is most of a report's time)."""
    import whatworks.report.write as write

    monkeypatch.setattr(write, "render_all", lambda figures, formats, jobs=1: [{f: b"" for f in formats}
                                                                               for _ in figures])


#: 40 examples under the derandomised ``ci`` profile (conftest: the same examples on every run, so CI cannot
#: fail by chance), more under ``long``; about 0.3 s per example.
SMALL = settings(max_examples=examples(40), deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SMALL
@given(collections())
def test_report_never_crashes_on_small_collections(tmp_path_factory, no_rendering, data):
    trials, recoded, pooled, method, test = data
    tmp = tmp_path_factory.mktemp("small")
    root = write_collection(tmp / "data", trials, second=recoded, pooled=pooled)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # data-quality warnings (e.g. favours) are not the point
        res = run_report(data=root, out=tmp / "out", formats=["svg"], jobs=1, method=method, test=test)
    assert (tmp / "out" / "report.html").is_file()
    assert set(res.results.columns) >= {"analysis", "k"}


def test_an_internal_error_is_a_message_not_a_traceback(tmp_path, capsys, monkeypatch):
    """A bug in a section ends with exit 1 and one line naming it (WHATWORKS_DEBUG=1 re-raises)."""
    import whatworks.report.run as run

    def broken(ctx):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("whatworks.report.cli.run_report",
                        lambda **kw: run.run_report(**{**kw, "sections": (broken,)}))
    root = write_collection(tmp_path / "data", [Trial("alpha2010", 2010)])
    code, err = _run(root, tmp_path / "out", capsys)
    assert code == 1 and "internal error (ZeroDivisionError: boom)" in err and "Traceback" not in err
    monkeypatch.setenv("WHATWORKS_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        _run(root, tmp_path / "out", capsys)


@pytest.mark.parametrize(("method", "test"), [("REML", "knha"), ("DL", "z")])
def test_twelve_identical_trials_per_strategy(tmp_path, method, test):
    """k >= 10 identical effects (funnels, influence, trim and fill run): identical vi gave 'cannot choose the
    side' in trim and fill; identical yi with knha gave 0/0 studentised residuals (RuntimeWarning)."""
    names = [f"n{a}{b}" for a in "abcdefgh" for b in "abcdefgh"]
    trials = [Trial(f"{names[i]}{2000 + i % 20}", 2000 + i % 20, s, g=g) for i, (s, g) in
              enumerate([("social_cognition", -0.4)] * 12 + [("social_support", 0.1)] * 12)]
    root = write_collection(tmp_path / "data", trials)
    run_report(data=root, out=tmp_path / "out", formats=["svg"], jobs=1, method=method, test=test)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "no asymmetry to test or to fill" in page
    assert "Every trial has the same effect: no trial can be influential or an outlier." in page
