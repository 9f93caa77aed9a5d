"""Publication-bias and sensitivity speed: whatworks against metafor (when Rscript is on PATH), in one run.

Run from the repository root::

    python benchmarks/bench_bias.py            # the issue's workloads (metafor needs several minutes)
    python benchmarks/bench_bias.py --quick    # smaller workloads for both tools

Workloads (issue #12 targets in brackets), the same simulated data for both tools, REML throughout:

- exact GOSH, k = 15: all 32,767 subsets (metafor ``gosh()``) [under 0.5 s];
- 10,000 random sign-flip permutations at k = 50 (metafor ``permutest(iter = 10000)``) [under 1 s];
- one 3PSM selection model at k = 50 (metafor ``selmodel(type = "stepfun", steps = 0.025)``) [no slower
  than metafor].

Times are the best of ``--repeat`` runs: wall clock and, for whatworks, process CPU time (on a shared
machine the wall clock includes waiting for a core). metafor is timed inside R (``proc.time``, R's start-up
excluded), each workload once (``--repeat`` for the selection model). Ratios are metafor / whatworks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from whatworks import gosh, meta_analyze, permutation_test, selection_model


def simulate(k: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.3, size=k)
    yi = rng.normal(0.3, np.sqrt(0.05 + vi))
    return yi, vi


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


R_CODE = {
    "gosh": "invisible(gosh(fit, progbar = FALSE))",
    "perm": "invisible(permutest(fit, iter = {n_perm}, progbar = FALSE))",
    "sel": "invisible(selmodel(fit, type = 'stepfun', steps = 0.025))",
}


def time_metafor(workload: str, yi: np.ndarray, vi: np.ndarray, repeat: int, n_perm: int) -> float | None:
    """Seconds for one workload in metafor (None if R/metafor is unavailable or failed)."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        np.savetxt(os.path.join(tmp, "d.csv"), np.column_stack([yi, vi]), delimiter=",")
        call = R_CODE[workload].format(n_perm=n_perm)
        script = f"""
suppressMessages(library(metafor))
d <- as.matrix(read.csv("{tmp}/d.csv", header = FALSE))
fit <- rma(d[, 1], d[, 2], method = "REML")
best <- Inf
for (r in 1:{repeat}) {{
  t0 <- proc.time()[["elapsed"]]
  {call}
  best <- min(best, proc.time()[["elapsed"]] - t0)
}}
cat(best)
"""
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=7200)
        if out.returncode != 0:
            print(f"metafor failed on {workload}: {out.stderr.strip()[:300]}", file=sys.stderr)
            return None
        return float(out.stdout.strip().split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="GOSH k = 12, 1,000 permutations")
    parser.add_argument("--repeat", type=int, default=3, help="runs per whatworks measurement (best is kept)")
    parser.add_argument("--no-r", action="store_true", help="skip metafor even if Rscript exists")
    args = parser.parse_args(argv)

    k_gosh, n_perm = (12, 1000) if args.quick else (15, 10_000)
    yg, vg = simulate(k_gosh)
    yp, vp = simulate(50, seed=7)
    fit_g, fit_p = meta_analyze(yg, vg), meta_analyze(yp, vp)
    selection_model(fit_p)  # import scipy.optimize once, outside the timing
    workloads = [
        (f"exact GOSH k={k_gosh} ({2**k_gosh - 1:,} fits)", "gosh", yg, vg, lambda: gosh(fit_g), 1),
        (f"{n_perm:,} permutations k=50", "perm", yp, vp, lambda: permutation_test(fit_p, n_iter=n_perm, seed=1), 1),
        ("3PSM selection model k=50", "sel", yp, vp, lambda: selection_model(fit_p), args.repeat),
    ]
    rows = []
    for name, key, yi, vi, fn, r_repeat in workloads:
        wall, cpu = best_of(fn, args.repeat)
        mf = None if args.no_r else time_metafor(key, yi, vi, r_repeat, n_perm)
        rows.append((name, wall, cpu, mf))

    print(f"{'workload':<36}{'whatworks s':>13}{'(CPU s)':>10}{'metafor s':>12}{'metafor x':>11}")
    for name, wall, cpu, mf in rows:
        mf_s = f"{mf:>12.2f}" if mf is not None else f"{'n/a':>12}"
        ratio = f"{mf / wall:>10.0f}x" if mf is not None else f"{'n/a':>11}"
        print(f"{name:<36}{wall:>13.3f}{cpu:>10.3f}{mf_s}{ratio}")
    print("\nmetafor x = metafor time / whatworks wall time (higher = whatworks faster); best of runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
