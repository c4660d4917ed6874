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
        imports = conn.execute(select(schema.imports.c.id, schema.imports.c.rows)).all()
        for import_id, rows in imports:
            n = conn.execute(select(func.count()).select_from(schema.trade_flows)
                             .where(schema.trade_flows.c.import_id == import_id)).scalar_one()
            if n != rows:
                problems.append(f"import {import_id} records {rows} rows but {n} are stored")
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
    state_after_kill: str  # "empty", "schema", "shipped", "imported"
    problems: list[str]
    rerun_ok: bool
    lost_rows: int  # rows of the file missing after the rerun (must be 0)
    extra_rows: int  # rows stored more than once after the rerun (must be 0)

    @property
    def survived(self) -> bool:
        return not self.problems and self.rerun_ok and self.lost_rows == 0 and self.extra_rows == 0


def state_of(db: str, shipped_observations: tuple[int, ...]) -> tuple[str, list[str]]:
    """Where a killed run got to, and any sign of a partial shipped-data load.

    ``shipped_observations``: the shipped observation count just before and just after the trial (the
    shipped files sit in a working tree that others may be editing).
    """
    with Store.open(db, migrate=False) as store:
        if store.revision() is None:
            return "empty", []
        counts = store.counts()
    problems = []
    if counts.get("sources", 0) and counts.get("observations", 0) not in shipped_observations:
        problems.append(f"partial shipped load: {counts.get('observations')} observations, "
                        f"expected one of {shipped_observations}")
    if counts.get("imports", 0):
        return "imported", problems
    return ("shipped" if counts.get("sources", 0) else "schema"), problems


def kill_trial(backend: str, db: str, file: Path, rows: int, delay_s: float, barrier: Path) -> KillTrial:
    """Import ``file`` into ``db`` in a worker, SIGKILL it ``delay_s`` after it starts work, check, rerun, check."""
    before = shipped_observation_count()
    (proc,) = start_together([("import", db, str(file))], barrier)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    problems = consistency_problems(db)
    state, partial = state_of(db, (before, shipped_observation_count()))
    problems += partial
    ((rc, _, err),) = wait_all([worker("import", db, str(file))])
    if rc != 0:
        problems.append(f"rerun failed (exit {rc}): {err.strip()[-500:]}")
    problems += [f"after rerun: {p}" for p in consistency_problems(db)]
    counts = table_counts(db)
    stored = counts.get("trade_flows", 0)
    return KillTrial(backend, delay_s, state, problems, rc == 0 and counts.get("imports") == 1,
                     max(0, rows - stored), max(0, stored - rows))


def shipped_observation_count() -> int:
    from orechain.evidence.shipped import load_dataset

    return len(load_dataset().observations)


def clean_run_seconds(db: str, file: Path, barrier: Path) -> float:
    """How long an uninterrupted import of ``file`` into the new database ``db`` takes, from the go signal."""
    (proc,) = start_together([("import", db, str(file))], barrier)
    t0 = time.monotonic()
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"clean run failed: {err}")
    return time.monotonic() - t0
