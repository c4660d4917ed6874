"""Benchmark: GeoPolRisk, orechain against geopolrisk-py 2.0.1, side by side in one run.

1. The 48 combinations of the validation (USA, Germany, Japan, EU-27 x rare earths, antimony, tungsten,
   copper x 2022-2024). Each side runs several times, each time in a fresh Python process, alternating
   (orechain, peer, orechain, peer, orechain ...), and is timed inside the process from its first import to
   its last result: the peer's ``import geopolrisk`` (which loads its bundled tables) plus ``gprs_calc``;
   orechain's imports (``orechain.analytics.geopolrisk_kernel`` and ``geopolrisk_peerdb``: numpy, no pandas)
   plus reading what the request needs from the same SQLite files plus ``compute(mode="compat")`` and the
   characterisation factors (with a bytecode cache for orechain's modules, as an installed package has; one
   untimed run fills it and is reported). The parent also times each process from start to exit (interpreter start and
   writing the result included). Every orechain run's 48 x 5 values must agree with the peer's to a relative
   difference of 1e-9, else the timing does not count and the script exits 1.
2. Full size: every importer in the peer's trade table (each country alone, plus EU-27) x every material with
   an HS code x every year of the production tables, from the whole trade table; reading and computing timed
   separately (in this process, after the side-by-side runs).

Run: .venv/bin/python benchmarks/bench_geopolrisk.py [--ore-runs 5] [--peer-runs 2] [--full-runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from geopolrisk_peer import EU_NAMES, PEER_COUNTRIES, PEER_MATERIALS, YEARS, peer_frame, peer_lib, run_peer

VALUES = ("score", "cf", "hhi", "import_risk", "price")
TOL = 1e-9

# The timed orechain side: the same request as the peer's gprs_calc(years, countries, materials).
_ORE_48 = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    import numpy  # what orechain's modules import first anyway: timed apart to show the split
    tn = time.perf_counter()
    from orechain.analytics.geopolrisk_kernel import PEER_CF_COPPER, compute
    from orechain.analytics.geopolrisk_peerdb import country_codes, read_peer_db
    t1 = time.perf_counter()
    lib, spec = sys.argv[1], json.loads(sys.argv[2])
    codes = country_codes(lib)
    groups = {name: [codes[n] for n in members] for name, members in spec["importers"].items()}
    db = read_peer_db(lib, spec["materials"], spec["years"], sorted({c for g in groups.values() for c in g}),
                      threads=spec["threads"])
    t2 = time.perf_counter()
    r = compute(db.inputs, groups, spec["materials"], spec["years"], mode="compat")
    cf = r.cf(PEER_CF_COPPER)
    t3 = time.perf_counter()
    e, m, y = r.keys()
    out = {"importer": [r.importers[i] for i in e], "material": [r.materials[i] for i in m], "year": y.tolist(),
           "score": r.score.tolist(), "cf": cf.tolist(), "hhi": r.hhi.tolist(), "import_risk": r.import_risk.tolist(),
           "price": r.price.tolist()}
    with open(sys.argv[3], "w") as f:
        json.dump(out, f)
    print(json.dumps({"import_s": t1 - t0, "numpy_s": tn - t0, "load_s": t2 - t1, "calc_s": t3 - t2, "rows": len(r)}))
""")


def run_orechain(lib: Path, out: Path, threads: int, env: dict[str, str]) -> tuple[dict[str, float], float]:
    spec = {"importers": {"USA": ["USA"], "Germany": ["Germany"], "Japan": ["Japan"], "EU": list(EU_NAMES)},
            "materials": list(PEER_MATERIALS), "years": list(YEARS), "threads": threads}
    assert tuple(spec["importers"]) == PEER_COUNTRIES
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _ORE_48, str(lib), json.dumps(spec), str(out)], capture_output=True,
                          text=True, check=False, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"orechain run failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def worst_difference(peer: dict[tuple[str, str, int], tuple[float, ...]], out: Path) -> tuple[float, int]:
    """Largest relative difference over the 48 x 5 values, and how many combinations were compared."""
    mine = json.loads(out.read_text())
    worst, n = 0.0, 0
    for i, key in enumerate(zip(mine["importer"], mine["material"], mine["year"], strict=True)):
        theirs = peer.get((str(key[0]), str(key[1]), int(key[2])))
        if theirs is None:
            return float("inf"), n
        n += 1
        for v, p in zip(VALUES, theirs, strict=True):
            o = float(mine[v][i])
            worst = max(worst, abs(o - p) / max(abs(p), 1e-300))
    return worst, n


