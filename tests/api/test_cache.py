"""The frame cache behind the read endpoints: kept until the data changes or a local write, and isolated from
what a caller does to the frame it gets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd

from orechain.evidence import schema
from orechain.evidence.store import Store
from orechain.interfaces.api.cache import ResponseCache, TableVersions, changed_tables, data_version_probe


def test_frames_are_kept_until_the_data_changes_or_a_clear() -> None:
    version = [0]
    cache = ResponseCache(lambda: version[0], max_entries=8, max_frames=2)
    calls: list[str] = []

    def build(name: str) -> pd.DataFrame:
        calls.append(name)
        return pd.DataFrame({"id": ["a", "b"], "n": [1, 2]})

    first = cache.frame("k", lambda: build("k"))
    again = cache.frame("k", lambda: build("k"))
    assert calls == ["k"] and again.equals(first)
    # what a caller does to its frame does not reach the kept one (copy-on-write)
    again["extra"] = 1
    again.loc[0, "n"] = 99
    third = cache.frame("k", lambda: build("k"))
    assert list(third.columns) == ["id", "n"] and third["n"].tolist() == [1, 2]
    version[0] = 1  # the database changed
    cache.frame("k", lambda: build("k"))
    assert calls == ["k", "k"]
    cache.clear()  # a write by this process
    cache.frame("k", lambda: build("k"))
    assert calls == ["k", "k", "k"]
    # bounded: the least recently used frame goes first
    cache.frame("x", lambda: build("x"))
    cache.frame("y", lambda: build("y"))
    cache.frame("k", lambda: build("k"))
    assert calls[-1] == "k"


def test_a_frame_read_across_a_change_is_not_kept() -> None:
    version = [0]
    cache = ResponseCache(lambda: version[0], max_frames=4)
    calls = []

    def build() -> pd.DataFrame:
        calls.append(1)
        version[0] += 1  # the data changes while it is read
        return pd.DataFrame({"n": [len(calls)]})

    cache.frame("k", build)
    cache.frame("k", build)
    assert len(calls) == 2


def test_frames_off() -> None:
    cache = ResponseCache(lambda: 0, max_frames=0)
    calls = []
    for _ in range(3):
        cache.frame("k", lambda: calls.append(1) or pd.DataFrame({"n": [1]}))
    assert len(calls) == 3


def test_probe_rounds_never_answer_with_a_version_older_than_the_request() -> None:
    """Requests that arrive while a probe is in flight get the next probe, which starts after they arrived."""
    import asyncio
    import threading
    import time

    from orechain.interfaces.api.cache import ProbeRounds

    state = {"commits": 0, "probes": 0}
    lock = threading.Lock()

    def probe() -> int:
        with lock:
            state["probes"] += 1
            seen = state["commits"]
        time.sleep(0.01)  # a round trip
        return seen

    rounds = ProbeRounds(probe)

    async def request() -> tuple[int, int]:
        arrived = state["commits"]  # every write committed before the request arrived ...
        got = await rounds.version()
        return arrived, int(got)  # ... is in the version it is answered with

    async def main() -> list[tuple[int, int]]:
        tasks = []
        for _ in range(60):
            state["commits"] += 1  # a write commits, then a request arrives
            tasks.append(asyncio.ensure_future(request()))
            await asyncio.sleep(0.001)
        return await asyncio.gather(*tasks)

    results = asyncio.run(main())
    assert all(got >= arrived for arrived, got in results)
    assert state["probes"] < 60  # shared: fewer probes than requests
    assert asyncio.run(rounds.version()) == 60  # a new event loop works too


def test_responses_are_bounded_in_count_and_bytes() -> None:
    from orechain.interfaces.api.cache import CachedResponse

    cache = ResponseCache(lambda: 0, max_entries=3, max_bytes=100)
    token = cache.token()

    def put(key: str, size: int) -> None:
        cache.put(key, CachedResponse(b"x" * size, "application/json", ()), token)

    for key in "abc":
        put(key, 30)
    assert cache.size_bytes == 90 and cache.get("a", token) is not None  # "a" is now the most recent
    put("d", 30)  # over 100 bytes: the least recently used ("b") goes
    assert cache.get("b", token) is None and cache.size_bytes == 90
    put("a", 10)  # replacing an entry counts its new size only
    assert cache.size_bytes == 70
    put("huge", 101)  # larger than the whole budget: not kept, nothing evicted for it
    assert cache.get("huge", token) is None and cache.size_bytes == 70
    for key in "efg":
        put(key, 1)
    assert cache.size_bytes == 3  # at most three entries
    cache.clear()
    assert cache.size_bytes == 0


def test_changed_tables_between_tokens() -> None:
    a = TableVersions.of([("events", 1), ("sources", 4)])
    b = TableVersions.of([("sources", 4), ("events", 2)])
    assert a == TableVersions.of([("sources", 4), ("events", 1)])  # order does not matter
    assert changed_tables((0, a), (0, a)) == frozenset()
    assert changed_tables((0, a), (0, b)) == {"events"}
    assert changed_tables((0, a), (0, TableVersions.of([("events", 1)]))) == {"sources"}  # a row gone
    assert changed_tables((0, a), (1, a)) is None  # this process wrote: everything
    assert changed_tables((0, (1, 5)), (0, (1, 6))) is None  # a database-wide value: everything
    assert changed_tables(object(), (0, a)) is None


def test_sqlite_probe_reads_versions_only_when_the_database_moved(tmp_path: Path) -> None:
    with Store.open(tmp_path / "v.db") as store:
        probe = data_version_probe(store.url)
        first = probe()
        reads = probe.table_reads  # type: ignore[attr-defined]
        assert [probe() for _ in range(5)] == [first] * 5
        assert probe.table_reads == reads  # type: ignore[attr-defined]  # nothing moved: the pragma alone
        with store.transaction() as conn:  # an untracked table: the versions are read once, and unchanged
            conn.execute(schema.scenario_jobs.insert().values(id="j" * 32, content_hash="j" * 64, state="queued",
                                                              scenarios=1, done=0, submitted_at=0.0,
                                                              heartbeat_at=0.0, worker="t"))
        assert probe() == first and probe() == first
        assert probe.table_reads == reads + 1  # type: ignore[attr-defined]
        with store.transaction() as conn:
            conn.execute(schema.sources.insert().values(id="s", publisher="p", title="t", kind="dataset"))
        assert changed_tables((0, first), (0, probe())) == {"sources"}


def test_sqlite_probe_without_versions_table_is_database_wide(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # a database with no data_versions (before migration 0007)
        conn.execute("CREATE TABLE t (x INTEGER)")
    probe = data_version_probe(f"sqlite:///{path}")
    first = probe()
    assert not isinstance(first, TableVersions) and probe() == first
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    assert probe() != first


def test_frame_reads_probe_the_version_outside_the_cache_lock() -> None:
    # the event loop takes the lock for every cached answer: a probe (on PostgreSQL a round trip) must not hold it
    held: list[bool] = []
    cache: ResponseCache | None = None

    def probe() -> int:
        held.append(cache is not None and cache._lock.locked())
        return 1

    cache = ResponseCache(probe)
    built = [cache.frame("k", lambda: pd.DataFrame({"a": [1]})) for _ in range(2)]
    assert all(len(df) == 1 for df in built)
    assert held and not any(held)
