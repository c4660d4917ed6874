"""Read-endpoint latency under load: p50/p90/p99 with 50 concurrent clients against a real uvicorn on loopback.

The server runs in its own process with the shipped evidence base; the load generator is wrk (Debian
package ``wrk``; ``apt-get install -y wrk``), 50 connections on one thread by default (one event-loop
thread drives 50 connections easily and leaves the second core to the server), rotating over the read
endpoints. Side by side in the same run:

* ``cache on``: orechain as ``orechain serve`` runs it;
* ``frames``: the response cache off but the frame cache on (what a miss costs once the tables it starts
  from have been read);
* ``cache off``: both caches off (what a miss costs from scratch);
* ``floor``: a minimal ASGI app on the same uvicorn settings answering each path with the very bytes
  orechain returned for it: the cost of uvicorn, the kernel and the load generator on this machine, so
  ``cache on / floor`` is what orechain adds.

The load average before and after is printed: on a shared machine it decides the tail.
Target: p99 < 50 ms with the cache on.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--connections 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
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
from orechain.interfaces.api.serving import UVICORN, settle_heap
app = create_app(sys.argv[1], cache_entries=int(sys.argv[2]), frame_entries=int(sys.argv[3]))
settle_heap()  # as orechain serve does
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[4]), **UVICORN)
"""

FLOOR = """
import json, sys, uvicorn
from orechain.interfaces.api.serving import UVICORN
bodies = {k: v.encode() for k, v in json.load(open(sys.argv[1])).items()}

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    key = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    body = bodies.get(key, b"{}")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), **UVICORN)
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


def start(args: list[str], health: str = "/api/v1/health") -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", *args, str(port)])
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + health, timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("server did not start") from None
            time.sleep(0.2)
    return proc, base


def fetch_all(base: str) -> dict[str, str]:
    """Every path's body; each must answer 200 before it is timed."""
    out = {}
    for p in PATHS:
        req = urllib.request.Request(base + p, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200, p
            out[p] = r.read().decode()
    return out


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(base: str, seconds: int, connections: int, threads: int, lua: Path) -> dict[str, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
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
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    from orechain.evidence.shipped import load_into
    from orechain.evidence.store import Store

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            load_into(store)
        lua = Path(tmp) / "paths.lua"
        lua.write_text(LUA % ", ".join(f'"{p}"' for p in PATHS))
        bodies = Path(tmp) / "bodies.json"
        rows = {}
        for label, server in (("cache on", [SERVER, str(db), "2048", "256"]),
                              ("frames", [SERVER, str(db), "0", "256"]),
                              ("cache off", [SERVER, str(db), "0", "0"]), ("floor", [FLOOR, str(bodies)])):
            proc, base = start(server, health=PATHS[0] if label == "floor" else "/api/v1/health")
            try:
                if label == "cache on":
                    bodies.write_text(json.dumps(fetch_all(base)))
                else:
                    fetch_all(base)
                rows[label] = run_wrk(base, args.seconds, args.connections, args.threads, lua)
            finally:
                proc.terminate()
                proc.wait(10)
    load_after = os.getloadavg()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s over {len(PATHS)} read endpoints "
          f"(uvicorn, 1 process; {os.cpu_count()} CPUs); load average before "
          f"{'/'.join(f'{x:.1f}' for x in load_before)}, after {'/'.join(f'{x:.1f}' for x in load_after)}")
    print(f"{'':10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8} {'non-2xx':>8}")
    for label, r in rows.items():
        print(f"{label:10} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['p99_ms']:8.1f} {r['req_s']:8.0f} "
              f"{r['non_2xx']:8.0f}")
    on, off, floor, frames = rows["cache on"], rows["cache off"], rows["floor"], rows["frames"]
    print(f"ratio off/on: p99 {off['p99_ms'] / on['p99_ms']:.1f}x, throughput on/off "
          f"{on['req_s'] / off['req_s']:.1f}x; on/floor: p99 {on['p99_ms'] / floor['p99_ms']:.2f}x, "
          f"throughput {on['req_s'] / floor['req_s']:.2f}x")
    print(f"response cache off: frames/off throughput {frames['req_s'] / off['req_s']:.1f}x, p99 "
          f"{off['p99_ms'] / frames['p99_ms']:.1f}x lower")
    verdict = "meets" if on["p99_ms"] < 50 else "MISSES"
    print(f"target p99 < 50 ms with the cache on: {verdict} ({on['p99_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
