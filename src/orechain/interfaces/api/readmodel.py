"""The read model behind the list endpoints: each evidence table read once per data version, kept in memory.

A table is read from the store with the same query the endpoint used before (same columns, same order),
then turned once into what answers need: every row's JSON object and CSV line as bytes, and for each
filterable column the row positions holding each value. Answering a list request is then a mask (one
``numpy`` AND per filter), a slice and a join of bytes: no pandas, no SQL, no per-cell conversion.

Integer columns of the schema are integers in every answer (``2021``, or null/empty when missing); before
this model a filtered answer printed them as ``2021.0`` whenever a row in it lacked the value.

The model is keyed by the data version (:meth:`ResponseCache.token`: this process's write generation and
the database's per-table versions, see :mod:`orechain.interfaces.api.cache`). A request whose version differs
from the model's drops the tables whose store tables (:attr:`Spec.reads`) changed, and those are read again on
first use, so a write by any process is seen by the next read here; the others stay. A write to a table nothing
here reads (a scenario job's heartbeat) drops nothing. After a write by this process, or where the changed tables
are not known, every table is dropped. There is no staleness window.
"""

from __future__ import annotations

import io
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Integer
from starlette.requests import Request

from orechain.evidence import queries, schema
from orechain.evidence.store import Store
from orechain.interfaces.api.cache import MARK, Reads, ResponseCache, changed_tables, request_version
from orechain.interfaces.api.paging import Fmt, Page, json_bytes, negotiate, page_links, records

__all__ = ["Filter", "ListEndpoint", "ListMiddleware", "ReadModel", "Spec", "Table", "View", "build_table",
           "list_page", "split_csv_lines"]

Loader = Callable[[Store], pd.DataFrame]


def split_csv_lines(text: str) -> list[str]:
    """The records of a CSV text (``\\n``-terminated, quotes doubled inside quoted fields), each with its ``\\n``.

    A newline inside a quoted field does not end a record: a piece with an odd number of quote characters
    leaves a field open."""
    out: list[str] = []
    pending: list[str] = []
    open_quote = False
    for piece in text.split("\n")[:-1]:
        pending.append(piece)
        if piece.count('"') % 2:
            open_quote = not open_quote
        if not open_quote:
            out.append("\n".join(pending) + "\n")
            pending = []
    if pending or open_quote:
        raise ValueError("CSV text ends inside a quoted field")
    return out


def _integer_columns(df: pd.DataFrame, tables: Sequence[str]) -> list[str]:
    """Columns of ``df`` that the schema declares INTEGER in the first of ``tables`` that has them, but that
    pandas read as floats (a NULL among them) or objects (all NULL)."""
    out = []
    for col in df.columns:
        for name in tables:
            table = schema.metadata.tables[name]
            if col in table.c:
                if isinstance(table.c[col].type, Integer) and df[col].dtype.kind in ("f", "O"):
                    out.append(str(col))
                break
    return out


@dataclass(frozen=True)
class Table:
    """One table as answers need it. ``json[i]`` and ``csv[i]`` are row ``i``'s JSON object and CSV line;
    ``rows[i]`` its JSON-ready dict (for detail answers); ``positions[col][value]`` the rows holding ``value``
    in ``col``; ``numbers[col]`` a float column (``nan`` where missing)."""

    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    json: list[bytes]
    csv_header: bytes
    csv: list[bytes]
    positions: Mapping[str, Mapping[Hashable, np.ndarray]]
    numbers: Mapping[str, np.ndarray]
    frame: pd.DataFrame = field(repr=False)

    def __len__(self) -> int:
        return len(self.json)


