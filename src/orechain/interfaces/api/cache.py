"""A bounded in-memory cache of rendered responses, and of the frames read to build them, dropped when a table
the API keeps in memory changes: a response built from the read model only is dropped when one of the tables it
was built from changes (it records them, :class:`Reads`); any other response, and every frame, on any such change.

The data version (:func:`data_version_probe`) is the database's per-table versions (table ``data_versions``,
kept by triggers: migration ``0007_data_versions``), so it changes with every committed write to a table the API
keeps in memory, by any process or any SQL, and does not change for writes to other tables (scenario jobs and
their heartbeats, tokens, the audit log, BACI trade). It is checked on every request, so a cached page is never
served after such a write has committed (no staleness window). On SQLite the cheap database-wide
``PRAGMA data_version`` is read first and the versions table only when that moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine, make_url

__all__ = ["MARK", "READS", "CacheMiddleware", "CachedResponse", "Reads", "ResponseCache", "TableVersions",
           "changed_tables", "data_version_probe", "request_version"]


@dataclass(frozen=True)
class CachedResponse:
    """A kept answer; ``reads``: the store tables it was built from (None: not known, dropped on any change)."""

    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...]
    reads: frozenset[str] | None = None


class Reads:
    """What one request's answer was built from, noted while it is built (:data:`READS`): the store tables of
    the read-model tables it used (``tables``), whether it used anything else or a read-model table of unknown
    reads (``unknown``), and whether its handler declared it is built from the read model only (``declared``,
    :meth:`declare`). Only a declared answer with no unknown read records its tables; any other is dropped on
    any change of a tracked table."""

    __slots__ = ("declared", "tables", "unknown")

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.unknown = False
        self.declared = False

    def note(self, tables: frozenset[str] | None) -> None:
        if tables is None:
            self.unknown = True
        else:
            self.tables |= tables

    def result(self) -> frozenset[str] | None:
        return frozenset(self.tables) if self.declared and not self.unknown else None

    @staticmethod
    def declare() -> None:
        """Say that the answer being built comes from the read model only (model lists and details)."""
        reads = READS.get()
        if reads is not None:
            reads.declared = True

    @staticmethod
    def add(tables: frozenset[str] | None) -> None:
        """Note that the answer being built used ``tables`` (None: something of unknown reads)."""
        reads = READS.get()
        if reads is not None:
            reads.note(tables)


READS: ContextVar[Reads | None] = ContextVar("orechain_reads", default=None)
"""The :class:`Reads` of the request being answered (set by :class:`CacheMiddleware`; worker threads started with
``run_in_threadpool`` share it)."""


@dataclass(frozen=True)
class TableVersions:
    """The rows of ``data_versions`` (table name, version), sorted: equal exactly when no tracked table changed."""

    items: tuple[tuple[str, int], ...]

    def __eq__(self, other: object) -> bool:  # checked on every request: the same object when nothing moved
        return self is other or (isinstance(other, TableVersions) and self.items == other.items)

    def __hash__(self) -> int:
        return hash(self.items)

    @classmethod
    def of(cls, rows: Iterable[tuple[str, int]]) -> TableVersions:
        return cls(tuple(sorted((str(t), int(v)) for t, v in rows)))

    def changed(self, other: TableVersions) -> frozenset[str]:
        """The tables whose version differs between ``self`` and ``other`` (present in one only included)."""
        if self.items == other.items:
            return frozenset()
        mine, theirs = dict(self.items), dict(other.items)
        return frozenset(t for t in mine.keys() | theirs.keys() if mine.get(t) != theirs.get(t))


def changed_tables(old: Hashable, new: Hashable) -> frozenset[str] | None:
    """The tables changed between two tokens (:meth:`ResponseCache.token`), or None when that is not known (the
    process wrote itself, the probe failed, or the database has no per-table versions): then everything changed."""
    if not (isinstance(old, tuple) and isinstance(new, tuple) and len(old) == len(new) == 2):
        return None
    if old[0] != new[0] or not isinstance(old[1], TableVersions) or not isinstance(new[1], TableVersions):
        return None
    return old[1].changed(new[1])


def data_version_probe(url: str, engine: Engine | None = None, ttl_s: float = 2.0) -> Callable[[], Hashable]:
    """A cheap function whose value changes whenever a write to a table the API keeps in memory has committed, by
    any connection of any process (raw SQL included: triggers keep the versions), and only then.

    * SQLite file: ``PRAGMA data_version`` on a connection of its own that never writes (about 5 us; SQLite
      changes it on every commit by another connection, in this process or another); only when it moved, one
      read of ``data_versions``. A commit to an untracked table (a job heartbeat) costs that one small read and
      returns the same :class:`TableVersions` as before.
    * PostgreSQL (``engine`` given): one read of ``data_versions`` (one round trip on a connection of its own).
      Transactions elsewhere in the cluster, or on untracked tables, do not move it.
    * A database without ``data_versions`` (not migrated to 0007): the database-wide value, as before (SQLite's
      ``PRAGMA data_version``; PostgreSQL's ``pg_current_snapshot()``), so every commit drops everything.
    * Anything else (an in-memory database): a time bucket of ``ttl_s`` seconds.

    If the probe itself fails it returns a value never seen before, so nothing is served from memory.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not str(parsed.database).startswith("file:"):
        return _SqliteVersion(str(parsed.database))
    if parsed.get_backend_name() == "postgresql" and engine is not None:
        return _PostgresVersion(engine)

    def bucket() -> Hashable:
        return int(time.monotonic() / ttl_s)

    return bucket


VERSIONS_SQL = "SELECT table_name, version FROM data_versions"


class _SqliteVersion:
    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._key: Hashable = None
        self._tables: TableVersions | None = None
        self.table_reads = 0  # reads of data_versions (after the database-wide version moved)

    def __call__(self) -> Hashable:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                row = self._conn.execute("PRAGMA data_version").fetchone()
                key = (id(self._conn), int(row[0]))
                if key != self._key:  # read after the pragma: the versions are at least as new as the key
                    self.table_reads += 1
                    try:
                        self._tables = TableVersions.of(self._conn.execute(VERSIONS_SQL).fetchall())
                    except sqlite3.OperationalError as exc:
                        if "no such table" not in str(exc):
                            raise
                        self._tables = None  # not migrated to 0007: every commit counts
                    self._key = key
                return key if self._tables is None else self._tables
            except sqlite3.Error:
                self._conn, self._key, self._tables = None, None, None
                return object()


class _PostgresVersion:
    shared = True  # a round trip: concurrent requests share one probe (see ProbeRounds)

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Any = None
        self._lock = threading.Lock()
        self._tracked = False

    def __call__(self) -> Hashable:
        with self._lock:
            try:
                if self._conn is None:
                    raw = self._engine.raw_connection()
                    raw.driver_connection.autocommit = True  # type: ignore[union-attr]
                    self._conn = raw
                    cur = raw.cursor()
                    cur.execute("SELECT to_regclass('data_versions') IS NOT NULL")
                    found = cur.fetchone()
                    self._tracked = bool(found is not None and found[0])
                    cur.close()
                cur = self._conn.cursor()
                if self._tracked:
                    cur.execute(VERSIONS_SQL)
                    versions = TableVersions.of(cur.fetchall())
                    cur.close()
                    return versions
                cur.execute("SELECT pg_current_snapshot()::text")
                snapshot = cur.fetchone()[0]
                cur.close()
                return (id(self._conn), snapshot)
            except Exception:  # the probe must never fail a request: an unseen value means "read again"
                if self._conn is not None:
                    with contextlib.suppress(Exception):  # already broken
                        self._conn.invalidate()
                self._conn = None
                return object()


class ProbeRounds:
    """One probe shared by the requests that wait for it, never older than any of them.

    A request joins the next round; a round's probe starts (in a worker thread) only after the previous one has
    finished, so it starts after every request that joined it arrived, and its value reflects every write
    committed before each of them: no request is answered from a version older than its own arrival. With 50
    concurrent clients most rounds serve many requests for the price of one round trip.
    """

    def __init__(self, probe: Callable[[], Hashable]) -> None:
        self._probe = probe
        self._next: asyncio.Future[Hashable] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def version(self) -> Hashable:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a test client's): start afresh
            self._loop, self._next, self._running = loop, None, False
        if self._next is None:
            self._next = loop.create_future()
            if not self._running:
                self._running = True
                self._task = loop.create_task(self._rounds())
        return await asyncio.shield(self._next)

    async def _rounds(self) -> None:
        from starlette.concurrency import run_in_threadpool

        try:
            while self._next is not None:
                waiting, self._next = self._next, None
                try:
                    waiting.set_result(await run_in_threadpool(self._probe))
                except Exception as exc:  # the probe never raises; this keeps a waiter from hanging if it did
                    waiting.set_exception(exc)
        finally:
            self._running = False


class ResponseCache:
    """Rendered responses (``get``/``put``) and the frames read from the store (``frame``), both dropped when the
    data version changes (a tracked table changed: a response that records the tables it was built from,
    :attr:`CachedResponse.reads`, is dropped only when one of them changed; other responses and every frame on any
    change) or after a local write (``clear``: everything). At most ``max_entries`` responses of
    ``max_bytes`` bytes together are kept (the least recently used go first; one larger than that is not kept):
    requests with ever new parameters fill the cache with answers that are rarely asked again."""

    def __init__(self, version: Callable[[], Hashable], max_entries: int = 2048, max_frames: int = 256,
                 max_bytes: int = 64 << 20) -> None:
        self._version = version
        self._seen: Hashable = version()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._max_frames = max_frames
        self._items: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._frames: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.drops = 0  # times everything kept was dropped (a local write, or changed tables not known)
        self.stale = 0  # responses dropped because a table they were built from changed
        self._generation = 0  # bumped by clear(): a result computed before a local write is not kept
        self._rounds = ProbeRounds(version) if getattr(version, "shared", False) else None

    def _drop_all(self) -> None:
        self.drops += 1
        self._items.clear()
        self._frames.clear()
        self._bytes = 0

    def _drop_changed(self, now: Hashable) -> None:
        """Drop what the move from the version seen to ``now`` made stale: the responses built from a changed
        table or of unknown reads, and every frame (frames do not record their tables); all when the changed
        tables are not known."""
        changed = changed_tables((0, self._seen), (0, now))
        if changed is None:
            self._drop_all()
            return
        self._frames.clear()
        stale = [k for k, v in self._items.items() if v.reads is None or not v.reads.isdisjoint(changed)]
        for key in stale:
            self._bytes -= len(self._items.pop(key).body)
        self.stale += len(stale)

    @property
    def size_bytes(self) -> int:
        """The bytes of the response bodies kept now."""
        return self._bytes

    def get(self, key: Hashable, token: Hashable | None = None) -> CachedResponse | None:
        """The response kept under ``key`` for the data version ``token`` (default: :meth:`token` now)."""
        if token is None:
            token = self.token()
        with self._lock:
            item = self._items.get(key) if token == (self._generation, self._seen) else None
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def clear(self) -> None:
        """Drop every entry (after this process wrote to the database)."""
        with self._lock:
            self._drop_all()
            self._generation += 1

    def frame(self, key: Hashable, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The frame ``build`` reads, kept until the data changes. A read takes a shallow copy: with pandas'
        copy-on-write nothing a caller does to it reaches the kept frame. The request's answer is noted as built
        from tables not known (a frame does not say which it read)."""
        Reads.add(None)
        token = self.token()  # probed outside the lock, which the event loop takes too (PostgreSQL: a round trip)
        with self._lock:
            hit = self._frames.get(key) if token == (self._generation, self._seen) else None
            if hit is not None:
                self._frames.move_to_end(key)
                return hit.copy(deep=False)
        df = build()
        now = self.token()
        with self._lock:
            if self._max_frames > 0 and token == now == (self._generation, self._seen):
                self._frames[key] = df
                while len(self._frames) > self._max_frames:
                    self._frames.popitem(last=False)
        return df.copy(deep=False)

    def token(self) -> Hashable:
        """The data version now (one probe of the database; everything kept is dropped if it moved). Take it
        once per request, before reading anything, and pass it to :meth:`get` and :meth:`put`: a result is kept
        only under the version it was computed at or after, and served only while no newer version is seen."""
        return self._settle(self._version())

    async def atoken(self) -> Hashable:
        """:meth:`token` for a request on the event loop. Where a probe is a round trip to the database server
        (PostgreSQL), requests that arrive while one is in flight share the next one (:class:`ProbeRounds`), and
        the loop does not wait on the network."""
        if self._rounds is None:
            return self.token()
        return self._settle(await self._rounds.version())

    def _settle(self, now: Hashable) -> Hashable:
        with self._lock:
            if now != self._seen:
                self._drop_changed(now)
                self._seen = now
            return (self._generation, now)

    def put(self, key: Hashable, value: CachedResponse, token: Hashable) -> None:
        with self._lock:
            if token != (self._generation, self._seen) or len(value.body) > self._max_bytes:
                return
            old = self._items.pop(key, None)
            self._bytes += len(value.body) - (len(old.body) if old is not None else 0)
            self._items[key] = value
            while len(self._items) > self._max or self._bytes > self._max_bytes:
                self._bytes -= len(self._items.popitem(last=False)[1].body)


CACHEABLE = b"x-orechain-cacheable"
MARK = {CACHEABLE.decode(): "1"}  # the headers of a response the middleware may keep (it drops the header)
VERSION_KEY = "orechain.data_version"


def request_version(scope: Any, cache: ResponseCache) -> Hashable:
    """The data version the cache middleware took for this request (a new probe when it did not run)."""
    token: Hashable | None = scope.get(VERSION_KEY)
    return cache.token() if token is None else token


class CacheMiddleware:
    """Pure ASGI: answers a repeated GET from the cache before routing, validation or any query.

    The key is the path, the raw query string and the Accept header, which together decide the response.
    Only responses the endpoints mark cacheable (200s of read endpoints) are kept; the marker header is
    removed before the response leaves. A hit is answered with the same body and headers as the miss.
    """

    def __init__(self, app: Any, cache: ResponseCache, prefix: str) -> None:
        self.app = app
        self.cache = cache
        self.prefix = prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value
                break
        key = (scope["path"], scope["query_string"], accept)
        reads = Reads()
        reset = READS.set(reads)
        try:
            await self._answer(scope, receive, send, key, reads)
        finally:
            READS.reset(reset)

    async def _answer(self, scope: Any, receive: Any, send: Any, key: Hashable, reads: Reads) -> None:
        token = await self.cache.atoken()
        scope[VERSION_KEY] = token  # the read model and the routes use this request's version: one probe
        hit = self.cache.get(key, token)
        if hit is not None:
            headers = [(b"content-type", hit.media_type.encode()), (b"content-length", str(len(hit.body)).encode())]
            headers += [(k.encode(), v.encode()) for k, v in hit.headers]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": hit.body})
            return
        state: dict[str, Any] = {"keep": False, "chunks": []}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                state["keep"] = message["status"] == 200 and any(k == CACHEABLE for k, _ in raw)
                message = {**message, "headers": [(k, v) for k, v in raw if k != CACHEABLE]}
                state["headers"] = message["headers"]
            elif message["type"] == "http.response.body" and state["keep"]:
                state["chunks"].append(message.get("body", b""))
                if not message.get("more_body", False):
                    hdrs = {k.decode().lower(): v.decode() for k, v in state["headers"]}
                    media = hdrs.pop("content-type", "application/octet-stream")
                    hdrs.pop("content-length", None)
                    self.cache.put(key, CachedResponse(b"".join(state["chunks"]), media, tuple(hdrs.items()),
                                                       reads.result()), token)
            await send(message)

        await self.app(scope, receive, capture)
