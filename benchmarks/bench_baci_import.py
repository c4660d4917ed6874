"""Benchmark: stream a BACI-format trade file into a new evidence database.

Generates a synthetic file in BACI's layout (``t,i,j,k,v,q``; one year, unique flows sorted by exporter,
importer and product as BACI sorts them, every country code incl. BACI's own, 5,000 HS6 products, about
5% blank and 5% ``NA`` quantities) under /tmp (never in the repository), then
imports it with ``orechain data import baci`` machinery in a child process and prints the wall time,
rows per second and the child's peak resident memory. Targets (issue 2): 10 million rows in under
3 minutes with peak RSS under 2 GB.

With ``--baseline`` it also runs, in the same run and also in a child process, the obvious way: the
whole file through ``pandas.read_csv`` then ``DataFrame.to_sql`` into a bare SQLite table (no checks,
no country mapping, no index), and prints the ratios of wall time and peak memory.

    .venv/bin/python benchmarks/bench_baci_import.py                       # 10,000,000 rows
    .venv/bin/python benchmarks/bench_baci_import.py --baseline            # and the naive baseline
    .venv/bin/python benchmarks/bench_baci_import.py --rows 1000000 --baseline
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
from typing import Any

import numpy as np
import pandas as pd

BACI_OWN = {840: 842, 250: 251, 356: 699, 756: 757, 578: 579, 158: 490}  # ISO numeric -> BACI's code


def baci_codes() -> np.ndarray[Any, Any]:
    """Every country code a BACI file may use: ISO numeric, with BACI's own codes where it has them."""
    from orechain.evidence.names import countries

    return np.array(sorted({BACI_OWN.get(c.numeric, c.numeric) for c in countries() if c.numeric}))


def generate(path: Path, rows: int, seed: int = 20250101) -> None:
    """Unique (exporter, importer, product) flows, sorted as BACI sorts them, for one year."""
    rng = np.random.default_rng(seed)
    codes = baci_codes()
    products = np.sort(rng.choice(np.arange(10_000, 970_000), size=5_000, replace=False))
    n_codes, n_prod = len(codes), len(products)
    flows = np.sort(rng.choice(n_codes * n_codes * n_prod, size=rows, replace=False))
    chunk = 1_000_000
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("t,i,j,k,v,q\n")
        for start in range(0, rows, chunk):
            f = flows[start:start + chunk]
            n = len(f)
            q = np.round(rng.gamma(1.0, 50.0, n), 3).astype(str)
            r = rng.random(n)
            q[r < 0.05] = ""
            q[(r >= 0.05) & (r < 0.10)] = "           NA"
            df = pd.DataFrame({"t": 2023, "i": codes[f // (n_codes * n_prod)], "j": codes[(f // n_prod) % n_codes],
                               "k": products[f % n_prod], "v": np.round(rng.gamma(1.0, 80.0, n), 3), "q": q})
            df.to_csv(fh, header=False, index=False, lineterminator="\n")


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM (Linux) belongs to the current program image; getrusage's
    ru_maxrss would also count the parent's memory inherited at fork, before exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(db: str, data: str) -> None:
    from orechain.evidence.importers import IMPORTERS, run_import
    from orechain.evidence.store import Store

    store = Store.open(db)
    t0 = time.perf_counter()
    rec = run_import(store, IMPORTERS["baci"], Path(data))
    wall = time.perf_counter() - t0
    print(f"RESULT rows={rec.rows} wall_s={wall:.2f} peak_rss_mb={peak_rss_mb():.0f}")


def child_baseline(db: str, data: str) -> None:
    import sqlite3

    t0 = time.perf_counter()
    df = pd.read_csv(data, na_values=["NA"], skipinitialspace=True)
    with sqlite3.connect(db) as conn:
        df.to_sql("trade", conn, index=False, chunksize=100_000)
    wall = time.perf_counter() - t0
    print(f"RESULT rows={len(df)} wall_s={wall:.2f} peak_rss_mb={peak_rss_mb():.0f}")


def run_child(flag: str, db: str, data: Path) -> tuple[int, float, float]:
    out = subprocess.run([sys.executable, __file__, flag, db, str(data)], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        sys.exit(f"{flag} failed:\n{out.stderr[-3000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    fields = dict(kv.split("=") for kv in line.split()[1:])
    return int(fields["rows"]), float(fields["wall_s"]), float(fields["peak_rss_mb"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--baseline", action="store_true", help="also run pandas read_csv + to_sql on the file")
    ap.add_argument("--child", nargs=2, metavar=("DB", "DATA"), help=argparse.SUPPRESS)
    ap.add_argument("--child-baseline", nargs=2, metavar=("DB", "DATA"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_import(*args.child)
        return
    if args.child_baseline:
        child_baseline(*args.child_baseline)
        return
    data = Path(tempfile.gettempdir()) / f"orechain-bench-baci-v2-{args.rows}" / "BACI_HS22_Y2023_V202501.csv"
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
        rows, wall, rss = run_child("--child", db, data)
        db_mb = os.path.getsize(db) / 1e6
        print(f"date: {dt.date.today().isoformat()}  cpus: {os.cpu_count()}  load average: "
              f"{os.getloadavg()[0]:.1f}")
        print(f"baci import: {rows:,} rows in {wall:.1f} s = {rows / wall:,.0f} rows/s; "
              f"peak RSS {rss:.0f} MB; database {db_mb:.0f} MB")
        print(f"targets: 10M rows < 180 s ({'met' if wall < 180 * rows / 10_000_000 else 'NOT met'} pro rata), "
              f"peak RSS < 2048 MB ({'met' if rss < 2048 else 'NOT met'})")
        if args.baseline:
            b_rows, b_wall, b_rss = run_child("--child-baseline", str(work / "baseline.db"), data)
            print(f"baseline pandas read_csv (whole file) + to_sql (no checks, no mapping, no index): {b_rows:,} rows "
                  f"in {b_wall:.1f} s, peak RSS {b_rss:.0f} MB")
            print(f"ratios orechain / baseline: wall time {wall / b_wall:.2f}, peak RSS {rss / b_rss:.2f}")


if __name__ == "__main__":
    main()
