"""Benchmark: the vectorised cut-based chain flow against a per-scenario loop calling networkx max-flow on the
same draws (target: >= 100x faster, identical results).

Both sides get the same capacities: the scenario's capacity of every node of its chain graph (the evidence
base's whole network plus the scenario's projects; facilities controlled by an excluded country at 0), per
scenario and year, from one block of draws (:func:`orechain.scenarios.engine.node_capacities`). The vectorised
side (the reduced network's minimal cuts) is timed over every scenario-year of the block; the networkx side
(``maximum_flow_value`` on the node-split, unreduced graph) over the first --loop scenarios, each with all its
years; per-scenario-year times are compared. Results are compared on every scenario-year the loop computes.

Run: .venv/bin/python benchmarks/bench_scenarios_flow.py [--scenarios 16384] [--loop 200] [--name pakistan-us]
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

from orechain.scenarios.engine import compile_model, draw, evaluate, node_capacities  # noqa: E402
from orechain.scenarios.flow import max_flow, networkx_max_flow  # noqa: E402
from orechain.scenarios.sampling import block_generator  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scenarios", type=int, default=16_384)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--name", default="pakistan-us")
    args = ap.parse_args()
    m = compile_model(builtin(args.name))
    d = draw(m, block_generator(1, 0), args.scenarios)
    t0 = time.process_time()
    met = evaluate(m, d)
    t_engine = (time.process_time() - t0) / (args.scenarios * m.n_years)
    caps = node_capacities(m, d, met)  # (n, Y, nodes)
    net, graph = m.nets["flow"], m.graph.graph
    reps = 5
    t0 = time.process_time()
    for _ in range(reps):
        fast = max_flow(caps, net)
    t_fast = (time.process_time() - t0) / reps / caps[:, :, 0].size
    k = min(args.loop, args.scenarios)
    t0 = time.process_time()
    slow = np.array([[networkx_max_flow(caps[i, y], graph) for y in range(caps.shape[1])] for i in range(k)])
    t_slow = (time.process_time() - t0) / slow.size
    diff = float(np.max(np.abs(fast[:k] - slow)))
    scale = max(1.0, float(np.abs(slow).max()))
    print(f"{dt.date.today()} {args.name}: chain graph of {graph.n} capacitated and {graph.n_free} market nodes; "
          f"reduced to {len(net.reduced)} nodes, {net.n_cuts} minimal cuts")
    print(f"vectorised: {t_fast * 1e9:,.1f} ns per scenario-year ({caps[:, :, 0].size:,} scenario-years)")
    print(f"networkx loop: {t_slow * 1e6:,.1f} us per scenario-year ({slow.size:,} scenario-years)")
    print(f"whole engine (draws excluded; capacities, three flows, demand): {t_engine * 1e9:,.0f} ns per "
          f"scenario-year, {t_slow / t_engine:,.0f}x faster than the networkx flow alone")
    print(f"speed-up: {t_slow / t_fast:,.0f}x (target >= 100x); largest difference {diff:.3g} "
          f"({'identical' if diff <= 1e-9 * scale else 'DIFFERENT'}); flow range {slow.min():,.1f}-{slow.max():,.1f}")


if __name__ == "__main__":
    main()