def build_table(df: pd.DataFrame, *, schema_tables: Sequence[str] = (), keys: Sequence[str] = (),
                numbers: Sequence[str] = ()) -> Table:
    """The :class:`Table` of ``df``: integer columns of ``schema_tables`` made integers, every row rendered once,
    ``keys`` indexed by value and ``numbers`` kept as float arrays."""
    ints = _integer_columns(df, schema_tables)
    if ints:
        df = df.astype(dict.fromkeys(ints, "Int64"))
    df = df.reset_index(drop=True)
    rows = records(df)
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    lines = split_csv_lines(buf.getvalue())
    header, body = lines[0], lines[1:]
    if len(body) != len(df):  # pragma: no cover - to_csv writes one record per row
        raise AssertionError(f"CSV has {len(body)} records for {len(df)} rows")
    positions: dict[str, dict[Hashable, np.ndarray]] = {}
    for col in keys:
        groups = df.groupby(df[col], sort=False, dropna=True).indices
        positions[col] = {_plain(k): np.asarray(v, dtype=np.intp) for k, v in groups.items()}
    nums = {col: pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for col in numbers}
    return Table(columns=tuple(str(c) for c in df.columns), rows=rows, json=[json_bytes(r) for r in rows],
                 csv_header=header.encode(), csv=[line.encode() for line in body], positions=positions,
                 numbers=nums, frame=df)


