"""Read-endpoint latency under load: p50/p90/p99 with 50 concurrent clients against a real uvicorn on loopback.

The server runs in its own process with the shipped evidence base, started as ``orechain serve`` starts it
(``serving.prepare``: read model warmed, heap frozen); the load generator is wrk (Debian package ``wrk``;
``apt-get install -y wrk``), 50 connections on one thread by default (one event-loop thread drives 50
connections easily and leaves the second core to the server). Side by side in the same run:

* ``cache on``: as served, rotating over 12 read endpoints (what a dashboard's repeated reads cost);
* ``new params``: as served, but every request is one the server has never answered: list endpoints with a
  limit, offset and bounding box or year drawn from the request counter, plus a unique ``n=`` parameter, so the
  response cache misses every time (it still stores each answer, and that cost is counted);
* ``new, routes``: the same requests with the read model's fast path off (``create_app(fast_lists=False)``: the
  FastAPI route builds the same bytes from the same read model after routing and validation);
* ``no cache``: the 12 endpoints with the response and frame caches off;
* ``floor``: a minimal ASGI app on the same uvicorn settings answering each path with the very bytes orechain
  returned for it: the cost of uvicorn, the kernel and the load generator on this machine.

``--before SRC`` adds ``new, before``: the ``new params`` requests against the orechain package under ``SRC``
(the code before the read model), served as it was then. ``--workers 2`` adds ``new, 2 procs``: the ``new
params`` requests against ``orechain serve --workers 2``'s setup (two uvicorn worker processes). Before the
load, ``cold start`` times a fresh server: seconds from process start to its first answer, then the first
request of each of the 12 endpoints.

The load average before and after is printed: on a shared machine it decides the tail.
Target: p99 < 50 ms with 50 clients.

    .venv/bin/python benchmarks/bench_api.py [--seconds 10] [--connections 50] [--threads 1] [--workers 2]
    .venv/bin/python benchmarks/bench_api.py --in-process    # the app called directly, no server, no wrk
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
import os, sys, uvicorn
from orechain.interfaces.api import create_app
from orechain.interfaces.api.serving import UVICORN, prepare
db, cache, frames, fast, workers, port = sys.argv[1], *map(int, sys.argv[2:])
if workers == 1:
    app = create_app(db, cache_entries=cache, frame_entries=frames, fast_lists=bool(fast))
    prepare(app)  # as orechain serve does: read model warmed, heap frozen
    uvicorn.run(app, host="127.0.0.1", port=port, **UVICORN)
else:  # as orechain serve --workers N does (default caches)
    os.environ["ORECHAIN_DB"] = db
    uvicorn.run("orechain.interfaces.api.serving:worker_app", factory=True, workers=workers, host="127.0.0.1",
                port=port, **UVICORN)
"""

BEFORE = """
import sys, uvicorn
from orechain.interfaces.api import create_app
from orechain.interfaces.api.serving import UVICORN, settle_heap
app = create_app(sys.argv[1])
settle_heap()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), **UVICORN)
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

# Every request new: the counter picks the endpoint and draws limit, offset, bbox, year or stage, and n= makes
# the query string unique. All values are valid (bbox within -180..180 / -90..90), so every answer is a 200.
NEW_LUA = """
stages = {"mining", "beneficiation", "separation", "metal", "magnet"}
i = 0
request = function()
  i = i + 1
  local k = i % 6
  local limit = 1 + (i * 7919) % 200
  local offset = (i * 104729) % 50
  local p
  if k == 0 then
    local lon = -170 + (i * 37) % 300
    local lat = -80 + (i * 53) % 120
    p = "/api/v1/facilities?bbox=" .. lon .. "," .. lat .. "," .. (lon + 40) .. "," .. (lat + 40)
  elseif k == 1 then
    p = "/api/v1/observations?year=" .. (2015 + i % 11) .. "&limit=" .. limit .. "&offset=" .. offset
  elseif k == 2 then
    p = "/api/v1/observations?commodity=rare-earths&limit=" .. limit .. "&offset=" .. offset
  elseif k == 3 then
    p = "/api/v1/facilities?stage=" .. stages[(i % 5) + 1] .. "&limit=" .. limit
  elseif k == 4 then
    p = "/api/v1/sources?limit=" .. limit .. "&offset=" .. offset
  else
    p = "/api/v1/organisations?limit=" .. limit .. "&offset=" .. offset
  end
  return wrk.format("GET", p .. "&n=" .. i, {["Accept"] = "application/json"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], health: str = "/api/v1/health",
          src: str | None = None) -> tuple[subprocess.Popen[bytes], str, float]:
    """The server process (importing orechain from ``src`` if given), its base URL and the seconds from its start
    to its first answer."""
    port = free_port()
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": src} if src else None
    proc = subprocess.Popen([sys.executable, "-c", *args, str(port)], env=env)
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
            time.sleep(0.05)
    return proc, base, time.perf_counter() - t0


