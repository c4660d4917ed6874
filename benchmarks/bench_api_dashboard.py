"""Dashboard first load on loopback: real headless Chromium (Debian /usr/bin/chromium, via Playwright)
against real servers on loopback serving the shipped evidence base, each started as ``orechain serve``
does. Target: first load of every page drawn in under 2 s.

Two servers run side by side in one run and the pages alternate between them, so both see the same load:
- **served**: the dashboard as shipped (static and vendored files gzip-compressed, caching headers);
- **peer**: the same app with its static and vendored files served by plain Starlette ``StaticFiles``
  (no compression, no Cache-Control), as the dashboard was served before; with ``--peer-web DIR`` the peer
  also draws its pages with the templates and scripts in DIR, a copy of ``src/orechain/interfaces/web`` from an
  earlier commit (same API, same database), so the whole dashboard before and after is compared.
Each first load is a fresh browser context (empty cache). Reported per page and server: the navigation
timing's loadEventEnd, the time until the page has drawn its data (``document.body.dataset.ready``), and the
bytes that crossed the wire (navigation and resource ``transferSize``). A **repeat** load (the same context,
the page opened again, as when a reader moves between pages) shows what the caching headers save. The
claims ledger shows the two fake test articles (tests/api/fixtures/claims), ingested for the run.

    .venv/bin/python benchmarks/bench_api_dashboard.py [--runs 5]
    # the dashboard as it was before the issue-6 audit, side by side:
    mkdir -p /tmp/web-before && git archive 97e46de src/orechain/interfaces/web | tar -x -C /tmp/web-before
    .venv/bin/python benchmarks/bench_api_dashboard.py --peer-web /tmp/web-before/src/orechain/interfaces/web
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["/map", "/sankey", "/claims", "/deals/ussm-fwo-2025", "/deals", "/sources"]
CLAIMS = Path(__file__).parents[1] / "tests" / "api" / "fixtures" / "claims"

# ``orechain serve --db DB --port P``; the peer swaps the dashboard's file mounts for plain StaticFiles first
SERVED = "import sys; from orechain.interfaces.cli import main; sys.argv[0] = 'orechain'; main()"
PEER = """
import sys
from pathlib import Path
import uvicorn
from fastapi.staticfiles import StaticFiles
from jinja2 import FileSystemLoader
from starlette.routing import Mount
import orechain.interfaces.web as web
from orechain.interfaces.api import create_app
from orechain.interfaces.api.serving import prepare
app = create_app(sys.argv[3])  # argv: -c serve --db DB --port P [WEB]
old = Path(sys.argv[6]) if len(sys.argv) > 6 else None
if old is not None:
    web._env.loader = FileSystemLoader(old / "templates")
for route in app.routes:
    if isinstance(route, Mount) and isinstance(route.app, web.Assets):
        static = old / "static" if old is not None and route.path == "/static" else route.app.directory
        route.app = StaticFiles(directory=static)
prepare(app)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[5]), log_level="warning")
"""

TRANSFER = """() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
    .reduce((n, e) => n + e.transferSize, 0)"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(code: str, db: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--db", str(db), "--port", str(port), *extra],
                            stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2):
                return proc, base
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("server did not start") from None
            time.sleep(0.1)


def _load(page: Any, url: str) -> tuple[float, float, float]:
    """(loadEventEnd ms, drawn ms, bytes transferred) of one navigation."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function("document.body.dataset.ready !== undefined", timeout=30000)
    ready = (time.perf_counter() - t0) * 1000
    if page.evaluate("document.body.dataset.ready") != "1":
        raise SystemExit(f"{url} did not load its data")
    load = float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
    return load, ready, float(page.evaluate(TRANSFER))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-web", type=Path, help="templates and static/ of an earlier dashboard for the peer")
    args = ap.parse_args()
    if args.peer_web is not None and not (args.peer_web / "templates" / "map.html").exists():
        raise SystemExit(f"--peer-web {args.peer_web}: no templates/map.html there")
    from playwright.sync_api import sync_playwright

    from orechain.claims.ingest import ingest_paths
    from orechain.evidence.shipped import load_into
    from orechain.evidence.store import Store

    kinds = ["served", "peer", "served, repeat"]
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {(k, p): [] for k in kinds for p in PAGES}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            load_into(store)
            list(ingest_paths(store, [CLAIMS]))
        servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            servers["served"] = _start(SERVED, db)
            servers["peer"] = _start(PEER, db, *([str(args.peer_web.resolve())] if args.peer_web else []))
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
                for run in range(args.runs):
                    for path in PAGES:
                        order = ["served", "peer"] if run % 2 == 0 else ["peer", "served"]
                        for kind in order:
                            ctx = browser.new_context(viewport={"width": 1366, "height": 768})
                            page = ctx.new_page()
                            results[(kind, path)].append(_load(page, servers[kind][1] + path))
                            if kind == "served":
                                results[("served, repeat", path)].append(_load(page, servers[kind][1] + path))
                            ctx.close()
                browser.close()
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    load_after = os.getloadavg()
    peer = f"plain StaticFiles, pages from {args.peer_web}" if args.peer_web else "plain StaticFiles, same pages"
    print(f"first load, fresh browser context each time, {args.runs} runs per page and server (Chromium headless, "
          f"loopback); peer: {peer}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"{'page':22} {'server':15} {'load median':>11} {'drawn median':>12} {'drawn max':>9} {'bytes':>9}")
    for path in PAGES:
        for kind in kinds:
            rows = results[(kind, path)]
            load, ready, size = ([r[i] for r in rows] for i in range(3))
            print(f"{path:22} {kind:15} {statistics.median(load):9.0f}ms {statistics.median(ready):10.0f}ms "
                  f"{max(ready):7.0f}ms {statistics.median(size) / 1024:7.0f}kB")
    for path in PAGES:
        s = statistics.median(r[1] for r in results[("served", path)])
        p = statistics.median(r[1] for r in results[("peer", path)])
        rep = statistics.median(r[1] for r in results[("served, repeat", path)])
        print(f"{path:22} drawn, served/peer: {s / p:.2f}; repeat/first: {rep / s:.2f}")
    worst, where = max((max(r[1] for r in results[("served", p)]), p) for p in PAGES)
    print(f"target: every page drawn in under 2 s on first load: {'meets' if worst < 2000 else 'MISSES'} "
          f"(worst {worst:.0f} ms, {where})")


if __name__ == "__main__":
    main()
