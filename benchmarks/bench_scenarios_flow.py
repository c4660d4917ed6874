"""Benchmark: the vectorised cut-based chain flow against a per-scenario loop calling networkx max-flow on
the same draws (target: >= 100x faster, identical results).

Both sides get the same capacities: the pakistan-us scenario's capacity online by project, per scenario and
year, from one block of draws. The vectorised side is timed over every scenario-year of the block; the
networkx side over the first --loop scenarios (each with all its years), and the per-scenario-year times
are compared. Results are compared on every scenario-year the loop computes.

Run: .venv/bin/python benchmarks/bench_scenarios_flow.py [--scenarios 16384] [--loop 300] [--name pakistan-us]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _scenario_setup import builtin  # noqa: E402

from orechain.scenarios.engine import compile_model, draw, evaluate  # noqa: E402
from orechain.scenarios.flow import max_flow, networkx_max_flow  # noqa: E402
from orechain.scenarios.sampling import block_generator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", type=int, default=16_384)
    ap.add_argument("--loop", type=int, default=300)
    ap.add_argument("--name", default="pakistan-us")
    args = ap.parse_args()
    m = compile_model(builtin(args.name))
    t0 = time.process_time()
    met = evaluate(m, draw(m, block_generator(1, 0), args.scenarios))
    t_engine = (time.process_time() - t0) / (args.scenarios * m.n_years)
    caps = np.transpose(met.capacity[:, m.chain, :], (0, 2, 1)) * m.independent  # (n, Y, Pc)
    reps = 5
    t0 = time.process_time()
    for _ in range(reps):
        fast = max_flow(caps, m.net)
    t_fast = (time.process_time() - t0) / reps / caps[:, :, 0].size
    k = min(args.loop, args.scenarios)
    t0 = time.process_time()
    slow = np.array([[networkx_max_flow(caps[i, y], m.net) for y in range(caps.shape[1])] for i in range(k)])
    t_slow = (time.process_time() - t0) / slow.size
    diff = float(np.max(np.abs(fast[:k] - slow)))
    print(f"{dt.date.today()} {args.name}: {m.net.n} chain facilities, {m.net.n_cuts} minimal cuts")
    print(f"vectorised: {t_fast * 1e9:,.1f} ns per scenario-year ({caps[:, :, 0].size:,} scenario-years)")
    print(f"networkx loop: {t_slow * 1e6:,.1f} us per scenario-year ({slow.size:,} scenario-years)")
    print(f"whole engine (draws + evaluation, flow included): {t_engine * 1e9:,.0f} ns per scenario-year, "
          f"{t_slow / t_engine:,.0f}x faster than the networkx flow alone")
    print(f"speed-up: {t_slow / t_fast:,.0f}x (target >= 100x); largest difference {diff:.3g} "
          f"({'identical' if diff <= 1e-9 * max(1.0, float(np.abs(slow).max())) else 'DIFFERENT'})")


if __name__ == "__main__":
    main()
