"""Benchmark: GeoPolRisk, orechain against geopolrisk-py 2.0.1, side by side in one run.

1. The 48 combinations of the validation (USA, Germany, Japan, EU-27 x rare earths, antimony, tungsten,
   copper x 2022-2024). Each side runs in a fresh Python process and is timed from its first import to its
   last result: the peer's ``import geopolrisk`` (which loads its bundled tables) plus ``gprs_calc``;
   orechain's ``import orechain.analytics.geopolrisk`` plus reading the same tables from the peer's SQLite
   files plus ``geopolrisk(mode="compat")``. The numbers are checked to agree (1e-9) before timing counts.
2. Full size: every importer present in the peer's trade table (each country alone, plus EU-27) x every
   material with an HS code x every year of its production table, in one call (compat mode).

Run: .venv/bin/python benchmarks/bench_geopolrisk.py
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from geopolrisk_peer import load_peer_inputs, peer_frame, peer_lib, run_peer

_ORE_48 = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    sys.path.insert(0, sys.argv[2])
    from orechain.analytics.geopolrisk import geopolrisk
    from geopolrisk_peer import PEER_MATERIALS, YEARS, load_peer_inputs
    t1 = time.perf_counter()
    from pathlib import Path
    inp = load_peer_inputs(Path(sys.argv[1]), list(PEER_MATERIALS))
    t2 = time.perf_counter()
    r = geopolrisk(inp.production, inp.trade, inp.governance_compat, inp.importers_compat, list(PEER_MATERIALS),
                   YEARS, mode="compat")
    t3 = time.perf_counter()
    r.to_csv(sys.argv[3], index=False, float_format="%.17g")
    print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "calc_s": t3 - t2, "rows": len(r)}))
""")


def main() -> int:
    lib = peer_lib()
    here = Path(__file__).resolve().parent
    print(f"# GeoPolRisk benchmark, {dt.date.today().isoformat()}, {sys.platform}")
    import pandas as pd

    out = Path("/tmp/orechain_bench_48.csv")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _ORE_48, str(lib), str(here), str(out)], capture_output=True,
                          text=True, check=True)
    ore_wall = time.perf_counter() - t0
    ore = json.loads(proc.stdout.strip().splitlines()[-1])
    ore_total = ore["import_s"] + ore["load_s"] + ore["calc_s"]
    peer, pt = run_peer()
    peer_total = pt["import_s"] + pt["calc_s"]
    mine = pd.read_csv(out)
    m = peer_frame(peer).merge(mine, on=["importer", "material", "year"], suffixes=("_p", "_o"))
    worst = max(float(np.max(np.abs(m[f"{v}_p"] - m[f"{v}_o"]) / np.maximum(np.abs(m[f"{v}_p"]), 1e-300)))
                for v in ("score", "cf", "hhi", "import_risk", "price"))
    n = len(m)
    print(f"\n## 48 combinations ({n} compared; largest relative difference {worst:.1e})\n")
    print("| | import (s) | load inputs (s) | compute (s) | total (s) | per result (ms) |")
    print("|---|---|---|---|---|---|")
    print(f"| geopolrisk-py 2.0.1 | {pt['import_s']:.2f} | (in import) | {pt['calc_s']:.2f} | {peer_total:.2f} | "
          f"{peer_total / n * 1000:.1f} |")
    print(f"| orechain compat | {ore['import_s']:.2f} | {ore['load_s']:.2f} | {ore['calc_s']:.3f} | {ore_total:.2f} | "
          f"{ore_total / n * 1000:.2f} |")
    print(f"\nratio per result, imports and input loading included: {peer_total / ore_total:,.0f}x "
          f"(process wall time incl. interpreter start: orechain {ore_wall:.2f} s)")
    print(f"ratio per result, computation only: {pt['calc_s'] / ore['calc_s']:,.0f}x")
    if worst > 1e-9:
        print("NUMBERS DIFFER: timing does not count")
        return 1

    t0 = time.perf_counter()
    full = load_peer_inputs(lib, None)
    t_load = time.perf_counter() - t0
    from orechain.analytics.geopolrisk import geopolrisk

    importers = {str(c): [str(c)] for c in sorted(full.trade["importer"].unique())}
    importers["EU"] = full.importers_compat["EU"]
    mats = sorted(full.materials)
    years = sorted(full.production["year"].unique())
    t0 = time.perf_counter()
    r = geopolrisk(full.production, full.trade, full.governance_compat, importers, mats, years, mode="compat")
    t_full = time.perf_counter() - t0
    print(f"\n## full size: {len(importers)} importers x {len(mats)} materials x {len(years)} years "
          f"= {len(r):,} results from {len(full.trade):,} trade rows\n")
    print(f"load inputs from the peer's SQLite files: {t_load:.1f} s; compute all combinations: {t_full:.1f} s "
          f"({t_full / len(r) * 1e6:.1f} us per result)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
