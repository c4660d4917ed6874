"""A bounded in-memory cache of rendered responses, dropped whenever the database changes.

For SQLite the data version is the size and modification time of the database file and its WAL file:
every committed write changes one of them, so a cached page is never served after an import. Other
databases have no such cheap signal; there the version is a time bucket of ``ttl_s`` seconds.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["CachedResponse", "ResponseCache", "data_version_probe"]


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...]


def data_version_probe(url: str, ttl_s: float = 2.0) -> Callable[[], Hashable]:
    """A cheap function whose value changes when the data at ``url`` may have changed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        paths = [Path(parsed.database), Path(parsed.database + "-wal")]

        def probe() -> Hashable:
            out = []
            for p in paths:
                try:
                    st = os.stat(p)
                    out.append((st.st_size, st.st_mtime_ns))
                except FileNotFoundError:
                    out.append((0, 0))
            return tuple(out)

        return probe

    def bucket() -> Hashable:
        return int(time.monotonic() / ttl_s)

    return bucket


class ResponseCache:
    def __init__(self, version: Callable[[], Hashable], max_entries: int = 2048) -> None:
        self._version = version
        self._seen: Hashable = version()
        self._max = max_entries
        self._items: OrderedDict[Hashable, CachedResponse] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _check(self) -> None:
        now = self._version()
        if now != self._seen:
            self._items.clear()
            self._seen = now

    def get(self, key: Hashable) -> CachedResponse | None:
        with self._lock:
            self._check()
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def token(self) -> Hashable:
        """The data version now; pass it to :meth:`put` so a result computed across a write is not kept."""
        return self._version()

    def put(self, key: Hashable, value: CachedResponse, token: Hashable) -> None:
        with self._lock:
            self._check()
            if token != self._seen:
                return
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)
