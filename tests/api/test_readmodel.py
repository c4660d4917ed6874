"""The read model behind the list endpoints: the same answers as the routes and as a query of the store, and a
write by another process (an importer, or the API of another server) seen by the very next read."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from orechain.access import users
from orechain.access.audit import Actor
from orechain.evidence import queries, schema
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app
from orechain.interfaces.api.cache import TableVersions, changed_tables, data_version_probe
from orechain.interfaces.api.paging import records
from orechain.interfaces.api.readmodel import SPECS, build_table, split_csv_lines
from orechain.interfaces.api.routers import claims, evidence

V1 = "/api/v1"
FIX = Path(__file__).parents[1] / "fixtures"

# valid, invalid and unusual list requests: the fast path must answer each exactly as the route does (or leave it
# to the route)
REQUESTS = [
    "/facilities", "/facilities?limit=2&offset=1", "/facilities?country=PAK", "/facilities?country=Pakistan",
    "/facilities?stage=separation&commodity=rare-earths", "/facilities?status=operating",
    "/facilities?bbox=60,23,78,37", "/facilities?bbox=-180,-90,180,90&limit=1000", "/facilities?bbox=1,2",
    "/facilities?bbox=10,0,5,0", "/facilities?country=Narnia", "/facilities?commodity=unobtainium",
    "/facilities?stage=bogus", "/facilities?limit=0", "/facilities?limit=1001", "/facilities?limit=07",
    "/facilities?limit=abc", "/facilities?limit=3&limit=4", "/facilities?offset=-1", "/facilities?country=",
    "/facilities?extra=1&stage=mining", "/facilities?format=csv", "/facilities?format=xml",
    "/facilities?offset=99999", "/observations", "/observations?year=2024", "/observations?year=1700",
    "/observations?year=2024.0", "/observations?metric=mine_production&country=CHN",
    "/observations?metric=" + "x" * 81, "/observations?source=src-usgs&offset=1&limit=1",
    "/observations?stage=mining&commodity=rare-earths", "/organisations", "/organisations?country=CHN",
    "/organisations?kind=company&country=USA", "/deals", "/deals?party_country=PAK&party_country=USA",
    "/deals?party_country=Pakistan", "/deals?party_country=ZZZ", "/events", "/sources", "/sources?limit=1",
    "/countries?limit=5&offset=10", "/commodities", "/forms", "/links", "/claims", "/claims?limit=1&offset=1",
    "/claims?ladder=bogus", "/claims?document=nope", "/claims?min_sources=2", "/claims?min_sources=0",
    "/claims?plausibility=plausible", "/claims/subjects", "/claims/evidence", "/claims/evidence?claim=nope",
    "/documents",
]
ACCEPT = ["application/json", "text/csv", "text/csv;q=0.5, application/json", "image/png", ""]


@pytest.fixture(scope="module")
def both(fake_db: Path) -> Iterator[tuple[TestClient, TestClient]]:
    fast, route = (create_app(fake_db, load_shipped=False, cache_entries=0, fast_lists=f, dashboard=False)
                   for f in (True, False))
    with TestClient(fast, raise_server_exceptions=False) as a, TestClient(route, raise_server_exceptions=False) as b:
        yield a, b
    for app in (fast, route):
        app.state.orechain.store.close()


@pytest.mark.parametrize("path", REQUESTS)
def test_fast_path_answers_as_the_route_does(both: tuple[TestClient, TestClient], path: str) -> None:
    fast, route = both
    for accept in ACCEPT:
        headers = {"accept": accept} if accept else {}
        a, b = fast.get(V1 + path, headers=headers), route.get(V1 + path, headers=headers)
        assert (a.status_code, a.content) == (b.status_code, b.content), (path, accept)
        assert sorted(a.headers.items()) == sorted(b.headers.items()), (path, accept)


def _normalised(df: pd.DataFrame, integers: list[str]) -> list[dict[str, Any]]:
    return records(df.astype(dict.fromkeys(integers, "Int64")))


@pytest.mark.parametrize(("params", "filters"), [
    ({}, {}), ({"stage": "separation"}, {"stage": "separation"}), ({"country": "Pakistan"}, {"country": "PAK"}),
    ({"commodity": "rare-earths", "status": "operating"}, {"commodity": "rare-earths", "status": "operating"}),
    ({"bbox": "60,23,78,37"}, {"bbox": (60.0, 23.0, 78.0, 37.0)}),
])
def test_facilities_are_what_a_query_of_the_store_gives(client: TestClient, fake_db: Path, params: dict[str, str],
                                                         filters: dict[str, Any]) -> None:
    with Store.open(fake_db) as store:
        want = _normalised(queries.facilities(store, **filters), ["capacity_year"])
    got = client.get(f"{V1}/facilities", params={**params, "limit": 1000}).json()
    assert got["data"] == want and got["meta"]["total"] == len(want)


@pytest.mark.parametrize("filters", [{}, {"year": 2024}, {"country": "CHN", "metric": "mine_production"},
                                     {"commodity": "rare-earths", "stage": "mining"}])
def test_observations_are_what_a_query_of_the_store_gives(client: TestClient, fake_db: Path,
                                                           filters: dict[str, Any]) -> None:
    with Store.open(fake_db) as store:
        want = _normalised(queries.observations(store, **filters), ["year", "import_id"])
    got = client.get(f"{V1}/observations", params={**filters, "limit": 1000}).json()
    assert got["data"] == want and got["meta"]["total"] == len(want)


def test_integer_columns_are_integers_when_some_rows_lack_them() -> None:
    df = pd.DataFrame({"id": ["a", "b"], "year": [2024.0, None], "value": [1.5, 2.0]})
    table = build_table(df, schema_tables=["observations"], keys=["year"])
    assert json.loads(table.json[0]) == {"id": "a", "year": 2024, "value": 1.5}
    assert b'"year":2024,' in table.json[0] and b'"year":null' in table.json[1]
    assert table.csv_header == b"id,year,value\n" and table.csv == [b"a,2024,1.5\n", b"b,,2.0\n"]
    assert list(table.positions["year"]) == [2024]


def test_csv_records_split_on_newlines_outside_quotes_only() -> None:
    df = pd.DataFrame({"a": ['one\nline "two"', "x"], "b": ["", 'y,"z"\n\n']})
    table = build_table(df)
    whole = df.to_csv(index=False, lineterminator="\n").encode()
    assert table.csv_header + b"".join(table.csv) == whole and len(table.csv) == 2
    with pytest.raises(ValueError, match="quoted"):
        split_csv_lines('a\n"open\n')


RAW_WRITE = """
import sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.begin() as conn:  # plain SQL in another process: no orechain code on the write path
    conn.exec_driver_sql(sys.argv[2])
