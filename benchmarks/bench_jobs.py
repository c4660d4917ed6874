"""What keeping scenario jobs in the evidence database costs (SQLite, shipped evidence base, in-process client).

Side by side in one run:

* ``status read``: ``GET /api/v1/scenarios/jobs/{id}`` of a finished job (a row read from the database) and
  ``GET /api/v1/scenarios/builtin`` (a small answer built without the database) through the same client: their
  ratio is what the database read adds to a poll;
* ``cache churn``: every job write (submit, start, finish, and each heartbeat while a job runs) commits to the
  evidence database, which moves its data version, so the API's response cache and read model drop what they
  hold: the first read of each of four list endpoints after one job write, against the same reads cached.

    .venv/bin/python benchmarks/bench_jobs.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from orechain.evidence.schema import scenario_jobs
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app

LISTS = ["/api/v1/facilities?limit=50", "/api/v1/observations?limit=50", "/api/v1/sources?limit=50",
         "/api/v1/deals?limit=50"]


def timed(c: TestClient, path: str) -> float:
    t = time.perf_counter()
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    db = Path(tempfile.mkdtemp()) / "bench_jobs.db"
    with Store.open(db) as s:
        load_into(s)
    app = create_app(db=db, load_shipped=False)
    jobs = app.state.orechain.extras["jobs"]
    with TestClient(app) as c:
        with jobs.store.transaction() as conn:
            conn.execute(scenario_jobs.insert().values(
                id="f" * 32, content_hash="f" * 64, state="done", scenarios=1, done=1, submitted_at=0.0,
                heartbeat_at=0.0, worker="bench", result="{}"))
        for p in [*LISTS, "/api/v1/scenarios/builtin", f"/api/v1/scenarios/jobs/{'f' * 32}"]:
            c.get(p)
        status = [timed(c, f"/api/v1/scenarios/jobs/{'f' * 32}") for _ in range(args.rounds * 10)]
        nodb = [timed(c, "/api/v1/scenarios/builtin") for _ in range(args.rounds * 10)]
        cached: list[float] = []
        after: list[float] = []
        for i in range(args.rounds):
            cached += [timed(c, p) for p in LISTS]
            with jobs.store.transaction() as conn:  # what a heartbeat does: one small committed update
                conn.execute(scenario_jobs.update().where(scenario_jobs.c.id == "f" * 32).values(heartbeat_at=i))
            after += [timed(c, p) for p in LISTS]
    jobs.shutdown(wait=True)
    app.state.orechain.store.close()
    med = statistics.median
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"status read   job status {med(status):.2f} ms median, no-database endpoint {med(nodb):.2f} ms: "
          f"x{med(status) / med(nodb):.2f}")
    print(f"cache churn   first list read after a job write {med(after):.1f} ms median (max {max(after):.1f}), "
          f"cached {med(cached):.2f} ms: x{med(after) / med(cached):.0f}")


if __name__ == "__main__":
    main()