def summary(xs: list[float], fmt: str = ".3f") -> str:
    return f"{statistics.median(xs):{fmt}} ({min(xs):{fmt}}-{max(xs):{fmt}})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ore-runs", type=int, default=5)
    ap.add_argument("--peer-runs", type=int, default=2)
    ap.add_argument("--full-runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="threads scanning the trade table (read_peer_db)")
    args = ap.parse_args()
    if args.peer_runs < 1 or args.ore_runs < 1:
        ap.error("both sides run at least once: the timing counts only once the numbers agree with the peer's")
    lib = peer_lib()
    load0 = os.getloadavg()
    print(f"# GeoPolRisk benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {sys.platform}, "
          f"{os.cpu_count()} cores, load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)

    ore: list[dict[str, float]] = []
    ore_wall: list[float] = []
    peer: list[dict[str, float]] = []
    peer_values: dict[tuple[str, str, int], tuple[float, ...]] = {}
    worst = 0.0
    order = ["ore"] * args.ore_runs  # the peer's runs spread among orechain's: both sides see similar load
    for j in reversed(range(args.peer_runs)):
        order.insert(round((j + 1) * args.ore_runs / (args.peer_runs + 1)), "peer")
    pending_ore: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        # orechain runs from its source checkout, and this environment may set PYTHONDONTWRITEBYTECODE (it does on
        # the development machine): every process would compile orechain's modules again, which an installed
        # package never does (pip compiles at install, as it did for the peer and numpy). So the orechain
        # processes get a bytecode cache in a temporary folder, filled by one untimed run first, reported below.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        first, _ = run_orechain(lib, Path(tmp) / "warmup.json", args.threads, env)
        print(f"untimed first orechain run, compiling its modules into the cache: import {first['import_s']:.3f} s, "
              f"total {first['import_s'] + first['load_s'] + first['calc_s']:.3f} s", flush=True)
        for i, side in enumerate(order):
            if side == "peer":
                t0 = time.perf_counter()
                df, timing = run_peer()
                timing["wall_s"] = time.perf_counter() - t0
                peer.append(timing)
                frame = peer_frame(df)
                values = {(str(r.importer), str(r.material), int(r.year)): tuple(float(getattr(r, v)) for v in VALUES)
                          for r in frame.itertuples()}
                if peer_values and any(abs(a - b) > TOL * max(abs(a), 1e-300) for key, vs in values.items()
                                       for a, b in zip(vs, peer_values.get(key, (np.inf,) * 5), strict=True)):
                    print("the peer's runs disagree with each other")
                    return 1
                peer_values = values
                print(f"peer run {len(peer)}: import {timing['import_s']:.1f} s, compute {timing['calc_s']:.1f} s",
                      flush=True)
            else:
                out = Path(tmp) / f"ore{i}.json"
                timing, wall = run_orechain(lib, out, args.threads, env)
                ore.append(timing)
                ore_wall.append(wall)
                pending_ore.append(out)
        n = 0
        for out in pending_ore:
            w, n = worst_difference(peer_values, out)
            worst = max(worst, w)
    starts, scans = [], []
    for _ in range(5):  # the interpreter's own start and exit, which neither side's in-process timing includes
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        starts.append(time.perf_counter() - t0)
    with sqlite3.connect(f"file:{lib / 'baci.db'}?mode=ro", uri=True) as con:
        for _ in range(5):  # one bare pass over the trade table (count of one column): the floor of any SQLite reader
            t0 = time.perf_counter()
            con.execute("SELECT count(k) FROM baci_trade").fetchone()
            scans.append(time.perf_counter() - t0)
    load1 = os.getloadavg()
    ore_total = [t["import_s"] + t["load_s"] + t["calc_s"] for t in ore]
    peer_total = [t["import_s"] + t["calc_s"] for t in peer]
    print(f"\n## 48 combinations ({n} compared in each of {len(ore)} orechain runs against the peer's; largest "
          f"relative difference {worst:.1e}, tolerance {TOL:g})\n")
    print("Median (min-max) over the runs, seconds, timed inside each process from its first import:\n")
    print("| | runs | import | load inputs | compute | total | per result (ms) | process wall |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| geopolrisk-py 2.0.1 | {len(peer)} | {summary([t['import_s'] for t in peer], '.1f')} | (in import) | "
          f"{summary([t['calc_s'] for t in peer], '.1f')} | {summary(peer_total, '.1f')} | "
          f"{statistics.median(peer_total) / n * 1000:,.0f} | {summary([t['wall_s'] for t in peer], '.1f')} |")
    print(f"| orechain compat | {len(ore)} | {summary([t['import_s'] for t in ore])} | "
          f"{summary([t['load_s'] for t in ore])} | {summary([t['calc_s'] for t in ore], '.4f')} | "
          f"{summary(ore_total)} | {statistics.median(ore_total) / n * 1000:.2f} | {summary(ore_wall)} |")
    med = {k: statistics.median([t[k] for t in ore]) for k in ("numpy_s", "import_s", "load_s", "calc_s")}
    print(f"\norechain's fixed cost, medians: numpy import {med['numpy_s']:.3f} s, orechain modules "
          f"{med['import_s'] - med['numpy_s']:.3f} s, reading {med['load_s']:.3f} s (a bare pass over the unindexed "
          f"1.26 M-row trade table, measured apart: {summary(scans)} s), compute "
          f"{med['calc_s'] * 1000:.1f} ms; interpreter start and exit (python -c pass): {summary(starts)} s")
    print(f"\nratio per result, imports, input reading and compute included (medians): "
          f"{statistics.median(peer_total) / statistics.median(ore_total):,.0f}x "
          f"(worst case, slowest orechain run vs fastest peer run: {min(peer_total) / max(ore_total):,.0f}x)")
    print(f"ratio of process wall times (interpreter start and result writing included on both sides): "
          f"{statistics.median([t['wall_s'] for t in peer]) / statistics.median(ore_wall):,.0f}x")
    calc = statistics.median([t["calc_s"] for t in peer]) / statistics.median([t["calc_s"] for t in ore])
    print(f"ratio, computation only: {calc:,.0f}x")
    print(f"load average at the end of the side-by-side runs: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if worst > TOL:
        print("NUMBERS DIFFER: timing does not count")
        return 1
    return full_size(lib, args.full_runs)


def full_size(lib: Path, runs: int) -> int:
    from orechain.analytics.geopolrisk_kernel import compute
    from orechain.analytics.geopolrisk_peerdb import country_codes, read_peer_db

    reads, calcs = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        db = read_peer_db(lib)
        reads.append(time.perf_counter() - t0)
        inp = db.inputs
        codes = country_codes(lib)
        importers = sorted(set(inp.trade_importer.tolist()))
        groups: dict[str, list[int]] = {inp.country_labels[c]: [int(c)] for c in importers}
        groups["EU"] = [codes[n] for n in EU_NAMES]
        years = sorted(set(inp.prod_year.tolist()))
        t0 = time.perf_counter()
        r = compute(inp, groups, list(inp.material_labels), years, mode="compat")
        calcs.append(time.perf_counter() - t0)
    load = os.getloadavg()
    print(f"\n## full size: {len(groups)} importers x {len(inp.material_labels)} materials x {len(years)} years "
          f"= {len(r):,} results from {len(inp.trade_year):,} trade rows ({runs} runs)\n")
    print(f"read the inputs from the peer's SQLite files: {summary(reads, '.2f')} s; compute all combinations: "
          f"{summary(calcs, '.3f')} s ({statistics.median(calcs) / len(r) * 1e6:.2f} us per result); "
          f"load average {load[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
