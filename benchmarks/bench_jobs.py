"""What keeping scenario jobs in the evidence database costs (SQLite, shipped evidence base, in-process client),
and what the per-table data versions (migration 0007) change.

Side by side in one run:

* ``status read``: ``GET /api/v1/scenarios/jobs/{id}`` of a finished job (a row read from the database) and
  ``GET /api/v1/scenarios/builtin`` (a small answer built without the database) through the same client: their
  ratio is what the database read adds to a poll;
* ``reads while jobs run``: the first read of each of four list endpoints after one job write (what a heartbeat
  does every 5 s while a job runs), against the same reads cached, on two copies of one database: ``per-table``
  (schema at head: the API reads ``data_versions`` when the database-wide version moved, finds no tracked table
  changed, and keeps everything) and ``database-wide`` (the same database downgraded to 0006, no
  ``data_versions``: the probe falls back to ``PRAGMA data_version`` alone, as before 0007, and every job write
  drops the response cache and the read model);
* ``import cost``: the triggers' cost on writes (SQLite has only row triggers): loading the shipped evidence base
  into a new database, and one bulk insert of ``--bulk-rows`` rows into ``sources``, with and without the
  triggers (best of ``--repeat``);
* with ``--pg URL`` (a database a test role may write, e.g. ``$ORECHAIN_TEST_PG_URL``): the per-request probe on
  PostgreSQL, before (``SELECT pg_current_snapshot()``) and after (``SELECT ... FROM data_versions``), the same
  autocommit connection, in process.

    .venv/bin/python benchmarks/bench_jobs.py [--rounds 30] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from orechain.evidence.schema import scenario_jobs, sources
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app

LISTS = ["/api/v1/facilities?limit=50", "/api/v1/observations?limit=50", "/api/v1/sources?limit=50",
         "/api/v1/deals?limit=50"]
JOB = "f" * 32
BEFORE = "0006_scenario_jobs"  # the revision before per-table data versions


def timed(c: TestClient, path: str) -> float:
    t = time.perf_counter()
    r = c.get(path)
    assert r.status_code == 200, (path, r.status_code)
    return (time.perf_counter() - t) * 1000


def downgrade(store: Store, rev: str = BEFORE) -> None:
    from alembic import command

    with store.engine.begin() as conn:
        command.downgrade(store._alembic_config(conn), rev)


def churn(db: Path, rounds: int, *, migrate: bool) -> dict[str, Any]:
    """Job writes interleaved with list reads through one app on ``db``."""
    app = create_app(db=Store.open(db, migrate=migrate), load_shipped=False, dashboard=False)
    ctx = app.state.orechain
    jobs = ctx.extras["jobs"]
    with TestClient(app) as c:
        with jobs.store.transaction() as conn:
            conn.execute(scenario_jobs.insert().values(
                id=JOB, content_hash="f" * 64, state="done", scenarios=1, done=1, submitted_at=0.0,
                heartbeat_at=0.0, worker="bench", result="{}"))
        for p in [*LISTS, "/api/v1/scenarios/builtin", f"/api/v1/scenarios/jobs/{JOB}"]:
            c.get(p)
        status = [timed(c, f"/api/v1/scenarios/jobs/{JOB}") for _ in range(rounds * 10)]
        nodb = [timed(c, "/api/v1/scenarios/builtin") for _ in range(rounds * 10)]
        cached: list[float] = []
        after: list[float] = []
        loads = ctx.model.loads
        for i in range(rounds):
            cached += [timed(c, p) for p in LISTS]
            with jobs.store.transaction() as conn:  # what a heartbeat does: one small committed update
                conn.execute(scenario_jobs.update().where(scenario_jobs.c.id == JOB).values(heartbeat_at=i))
            after += [timed(c, p) for p in LISTS]
        reloads = ctx.model.loads - loads
    jobs.shutdown(wait=True)
    ctx.store.close()
    return {"status": status, "nodb": nodb, "cached": cached, "after": after, "reloads": reloads}


def import_cost(tmp: Path, repeat: int, bulk_rows: int) -> dict[str, tuple[float, float]]:
    """Seconds (best of ``repeat``) with triggers and without, for the shipped base and a bulk insert."""
    out: dict[str, list[float]] = {"shipped": [], "shipped, no triggers": [], "bulk": [], "bulk, no triggers": []}
    rows = [{"id": f"bench-{i}", "publisher": "bench", "title": f"row {i}", "kind": "dataset"}
            for i in range(bulk_rows)]
    for r in range(repeat):
        for triggers in (True, False):
            db = tmp / f"import-{r}-{triggers}.db"
            with Store.open(db) as s:
                if not triggers:
                    downgrade(s)
                t = time.perf_counter()
                load_into(s)
                out["shipped" if triggers else "shipped, no triggers"].append(time.perf_counter() - t)
                t = time.perf_counter()
                with s.transaction() as conn:
                    conn.execute(sources.insert(), rows)
                out["bulk" if triggers else "bulk, no triggers"].append(time.perf_counter() - t)
    return {"shipped": (min(out["shipped"]), min(out["shipped, no triggers"])),
            "bulk": (min(out["bulk"]), min(out["bulk, no triggers"]))}


def pg_probe(url: str, n: int) -> tuple[float, float]:
    """Median microseconds of the PostgreSQL probe before and after 0007 (same connection, interleaved)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    raw = engine.raw_connection()
    raw.driver_connection.autocommit = True  # type: ignore[union-attr]
    cur = raw.cursor()
    before: list[float] = []
    after: list[float] = []
    for _ in range(n):
        for sql, into in (("SELECT pg_current_snapshot()::text", before),
                          ("SELECT table_name, version FROM data_versions", after)):
            t = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            into.append((time.perf_counter() - t) * 1e6)
    cur.close()
    raw.close()
    engine.dispose()
    return statistics.median(before), statistics.median(after)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3, help="import-cost repetitions (best of)")
    ap.add_argument("--bulk-rows", type=int, default=100_000)
    ap.add_argument("--pg", metavar="URL", help="also time the PostgreSQL probe before/after on this database "
                                                "(migrated to head first)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        head = tmp / "per-table.db"
        with Store.open(head) as s:
            load_into(s)
        wide = tmp / "database-wide.db"
        shutil.copy(head, wide)
        with Store.open(wide, migrate=False) as s:
            downgrade(s)
        now = churn(head, args.rounds, migrate=True)
        old = churn(wide, args.rounds, migrate=False)
        cost = import_cost(tmp, args.repeat, args.bulk_rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} rounds")
    print(f"status read   job status {med(now['status']):.2f} ms median, no-database endpoint "
          f"{med(now['nodb']):.2f} ms: x{med(now['status']) / med(now['nodb']):.2f}")
    print("reads while jobs run (first list read after a job write; median, max; cached median; table re-reads):")
    for name, r in (("per-table    ", now), ("database-wide", old)):
        print(f"  {name} {med(r['after']):6.2f} ms (max {max(r['after']):6.1f}), cached {med(r['cached']):.2f} ms: "
              f"x{med(r['after']) / med(r['cached']):.1f}; {r['reloads']} table reads for {args.rounds} job writes")
    print(f"  database-wide / per-table: x{med(old['after']) / med(now['after']):.1f} median, "
          f"x{max(old['after']) / max(now['after']):.1f} max")
    for what, (with_t, without) in cost.items():
        label = "shipped base load" if what == "shipped" else f"bulk insert of {args.bulk_rows:,} sources rows"
        print(f"import cost   {label}: {with_t:.3f} s with triggers, {without:.3f} s without: "
              f"x{with_t / without:.2f}")
    if args.pg:
        Store.open(args.pg).close()
        snap, versions = pg_probe(args.pg, 2000)
        print(f"pg probe      pg_current_snapshot {snap:.0f} us, data_versions {versions:.0f} us median: "
              f"x{versions / snap:.2f}")


if __name__ == "__main__":
    main()