def first_requests(base: str) -> list[float]:
    """Milliseconds of the first request of each path, one after another."""
    out = []
    for p in PATHS:
        req = urllib.request.Request(base + p, headers={"Accept": "application/json"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
        out.append((time.perf_counter() - t0) * 1000)
    return out


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


def new_path(i: int) -> str:
    """The ``i``-th request of NEW_LUA (the same endpoints and values), for the in-process timing."""
    k, limit, offset = i % 6, 1 + (i * 7919) % 200, (i * 104729) % 50
    if k == 0:
        lon, lat = -170 + (i * 37) % 300, -80 + (i * 53) % 120
        p = f"/api/v1/facilities?bbox={lon},{lat},{lon + 40},{lat + 40}"
    elif k == 1:
        p = f"/api/v1/observations?year={2015 + i % 11}&limit={limit}&offset={offset}"
    elif k == 2:
        p = f"/api/v1/observations?commodity=rare-earths&limit={limit}&offset={offset}"
    elif k == 3:
        stage = ("mining", "beneficiation", "separation", "metal", "magnet")[i % 5]
        p = f"/api/v1/facilities?stage={stage}&limit={limit}"
    elif k == 4:
        p = f"/api/v1/sources?limit={limit}&offset={offset}"
    else:
        p = f"/api/v1/organisations?limit={limit}&offset={offset}"
    return f"{p}&n={i}"


def in_process(db: Path, runs: int = 200, new: int = 3000) -> None:
    """Time the ASGI app called directly (no server, no load generator): each of the 12 paths with the response
    cache off (median of ``runs``), and ``new`` never-seen list requests as served (mean)."""
    import asyncio
    import statistics

    from orechain.interfaces.api import create_app

    async def call(app: object, url: str) -> None:
        path, _, qs = url.partition("?")
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
                 "path": path, "raw_path": path.encode(), "query_string": qs.encode(), "root_path": "",
                 "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"application/json")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
        await app(scope, receive, send)  # type: ignore[operator]
        if sent[0]["status"] != 200:
            raise SystemExit(f"{url} answered {sent[0]['status']}")

    async def timed() -> None:
        off = create_app(db, cache_entries=0)
        total = 0.0
        for p in PATHS:
            for _ in range(5):
                await call(off, p)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                await call(off, p)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times) * 1e3
            total += med
            print(f"  {p:58} {med:8.3f} ms")
        print(f"  {'sum of the medians (response cache off)':58} {total:8.3f} ms")
        served = create_app(db)
        for i in range(1, 50):
            await call(served, new_path(i))
        t0 = time.perf_counter()
        for i in range(1000, 1000 + new):
            await call(served, new_path(i))
        print(f"  {'never-seen list request, as served (mean of ' + str(new) + ')':58} "
              f"{(time.perf_counter() - t0) / new * 1e3:8.3f} ms")

    print(f"in-process, load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}:")
    asyncio.run(timed())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--workers", type=int, default=1, help="also run 'new params' against this many processes")
    ap.add_argument("--in-process", action="store_true", help="only time the ASGI app called directly (no wrk)")
    ap.add_argument("--before", metavar="SRC", help="also run 'new params' against the orechain package under SRC "
                    "(e.g. the src folder of `git worktree add /tmp/before 97e46de`), as it served then")
    args = ap.parse_args()
    if args.in_process:
        from orechain.evidence.shipped import load_into as load
        from orechain.evidence.store import Store as Db

        with tempfile.TemporaryDirectory() as tmp:
            with Db.open(Path(tmp) / "bench.db") as store:
                load(store)
            in_process(Path(tmp) / "bench.db")
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    from orechain.evidence.shipped import load_into
    from orechain.evidence.store import Store

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            load_into(store)
        lua, new_lua = Path(tmp) / "paths.lua", Path(tmp) / "new.lua"
        lua.write_text(LUA % ", ".join(f'"{p}"' for p in PATHS))
        new_lua.write_text(NEW_LUA)
        bodies = Path(tmp) / "bodies.json"
        served = [SERVER, str(db), "2048", "256", "1", "1"]
        runs: list[tuple[str, list[str], Path]] = [
            ("cache on", served, lua), ("new params", served, new_lua),
            ("new, routes", [SERVER, str(db), "2048", "256", "0", "1"], new_lua),
            ("no cache", [SERVER, str(db), "0", "0", "1", "1"], lua)]
        if args.workers > 1:
            runs.append((f"new, {args.workers} procs", [SERVER, str(db), "2048", "256", "1", str(args.workers)],
                         new_lua))
        if args.before:
            runs.append(("new, before", [BEFORE, str(db)], new_lua))
        runs.append(("floor", [FLOOR, str(bodies)], lua))
        rows = {}
        cold: tuple[float, list[float]] | None = None
        for label, server, script in runs:
            proc, base, ready_s = start(server, health=PATHS[0] if label == "floor" else "/api/v1/health",
                                        src=args.before if label == "new, before" else None)
            try:
                if label == "cache on":
                    cold = (ready_s, first_requests(base))
                    bodies.write_text(json.dumps(fetch_all(base)))
                else:
                    fetch_all(base)
                rows[label] = run_wrk(base, args.seconds, args.connections, args.threads, script)
            finally:
                proc.terminate()
                proc.wait(10)
    load_after = os.getloadavg()
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s (uvicorn; {os.cpu_count()} CPUs); load "
          f"average before {'/'.join(f'{x:.1f}' for x in load_before)}, after "
          f"{'/'.join(f'{x:.1f}' for x in load_after)}")
    if cold is not None:
        print(f"cold start: first answer {cold[0]:.2f} s after the process started (read model warmed); first "
              f"request of each of the {len(PATHS)} endpoints: max {max(cold[1]):.1f} ms, sum {sum(cold[1]):.1f} ms")
    print(f"{'':12} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'req/s':>8} {'non-2xx':>8}")
    for label, r in rows.items():
        print(f"{label:12} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['p99_ms']:8.1f} {r['req_s']:8.0f} "
              f"{r['non_2xx']:8.0f}")
    on, new, routes, floor = rows["cache on"], rows["new params"], rows["new, routes"], rows["floor"]
    print(f"new params / cache on: p99 {new['p99_ms'] / on['p99_ms']:.2f}x, throughput "
          f"{new['req_s'] / on['req_s']:.2f}x; fast path vs routes (new params): throughput "
          f"{new['req_s'] / routes['req_s']:.2f}x, p99 {routes['p99_ms'] / new['p99_ms']:.2f}x lower; "
          f"cache on / floor: p99 {on['p99_ms'] / floor['p99_ms']:.2f}x")
    if args.workers > 1:
        multi = rows[f"new, {args.workers} procs"]
        print(f"{args.workers} processes / 1 (new params): throughput {multi['req_s'] / new['req_s']:.2f}x, p99 "
              f"{multi['p99_ms'] / new['p99_ms']:.2f}x")
    if args.before:
        old = rows["new, before"]
        print(f"new params, now / before: throughput {new['req_s'] / old['req_s']:.1f}x, p99 "
              f"{old['p99_ms'] / new['p99_ms']:.1f}x lower")
    if any(r["non_2xx"] for r in rows.values()):
        print("WARNING: some answers were not 2xx; the figures above do not measure what they claim")
    for label in ("cache on", "new params"):
        verdict = "meets" if rows[label]["p99_ms"] < 50 else "MISSES"
        print(f"target p99 < 50 ms, {label}: {verdict} ({rows[label]['p99_ms']:.1f} ms)")


if __name__ == "__main__":
    main()
