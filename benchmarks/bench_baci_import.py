"""Benchmark: stream a BACI-format trade file into a new evidence database.

Generates a synthetic file in BACI's layout (``t,i,j,k,v,q``; BACI's own country codes included, 5,000
HS6 products, about 5% blank and 5% ``NA`` quantities) under /tmp (never in the repository), then
imports it with ``orechain data import baci`` machinery in a child process and prints the wall time,
rows per second and the child's peak resident memory. Targets (issue 2): 10 million rows in under
3 minutes with peak RSS under 2 GB.

With ``--baseline N`` it also times, in the same run, the obvious way (``pandas.read_csv`` of the
whole file then ``DataFrame.to_sql``) on the first N rows, and prints the per-row ratio.

    .venv/bin/python benchmarks/bench_baci_import.py               # 10,000,000 rows
    .venv/bin/python benchmarks/bench_baci_import.py --rows 1000000 --baseline 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CODES = np.array([156, 842, 276, 251, 392, 410, 699, 757, 579, 490, 586, 36, 76, 124, 484, 643, 704, 458, 764,
                  528, 826, 380, 724, 56, 40, 203, 616, 710, 180, 32, 152, 604, 360, 608, 784, 682, 792, 364])


def generate(path: Path, rows: int, seed: int = 20250101) -> None:
    rng = np.random.default_rng(seed)
    products = rng.choice(np.arange(10_000, 970_000), size=5_000, replace=False)
    chunk = 1_000_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("t,i,j,k,v,q\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            q = np.round(rng.gamma(1.0, 50.0, n), 3).astype(str)
            r = rng.random(n)
            q[r < 0.05] = ""
            q[(r >= 0.05) & (r < 0.10)] = "           NA"
            df = pd.DataFrame({"t": 2023, "i": rng.choice(CODES, n), "j": rng.choice(CODES, n),
                               "k": rng.choice(products, n), "v": np.round(rng.gamma(1.0, 80.0, n), 3),
                               "q": q})
            df.to_csv(fh, header=False, index=False, lineterminator="\n")


def child_import(db: str, data: str) -> None:
    from orechain.evidence.importers import IMPORTERS, run_import
    from orechain.evidence.store import Store

    store = Store.open(db)
    t0 = time.perf_counter()
    rec = run_import(store, IMPORTERS["baci"], Path(data))
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RESULT rows={rec.rows} wall_s={wall:.2f} peak_rss_mb={peak_kb / 1024:.0f}")


def baseline(data: Path, rows: int, work: Path) -> float:
    import sqlite3

    t0 = time.perf_counter()
    df = pd.read_csv(data, nrows=rows, na_values=["NA"], skipinitialspace=True)
    with sqlite3.connect(work / "baseline.db") as conn:
        df.to_sql("trade", conn, index=False, chunksize=100_000)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--baseline", type=int, default=0, help="also time pandas read_csv + to_sql on N rows")
    ap.add_argument("--child", nargs=2, metavar=("DB", "DATA"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_import(*args.child)
        return
    data = Path(tempfile.gettempdir()) / f"orechain-bench-baci-{args.rows}" / "BACI_HS22_Y2023_V202501.csv"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        generate(data, args.rows)
        print(f"generated {args.rows:,} rows ({data.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s:"
              f" {data}")
    with tempfile.TemporaryDirectory(prefix="orechain-bench-") as tmp:
        work = Path(tmp)
        db = str(work / "bench.db")
        from orechain.evidence.shipped import load_into
        from orechain.evidence.store import Store

        with Store.open(db) as store:
            load_into(store)  # a realistic database: the shipped evidence base, then the trade file
        out = subprocess.run([sys.executable, __file__, "--child", db, str(data)], capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            sys.exit(f"import failed:\n{out.stderr[-3000:]}")
        line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
        fields = dict(kv.split("=") for kv in line.split()[1:])
        rows, wall, rss = int(fields["rows"]), float(fields["wall_s"]), float(fields["peak_rss_mb"])
        db_mb = os.path.getsize(db) / 1e6
        print(f"date: {dt.date.today().isoformat()}  cpus: {os.cpu_count()}  load average: "
              f"{os.getloadavg()[0]:.1f}")
        print(f"baci import: {rows:,} rows in {wall:.1f} s = {rows / wall:,.0f} rows/s; "
              f"peak RSS {rss:.0f} MB; database {db_mb:.0f} MB")
        print(f"targets: 10M rows < 180 s ({'met' if wall < 180 * rows / 10_000_000 else 'NOT met'} pro rata), "
              f"peak RSS < 2048 MB ({'met' if rss < 2048 else 'NOT met'})")
        if args.baseline:
            n = min(args.baseline, rows)
            b = baseline(data, n, work)
            ours = wall * n / rows
            print(f"baseline pandas read_csv + to_sql (no checks, no index), {n:,} rows: {b:.1f} s = "
                  f"{n / b:,.0f} rows/s; orechain per-row time / baseline = {ours / b:.2f}")


if __name__ == "__main__":
    main()
