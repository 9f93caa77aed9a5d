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

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"validate": (5.0, 1024.0), "leave_one_out": (3.0, None), "influence": (3.0, None), "cumulative": (3.0, None)}


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


def _one(workload: str, size: int, source: str) -> dict:
    """Run one workload in this process; return its measurements."""
    import numpy as np

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
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), args.one[2])))
        return
    scale = 10 if args.quick else 1
    runs = [("validate", 200_000 // scale, "tests/fixtures/reviews/demo_smd"),
            ("validate", 200_000 // scale, "data/reviews/living"),
            ("leave_one_out", 10_000 // scale, ""), ("influence", 10_000 // scale, ""),
            ("cumulative", 10_000 // scale, "")]
    print(f"{'workload':<15}{'wall s':>8}{'cpu s':>8}{'peak MB':>9}{'MB over import':>16}  target   input")
    for workload, size, source in runs:
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
