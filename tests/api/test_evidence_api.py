from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

V1 = "/api/v1"


def assert_error(resp: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    err: dict[str, Any] = body["error"]
    assert set(err) == {"status", "code", "message", "details"}
    assert err["status"] == status and err["message"]
    if code is not None:
        assert err["code"] == code
    return err


def test_openapi_lists_versioned_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/countries", "/organisations", "/facilities", "/facilities/{facility_id}", "/observations",
                 "/deals", "/deals/{deal_id}", "/events", "/sources", "/sources/{source_id}"):
        assert V1 + path in spec["paths"], path
    index = client.get(V1).json()
    assert V1 + "/facilities" in index["endpoints"]


def test_facilities_filters(client: TestClient) -> None:
    ids = lambda r: {row["id"] for row in r.json()["data"]}  # noqa: E731
    assert ids(client.get(f"{V1}/facilities?country=PAK")) == {"fac-pak-mine", "fac-pak-ree"}
    assert ids(client.get(f"{V1}/facilities?country=Pakistan")) == {"fac-pak-mine", "fac-pak-ree"}
    assert ids(client.get(f"{V1}/facilities?stage=separation&commodity=rare-earths")) == {"fac-usa-sep",
                                                                                         "fac-chn-old"}
    assert ids(client.get(f"{V1}/facilities?status=closed")) == {"fac-chn-old"}
    # bbox: min_lon,min_lat,max_lon,max_lat around Pakistan; the facility without coordinates never matches
    assert ids(client.get(f"{V1}/facilities?bbox=60,23,78,37")) == {"fac-pak-mine", "fac-pak-ree"}
    assert ids(client.get(f"{V1}/facilities?bbox=60,23,78,37&commodity=antimony")) == {"fac-pak-mine"}


def test_pagination_has_total_and_next_and_is_never_truncated(client: TestClient) -> None:
    first = client.get(f"{V1}/facilities?limit=3").json()
    assert first["meta"] == {"total": 7, "count": 3, "limit": 3, "offset": 0}
    assert first["links"]["prev"] is None
    seen = [r["id"] for r in first["data"]]
    nxt = first["links"]["next"]
    while nxt:
        page = client.get(nxt).json()
        seen += [r["id"] for r in page["data"]]
        nxt = page["links"]["next"]
    assert len(seen) == len(set(seen)) == 7
    # a limit above the maximum is refused, not cut down
    assert_error(client.get(f"{V1}/facilities?limit=100000"), 422, "validation_error")
    # past the end: an empty page that still reports the total
    last = client.get(f"{V1}/facilities?offset=50").json()
    assert last["data"] == [] and last["meta"]["total"] == 7 and last["links"]["next"] is None