engine.dispose()
"""


def _raw_write_elsewhere(url: str, sql: str) -> None:
    subprocess.run([sys.executable, "-c", RAW_WRITE, url, sql], check=True, capture_output=True)


def test_version_moves_with_writes_to_tracked_tables_only(store: Store) -> None:
    probe = data_version_probe(store.url, store.engine)
    first = probe()
    assert isinstance(first, TableVersions)
    assert probe() == first  # no write, no change
    queries.sources(store)
    assert probe() == first  # reads do not move it
    users.add_user(store, "someone", "viewer", Actor("test"))  # api_users and audit_log: not tracked
    with store.transaction() as conn:  # what a scenario job's submit and heartbeat do
        conn.execute(schema.scenario_jobs.insert().values(id="j" * 32, content_hash="j" * 64, state="running",
                                                          scenarios=1, done=0, submitted_at=0.0, heartbeat_at=0.0,
                                                          worker="test"))
        conn.execute(schema.scenario_jobs.update().values(heartbeat_at=5.0))
    assert probe() == first
    with store.engine.begin() as conn:  # raw SQL in this process
        conn.exec_driver_sql("UPDATE events SET notes = 'raw' WHERE id = (SELECT min(id) FROM events)")
    second = probe()
    assert changed_tables((0, first), (0, second)) == {"events"}
    _raw_write_elsewhere(store.url, "DELETE FROM deal_milestones")  # raw SQL in another process
    third = probe()
    assert changed_tables((0, second), (0, third)) == {"deal_milestones"}
    assert changed_tables((0, second), (1, third)) is None  # a local write (new generation): everything


def test_spec_reads_name_every_table_the_loader_reads(store: Store) -> None:
    """Each table of :data:`SPECS` declares the store tables its loader reads: checked against the SQL it runs."""
    names = set(schema.metadata.tables)
    for name, spec in {**SPECS, **evidence.TABLES, **claims.TABLES}.items():
        seen: set[str] = set()

        def listen(_c: Any, _cur: Any, stmt: str, *_: Any, seen: set[str] = seen) -> None:
            seen.update(n for n in names if re.search(rf"\b{n}\b", stmt))

        event.listen(store.engine, "before_cursor_execute", listen)
        try:
            spec.load(store)
        finally:
            event.remove(store.engine, "before_cursor_execute", listen)
        assert spec.reads is not None and seen <= spec.reads, (name, seen, spec.reads)
        assert seen or name == "countries"  # the country list is shipped with the code, not read from the store


LISTS = ["/facilities", "/observations?limit=50", "/sources", "/deals", "/events", "/claims"]


def _get_all(client: TestClient, paths: list[str] = LISTS) -> dict[str, Any]:
    out = {}
    for path in paths:
        r = client.get(V1 + path)
        assert r.status_code == 200, (path, r.text)
        out[path] = r.json()
    return out


def test_job_writes_reload_nothing(store: Store) -> None:
    app = create_app(store.url, load_shipped=False, dashboard=False, job_workers=1)
    ctx = app.state.orechain
    with TestClient(app) as client:
        before = _get_all(client)
        loads, drops, hits = ctx.model.loads, ctx.cache.drops, ctx.cache.hits
        for beat in range(5):  # a job submitted, started, five heartbeats, finished: each its own commit
            with store.transaction() as conn:
                if beat == 0:
                    conn.execute(schema.scenario_jobs.insert().values(
                        id="h" * 32, content_hash="h" * 64, state="running", scenarios=1, done=0, submitted_at=0.0,
                        heartbeat_at=0.0, worker="test"))
                conn.execute(schema.scenario_jobs.update().values(heartbeat_at=float(beat), done=beat))
            assert _get_all(client) == before
        assert ctx.model.loads == loads  # no table read again
        assert ctx.cache.drops == drops  # no cached response or frame dropped
        assert ctx.cache.hits == hits + 5 * len(LISTS)  # every read answered from the response cache
    ctx.store.close()


def test_a_raw_write_to_one_table_reloads_that_table_only(store: Store) -> None:
    app = create_app(store.url, load_shipped=False, dashboard=False, job_workers=1)
    model, cache = app.state.orechain.model, app.state.orechain.cache
    with TestClient(app) as client:
        before = _get_all(client)
        counts = dict(model.load_counts)
        hits, stale, drops = cache.hits, cache.stale, cache.drops
        assert counts["events"] == 1 and counts["facilities"] == 1
        event_id = before["/events"]["data"][0]["id"]
        _raw_write_elsewhere(store.url, f"UPDATE events SET notes = 'changed by raw SQL' WHERE id = '{event_id}'")
        after = _get_all(client)  # the very next read sees it
        assert [r["notes"] for r in after["/events"]["data"] if r["id"] == event_id] == ["changed by raw SQL"]
        assert {k: v for k, v in after.items() if k != "/events"} == {k: v for k, v in before.items()
                                                                       if k != "/events"}
        reloaded = {name for name, n in model.load_counts.items() if n != counts.get(name)}
        assert reloaded == {"events"}  # facilities, observations, sources, deals, claims: kept in memory
        # and their cached answers kept: only /events was dropped from the response cache
        assert (cache.hits - hits, cache.stale - stale) == (len(LISTS) - 1, 1)
        # a table another one is built from: sources joins observations and facilities
        _raw_write_elsewhere(store.url, "UPDATE observations SET period = 'raw' WHERE id = (SELECT min(id) FROM "
                                        "observations)")
        counts, hits, stale = dict(model.load_counts), cache.hits, cache.stale
        _get_all(client)
        reloaded = {name for name, n in model.load_counts.items() if n != counts.get(name)}
        assert reloaded == {"observations", "sources"}  # claims read claim_links, not observations
        assert (cache.hits - hits, cache.stale - stale) == (len(LISTS) - 2, 2)
        assert cache.drops == drops  # never everything at once
    app.state.orechain.store.close()


def test_answers_of_unknown_reads_are_dropped_on_any_change(store: Store) -> None:
    """Answers built from frames (conflicts, via the frame cache) do not record their tables: any tracked change
    drops them; a job write does not."""
    app = create_app(store.url, load_shipped=False, dashboard=False, job_workers=1)
    cache = app.state.orechain.cache
    with TestClient(app) as client:
        paths = ["/conflicts", "/events"]
        _get_all(client, paths)
        _raw_write_elsewhere(store.url, "UPDATE scenario_jobs SET worker = 'x'")  # untracked: nothing dropped
        hits = cache.hits
        _get_all(client, paths)
        assert cache.hits == hits + 2
        _raw_write_elsewhere(store.url, "UPDATE deals SET notes = 'x'")  # neither reads deals: conflicts dropped
        hits, stale = cache.hits, cache.stale
        _get_all(client, paths)
        assert (cache.hits - hits, cache.stale - stale) == (1, 1)
    app.state.orechain.store.close()


# --- a write by another process is seen by the next read -----------------------------------------------------------
POST = """
import json, os, sys
from fastapi.testclient import TestClient
from orechain.interfaces.api import create_app
app = create_app(sys.argv[1], load_shipped=False, dashboard=False, job_workers=1)
with TestClient(app) as c:
    r = c.post("/api/v1/observations", json=json.loads(sys.argv[2]),
               headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
    assert r.status_code == 201, r.text
    print(r.json()["record"]["id"])
app.state.orechain.store.close()
"""


def _ids(client: TestClient, path: str) -> list[str]:
    body = client.get(V1 + path).json()
    assert body["meta"]["total"] == len(body["data"])
    return [r["id"] for r in body["data"]]


def test_writes_by_other_processes_are_seen_by_the_next_read(store: Store) -> None:
    url = store.url
    users.add_user(store, "writer", "editor", Actor("test-setup"))
    token = users.issue_token(store, "writer", Actor("test-setup"))
    app = create_app(url, load_shipped=False, dashboard=False, job_workers=1)  # response cache and read model on
    path = "/observations?commodity=antimony&limit=1000"
    with TestClient(app) as client:
        before = _ids(client, path)
        assert _ids(client, path) == before  # served again from memory
        loads = app.state.orechain.model.loads
        assert _ids(client, "/observations?commodity=antimony&country=PAK&limit=1000") is not None
        assert app.state.orechain.model.loads == loads  # new parameters, no new read of the store

        # 1. an importer in another process
        env = {**os.environ, "ORECHAIN_DB": url}
        subprocess.run([str(Path(sys.executable).parent / "orechain"), "data", "import", "usgs-mcs",
                        str(FIX / "usgs-mcs" / "mcs2099-antim_world.csv")], check=True, env=env, capture_output=True)
        after_import = _ids(client, path)
        want = list(queries.observations(store, commodity="antimony")["id"])
        assert len(after_import) > len(before) and after_import == want

        # 2. the API of another server process
        obs = {"metric": "mine_production", "commodity": "antimony", "country": "Pakistan", "year": 2031,
               "value": 12.5, "unit": "t", "quality": "secondary", "source_id": "usgs-mcs-2025"}
        out = subprocess.run([sys.executable, "-c", POST, url, json.dumps(obs)], check=True, capture_output=True,
                             text=True, env={**os.environ, "TOKEN": token})
        new_id = out.stdout.strip().splitlines()[-1]
        after_post = _ids(client, path)
        assert new_id in after_post and new_id not in after_import
        assert _ids(client, "/observations?year=2031&commodity=antimony") == [new_id]
    app.state.orechain.store.close()


@pytest.mark.parametrize("query", [
    b"", b"limit=5", b"a=1&a=2&limit=3", b"stage=mining&offset=10&x", b"q=%20space+plus&empty=", b"k=%E2%82%AC",
    b"k=\xe2\x82\xac", b"weird=%23hash&b=?c", b"bbox=60,23,78,37&n=1", b"a=b=c&;=x", b"t=%09tab", b"x=1#frag",
    b"u=%FF", b"k=a%26b&offset=-3",
])
@pytest.mark.parametrize("host", [b"127.0.0.1:8000", b"example.org", b"[::1]:8080", b"h\\st", None])
def test_page_links_are_starlettes(query: bytes, host: bytes | None) -> None:
    from starlette.requests import Request

    from orechain.interfaces.api.paging import _page_url

    headers = [(b"host", host)] if host is not None else []
    scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/api/v1/facilities", "query_string": query,
             "headers": headers, "server": ("127.0.0.1", 8000), "root_path": ""}
    for offset, limit in ((0, 5), (100, 1000)):
        params = dict(Request(scope).query_params)
        params.update(offset=str(offset), limit=str(limit))
        want = str(Request(scope).url.include_query_params(**params))
        assert _page_url(Request(scope), offset, limit) == want


@pytest.mark.slow
def test_serve_with_two_workers_sees_an_import_in_every_worker(tmp_path: Path, loaded_db: Path | str,
                                                              backend: str) -> None:
    """``orechain serve --workers 2``: after an import by a third process, no answer from either worker is stale."""
    import shutil
    import socket
    import time
    import urllib.request

    if backend != "sqlite":
        pytest.skip("the PostgreSQL variant of this is test_writes_by_other_processes_are_seen_by_the_next_read")
    db = tmp_path / "served.db"
    shutil.copy(loaded_db, db)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exe = str(Path(sys.executable).parent / "orechain")
    proc = subprocess.Popen([exe, "serve", "--workers", "2", "--port", str(port), "--db", str(db)],
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}{V1}"

    def total(path: str) -> int:
        with urllib.request.urlopen(base + path, timeout=30) as r:
            return int(json.loads(r.read())["meta"]["total"])

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                total("/sources")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        path = "/observations?commodity=antimony&limit=1"
        before = {total(path) for _ in range(40)}  # both workers answer, each from its own read model
        assert len(before) == 1
        subprocess.run([exe, "data", "import", "usgs-mcs", str(FIX / "usgs-mcs" / "mcs2099-antim_world.csv"),
                        "--db", str(db)], check=True, capture_output=True)
        after = {total(path) for _ in range(40)}
        assert len(after) == 1 and after.pop() > before.pop()
    finally:
        proc.terminate()
        proc.wait(30)
