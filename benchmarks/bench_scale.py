"""Scale: time and peak memory of the data layer and of the case-deletion analyses on large inputs.

Run from the repository root::

    python benchmarks/bench_scale.py            # every workload
    python benchmarks/bench_scale.py --quick    # a tenth of the sizes

Measured and printed, not timed tests (the suite stays fast). Targets (issue 11, item 7):

- ``validate``: 200,000 effect rows in under 5 s and under 1 GB. The rows are copies of the test
  fixture ``tests/fixtures/reviews/demo_smd`` (about 450 bytes a row, 80 MB), ids made unique; a second
  line uses copies of the living review's rows (1.4 KB a row, 290 MB), the heaviest bundled rows.
- ``leave_one_out``, ``influence``, ``cumulative`` (random order) at k = 10,000 (REML, Knapp-Hartung):
  under 3 s each in O(k) memory. The full fit is outside the timing.
- ``report``: ``run_report`` (validate, load, every section, figures, files; default options) on a
  SYNTHETIC collection of 20,000 effects in under 60 s and under 2 GB: four review folders of RCTs over
  the seven strategies (Hedges' g with arm sizes; the loader computes yi and vi), a quarter of the trials
  coded again in a second folder (overlap) and a few published pooled rows. Forests of more than 200
  rows are summarised (their rows in CSV files). Peak memory includes the forked render processes.
  Measured (one run, shared 2-core machine, 2026-12-01): main at dae1435 (engine merged): MemoryError
  after 31 s at 5.6 GB under a 6 GB limit (the contrast's leave-one-out built an 11,429 x 11,429 batch;
  before the engine, 88 s to the same error; the issue saw 13.6 GB); with the report-layer bounds of
  branch io: 14.4 s wall, 12.5 s CPU, 286 MB peak, 49 files (14 MB).

Each workload runs in its own Python process, so its peak memory (``ru_maxrss``) is its own; "MB over
import" subtracts the process's peak after importing whatworks and building the input. Wall-clock and
CPU seconds are both printed: on a shared machine the CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from whatworks.data import schema as S

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"validate": (5.0, 1024.0), "leave_one_out": (3.0, None), "influence": (3.0, None), "cumulative": (3.0, None),
           "report": (60.0, 2048.0)}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _collection(n: int, source: Path, where: Path) -> Path:
    """A collection with one review folder of ``n`` rows copied from ``source``'s effects.csv."""
    folder = where / "big"
    folder.mkdir(parents=True)
    toml = (source / "review.toml").read_text("utf-8").replace(f'id = "{source.name}"', 'id = "big"')
    (folder / "review.toml").write_text(toml, "utf-8")
    with open(source / "effects.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(folder / "effects.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for i in range(n):
            row = dict(rows[i % len(rows)], review="big", effect_id=f"e{i}")
            writer.writerow(row)
    return where


URL = "https://example.org/synthetic-benchmark"
TOML = '''id = "{id}"
title = "Synthetic collection for the scale benchmark"
kind = "{kind}"
citation = "Synthetic (benchmarks/bench_scale.py)."
url = "{url}"
scope = "made-up randomised trials"
metric = "SMD"
sign_convention = "negative = less lonely"
coded_by = "benchmark"
coded_on = "2026-12-01"
'''


def _letters(i: int) -> str:
    out = ""
    while True:
        i, r = divmod(i, 26)
        out = chr(97 + r) + out
        if i == 0:
            return out


def write_collection(root: Path, k: int, seed: int = 2026) -> Path:
    """Write ``k`` synthetic effects into four review folders under ``root`` (plus re-coded overlap)."""
    rng = np.random.default_rng(seed)
    strategies = S.STRATEGIES
    controls = ("waitlist", "usual_care", "no_treatment", "active", "attention")
    folders = ("living", "review_b", "review_c", "review_d")
    columns = S.column_names(S.EFFECT_COLUMNS)
    per = -(-k // len(folders))
    trials = []
    for i in range(k):
        year = 1990 + i % 35
        n_t, n_c = (int(x) for x in rng.integers(10, 300, size=2))
        g = float(np.round(rng.normal(-0.25 - 0.1 * (i % 7 == 0), 0.35), 3))
        trials.append((f"trial{_letters(i)}{year}", year, strategies[i % len(strategies)], controls[i % 5], g, n_t, n_c))
    for f, folder in enumerate(folders):
        d = root / folder
        d.mkdir(parents=True)
        (d / S.REVIEW_FILE).write_text(TOML.format(id=folder, kind="living" if f == 0 else "review", url=URL),
                                       encoding="utf-8")
        mine = trials[f * per:(f + 1) * per]
        if f == 1:  # overlap: a quarter of the living review's trials coded again here
            mine = mine + trials[: per // 4]
        with open(d / S.EFFECTS_FILE, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for sid, year, strategy, control, g, n_t, n_c in mine:
                row = dict.fromkeys(columns, "")
                row.update(review=folder, effect_id=f"{sid}_a", study_id=sid, study=f"{sid.title()} [synthetic]",
                           year=year, design="rct", strategy=strategy, strategy_reason="synthetic",
                           borderline="false", control=control, n_treatment=n_t, n_control=n_c, stat_type="g",
                           es=g, sign_convention="higher_lonelier", source_url=URL, locator="synthetic",
                           hand="first", exclude="false")
                w.writerow(row.values())
        if f == 1:
            pcols = S.column_names(S.POOLED_COLUMNS)
            with open(d / S.POOLED_FILE, "w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(pcols)
                for s in strategies[:4]:
                    row = dict.fromkeys(pcols, "")
                    row.update(review=folder, analysis=f"strategy: {s}", subgroup_variable="strategy", subgroup=s,
                               strategy=s, design="rct", k=20, estimate=-0.3, ci_low=-0.45, ci_high=-0.15,
                               metric="SMD", sign_convention="negative_less_lonely", model="random", hand="first",
                               reliability="primary", source_url=URL, locator="synthetic")
                    w.writerow(row.values())
    return root


def _one(workload: str, size: int, source: str) -> dict:
    """Run one workload in this process; return its measurements."""
    import numpy as np

    if workload == "report":
        import warnings

        import matplotlib

        matplotlib.use("Agg")
        from whatworks.report import run_report

        with tempfile.TemporaryDirectory() as tmp:
            root = write_collection(Path(tmp) / "data", size)
            base = _peak_mb()
            t0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = run_report(data=root, out=Path(tmp) / "out")
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            mb = sum(p.stat().st_size for p in res.files) / 1e6
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return dict(wall=wall, cpu=cpu, peak=max(_peak_mb(), children), over=_peak_mb() - base,
                    note=f"{size:,} effects, {len(res.files)} files ({mb:.0f} MB), render processes peak "
                         f"{children:.0f} MB")
    if workload == "validate":
        from whatworks.data import validate

        with tempfile.TemporaryDirectory() as tmp:
            root = _collection(size, ROOT / source, Path(tmp))
            mb = (root / "big" / "effects.csv").stat().st_size / 1e6
            base = _peak_mb()
            t0, c0 = time.perf_counter(), time.process_time()
            problems = validate(root)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        errors = sum(p.is_error for p in problems)
        return dict(wall=wall, cpu=cpu, peak=_peak_mb(), over=_peak_mb() - base,
                    note=f"{size:,} rows, {mb:.0f} MB file, {errors} errors")
    import whatworks as ww
    from whatworks.influence import cumulative, influence, leave_one_out

    rng = np.random.default_rng(11)
    n = rng.integers(20, 400, size=size)
    vi = 4 / n + rng.uniform(0, 0.01, size=size)
    yi = rng.normal(-0.3, np.sqrt(0.05 + vi))
    fit = ww.meta_analyze(yi, vi, method="REML", test="knha")
    order = rng.permutation(size)
    run = {"leave_one_out": lambda: leave_one_out(fit), "influence": lambda: influence(fit),
           "cumulative": lambda: cumulative(fit, order=order)}[workload]
    base = _peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(wall=wall, cpu=cpu, peak=_peak_mb(), over=_peak_mb() - base, note=f"k = {size:,}, REML, knha")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--one", nargs=3, metavar=("WORKLOAD", "SIZE", "SOURCE"), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=sorted(TARGETS), help="run one workload (e.g. report)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.one[2])))
        return
    scale = 10 if args.quick else 1
    runs = [("validate", 200_000 // scale, "tests/fixtures/reviews/demo_smd"),
            ("validate", 200_000 // scale, "data/reviews/living"),
            ("leave_one_out", 10_000 // scale, ""), ("influence", 10_000 // scale, ""),
            ("cumulative", 10_000 // scale, ""), ("report", 20_000 // scale, "")]
    print(f"{'workload':<15}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}{'MB over import':>16}  target   input")
    for workload, size, source in [r for r in runs if args.only in (None, r[0])]:
        out = subprocess.run([sys.executable, __file__, "--one", workload, str(size), source or "-"],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode != 0:
            print(f"{workload:<15} failed:\n{out.stderr}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        seconds, mb = TARGETS[workload]
        target = f"< {seconds:g} s" + (f", < {mb / 1024:g} GB" if mb else ", O(k)")
        print(f"{workload:<15}{r['wall']:>8.2f}{r['cpu']:>8.2f}{r['peak']:>9.0f}{r['over']:>16.0f}  {target:<16} {r['note']}"
              + (f", rows from {source}" if workload == "validate" else ""))
    if shutil.which("nproc"):
        cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
        print(f"({cores} cores; load average {Path('/proc/loadavg').read_text().split()[0] if Path('/proc/loadavg').exists() else '?'})")


if __name__ == "__main__":
    main()