def test_csv_by_accept_header(client: TestClient) -> None:
    resp = client.get(f"{V1}/observations?country=PAK", headers={"Accept": "text/csv"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["x-total-count"] == "2"
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    # two sources disagree: both figures are there, each with its own source and quality
    assert {(r["value"], r["source_id"], r["quality"]) for r in rows} == {
        ("80.0", "test-stats", "primary"), ("95.0", "test-news", "secondary")}
    paged = client.get(f"{V1}/facilities?limit=2", headers={"Accept": "text/csv"})
    assert 'rel="next"' in paged.headers["link"] and paged.headers["x-total-count"] == "7"
    assert len(list(csv.DictReader(io.StringIO(paged.text)))) == 2
    # q-values: CSV preferred over JSON
    pref = client.get(f"{V1}/sources", headers={"Accept": "application/json;q=0.5, text/csv"})
    assert pref.headers["content-type"].startswith("text/csv")
    assert client.get(f"{V1}/sources?format=csv").headers["content-type"].startswith("text/csv")
    assert client.get(f"{V1}/sources", headers={"Accept": "*/*"}).headers["content-type"] == "application/json"


def test_unacceptable_format(client: TestClient) -> None:
    assert_error(client.get(f"{V1}/sources", headers={"Accept": "application/xml"}), 406, "not_acceptable")
    assert_error(client.get(f"{V1}/facilities/fac-pak-mine", headers={"Accept": "text/csv"}), 406)
    assert_error(client.get(f"{V1}/sources?format=xlsx"), 422)


def test_facility_detail_cites_every_source(client: TestClient) -> None:
    d = client.get(f"{V1}/facilities/fac-pak-mine").json()
    assert d["facility"]["status"] == "operating"
    assert [h["status"] for h in d["history"]] == ["exploration", "construction", "operating"]
    assert {o["organisation"]: o["stake"] for o in d["owners"]} == {"org-alpha": 0.75, "org-beta": 0.25}
    assert [x["downstream"] for x in d["downstream"]] == ["fac-usa-sb"]
    assert [o["value"] for o in d["observations"]] == [60.0]
    cited = {d["facility"]["source_id"], d["facility"]["capacity_source_id"]}
    cited |= {x["source_id"] for part in ("owners", "history", "downstream", "observations") for x in d[part]}
    assert cited == set(d["sources"]) == {"test-company", "test-news"}


def test_deal_detail_has_phases_and_milestones(client: TestClient) -> None:
    d = client.get(f"{V1}/deals/deal-test-mou").json()
    assert d["deal"]["commodities"] == ["antimony", "rare-earths"]
    assert [p["seq"] for p in d["phases"]] == [1, 2]
    assert [m["description"] for m in d["phases"][0]["milestones"]] == ["First shipment"]
    assert d["phases"][1]["milestones"] == []
    assert {p["organisation"] for p in d["parties"]} == {"org-beta", "org-army"}
    # each party carries its organisation's kind and source (queries.deal_parties), and the source is cited
    by_org = {p["organisation"]: p for p in d["parties"]}
    assert (by_org["org-beta"]["kind"], by_org["org-beta"]["source_id"]) == ("company", "test-company")
    assert (by_org["org-army"]["country"], by_org["org-army"]["source_id"]) == ("PAK", "test-news")
    assert {"test-news", "test-company"} <= set(d["sources"])


def test_commodities_and_forms(client: TestClient) -> None:
    ids = [c["id"] for c in client.get(f"{V1}/commodities").json()["data"]]
    assert ids == sorted(ids) and {"rare-earths", "antimony"} <= set(ids)
    forms = client.get(f"{V1}/forms?limit=1000").json()["data"]
    assert {"ree-concentrate", "ndpr-oxide", "ndfeb-magnet", "sb-concentrate"} <= {f["id"] for f in forms}
    assert [(f["commodity"], f["id"]) for f in forms] == sorted((f["commodity"], f["id"]) for f in forms)


def test_deals_between_countries(client: TestClient) -> None:
    both = client.get(f"{V1}/deals?party_country=PAK&party_country=United States").json()
    assert [d["id"] for d in both["data"]] == ["deal-test-mou"]
    assert client.get(f"{V1}/deals?party_country=PAK&party_country=CHN").json()["meta"]["total"] == 0
    assert_error(client.get(f"{V1}/deals?party_country=Ruritania"), 422)


def test_other_details(client: TestClient) -> None:
    org = client.get(f"{V1}/organisations/org-alpha").json()
    assert [o["owner"] for o in org["owned_by"]] == ["org-army"]
    assert {f["id"] for f in org["operates"]} == {"fac-pak-mine", "fac-pak-ree"}
    src = client.get(f"{V1}/sources/test-stats").json()
    assert len(src["observations"]) == 4
    ev = client.get(f"{V1}/events/ev-test-control").json()
    assert ev["event"]["elements"] == ["Dy", "Tb"]
    country = client.get(f"{V1}/countries/pakistan").json()
    assert country["country"]["code"] == "PAK"
    assert {f["id"] for f in country["facilities"]} == {"fac-pak-mine", "fac-pak-ree"}
    total = client.get(f"{V1}/countries?limit=1").json()["meta"]["total"]
    assert total > 200


def test_bad_input_gives_4xx_with_the_error_body(client: TestClient) -> None:
    assert_error(client.get(f"{V1}/facilities/no-such-facility"), 404, "not_found")
    assert_error(client.get(f"{V1}/deals/nope"), 404)
    assert_error(client.get(f"{V1}/sources/nope"), 404)
    assert_error(client.get(f"{V1}/organisations/nope"), 404)
    assert_error(client.get(f"{V1}/events/nope"), 404)
    err = assert_error(client.get(f"{V1}/countries/Narnia"), 422)
    assert "Narnia" in str(err["message"])
    assert_error(client.get(f"{V1}/nowhere"), 404)
    assert_error(client.post(f"{V1}/facilities"), 405)
    err = assert_error(client.get(f"{V1}/facilities?stage=quarrying"), 422, "validation_error")
    assert err["details"][0]["field"] == "stage"
    assert_error(client.get(f"{V1}/facilities?status=dreaming"), 422)
    assert_error(client.get(f"{V1}/facilities?country=Atlantis"), 422)
    assert_error(client.get(f"{V1}/facilities?commodity=unobtainium"), 422)
    for bbox in ("1,2,3", "a,b,c,d", "10,0,5,5", "0,0,200,10", "nan,0,1,1"):
        assert_error(client.get(f"{V1}/facilities", params={"bbox": bbox}), 422)
    assert_error(client.get(f"{V1}/facilities?limit=0"), 422)
    assert_error(client.get(f"{V1}/facilities?limit=ten"), 422)
    assert_error(client.get(f"{V1}/facilities?offset=-1"), 422)
    assert_error(client.get(f"{V1}/observations?year=twenty"), 422)
    assert_error(client.get(f"{V1}/facilities/" + "x" * 300), 422)


def test_cache_is_dropped_when_the_data_changes(fake_db: object, tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    from sqlalchemy import update

    from orechain.evidence import schema
    from orechain.evidence.store import Store
    from orechain.interfaces.api import create_app

    assert isinstance(tmp_path, Path) and isinstance(fake_db, Path)
    db = tmp_path / "copy.db"
    shutil.copy(fake_db, db)
    app = create_app(db=db, load_shipped=False)
    with TestClient(app) as c:
        assert c.get(f"{V1}/facilities/fac-usa-sep").json()["facility"]["capacity"] == 500
        with Store.open(db) as other, other.transaction() as conn:  # another process (an import) writes
            conn.execute(update(schema.facilities).where(schema.facilities.c.id == "fac-usa-sep")
                         .values(capacity=650))
        assert c.get(f"{V1}/facilities/fac-usa-sep").json()["facility"]["capacity"] == 650
    app.state.orechain.store.close()


def test_cached_answer_equals_the_first_and_leaks_no_marker(client: TestClient) -> None:
    url = f"{V1}/facilities?limit=2&country=CHN"
    first = client.get(url, headers={"Accept": "text/csv"})
    again = client.get(url, headers={"Accept": "text/csv"})
    assert first.content == again.content
    for r in (first, again):
        assert r.headers["x-total-count"] == "3" and 'rel="next"' in r.headers["link"]
        assert r.headers["content-type"].startswith("text/csv")
        assert "x-orechain-cacheable" not in r.headers
    # the same URL with another Accept is another entry
    assert client.get(url).headers["content-type"] == "application/json"
    # errors are never cached: a bad request stays an error, a good one stays good
    assert client.get(f"{V1}/facilities/nope").status_code == 404
    assert client.get(f"{V1}/facilities/nope").status_code == 404