def _plain(value: Any) -> Hashable:
    """A group key as the plain Python value a request's filter is compared with."""
    if isinstance(value, np.generic):
        plain: Hashable = value.item()
        return plain
    return value  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Filter:
    """A list request: equality filters (column -> value), lower bounds on number columns (``at_least``), an
    optional bounding box on ``lon``/``lat``, and a mask of the rows other tables allow (``allow``)."""

    equal: tuple[tuple[str, Hashable], ...] = ()
    at_least: tuple[tuple[str, float], ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    allow: np.ndarray | None = None

    def positions(self, table: Table) -> np.ndarray | None:
        """The matching row positions in order (None: every row)."""
        mask: np.ndarray | None = None
        for col, value in self.equal:
            hit = table.positions[col].get(value)
            m = np.zeros(len(table), dtype=bool)
            if hit is not None:
                m[hit] = True
            mask = m if mask is None else mask & m
        for col, low in self.at_least:
            with np.errstate(invalid="ignore"):
                m = table.numbers[col] >= low
            mask = m if mask is None else mask & m
        if self.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = self.bbox
            lon, lat = table.numbers["lon"], table.numbers["lat"]
            with np.errstate(invalid="ignore"):
                m = (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
            mask = m if mask is None else mask & m
        if self.allow is not None:
            mask = self.allow if mask is None else mask & self.allow
        return None if mask is None else np.flatnonzero(mask)


def page_body(table: Table, query: Filter, page: Page, fmt: Fmt, request: Request) -> tuple[bytes, str, dict[str, str]]:
    """The body, media type and headers of one page of ``table`` filtered by ``query``: the same bytes as
    ``paging.render_list`` on the filtered frame."""
    hits = query.positions(table)
    total = len(table) if hits is None else len(hits)
    start, stop = min(page.offset, total), min(page.offset + page.limit, total)
    rows = table.csv if fmt is Fmt.CSV else table.json
    chosen = rows[start:stop] if hits is None else _pick(rows, hits[start:stop].tolist())
    headers, nxt, prev = page_links(request, page, total)
    if fmt is Fmt.CSV:
        return table.csv_header + b"".join(chosen), "text/csv; charset=utf-8", headers
    meta = {"total": total, "count": len(chosen), "limit": page.limit, "offset": page.offset}
    links = {"self": str(request.url), "next": nxt, "prev": prev}
    body = b"".join((b'{"data":[', b",".join(chosen), b'],"meta":', json_bytes(meta),
                     b',"links":', json_bytes(links), b"}"))
    return body, "application/json", headers


def _pick(rows: list[bytes], positions: list[int]) -> Sequence[bytes]:
    if len(positions) < 2:
        return [rows[i] for i in positions]
    picked: tuple[bytes, ...] = itemgetter(*positions)(rows)
    return picked


@dataclass(frozen=True)
class Spec:
    """How to read one table of the model: ``load`` reads it; ``schema_tables`` type its integer columns; ``keys``
    are indexed by value, ``numbers`` kept as float arrays; ``reads`` names every store table ``load`` reads
    (None: unknown, re-read after a change to any tracked table). A test checks ``reads`` against the SQL run."""

    load: Loader
    schema_tables: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    reads: frozenset[str] | None = None


def _reads(*tables: str) -> frozenset[str]:
    return frozenset(tables)


SPECS: dict[str, Spec] = {
    "facilities": Spec(queries.facilities, ("facilities",),
                       ("stage", "status", "country", "commodity", "id", "operator", "source_id",
                        "capacity_source_id"), ("lon", "lat"), _reads("facilities")),
    "observations": Spec(queries.observations, ("observations", "sources"),
                         ("metric", "commodity", "country", "year", "stage", "source_id", "facility"),
                         reads=_reads("observations", "sources")),
    "organisations": Spec(queries.organisations, ("organisations",), ("country", "kind", "id"),
                          reads=_reads("organisations")),
    "ownership": Spec(queries.ownership, ("ownership",), ("owner", "owned"), reads=_reads("ownership")),
    "facility_owners": Spec(queries.facility_owners, ("facility_owners",), ("facility", "organisation"),
                               reads=_reads("facility_owners")),
    "facility_status": Spec(queries.facility_status, ("facility_status",), ("facility",),
                               reads=_reads("facility_status")),
    "links": Spec(queries.links, ("links",), ("upstream", "downstream"), reads=_reads("links")),
    "deals": Spec(queries.deals, ("deals",), ("id",), reads=_reads("deals", "commodities")),
    "deal_parties": Spec(queries.deal_parties, ("deal_parties", "organisations"), ("country", "deal"),
                         reads=_reads("deal_parties", "organisations")),
    "deal_phases": Spec(queries.deal_phases, ("deal_phases",), ("deal",), reads=_reads("deal_phases")),
    "deal_milestones": Spec(queries.deal_milestones, ("deal_milestones",), ("deal",),
                             reads=_reads("deal_milestones")),
    "events": Spec(queries.events, ("events",), ("id",), reads=_reads("events", "commodities", "forms")),
    "sources": Spec(queries.sources, ("sources",), ("id",),
                    reads=_reads("sources", "observations", "facilities")),
    "commodities": Spec(queries.commodities, ("commodities",), ("id",), reads=_reads("commodities")),
    "forms": Spec(queries.forms, ("forms",), reads=_reads("forms")),
}


class View:
    """The model's tables at one data version, for detail answers: rows looked up by an indexed column, each
    returned as a new JSON-ready dict (the caller may change it), in the table's order."""

    def __init__(self, model: ReadModel, version: Hashable) -> None:
        self.model = model
        self.version = version

    def table(self, name: str) -> Table:
        return self.model.table(name, self.version)

    def where(self, name: str, col: str, value: Any, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The rows of ``name`` whose ``col`` is ``value`` (only ``columns``, in that order, if given)."""
        table = self.table(name)
        hit = table.positions[col].get(value) if value is not None and value == value else None
        return [] if hit is None else self.rows(table, hit.tolist(), columns)

    def one(self, name: str, col: str, value: Any) -> dict[str, Any] | None:
        rows = self.where(name, col, value)
        return rows[0] if rows else None

    def any_of(self, name: str, col: str, values: Iterable[Any],
               columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The rows of ``name`` whose ``col`` is any of ``values``, in the table's order."""
        table = self.table(name)
        found = [table.positions[col].get(v) for v in set(values) if v is not None and v == v]
        hits = sorted({int(i) for f in found if f is not None for i in f})
        return self.rows(table, hits, columns)

    @staticmethod
    def rows(table: Table, positions: Sequence[int], columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
        if columns is None:
            return [dict(table.rows[i]) for i in positions]
        return [{c: table.rows[i][c] for c in columns} for i in positions]


class ReadModel:
    """This process's tables, read on first use; when ``version()`` changes, those whose store tables changed
    (:func:`~orechain.interfaces.api.cache.changed_tables` against :attr:`Spec.reads`) are dropped, or all of
    them when that is not known.

    ``version`` must be read *before* a table is loaded (it is: :meth:`table` takes it first), so a write that
    commits while a table is read leaves a newer version behind and the next request reads again.
    ``extra`` adds tables that are not in :data:`SPECS` (name -> spec), e.g. the country table.
    """

    def __init__(self, store: Store, version: Callable[[], Hashable], extra: Mapping[str, Spec] | None = None) -> None:
        self._store = store
        self._version = version
        self._specs = {**SPECS, **(extra or {})}
        self._seen: Hashable = object()
        self._tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self.loads = 0
        self.load_counts: Counter[str] = Counter()  # reads of the store, per table of the model

    def current(self, version: Hashable | None = None) -> Hashable:
        """The version now (``version`` if the caller already has it), dropping the tables it made stale."""
        now = self._version() if version is None else version
        if now != self._seen:
            with self._lock:
                if now != self._seen:
                    changed = changed_tables(self._seen, now)
                    self._tables = {} if changed is None else \
                        {n: t for n, t in self._tables.items() if not self._stale(n, changed)}
                    self._seen = now
        return now

    def _stale(self, name: str, changed: frozenset[str]) -> bool:
        reads = self._specs[name].reads
        return bool(changed) if reads is None else not reads.isdisjoint(changed)

    def ready(self, name: str, version: Hashable | None = None) -> Table | None:
        """The table if it is loaded for the current version (cheap; never reads the store)."""
        self.current(version)
        Reads.add(self._specs[name].reads)
        return self._tables.get(name)

    def table(self, name: str, version: Hashable | None = None) -> Table:
        """The table ``name`` for the current version, read from the store if needed (blocking). The request
        being answered is noted as built from the store tables ``name`` reads (:class:`~orechain.interfaces.api.
        cache.Reads`)."""
        now = self.current(version)
        Reads.add(self._specs[name].reads)
        hit = self._tables.get(name)
        if hit is not None:
            return hit
        spec = self._specs[name]
        with self._lock:
            if self._seen == now and name in self._tables:
                return self._tables[name]
            built = build_table(spec.load(self._store), schema_tables=spec.schema_tables, keys=spec.keys,
                                numbers=spec.numbers)
            self.loads += 1
            self.load_counts[name] += 1
            if self._seen == now:  # keep it only if no newer version was seen while it was read
                self._tables[name] = built
            return built

    def warm(self, names: Sequence[str] | None = None) -> None:
        """Read ``names`` (default: every table) now, e.g. before a server takes requests."""
        for name in names or list(self._specs):
            self.table(name)


# --- list endpoints answered from the model ---------------------------------------------------------------
class NotHere(Exception):
    """The fast path does not answer this request; FastAPI's route does (and gives any error body)."""


Parser = Callable[[str], Any]
QueryBuilder = Callable[["ReadModel", Hashable, Mapping[str, Any]], Filter]


@dataclass(frozen=True)
class ListEndpoint:
    """A list endpoint served from table ``table``: ``params`` parse its query parameters strictly (a value
    FastAPI might read differently raises :class:`NotHere`), ``repeated`` may occur more than once (a list),
    ``build`` turns the parsed arguments into a :class:`Filter` (raising ``ApiError`` for a bad value), and
    ``needs`` names every table ``build`` reads."""

    table: str
    build: QueryBuilder | None = None
    params: Mapping[str, Parser] = field(default_factory=dict)
    repeated: frozenset[str] = frozenset()
    needs: tuple[str, ...] = ()

    def tables(self) -> tuple[str, ...]:
        return (self.table, *self.needs)

    def query(self, model: ReadModel, version: Hashable, args: Mapping[str, Any]) -> Filter:
        return Filter() if self.build is None else self.build(model, version, args)


def strict_int(lo: int, hi: int | None = None) -> Parser:
    """An integer written plainly (``0`` or ``[1-9][0-9]*``, at most 18 digits) within ``lo..hi``."""
    def parse(raw: str) -> int:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or (raw[0] == "0" and raw != "0"):
            raise NotHere
        value = int(raw)
        if value < lo or (hi is not None and value > hi):
            raise NotHere
        return value
    return parse


def text(max_length: int | None = None) -> Parser:
    """A non-empty string of at most ``max_length`` characters."""
    def parse(raw: str) -> str:
        if not raw or (max_length is not None and len(raw) > max_length):
            raise NotHere
        return raw
    return parse


def one_of(values: Sequence[str]) -> Parser:
    allowed = frozenset(values)

    def parse(raw: str) -> str:
        if raw not in allowed:
            raise NotHere
        return raw
    return parse


def parse_query(pairs: Sequence[tuple[str, str]], endpoint: ListEndpoint, max_limit: int,
                default_limit: int) -> tuple[Page, dict[str, Any]]:
    """The page and arguments of a list request's query parameters, or :class:`NotHere` when anything is unusual
    (a repeated scalar parameter, a blank or malformed value): unknown parameters are ignored, as FastAPI does."""
    limit, offset = default_limit, 0
    args: dict[str, Any] = {}
    seen: set[str] = set()
    limit_of, offset_of = strict_int(1, max_limit), strict_int(0)
    for key, value in pairs:
        if key in seen and key not in endpoint.repeated:
            raise NotHere
        seen.add(key)
        if key == "limit":
            limit = limit_of(value)
        elif key == "offset":
            offset = offset_of(value)
        elif key in endpoint.params:
            parsed = endpoint.params[key](value)
            if key in endpoint.repeated:
                args.setdefault(key, []).append(parsed)
            else:
                args[key] = parsed
    return Page(limit=limit, offset=offset), args


async def ensure_tables(model: ReadModel, names: Sequence[str], version: Hashable) -> None:
    """Read the tables not loaded yet for ``version`` in a worker thread, so the event loop never waits on the
    store."""
    from starlette.concurrency import run_in_threadpool

    missing = [n for n in names if model.ready(n, version) is None]
    if missing:
        await run_in_threadpool(lambda: [model.table(n, version) for n in missing])


async def list_page(model: ReadModel, cache: ResponseCache, endpoint: ListEndpoint, page: Page,
                    args: Mapping[str, Any], request: Request) -> tuple[bytes, str, dict[str, str]]:
    """The body, media type and headers of one page of ``endpoint`` for ``args``, at this request's data version:
    what :class:`ListMiddleware` answers before routing and the route answers (the same bytes)."""
    fmt = negotiate(request)
    version = request_version(request.scope, cache)
    await ensure_tables(model, endpoint.tables(), version)
    query = endpoint.query(model, version, args)
    return page_body(model.table(endpoint.table, version), query, page, fmt, request)


class ListMiddleware:
    """Pure ASGI, inside the response cache: answers a GET of a registered list endpoint from the read model
    before routing, so the request skips FastAPI's dependency and validation machinery (about 0.3 ms).

    It answers only what it can answer exactly as the route would (the route calls the same
    :class:`ListEndpoint` and :func:`page_body`): anything unusual, an invalid value or any error goes on to
    the route, which gives the answer or the error body. Tests compare the two on the same requests.
    """

    def __init__(self, app: Any, model: ReadModel, cache: ResponseCache, endpoints: Mapping[str, ListEndpoint],
                 max_limit: int, default_limit: int) -> None:
        self.app = app
        self.model = model
        self.cache = cache
        self.endpoints = endpoints
        self.max_limit = max_limit
        self.default_limit = default_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint = self.endpoints.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" \
            else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        try:
            request = Request(scope)
            page, args = parse_query(request.query_params.multi_items(), endpoint, self.max_limit,
                                     self.default_limit)
            body, media, headers = await list_page(self.model, self.cache, endpoint, page, args, request)
        except Exception:  # NotHere, an ApiError or any other: the route answers it or reports the error (logged)
            await self.app(scope, receive, send)
            return
        Reads.declare()  # built from the read model only: the response cache keeps it until one of its tables changes
        # the headers starlette's Response(body, media_type=media, headers=...) sends (a test compares them)
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in {**headers, **MARK}.items()]
        raw += [(b"content-length", str(len(body)).encode()), (b"content-type", media.encode("latin-1"))]
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": body})
