"""Scenario runs as jobs, kept in the evidence database: progress, a deadline, a bounded queue, and results
cached by content hash, shared by every API process on the same database.

A job's key is the sha256 of the scenario YAML normalised (parsed and re-serialised with sorted keys, so
comments, key order and whitespace do not matter) together with the run parameters (scenarios, seed).
Submitting the same key again returns the job that already has (or is computing) that result, from any process:
the ``scenario_jobs`` table (migration ``0006_scenario_jobs``) holds one row per key (a unique constraint), so
two processes that submit the same scenario at once get one job (the loser of the insert reads the winner's row).
A failed or timed-out job is replaced when its key is submitted again (its old id then answers 404).

The process that accepted a job runs it in its own bounded thread pool and refreshes the job's heartbeat (and
progress) every ``heartbeat_s`` seconds. Any process that reads a queued or running job whose heartbeat is
older than ``stale_after_s`` marks it failed with an error saying the worker process stopped (died, killed, or
restarted), so no job stays "running" forever.

No job hangs: the queue is bounded (more than ``max_queued`` waiting jobs on the database answers 503), and each
run checks its deadline after every block of scenarios (the engine reports progress per block), so a run stops
at most one block after its time is up and is marked ``timed_out``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, true, update
from sqlalchemy.exc import IntegrityError

from orechain.evidence.schema import scenario_jobs as T
from orechain.evidence.store import Store

__all__ = ["Job", "JobManager", "JobState", "QueueFull", "content_hash"]

Runner = Callable[[Callable[[int], None]], dict[str, Any]]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


_ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)


class QueueFull(RuntimeError):
    """Too many jobs waiting; the client should retry later."""


class _Deadline(Exception):
    pass


class _Stopping(Exception):
    pass


def content_hash(normalised: Any, params: dict[str, Any]) -> str:
    blob = json.dumps({"scenario": normalised, "params": params}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    """A job as the database holds it (a snapshot: read it again with :meth:`JobManager.get`)."""

    id: str
    key: str
    state: JobState
    total: int
    done: int
    submitted: float
    started: float | None
    finished: float | None
    deadline: float | None
    heartbeat: float
    error: str | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Job:
        return cls(id=row["id"], key=row["content_hash"], state=JobState(row["state"]), total=int(row["scenarios"]),
                   done=int(row["done"]), submitted=float(row["submitted_at"]), started=row["started_at"],
                   finished=row["finished_at"], deadline=row["deadline_at"], heartbeat=float(row["heartbeat_at"]),
                   error=row["error"])

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state.value, "progress": round(self.done / self.total, 4) if self.total
                else 0.0, "scenarios_done": self.done, "scenarios": self.total, "content_hash": self.key,
                "submitted": self.submitted, "started": self.started, "finished": self.finished,
                "deadline": self.deadline, "error": self.error}


_STATUS_COLUMNS = [c for c in T.c if c.name != "result"]


class JobManager:
    """Jobs on ``store``'s ``scenario_jobs`` table, run by this process in ``workers`` threads."""

    def __init__(self, store: Store, *, workers: int = 2, max_queued: int = 8, timeout_s: float = 120.0,
                 keep: int = 64, heartbeat_s: float = 5.0, stale_after_s: float = 30.0) -> None:
        if stale_after_s <= heartbeat_s:
            raise ValueError(f"stale_after_s ({stale_after_s:g}) must be longer than heartbeat_s ({heartbeat_s:g})")
        self.store = store
        self.workers = workers
        self.max_queued = max_queued
        self.timeout_s = timeout_s
        self.keep = keep
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.worker = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orechain-job")
        self._lock = threading.Lock()
        self._owned: dict[str, int] = {}  # jobs this process has queued or is running -> scenarios done
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- reading -------------------------------------------------------------------------------
    def get(self, job_id: str) -> Job | None:
        """The job (None when unknown); a queued or running job whose worker stopped is marked failed first."""
        with self.store.engine.connect() as conn:
            row = conn.execute(select(*_STATUS_COLUMNS).where(T.c.id == job_id)).mappings().first()
        if row is None:
            return None
        job = Job.from_row(row)
        if job.state.value in _ACTIVE and time.time() - job.heartbeat > self.stale_after_s:
            with self.store.transaction() as conn:
                self._fail_stale(conn, T.c.id == job_id)
            return self.get(job_id)
        with self._lock:
            live = self._owned.get(job_id)
        if live is not None and live > job.done:  # this process runs it: its progress is newer than the row's
            job = Job(**{**job.__dict__, "done": live})
        return job

    def result(self, job_id: str) -> tuple[Job, str | None] | None:
        """The job and its result as JSON text (None while it has none); None when the job is unknown."""
        job = self.get(job_id)
        if job is None:
            return None
        if job.state is not JobState.DONE:
            return job, None
        with self.store.engine.connect() as conn:
            text = conn.execute(select(T.c.result).where(T.c.id == job_id)).scalar_one_or_none()
        return job, text

    def _fail_stale(self, conn: Connection, where: Any) -> None:
        now = time.time()
        cutoff = now - self.stale_after_s
        conn.execute(update(T).where(where, T.c.state.in_(_ACTIVE), T.c.heartbeat_at < cutoff).values(
            state=JobState.FAILED.value, finished_at=now,
            error=("the worker process stopped: no heartbeat for more than "
                   f"{self.stale_after_s:g} s (the server running it died or was restarted); submit it again")))

    # -- submitting ----------------------------------------------------------------------------
    def submit(self, key: str, total: int, run: Runner) -> tuple[Job, bool]:
        """The job for ``key`` (True when it was already known) or a new one running ``run(progress)`` here."""
        for _attempt in range(3):
            try:
                job, known = self._claim(key, total)
            except IntegrityError:  # another process inserted this key between our read and our insert
                continue
            if not known:
                with self._lock:
                    self._owned[job.id] = 0
                self._ensure_heartbeat()
                self._pool.submit(self._run, job.id, total, run)
            return job, known
        raise RuntimeError(f"could not submit or find the job for content hash {key[:12]}")  # pragma: no cover

    def _claim(self, key: str, total: int) -> tuple[Job, bool]:
        with self.store.transaction() as conn:
            self._fail_stale(conn, true())
            row = conn.execute(select(*_STATUS_COLUMNS).where(T.c.content_hash == key)).mappings().first()
            if row is not None:
                if row["state"] in (*_ACTIVE, JobState.DONE.value):
                    return Job.from_row(row), True
                conn.execute(delete(T).where(T.c.id == row["id"]))  # failed or timed out: run it again
            waiting = conn.execute(select(func.count()).select_from(T).where(
                T.c.state == JobState.QUEUED.value)).scalar_one()
            if waiting >= self.max_queued:
                raise QueueFull(f"{waiting} jobs are waiting; retry later")
            now = time.time()
            values = {"id": uuid.uuid4().hex, "content_hash": key, "state": JobState.QUEUED.value, "scenarios": total,
                      "done": 0, "submitted_at": now, "started_at": None, "finished_at": None, "deadline_at": None,
                      "heartbeat_at": now, "worker": self.worker, "error": None}
            conn.execute(T.insert().values(**values))
        return Job.from_row(values), False

    # -- running -------------------------------------------------------------------------------
    def _set(self, job_id: str, where_state: tuple[str, ...] | None = None, **values: Any) -> bool:
        with self.store.transaction() as conn:
            cond = [T.c.id == job_id] + ([T.c.state.in_(where_state)] if where_state else [])
            return bool(conn.execute(update(T).where(*cond).values(**values)).rowcount)

    def _run(self, job_id: str, total: int, run: Runner) -> None:
        try:
            self._run_claimed(job_id, total, run)
        finally:
            with self._lock:
                self._owned.pop(job_id, None)

    def _run_claimed(self, job_id: str, total: int, run: Runner) -> None:
        started = time.time()
        if self._stop.is_set():
            self._set(job_id, _ACTIVE, state=JobState.FAILED.value, finished_at=started,
                      error="the server shut down before the job started; submit it again")
            return
        deadline = started + self.timeout_s
        if not self._set(job_id, (JobState.QUEUED.value,), state=JobState.RUNNING.value, started_at=started,
                         deadline_at=deadline, heartbeat_at=started):
            return  # marked failed meanwhile (its heartbeat was late): nothing to run
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done = min(total, done + int(n))
            with self._lock:
                self._owned[job_id] = done
            if self._stop.is_set():
                raise _Stopping
            if time.time() > deadline:
                raise _Deadline

        values: dict[str, Any]
        try:
            result = run(progress)
            values = {"state": JobState.DONE.value, "done": total, "result": json.dumps(
                result, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)}
        except _Deadline:
            values = {"state": JobState.TIMED_OUT.value, "done": done,
                      "error": f"the run passed its time limit of {self.timeout_s:g} s after {done:,} scenarios"}
        except _Stopping:
            values = {"state": JobState.FAILED.value, "done": done,
                      "error": f"the server shut down after {done:,} scenarios; submit it again"}
        except Exception as exc:  # the job reports it; the server carries on
            values = {"state": JobState.FAILED.value, "done": done, "error": f"{type(exc).__name__}: {exc}"}
        now = time.time()
        self._set(job_id, state=values.pop("state"), finished_at=now, heartbeat_at=now, **values)
        self._evict()

    def _evict(self) -> None:
        """Keep the ``keep`` most recently finished jobs (and every queued or running one)."""
        finished = ~T.c.state.in_(_ACTIVE)
        with self.store.transaction() as conn:
            cutoff = conn.execute(select(T.c.finished_at).where(finished).order_by(T.c.finished_at.desc())
                                  .limit(1).offset(self.keep)).scalar_one_or_none()
            if cutoff is not None:
                conn.execute(delete(T).where(finished, T.c.finished_at <= cutoff))

    # -- heartbeat -----------------------------------------------------------------------------
    def _ensure_heartbeat(self) -> None:
        with self._lock:
            if self._beat is None and not self._stop.is_set():
                self._beat = threading.Thread(target=self._heartbeat_loop, name="orechain-job-heartbeat", daemon=True)
                self._beat.start()

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            self.beat()

    def beat(self) -> None:
        """Refresh the heartbeat and progress of every job this process holds (the heartbeat thread calls it)."""
        with self._lock:
            owned = dict(self._owned)
        if not owned:
            return
        now = time.time()
        stmt = update(T).where(T.c.id == bindparam("jid"), T.c.state.in_(_ACTIVE)).values(
            heartbeat_at=now, done=bindparam("d"))
        try:
            with self.store.transaction() as conn:
                conn.execute(stmt, [{"jid": jid, "d": d} for jid, d in owned.items()])
        except Exception:  # a busy or unreachable database: try again at the next beat (readers wait stale_after_s)
            return

    def shutdown(self, wait: bool = False) -> None:
        """Stop: queued jobs of this process are marked failed, running ones stop at their next block (``wait``:
        return only when they have stopped and the heartbeat thread has ended)."""
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait and self._beat is not None:
            self._beat.join()
        with self._lock:
            owned = list(self._owned)
        now = time.time()
        try:
            with self.store.transaction() as conn:
                conn.execute(update(T).where(T.c.id.in_(owned), T.c.state == JobState.QUEUED.value).values(
                    state=JobState.FAILED.value, finished_at=now,
                    error="the server shut down before the job started; submit it again"))
        except Exception:  # a closed store: readers mark them failed when the heartbeat is stale
            return
