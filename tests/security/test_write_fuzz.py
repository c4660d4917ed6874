"""Property-based fuzzing of the write endpoints past their reference checks: real facility, source and
commodity ids with every other field generated. Whatever arrives, the answer is a 2xx or a 4xx with the
error body, never a 5xx, and a refused write leaves the database as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from access_helpers import Api, make_api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from orechain.access import tables
from orechain.evidence import schema
from orechain.evidence.store import Store
from orechain.interfaces.api.auth import AccessConfig

EXAMPLES = 40
_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                 st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, junk)


@pytest.fixture
def fuzz_api(store: Store) -> Iterator[tuple[Api, dict[str, list[str]]]]:
    with store.engine.connect() as conn:
        ids = {"facility": [r[0] for r in conn.execute(select(schema.facilities.c.id).limit(20))],
               "source": [r[0] for r in conn.execute(select(schema.sources.c.id).limit(20))],
               "commodity": [r[0] for r in conn.execute(select(schema.commodities.c.id))],
               "organisation": [r[0] for r in conn.execute(select(schema.organisations.c.id).limit(10))]}
    for api in make_api(store, AccessConfig(max_upload_bytes=5_000)):
        yield api, ids


def _audit_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.audit_log)).scalar_one())


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()  # NaN and Infinity go out as the literals Python's parser accepts


def _headers(api: Api) -> dict[str, str]:
    return {**api.auth("eve"), "Content-Type": "application/json"}


def _check(api: Api, r: Any, before: int) -> None:
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert set(r.json()) == {"error"} and r.json()["error"]["status"] == r.status_code
        assert _audit_rows(api.store) == before  # a refused write wrote nothing


def test_facility_edits_never_5xx(fuzz_api: tuple[Api, dict[str, list[str]]]) -> None:
    api, ids = fuzz_api
    statuses = ["announced", "exploration", "fs", "construction", "operating", "suspended", "closed"]
    body = st.fixed_dictionaries({"source_id": maybe(st.sampled_from(ids["source"]))}, optional={
        "status": maybe(st.sampled_from(statuses)),
        "status_date": maybe(st.from_regex(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z")),
        "capacity": maybe(st.floats(min_value=-10, max_value=1e12)),
        "capacity_unit": maybe(st.sampled_from(["t", "t REO", "kt", "t/yr", "bananas"])),
        "capacity_year": maybe(st.integers(1700, 2300)),
        "lat": maybe(st.floats()), "lon": maybe(st.floats()),
        "operator": maybe(st.sampled_from(ids["organisation"])),
        "name": maybe(st.text(max_size=300)), "notes": maybe(st.text(max_size=50)), "note": maybe(st.text()),
    })

    @given(fid=maybe(st.sampled_from(ids["facility"])), body=body)
    @_SETTINGS
    def run(fid: Any, body: dict[str, Any]) -> None:
        before = _audit_rows(api.store)
        url = f"/api/v1/facilities/{quote(str(fid), safe='')}"
        r = api.client.patch(url, content=_json(body), headers=_headers(api))
        _check(api, r, before)

    run()


def test_observation_posts_never_5xx(fuzz_api: tuple[Api, dict[str, list[str]]]) -> None:
    api, ids = fuzz_api
    body = st.fixed_dictionaries({
        "metric": maybe(st.sampled_from(["mine_production", "reserves", "price"])),
        "commodity": maybe(st.sampled_from(ids["commodity"])),
        "unit": maybe(st.sampled_from(["t", "t REO", "US$/kg", "kt", "%", "weird unit"])),
        "source_id": maybe(st.sampled_from(ids["source"])),
        "quality": maybe(st.sampled_from(["primary", "secondary", "unconfirmed"])),
    }, optional={
        "value": maybe(st.floats()), "lower": maybe(st.floats()), "upper": maybe(st.floats()),
        "year": maybe(st.integers(1700, 2300)), "country": maybe(st.sampled_from(["PAK", "China", "WLD", "Narnia"])),
        "facility": maybe(st.sampled_from(ids["facility"])), "period": maybe(st.text(max_size=130)),
        "value_text": maybe(st.text(max_size=20)), "estimated": maybe(st.booleans()),
    })

    @given(body=body)
    @_SETTINGS
    def run(body: dict[str, Any]) -> None:
        before = _audit_rows(api.store)
        _check(api, api.client.post("/api/v1/observations", content=_json(body), headers=_headers(api)), before)

    run()


def test_document_posts_never_5xx(fuzz_api: tuple[Api, dict[str, list[str]]]) -> None:
    api, _ = fuzz_api
    body = st.fixed_dictionaries({"name": maybe(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 ._-]{0,20}\Z")),
                                  "text": maybe(st.text(min_size=1, max_size=3000))},
                                 optional={"format": maybe(st.sampled_from(["text", "markdown", "html"])),
                                           "date": maybe(st.text(max_size=12)), "title": maybe(st.text(max_size=20))})

    @given(body=body)
    @_SETTINGS
    def run(body: dict[str, Any]) -> None:
        before = _audit_rows(api.store)
        _check(api, api.client.post("/api/v1/claims/documents", content=_json(body), headers=_headers(api)), before)

    run()
