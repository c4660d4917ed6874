"""Write endpoints: tokens and roles, audit rows with old and new values, undo, limits, CORS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from access_helpers import Api, make_api
from sqlalchemy import func, select

from orechain.access import tables
from orechain.access.users import Role
from orechain.claims import tables as ct
from orechain.evidence import schema
from orechain.evidence.store import Store
from orechain.interfaces.api.auth import AccessConfig

OBS: dict[str, Any] = {"metric": "mine_production", "commodity": "antimony", "country": "Pakistan", "year": 2031,
                       "value": 12.5, "unit": "t", "quality": "secondary"}
ARTICLE = ("Pakistan produced 1,200 tonnes of antimony in 2023, the ministry said. "
           "China mined 270,000 t of rare earths in 2024, according to the USGS.")


def _count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _audit(store: Store, change_id: str) -> list[dict[str, Any]]:
    a = tables.audit_log
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(a).where(a.c.change_id == change_id).order_by(a.c.seq))
                .mappings()]


# -- who may do what ------------------------------------------------------------------------------------
def test_writes_need_a_token_and_a_role(api: Api, facility: dict[str, Any]) -> None:
    body = {**OBS, "source_id": facility["source_id"]}
    r = api.client.post("/api/v1/observations", json=body)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthorized"
    r = api.client.post("/api/v1/observations", json=body, headers=api.auth("vic"))
    assert r.status_code == 403 and "editor" in r.json()["error"]["message"]
    bad = api.tokens["eve"][:-4] + "AAAA"
    r = api.client.post("/api/v1/observations", json=body, headers={"Authorization": f"Bearer {bad}"})
    assert r.status_code == 401
    assert api.client.post("/api/v1/observations", json=body, headers=api.auth("eve")).status_code == 201


def test_reads_are_public_by_default_but_a_bad_token_is_refused(api: Api) -> None:
    assert api.client.get("/api/v1/facilities?limit=1").status_code == 200
    r = api.client.get("/api/v1/facilities?limit=1", headers={"Authorization": "Bearer oc_000000000000_" + "x" * 43})
    assert r.status_code == 401
    assert api.client.get("/api/v1/changes").status_code == 401  # the audit log needs a token
    assert api.client.get("/api/v1/changes", headers=api.auth("vic")).status_code == 200
    assert api.client.get("/api/v1/me", headers=api.auth("vic")).json() == {
        "user": "vic", "role": "viewer", "token_id": api.tokens["vic"][3:15]}


@pytest.fixture
def private_api(store: Store) -> Iterator[Api]:
    yield from make_api(store, AccessConfig(read_token_required=True, job_role=Role.EDITOR))


def test_reads_can_require_a_token(private_api: Api) -> None:
    c = private_api.client
    r = c.get("/api/v1/facilities?limit=1")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert c.get("/api/v1/facilities?limit=1", headers=private_api.auth("vic")).status_code == 200
    # a response cached for a token holder is not served to a caller without one
    assert c.get("/api/v1/facilities?limit=1").status_code == 401
    assert c.get("/api/v1/health").status_code == 200
    assert c.get("/openapi.json").status_code == 200


def test_scenario_jobs_follow_their_setting(private_api: Api) -> None:
    c = private_api.client
    job = {"yaml": "not: [valid", "scenarios": 100}
    assert c.post("/api/v1/scenarios/jobs", json=job).status_code == 401
    assert c.post("/api/v1/scenarios/jobs", json=job, headers=private_api.auth("vic")).status_code == 403
    # an editor gets through to the scenario check (which refuses this YAML)
    assert c.post("/api/v1/scenarios/jobs", json=job, headers=private_api.auth("eve")).status_code == 422


def test_revoked_or_disabled_tokens_stop_at_once(api: Api) -> None:
    from orechain.access import users
    from orechain.access.audit import Actor

    h = api.auth("eve")
    assert api.client.get("/api/v1/me", headers=h).status_code == 200
    users.revoke_token(api.store, api.tokens["eve"][3:15], Actor("t"))
    assert api.client.get("/api/v1/me", headers=h).status_code == 401
    users.disable_user(api.store, "vic", Actor("t"))
    assert api.client.get("/api/v1/me", headers=api.auth("vic")).status_code == 401


# -- facility edits, audit and undo ----------------------------------------------------------------------
def test_status_change_is_audited_and_undone(api: Api, facility: dict[str, Any]) -> None:
    fid, src = facility["id"], facility["source_id"]
    r = api.client.patch(f"/api/v1/facilities/{fid}", headers=api.auth("eve"),
                         json={"source_id": src, "status": "suspended", "status_date": "2099-01-15",
                               "capacity": 1234.5, "capacity_unit": "t", "note": "test edit"})
    assert r.status_code == 200, r.text
    change = r.json()["change_id"]
    detail = api.client.get(f"/api/v1/facilities/{fid}").json()
    assert detail["facility"]["status"] == "suspended" and detail["facility"]["capacity"] == 1234.5
    assert any(h["status"] == "suspended" and h["date"] == "2099-01-15" for h in detail["history"])
    rows = _audit(api.store, change)
    assert {r["actor"] for r in rows} == {"eve"} and {r["source_id"] for r in rows} == {src}
    by_field = {r["field"]: r for r in rows if r["action"] == "update"}
    assert json.loads(by_field["status"]["old_value"]) == facility["status"]
    assert json.loads(by_field["status"]["new_value"]) == "suspended"
    assert json.loads(by_field["capacity"]["new_value"]) == 1234.5
    assert next(r for r in rows if r["action"] == "insert")["table_name"] == "facility_status"

    # another editor may not undo it; its author may; an undo is itself a change, and cannot be repeated
    assert api.client.post(f"/api/v1/changes/{change}/undo", headers=api.auth("ed2")).status_code == 403
    r = api.client.post(f"/api/v1/changes/{change}/undo", headers=api.auth("eve"), json={"note": "wrong"})
    assert r.status_code == 201, r.text
    undo_id = r.json()["change_id"]
    back = api.client.get(f"/api/v1/facilities/{fid}").json()
    assert back["facility"]["status"] == facility["status"]
    assert back["facility"]["status_date"] == facility["status_date"]
    assert back["facility"]["capacity"] == facility["capacity"]
    assert not any(h["date"] == "2099-01-15" for h in back["history"])
    assert api.client.post(f"/api/v1/changes/{change}/undo", headers=api.auth("eve")).status_code == 409
    info = api.client.get(f"/api/v1/changes/{change}", headers=api.auth("vic")).json()
    assert info["undone_by"] == undo_id
    undo_rows = _audit(api.store, undo_id)
    assert {r["undoes"] for r in undo_rows} == {change} and {r["note"] for r in undo_rows} == {"wrong"}
    # undoing the undo re-applies the change (an admin may undo anyone's change)
    assert api.client.post(f"/api/v1/changes/{undo_id}/undo", headers=api.auth("ada")).status_code == 201
    assert api.client.get(f"/api/v1/facilities/{fid}").json()["facility"]["status"] == "suspended"


def test_undo_refuses_when_the_value_changed_since(api: Api, facility: dict[str, Any]) -> None:
    fid, src = facility["id"], facility["source_id"]
    h = api.auth("eve")
    first = api.client.patch(f"/api/v1/facilities/{fid}", headers=h, json={"source_id": src, "notes": "one"})
    second = api.client.patch(f"/api/v1/facilities/{fid}", headers=h, json={"source_id": src, "notes": "two"})
    assert first.status_code == second.status_code == 200
    r = api.client.post(f"/api/v1/changes/{first.json()['change_id']}/undo", headers=h)
    assert r.status_code == 409 and "changed again" in r.json()["error"]["message"]
    assert api.client.post(f"/api/v1/changes/{second.json()['change_id']}/undo", headers=h).status_code == 201
    assert api.client.post(f"/api/v1/changes/{first.json()['change_id']}/undo", headers=h).status_code == 201
    assert api.client.get(f"/api/v1/facilities/{fid}").json()["facility"]["notes"] == facility["notes"]


@pytest.mark.parametrize(("body", "field"), [
    ({"source_id": "no-such-source", "notes": "x"}, "source_id"),
    ({"source_id": "S", "status": "operating"}, "body"),  # status without a date
    ({"source_id": "S", "status": "operating", "status_date": "2024-13-01"}, "status_date"),
    ({"source_id": "S", "capacity": 5}, "body"),  # capacity without a unit
    ({"source_id": "S", "capacity": 5, "capacity_unit": "bananas per fortnight"}, "capacity_unit"),
    ({"source_id": "S", "operator": "nobody-inc"}, "operator"),
    ({"source_id": "S"}, "body"),  # nothing to change
    ({"source_id": "S", "lat": 91}, "lat"),
])
def test_bad_facility_edits_name_the_field(api: Api, facility: dict[str, Any], body: dict[str, Any],
                                           field: str) -> None:
    body = {k: (facility["source_id"] if v == "S" else v) for k, v in body.items()}
    before = _count(api.store, tables.audit_log)
    r = api.client.patch(f"/api/v1/facilities/{facility['id']}", json=body, headers=api.auth("eve"))
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert field in json.dumps(err)
    assert _count(api.store, tables.audit_log) == before


def test_unknown_facility_is_404(api: Api, facility: dict[str, Any]) -> None:
    r = api.client.patch("/api/v1/facilities/no-such-mine", json={"source_id": facility["source_id"], "notes": "x"},
                         headers=api.auth("eve"))
    assert r.status_code == 404


# -- observations, sources, documents -----------------------------------------------------------------------
def test_observation_add_is_idempotent_and_undoable(api: Api, facility: dict[str, Any]) -> None:
    body, h = {**OBS, "source_id": facility["source_id"]}, api.auth("eve")
    n0 = _count(api.store, schema.observations)
    r = api.client.post("/api/v1/observations", json=body, headers=h)
    assert r.status_code == 201 and r.json()["created"]
    oid = r.json()["record"]["id"]
    again = api.client.post("/api/v1/observations", json=body, headers=h)
    assert again.status_code == 200 and again.json() == {**again.json(), "created": False, "change_id": None}
    clash = api.client.post("/api/v1/observations", json={**body, "value": 99.0}, headers=h)
    assert clash.status_code == 409
    listed = api.client.get("/api/v1/observations", params={"year": 2031, "commodity": "antimony"}).json()["data"]
    assert [o["id"] for o in listed] == [oid] and listed[0]["country"] == "PAK"
    assert _count(api.store, schema.observations) == n0 + 1
    assert api.client.post(f"/api/v1/changes/{r.json()['change_id']}/undo", headers=h).status_code == 201
    assert _count(api.store, schema.observations) == n0
    assert api.client.get("/api/v1/observations", params={"year": 2031, "commodity": "antimony"}).json()["data"] == []


@pytest.mark.parametrize(("patch", "field"), [
    ({"unit": "furlongs of REO"}, "unit"), ({"country": "Atlantis"}, "country"), ({"commodity": "unobtainium"},
    "commodity"), ({"source_id": "nope"}, "source_id"), ({"value": None}, "body"), ({"lower": 5, "upper": 1}, "body"),
    ({"quality": "certain"}, "quality"), ({"metric": "DROP TABLE observations"}, "metric"),
])
def test_bad_observations_name_the_field(api: Api, facility: dict[str, Any], patch: dict[str, Any],
                                         field: str) -> None:
    n0 = _count(api.store, schema.observations)
    r = api.client.post("/api/v1/observations", json={**OBS, "source_id": facility["source_id"], **patch},
                        headers=api.auth("eve"))
    assert r.status_code == 422, r.text
    assert field in json.dumps(r.json()["error"])
    assert _count(api.store, schema.observations) == n0


def test_source_add_and_urls_are_web_addresses(api: Api) -> None:
    h = api.auth("eve")
    src = {"id": "test-note-2026", "publisher": "Test Desk", "title": "A note", "date": "2026-03", "kind": "news",
           "url": "https://example.org/note"}
    assert api.client.post("/api/v1/sources", json=src, headers=h).status_code == 201
    assert api.client.get("/api/v1/sources/test-note-2026").status_code == 200
    for url in ("file:///etc/passwd", "/etc/passwd", "../../secrets", "ftp://example.org/x"):
        r = api.client.post("/api/v1/sources", json={**src, "id": "x-1", "url": url}, headers=h)
        assert r.status_code == 422, url


def test_document_ingest_limits_and_undo(api: Api) -> None:
    h = api.auth("eve")
    r = api.client.post("/api/v1/claims/documents", json={"name": "ministry note", "text": ARTICLE,
                                                          "publisher": "Test Desk"}, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["status"] == "added" and out["record"]["claims"] >= 2
    doc_id = out["record"]["id"]
    with api.store.engine.connect() as conn:
        path = conn.execute(select(ct.documents.c.path).where(ct.documents.c.id == doc_id)).scalar_one()
        n_claims = conn.execute(select(func.count()).select_from(ct.claims)
                                .where(ct.claims.c.document == doc_id)).scalar_one()
    assert path == "api:ministry note" and n_claims == out["record"]["claims"]
    dup = api.client.post("/api/v1/claims/documents", json={"name": "copy", "text": ARTICLE}, headers=h)
    assert dup.status_code == 200 and dup.json()["status"] == "duplicate"
    big = api.client.post("/api/v1/claims/documents", json={"name": "big", "text": "word " * 5000}, headers=h)
    assert big.status_code == 413
    assert api.client.post(f"/api/v1/changes/{out['change_id']}/undo", headers=h).status_code == 201
    with api.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ct.claims)
                            .where(ct.claims.c.document == doc_id)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(ct.documents)
                            .where(ct.documents.c.id == doc_id)).scalar_one() == 0


@pytest.mark.parametrize("name", ["/etc/passwd", "../../etc/passwd", "C:\\Windows\\win.ini", ".hidden", "a/b.txt",
                                  "~root"])
def test_document_names_cannot_be_paths(api: Api, name: str) -> None:
    r = api.client.post("/api/v1/claims/documents", json={"name": name, "text": ARTICLE}, headers=api.auth("eve"))
    assert r.status_code == 422


def test_binary_looking_text_is_refused(api: Api) -> None:
    r = api.client.post("/api/v1/claims/documents", json={"name": "pdf", "text": "%PDF-1.7\n" + "x" * 50},
                        headers=api.auth("eve"))
    assert r.status_code == 422 and "binary" in r.json()["error"]["message"]


def test_body_over_the_cap_is_413(api: Api) -> None:
    body = b'{"name": "x", "text": "' + b"a" * (AccessConfig(max_upload_bytes=20_000).max_body_bytes + 10) + b'"}'
    r = api.client.post("/api/v1/claims/documents", content=body, headers={**api.auth("eve"),
                                                                           "Content-Type": "application/json"})
    assert r.status_code == 413


def test_audit_log_lists_and_filters(api: Api, facility: dict[str, Any]) -> None:
    h = api.auth("eve")
    api.client.patch(f"/api/v1/facilities/{facility['id']}", headers=h,
                     json={"source_id": facility["source_id"], "notes": "audited"})
    r = api.client.get("/api/v1/changes", params={"table": "facilities", "record": facility["id"]},
                       headers=api.auth("vic"))
    rows = r.json()["data"]
    assert len(rows) == 1 and rows[0]["field"] == "notes" and rows[0]["actor"] == "eve"
    assert json.loads(rows[0]["new_value"]) == "audited"
    csv = api.client.get("/api/v1/changes", params={"actor": "eve"}, headers={**api.auth("vic"), "Accept": "text/csv"})
    assert csv.status_code == 200 and csv.text.startswith("id,change_id,")


# -- CORS -------------------------------------------------------------------------------------------------
_PREFLIGHT = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "authorization,content-type"}


def test_cors_is_closed_by_default(api: Api) -> None:
    r = api.client.options("/api/v1/observations", headers=_PREFLIGHT)
    assert "access-control-allow-origin" not in r.headers
    r = api.client.get("/api/v1/facilities?limit=1", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_only_the_named_origins(store: Store) -> None:
    for api in make_api(store, AccessConfig(cors_origins=("https://team.example",))):
        ok = api.client.options("/api/v1/observations", headers={**_PREFLIGHT, "Origin": "https://team.example"})
        assert ok.headers.get("access-control-allow-origin") == "https://team.example"
        bad = api.client.options("/api/v1/observations", headers=_PREFLIGHT)
        assert "access-control-allow-origin" not in bad.headers


def test_settings_are_parsed_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORECHAIN_API_READ_TOKEN_REQUIRED", "true")
    monkeypatch.setenv("ORECHAIN_API_CORS_ORIGINS", "https://a.example/, https://b.example")
    monkeypatch.setenv("ORECHAIN_API_JOB_ROLE", "viewer")
    monkeypatch.setenv("ORECHAIN_API_MAX_UPLOAD_BYTES", "5000")
    cfg = AccessConfig.from_settings()
    assert cfg == AccessConfig(True, Role.VIEWER, ("https://a.example", "https://b.example"), 5000)
    for env, bad in (("ORECHAIN_API_READ_TOKEN_REQUIRED", "maybe"), ("ORECHAIN_API_CORS_ORIGINS", "*"),
                     ("ORECHAIN_API_JOB_ROLE", "root"), ("ORECHAIN_API_MAX_UPLOAD_BYTES", "-1")):
        with monkeypatch.context() as m:
            m.setenv(env, bad)
            with pytest.raises(ValueError, match=env):
                AccessConfig.from_settings()
    monkeypatch.delenv("ORECHAIN_API_READ_TOKEN_REQUIRED")
    monkeypatch.delenv("ORECHAIN_API_CORS_ORIGINS")
    assert AccessConfig.from_settings().read_token_required is False
    assert AccessConfig.from_settings().cors_origins == ()


def test_undo_refuses_to_break_a_reference(api: Api) -> None:
    h = api.auth("eve")
    src = api.client.post("/api/v1/sources", headers=h, json={"id": "ref-test", "publisher": "P", "title": "T",
                                                             "kind": "news"})
    assert src.status_code == 201
    obs = api.client.post("/api/v1/observations", headers=h, json={**OBS, "source_id": "ref-test"})
    assert obs.status_code == 201
    r = api.client.post(f"/api/v1/changes/{src.json()['change_id']}/undo", headers=h)
    assert r.status_code == 409 and "reference" in r.json()["error"]["message"]
    assert api.client.get("/api/v1/sources/ref-test").status_code == 200  # nothing was changed
    assert api.client.post(f"/api/v1/changes/{obs.json()['change_id']}/undo", headers=h).status_code == 201
    assert api.client.post(f"/api/v1/changes/{src.json()['change_id']}/undo", headers=h).status_code == 201
    assert api.client.get("/api/v1/sources/ref-test").status_code == 404
