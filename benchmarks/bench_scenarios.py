"""Benchmark: scenario-years per second per core for the pakistan-us scenario (target >= 1,000,000), and
peak memory for a large run (target: 10 million scenarios under 1 GB peak RSS).

One process, numpy backend, one thread for BLAS (OMP/OPENBLAS/MKL_NUM_THREADS=1 are set below before numpy
loads), tornado off. It prints wall time and process CPU time; the per-core figure uses CPU time.

Run: .venv/bin/python benchmarks/bench_scenarios.py [--scenarios 1000000] [--name pakistan-us]
     .venv/bin/python benchmarks/bench_scenarios.py --scenarios 10000000     # the memory target
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

from _scenario_setup import builtin  # noqa: E402

from orechain.scenarios.results import simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", type=int, default=1_000_000)
    ap.add_argument("--name", default="pakistan-us")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    s = builtin(args.name)
    simulate(s, 20_000, seed=args.seed)  # warm-up (imports, caches)
    w0, c0 = time.perf_counter(), time.process_time()
    r = simulate(s, args.scenarios, seed=args.seed)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    sy = args.scenarios * len(s.years)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{dt.date.today()} {args.name}: {args.scenarios:,} scenarios x {len(s.years)} years = {sy:,} "
          f"scenario-years")
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s -> {sy / cpu:,.0f} scenario-years per CPU-second "
          f"({sy / wall:,.0f} per wall-second); target >= 1,000,000 per core")
    print(f"peak RSS {rss_mb:,.0f} MB (whole process, evidence base and imports included); target < 1,024 MB")
    print(f"check: P50 independent capacity {r.years[0]} = {r.fan('flow')['p50'].iloc[0]:.1f} {s.unit}")


if __name__ == "__main__":
    main()
