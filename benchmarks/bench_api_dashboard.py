"""Dashboard first load on loopback: real headless Chromium (Debian /usr/bin/chromium, via Playwright)
against a real uvicorn serving the shipped evidence base. Each run is a fresh browser context (empty
cache). Reported per page: the navigation timing's loadEventEnd, and the time until the page has drawn
its data (``document.body.dataset.ready``). The claims ledger shows the two fake test articles
(tests/api/fixtures/claims), ingested for the run. Target: first load of every page under 2 s.

    .venv/bin/python benchmarks/bench_api_dashboard.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_api import SERVER, start

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGES = ["/map", "/sankey", "/claims", "/deals/ussm-fwo-2025", "/deals", "/sources"]
CLAIMS = Path(__file__).parents[1] / "tests" / "api" / "fixtures" / "claims"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from orechain.evidence.shipped import load_into
    from orechain.evidence.store import Store

    results: dict[str, tuple[list[float], list[float]]] = {p: ([], []) for p in PAGES}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        with Store.open(db) as store:
            load_into(store)
            from orechain.claims.ingest import ingest_paths

            list(ingest_paths(store, [CLAIMS]))
        proc, base = start([SERVER, str(db), "2048", "256"])
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
                for _ in range(args.runs):
                    for path in PAGES:
                        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
                        page = ctx.new_page()
                        t0 = time.perf_counter()
                        page.goto(base + path)
                        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=30000)
                        ready = (time.perf_counter() - t0) * 1000
                        if page.evaluate("document.body.dataset.ready") != "1":
                            raise SystemExit(f"{path} did not load its data")
                        load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                        results[path][0].append(float(load))
                        results[path][1].append(ready)
                        ctx.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"first load, fresh browser context each time, {args.runs} runs per page (Chromium headless, loopback)")
    print(f"{'page':24} {'load median':>12} {'load max':>9} {'drawn median':>13} {'drawn max':>10}")
    for path, (load, ready) in results.items():
        print(f"{path:24} {statistics.median(load):10.0f}ms {max(load):7.0f}ms {statistics.median(ready):11.0f}ms "
              f"{max(ready):8.0f}ms")
    worst, where = max((max(ready), path) for path, (_, ready) in results.items())
    print(f"target: every page drawn in under 2 s: {'meets' if worst < 2000 else 'MISSES'} "
          f"(worst {worst:.0f} ms, {where})")


if __name__ == "__main__":
    main()
