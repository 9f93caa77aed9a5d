"""Scale: the report on a synthetic 20,000-effect collection (issue 11, item 7), measured, not a timed test.

Run from the repository root::

    python benchmarks/bench_scale.py report            # k = 20,000 effects
    python benchmarks/bench_scale.py report --k 2000   # a smaller collection

Target: the whole report (validate, load, every section, figures, files) in < 60 s and < 2 GB peak
memory. The collection is SYNTHETIC: four review folders of RCTs over the seven strategies with
Hedges' g and arm sizes (the loader computes yi and vi), a quarter of the trials coded again in a second
folder (overlap), and a few published pooled rows. The report runs in a child process
(``python -m whatworks.report``, default options); wall time and the child's peak resident memory
(``ru_maxrss`` of the largest child; forked render processes share the parent's pages) are printed.

Measured on the shared 2-core development machine (one run each, 2026-12-01), k = 20,000:

- main before issue 11 (87dc3cb .. f8f8a04): killed, MemoryError after 88 s at 5.3 GB under a 6 GB
  address-space limit (the finding's leave-one-out built an 11,429 x 11,429 batch; the issue saw 13.6 GB);
- this branch: exit 0, 185 s, 1.38 GB peak, 51 files (13 MB): forests bounded, leave-one-out of the contrast
  O(k), sensitivity recomputation of affected rows only. What remains is not the report layer: influence()
  and leave_one_out() build k refits of k rows per strategy (about 80 % of the time and the peak memory:
  issue 11 item 7, engine) and validation + loading take 17 s (same item);
- this branch with influence()/leave_one_out() replaced by O(k) stand-ins: 34.7 s, 0.29 GB peak (16.5 s of
  it validation and loading).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from whatworks.data import schema as S

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


def bench_report(k: int, jobs: int | None = None) -> dict[str, float]:
    """Write a k-effect collection, run the report on it in a child process; seconds and peak GB."""
    with tempfile.TemporaryDirectory() as tmp:
        root = write_collection(Path(tmp) / "data", k)
        cmd = [sys.executable, "-m", "whatworks.report", "--data", str(root), "--out", str(Path(tmp) / "out"),
               "--quiet", *(["--jobs", str(jobs)] if jobs else [])]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KB on Linux
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
        files = sum(1 for _ in (Path(tmp) / "out").rglob("*")) if (Path(tmp) / "out").exists() else 0
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").rglob("*") if p.is_file()) / 2**20 if files else 0
    return {"k": k, "seconds": seconds, "peak_gb": peak_gb, "exit": proc.returncode, "files": files,
            "out_mb": size}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="case", required=True)
    r = sub.add_parser("report", help="the report on a synthetic collection (target < 60 s, < 2 GB)")
    r.add_argument("--k", type=int, default=20_000, help="number of effects (default 20,000)")
    r.add_argument("--jobs", type=int, help="render processes (default: the report's default)")
    args = p.parse_args(argv)
    if args.case == "report":
        res = bench_report(args.k, args.jobs)
        ok = res["exit"] == 0 and res["seconds"] < 60 and res["peak_gb"] < 2
        print(f"report, k = {res['k']:,} effects: {res['seconds']:.1f} s, peak {res['peak_gb']:.2f} GB, "
              f"exit {res['exit']}, {res['files']} files ({res['out_mb']:.1f} MB) "
              f"[target < 60 s, < 2 GB: {'met' if ok else 'NOT met'}] (cpus: {os.cpu_count()})")
        return 0 if ok else 1
    return 2  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main())
