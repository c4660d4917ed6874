"""Read-endpoint latency under load: p50/p90/p99 with 50 concurrent clients against a real uvicorn on loopback.

The server runs in its own process with the shipped evidence base; the load generator is wrk (Debian
package ``wrk``; ``apt-get install -y wrk``), 2 threads and 50 connections, rotating over the read
endpoints. Side by side in the same run: the same server with its response cache turned off, so the
ratio shows what the cache buys. Target: p99 < 50 ms with the cache on.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PATHS = [
    "/api/v1/facilities?limit=100",
    "/api/v1/facilities?stage=separation",
    "/api/v1/facilities?country=PAK",
    "/api/v1/facilities?bbox=60,23,78,37",
    "/api/v1/observations?commodity=rare-earths&limit=100",
    "/api/v1/observations?country=CHN&metric=mine_production",
    "/api/v1/deals",
    "/api/v1/events",
    "/api/v1/sources?limit=100",
    "/api/v1/organisations?limit=100",
    "/api/v1/countries?limit=100",
    "/api/v1/deals/ussm-fwo-2025",
]

SERVER = """
import sys, uvicorn
from orechain.interfaces.api import create_app
uvicorn.run(create_app(sys.argv[1], cache_entries=int(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[3]),
            log_level="warning", access_log=False)
"""

LUA = """
paths = {%s}
i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i], {["Accept"] = "application/json"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: Path, cache: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(db), str(cache), str(port)])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("server did not start") from None
            time.sleep(0.2)
    for p in PATHS:  # every path must answer 200 before it is timed
        with urllib.request.urlopen(base + p, timeout=30) as r:
            assert r.status == 200, p
    return proc, base


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(base: str, seconds: int, connections: int, lua: Path) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), base],
                         capture_output=True, text=True, check=True).stdout
    res: dict[str, float] = {}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m is None:
            raise SystemExit(f"cannot read the {pct}th percentile from wrk:\n{out}")
        res[f"p{pct}_ms"] = to_ms(m.group(1), m.group(2))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["req_s"] = float(rps.group(1)) if rps else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non_2xx"] = float(errors.group(1)) if errors else 0.0
    sock = re.search(r"Socket errors: (.*)", out)
    if sock:
        print("wrk socket errors:", sock.group(1))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    from orechain.evidence.shipped import load_into
    from orechain.evidence.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            load_into(store)
        lua = Path(tmp) / "paths.lua"
        lua.write_text(LUA % ", ".join(f'"{p}"' for p in PATHS))
        rows = {}
        for label, cache in (("cache on", 2048), ("cache off", 0)):
            proc, base = start(db, cache)
            try:
                rows[label] = run_wrk(base, args.seconds, args.connections, lua)
            finally:
                proc.terminate()
                proc.wait(10)
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s over {len(PATHS)} read endpoints "
          f"(uvicorn, 1 process; {os.cpu_count()} CPUs)")
    print(f"{'':10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8} {'non-2xx':>8}")
    for label, r in rows.items():
        print(f"{label:10} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['p99_ms']:8.1f} {r['req_s']:8.0f} "
              f"{r['non_2xx']:8.0f}")
    on, off = rows["cache on"], rows["cache off"]
    print(f"ratio off/on: p99 {off['p99_ms'] / on['p99_ms']:.1f}x, throughput on/off {on['req_s'] / off['req_s']:.1f}x")
    verdict = "meets" if on["p99_ms"] < 50 else "MISSES"
    print(f"target p99 < 50 ms with the cache on: {verdict} ({on['p99_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
