"""Mixed read and write load on loopback: zero errors and zero lost writes (every acknowledged write is in the
database afterwards).

A real server (``orechain serve``, uvicorn, one process) runs on a fresh copy of the shipped evidence base
(SQLite by default; ``--db postgresql+psycopg://...`` for a PostgreSQL database, which is emptied of
earlier load rows first). ``--clients`` threads, each with its own editor token and keep-alive connection,
loop until the time is up, each request a read with probability ``1 - --write-share``, else a write:

* reads: facility lists and details, observations, sources, deals, the audit log;
* writes: add an observation (unique period per client and sequence number), edit the capacity of a
  facility the client owns alone (so its last acknowledged value is known), and now and then undo the
  client's latest observation (which must then be absent).

Afterwards the database is read directly: every acknowledged observation is there (the undone ones are
not), each client's facilities hold the last capacity it was acknowledged, and every acknowledged change
id is in the audit log. Any non-2xx answer, transport error or missing write is reported; exit status 1
when there is any.

    .venv/bin/python benchmarks/bench_load_mixed.py --minutes 10 [--clients 8] [--write-share 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from sqlalchemy import select

from orechain.access import tables, users
from orechain.access.audit import Actor
from orechain.evidence import schema
from orechain.evidence.store import Store

REPO = Path(__file__).resolve().parents[1]
READS = ["/api/v1/facilities?limit=100", "/api/v1/facilities?stage=separation", "/api/v1/observations?"
         "commodity=rare-earths&limit=200", "/api/v1/sources?limit=100", "/api/v1/deals", "/api/v1/countries?limit=50"]
SETUP = Actor("bench-setup")
LOAD_METRIC = "load_test"


@dataclass
class ClientLog:
    name: str
    facilities: list[str]
    observations: dict[str, str] = field(default_factory=dict)  # acknowledged id -> change id
    undone: set[str] = field(default_factory=set)
    capacity: dict[str, float] = field(default_factory=dict)  # facility -> last acknowledged capacity
    changes: list[str] = field(default_factory=list)
    latency: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": []})
    errors: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(db: str | None, clients: int, work: Path) -> tuple[str, list[str], list[list[str]], str]:
    """The database URL, one editor token per client, each client's own facilities and a source id."""
    from orechain.evidence.shipped import load_into

    url = db or str(work / "load.db")
    with Store.open(url) as store:
        if store.counts().get("sources", 0) == 0:
            load_into(store)
        with store.transaction() as conn:  # a reused (PostgreSQL) database: drop earlier load rows and users
            conn.execute(schema.observations.delete().where(schema.observations.c.metric == LOAD_METRIC))
            conn.execute(tables.api_tokens.delete().where(tables.api_tokens.c.user_name.like("load-%")))
            conn.execute(tables.api_users.delete().where(tables.api_users.c.name.like("load-%")))
        with store.engine.connect() as conn:
            facs = [r[0] for r in conn.execute(select(schema.facilities.c.id).order_by(schema.facilities.c.id))]
            source = conn.execute(select(schema.sources.c.id).order_by(schema.sources.c.id).limit(1)).scalar_one()
        tokens = []
        for i in range(clients):
            users.add_user(store, f"load-{i}", "editor", SETUP)
            tokens.append(users.issue_token(store, f"load-{i}", SETUP, label="bench_load_mixed"))
    per = max(1, min(4, len(facs) // clients))
    owned = [facs[i * per:(i + 1) * per] for i in range(clients)]
    return url, tokens, owned, source


def _client(base: str, token: str, log: ClientLog, source: str, deadline: float, write_share: float,
            seed: int) -> None:
    rng = random.Random(seed)
    seq = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60.0) as http:
        while time.monotonic() < deadline:
            write = rng.random() < write_share
            t0 = time.perf_counter()
            try:
                if not write:
                    path = rng.choice([*READS, f"/api/v1/facilities/{rng.choice(log.facilities)}",
                                       "/api/v1/changes?limit=20"])
                    r = http.get(path)
                    ok = r.status_code == 200
                    what = "GET " + ("/api/v1/facilities/{id}" if path.startswith("/api/v1/facilities/")
                                     else path.split("?")[0])
                else:
                    kind = rng.random()
                    if kind < 0.55:
                        seq += 1
                        body = {"metric": LOAD_METRIC, "commodity": "rare-earths", "country": "PAK", "year": 2030,
                                "period": f"{log.name}-{seq}", "value": float(seq), "unit": "t",
                                "source_id": source, "quality": "unconfirmed"}
                        r = http.post("/api/v1/observations", json=body)
                        ok = r.status_code == 201
                        if ok:
                            log.observations[r.json()["record"]["id"]] = r.json()["change_id"]
                        what = "POST /observations"
                    elif kind < 0.95 or not log.observations:
                        fac = rng.choice(log.facilities)
                        cap = float(rng.randint(1, 10**6))
                        r = http.patch(f"/api/v1/facilities/{fac}", json={"source_id": source, "capacity": cap,
                                                                          "capacity_unit": "t"})
                        ok = r.status_code == 200
                        if ok:
                            # an unchanged value gives no change id; the value still stands acknowledged
                            log.capacity[fac] = cap
                        what = "PATCH /facilities"
                    else:
                        oid = next(reversed(log.observations))
                        r = http.post(f"/api/v1/changes/{log.observations[oid]}/undo")
                        ok = r.status_code == 201
                        if ok:
                            log.undone.add(oid)
                            del log.observations[oid]
                        what = "POST /undo"
                    if ok and r.json().get("change_id"):
                        log.changes.append(r.json()["change_id"])
                log.statuses[f"{what} {r.status_code}"] += 1
                if not ok:
                    log.errors.append(f"{what}: {r.status_code} {r.text[:200]}")
            except httpx.HTTPError as exc:
                log.errors.append(f"{'write' if write else 'read'}: {type(exc).__name__}: {exc}")
            log.latency["write" if write else "read"].append(time.perf_counter() - t0)


def _verify(url: str, logs: list[ClientLog]) -> dict[str, int]:
    with Store.open(url) as store, store.engine.connect() as conn:
        present = {r[0] for r in conn.execute(select(schema.observations.c.id)
                                              .where(schema.observations.c.metric == LOAD_METRIC))}
        caps = dict(conn.execute(select(schema.facilities.c.id, schema.facilities.c.capacity)).all())
        logged = {r[0] for r in conn.execute(select(tables.audit_log.c.change_id).distinct())}
    acked = {oid for lg in logs for oid in lg.observations}
    undone = {oid for lg in logs for oid in lg.undone}
    return {
        "observations_acknowledged": len(acked),
        "observations_missing": len(acked - present),
        "observations_undone": len(undone),
        "undone_still_present": len(undone & present),
        "observations_unacknowledged_present": len(present - acked),
        "capacity_edits_checked": sum(len(lg.capacity) for lg in logs),
        "capacity_wrong": sum(1 for lg in logs for f, v in lg.capacity.items() if caps.get(f) != v),
        "changes_acknowledged": sum(len(lg.changes) for lg in logs),
        "changes_missing_from_audit_log": sum(1 for lg in logs for c in lg.changes if c not in logged),
    }


def _pct(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    a = np.asarray(values) * 1000
    return {"p50_ms": round(float(np.percentile(a, 50)), 1), "p95_ms": round(float(np.percentile(a, 95)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=1.0, help="how long the load runs (default 1)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    ap.add_argument("--write-share", type=float, default=0.2, help="share of requests that write (default 0.2)")
    ap.add_argument("--db", help="a PostgreSQL URL to run on (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="orechain-load-"))
    try:
        url, tokens, owned, source = _prepare(args.db, args.clients, work)
        port = _free_port()
        env = {**os.environ, "ORECHAIN_API_READ_TOKEN_REQUIRED": "false"}
        cli = Path(sys.executable).parent / "orechain"
        server = subprocess.Popen([str(cli), "serve", "--port", str(port), "--db", url], env=env, cwd=REPO,
                                  stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if server.poll() is not None:
                break
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            server.kill()
            print("the server did not start:", server.stderr.read() if server.stderr else "", file=sys.stderr)
            return 2
        logs = [ClientLog(f"c{i}", owned[i]) for i in range(args.clients)]
        load_before = os.getloadavg()
        start = time.monotonic()
        deadline = start + args.minutes * 60
        threads = [threading.Thread(target=_client, args=(base, tokens[i], logs[i], source, deadline,
                                                          args.write_share, i)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        checks = _verify(url, logs)
        reads = [x for lg in logs for x in lg.latency["read"]]
        writes = [x for lg in logs for x in lg.latency["write"]]
        errors = [e for lg in logs for e in lg.errors]
        statuses: Counter[str] = Counter()
        for lg in logs:
            statuses.update(lg.statuses)
        lost = checks["observations_missing"] + checks["undone_still_present"] + checks["capacity_wrong"] + \
            checks["changes_missing_from_audit_log"]
        out = {
            "database": "postgresql" if "://" in url else "sqlite", "minutes": round(elapsed / 60, 2),
            "clients": args.clients, "write_share": args.write_share,
            "requests": len(reads) + len(writes), "reads": len(reads), "writes": len(writes),
            "requests_per_s": round((len(reads) + len(writes)) / elapsed, 1),
            "writes_per_s": round(len(writes) / elapsed, 1),
            "read_latency": _pct(reads), "write_latency": _pct(writes),
            "errors": len(errors), "lost_writes": lost, "checks": checks,
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
            "statuses": dict(sorted(statuses.items())),
        }
        print(json.dumps(out, indent=2))
        if errors:
            print("first errors:", *errors[:10], sep="\n  ", file=sys.stderr)
        if args.json:
            args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
        return 0 if not errors and lost == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
