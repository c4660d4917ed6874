"""Benchmark: load the shipped evidence base into a new database (target, issue 2: under 2 s).

Times, for a fresh SQLite file each round: creating the schema (Alembic migrations), parsing and
validating the shipped CSV/YAML (``load_dataset``) and writing it (``load_into``), then the total.
Prints the median and the best of ``--rounds`` rounds, and the rows written.

    .venv/bin/python benchmarks/bench_load_shipped.py
    .venv/bin/python benchmarks/bench_load_shipped.py --rounds 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path


def one_round(folder: Path, i: int) -> tuple[float, float, float, int]:
    from orechain.evidence.shipped import load_dataset, load_into
    from orechain.evidence.store import Store

    t0 = time.perf_counter()
    store = Store.open(folder / f"round{i}.db")
    t1 = time.perf_counter()
    ds = load_dataset()
    t2 = time.perf_counter()
    added = load_into(store, ds)
    t3 = time.perf_counter()
    store.close()
    return t1 - t0, t2 - t1, t3 - t2, sum(added.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    t_import = time.perf_counter()
    import orechain.evidence.shipped  # noqa: F401 - the import cost is part of a cold start

    imp = time.perf_counter() - t_import
    with tempfile.TemporaryDirectory(prefix="orechain-bench-shipped-") as tmp:
        rounds = [one_round(Path(tmp), i) for i in range(args.rounds)]
    totals = [sum(r[:3]) for r in rounds]
    print(f"date: {dt.date.today().isoformat()}  cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
    print(f"module import (first round only): {imp:.2f} s")
    for name, k in (("schema (migrations)", 0), ("parse + validate", 1), ("write", 2)):
        vals = [r[k] for r in rounds]
        print(f"  {name:22s} median {statistics.median(vals):.2f} s  best {min(vals):.2f} s")
    print(f"load shipped evidence base: median {statistics.median(totals):.2f} s, best {min(totals):.2f} s over "
          f"{args.rounds} rounds; {rounds[0][3]:,} rows written; target < 2 s: "
          f"{'met' if statistics.median(totals) < 2 else 'NOT met'} (median)")


if __name__ == "__main__":
    main()
