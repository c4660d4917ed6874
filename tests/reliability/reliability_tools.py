"""Helpers for the reliability tests: BACI-format trade files, worker processes, consistency checks.

The writes go through the real ``baci`` importer (``orechain data import baci``) into ``trade_flows``.
``trade_flows`` has no primary key, so a file imported twice would duplicate every row: exactly what the
concurrency and kill tests must rule out.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text

from orechain.evidence import schema
from orechain.evidence.names import countries
from orechain.evidence.store import Store

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
TRADE_KIND = "baci"


def write_trade_file(folder: Path, rows: int, seed: int) -> Path:
    """A deterministic BACI file (``t,i,j,k,v,q``) of ``rows`` distinct flows; different seeds, different files.

    Named like a BACI release part, so every such file cites the same source.
    """
    rng = random.Random(seed)
    codes = sorted(c.numeric for c in countries() if c.numeric is not None)
    years = (2021, 2022, 2023)
    products = ("280530", "284690", "261790", "811010", "810194", "850511")
    n = len(codes)
    path = folder / f"BACI_HS22_Y2023_V202501_part{seed}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["t", "i", "j", "k", "v", "q"])
        for key in rng.sample(range(len(years) * n * n * len(products)), rows):
            key, p = divmod(key, len(products))
            key, j = divmod(key, n)
            y, i = divmod(key, n)
            w.writerow([years[y], codes[i], codes[j], products[p], round(rng.uniform(0.1, 5e4), 3),
                        round(rng.uniform(0, 1e4), 3)])
    return path


def worker(*args: str, barrier: Path | None = None) -> subprocess.Popen[str]:
    """Start ``worker.py`` in its own process (``import DB FILE...`` or ``load DB``)."""
    cmd = [sys.executable, str(WORKER), *args]
    if barrier is not None:
        cmd += ["--barrier", str(barrier)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def start_together(jobs: list[tuple[str, ...]], barrier: Path, timeout: float = 120) -> list[subprocess.Popen[str]]:
    """Start one worker per job and release them at the same moment, once all have started Python."""
    barrier.mkdir(parents=True, exist_ok=True)
    procs = [worker(*job, barrier=barrier) for job in jobs]
    deadline = time.monotonic() + timeout
    while len(list(barrier.glob("ready-*"))) < len(procs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            raise RuntimeError(f"workers did not all start: {[p.communicate() for p in procs]}")
        time.sleep(0.01)
    (barrier / "go").touch()
    return procs


def wait_all(procs: list[subprocess.Popen[str]], timeout: float = 300) -> list[tuple[int, str, str]]:
    deadline = time.monotonic() + timeout
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        out.append((p.returncode, stdout, stderr))
    return out


def consistency_problems(db: str) -> list[str]:
    """Everything wrong with the database after a crash: corruption, dangling rows, partial imports."""
    problems: list[str] = []
    with Store.open(db, migrate=False) as store, store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            check = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
            if check != ["ok"]:
                problems.append(f"integrity_check: {check[:5]}")
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if fk:
                problems.append(f"foreign_key_check: {fk[:5]}")
        if "imports" not in set(conn.dialect.get_table_names(conn)):
            return problems  # killed before the schema was committed: an empty database is consistent
        present = set(conn.dialect.get_table_names(conn))
        with_ids = [t for t in schema.metadata.tables.values() if "import_id" in t.c and t.name in present]
        imports = conn.execute(select(schema.imports.c.id, schema.imports.c.kind, schema.imports.c.added)).all()
        for import_id, kind, added in imports:
            n = sum(conn.execute(select(func.count()).select_from(t).where(t.c.import_id == import_id)).scalar_one()
                    for t in with_ids)
            if n != added:
                problems.append(f"{kind} import {import_id} records {added} rows added but {n} are stored")
        orphans = conn.execute(text(
            "SELECT count(*) FROM trade_flows WHERE import_id NOT IN (SELECT id FROM imports)")).scalar_one()
        if orphans:
            problems.append(f"{orphans} trade rows belong to no recorded import")
        dup = conn.execute(text(
            "SELECT count(*) FROM (SELECT kind, sha256 FROM imports GROUP BY kind, sha256 HAVING count(*) > 1) d"
        )).scalar_one()
        if dup:
            problems.append(f"{dup} files recorded as imported more than once")
    return problems


def table_counts(db: str) -> dict[str, int]:
    with Store.open(db, migrate=False) as store:
        return store.counts()


@dataclass
class KillTrial:
    """One ``kill -9`` trial: what the database held after the kill, and whether a rerun finished the work."""

    backend: str
    delay_s: float
    state_after_kill: str  # "empty", "schema", "shipped records", "shipped", "imported"
    finished_before_kill: bool  # the worker had already exited: this trial interrupted nothing
    problems: list[str]
    final_counts: dict[str, int]  # after the rerun: must equal an uninterrupted run's
    lost_rows: int = 0  # rows of a table fewer than after an uninterrupted run (must be 0)
    extra_rows: int = 0  # rows of a table more than after an uninterrupted run (must be 0)

    @property
    def survived(self) -> bool:
        return not self.problems and self.lost_rows == 0 and self.extra_rows == 0

    def compare(self, reference: dict[str, int]) -> None:
        diff = {t: self.final_counts.get(t, 0) - n for t, n in reference.items() if self.final_counts.get(t, 0) != n}
        self.lost_rows = -sum(d for d in diff.values() if d < 0)
        self.extra_rows = sum(d for d in diff.values() if d > 0)
        if diff:
            self.problems.append(f"after the rerun, row counts differ from an uninterrupted run: {diff}")


def state_of(db: str) -> str:
    """How far a killed run got (each step is its own transaction)."""
    with Store.open(db, migrate=False) as store:
        if store.revision() is None:
            return "empty"
        counts = store.counts()
    if counts.get("trade_flows", 0):
        return "imported"
    if counts.get("governance", 0):
        return "shipped"
    return "shipped records" if counts.get("sources", 0) else "schema"


def kill_trial(backend: str, db: str, file: Path, delay_s: float, barrier: Path) -> KillTrial:
    """Import ``file`` into ``db`` in a worker, SIGKILL it ``delay_s`` after it starts work, check, rerun, check.

    The caller compares ``final_counts`` with an uninterrupted run (:meth:`KillTrial.compare`).
    """
    (proc,) = start_together([("import", db, str(file))], barrier)
    time.sleep(delay_s)
    finished = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    problems = consistency_problems(db)
    state = state_of(db)
    ((rc, _, err),) = wait_all([worker("import", db, str(file))])
    if rc != 0:
        problems.append(f"rerun failed (exit {rc}): {err.strip()[-500:]}")
    problems += [f"after rerun: {p}" for p in consistency_problems(db)]
    return KillTrial(backend, delay_s, state, finished, problems, table_counts(db))


def clean_run(db: str, file: Path, barrier: Path) -> tuple[float, dict[str, int]]:
    """An uninterrupted import of ``file`` into the new database ``db``: seconds from the go signal, and the
    row counts it leaves."""
    (proc,) = start_together([("import", db, str(file))], barrier)
    t0 = time.monotonic()
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"clean run failed: {err}")
    return time.monotonic() - t0, table_counts(db)


def imports_of(db: str, kind: str) -> int:
    with Store.open(db, migrate=False) as store, store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.imports)
                                .where(schema.imports.c.kind == kind)).scalar_one())
