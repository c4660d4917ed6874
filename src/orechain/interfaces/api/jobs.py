"""Scenario runs as jobs: a bounded worker pool, progress, a deadline, and results cached by content hash.

A job's key is the sha256 of the scenario YAML normalised (parsed and re-serialised with sorted keys, so
comments, key order and whitespace do not matter) together with the run parameters (scenarios, seed).
Submitting the same key again returns the job that already has (or is computing) that result.

No job hangs: the queue is bounded (a full queue answers 503), and each run checks its deadline after
every block of scenarios (the engine reports progress per block), so a run stops at most one block after
its time is up and is marked ``timed_out``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Job", "JobManager", "JobState", "QueueFull", "content_hash"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


class QueueFull(RuntimeError):
    """Too many jobs waiting; the client should retry later."""


class _Deadline(Exception):
    pass


def content_hash(normalised: Any, params: dict[str, Any]) -> str:
    blob = json.dumps({"scenario": normalised, "params": params}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Job:
    id: str
    key: str
    total: int
    submitted: float = field(default_factory=time.time)
    state: JobState = JobState.QUEUED
    done: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] | None = None

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state.value, "progress": round(self.done / self.total, 4) if self.total
                else 0.0, "scenarios_done": self.done, "scenarios": self.total, "content_hash": self.key,
                "submitted": self.submitted, "started": self.started, "finished": self.finished, "error": self.error}


class JobManager:
    def __init__(self, *, workers: int = 2, max_queued: int = 8, timeout_s: float = 120.0, keep: int = 64) -> None:
        self.workers = workers
        self.max_queued = max_queued
        self.timeout_s = timeout_s
        self.keep = keep
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="orechain-job")
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._by_key: dict[str, str] = {}

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def submit(self, key: str, total: int, run: Callable[[Callable[[int], None]], dict[str, Any]]) -> tuple[Job, bool]:
        """The job for ``key`` (True when it was already known) or a new one running ``run(progress)``."""
        with self._lock:
            known = self._by_key.get(key)
            if known is not None and known in self._jobs:
                job = self._jobs[known]
                if job.state in (JobState.QUEUED, JobState.RUNNING, JobState.DONE):
                    return job, True
            waiting = sum(1 for j in self._jobs.values() if j.state is JobState.QUEUED)
            if waiting >= self.max_queued:
                raise QueueFull(f"{waiting} jobs are waiting; retry later")
            job = Job(id=uuid.uuid4().hex, key=key, total=total)
            self._jobs[job.id] = job
            self._by_key[key] = job.id
            self._evict()
        self._pool.submit(self._run, job, run)
        return job, False

    def _evict(self) -> None:
        finished = [j for j in self._jobs.values() if j.state not in (JobState.QUEUED, JobState.RUNNING)]
        while len(self._jobs) > self.keep and finished:
            old = finished.pop(0)
            self._jobs.pop(old.id, None)
            if self._by_key.get(old.key) == old.id:
                del self._by_key[old.key]

    def _run(self, job: Job, run: Callable[[Callable[[int], None]], dict[str, Any]]) -> None:
        job.state, job.started = JobState.RUNNING, time.time()
        deadline = time.monotonic() + self.timeout_s

        def progress(n: int) -> None:
            job.done = min(job.total, job.done + int(n))
            if time.monotonic() > deadline:
                raise _Deadline

        try:
            job.result = run(progress)
            job.done = job.total
            job.state = JobState.DONE
        except _Deadline:
            job.state = JobState.TIMED_OUT
            job.error = f"the run passed its time limit of {self.timeout_s:g} s after {job.done:,} scenarios"
        except Exception as exc:  # the job reports it; the server carries on
            job.state = JobState.FAILED
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
