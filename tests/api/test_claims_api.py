"""Claims-ledger endpoints on two fake articles (tests/api/fixtures/claims): claims, subjects, conflicts,
documents, with filters, paging, CSV and errors."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from test_evidence_api import assert_error

V1 = "/api/v1"
WEALTH = "PAK/total mineral wealth/value"


def test_claims_list_filters_and_grades(client: TestClient) -> None:
    body = client.get(f"{V1}/claims").json()
    assert body["meta"]["total"] == 4
    subjects = {c["subject"] for c in body["data"]}
    assert {WEALTH, "CHN/rare earth production/world share", "PAK/rare earth grade/grade"} == subjects
    first = body["data"][0]
    for col in ("id", "document", "doc", "sentence", "start", "end", "text", "value", "unit", "ladder",
                "plausibility", "independent_sources", "grade"):
        assert col in first, col
    wealth = client.get(f"{V1}/claims", params={"subject": WEALTH}).json()["data"]
    assert sorted(c["value"] for c in wealth) == [6.0, 8.0]
    assert {c["plausibility"] for c in wealth} == {"implausible"}
    by_doc = client.get(f"{V1}/claims", params={"document": "fake_weekly.txt"}).json()["data"]
    assert {c["doc"] for c in by_doc} == {"fake_weekly.txt"} and len(by_doc) == 2
    by_id = client.get(f"{V1}/claims", params={"document": by_doc[0]["document"]}).json()["meta"]["total"]
    assert by_id == 2
    grade = client.get(f"{V1}/claims", params={"ladder": "exploration_results"}).json()["data"]
    assert [c["text"] for c in grade] == ["1,400 mg/kg"]
    assert client.get(f"{V1}/claims", params={"plausibility": "implausible"}).json()["meta"]["total"] == 2
    assert client.get(f"{V1}/claims", params={"min_sources": 2}).json()["meta"]["total"] == 0
    page = client.get(f"{V1}/claims", params={"limit": 3}).json()
    assert page["meta"]["count"] == 3 and page["links"]["next"] is not None


def test_claims_bad_input(client: TestClient) -> None:
    assert_error(client.get(f"{V1}/claims", params={"ladder": "rumour"}), 422)
    assert "known" in assert_error(client.get(f"{V1}/claims", params={"ladder": "x"}), 422)["details"]
    assert_error(client.get(f"{V1}/claims", params={"document": "no-such.txt"}), 422)
    assert_error(client.get(f"{V1}/claims", params={"min_sources": 0}), 422)
    assert_error(client.get(f"{V1}/claims/nope"), 404, "not_found")
    assert_error(client.get(f"{V1}/documents/nope"), 404, "not_found")
    assert_error(client.get(f"{V1}/conflicts", params={"include_hedged": "perhaps"}), 422)
    assert_error(client.get(f"{V1}/claims/{'x' * 300}"), 422)


def test_claim_detail_links_document_and_evidence_sources(client: TestClient) -> None:
    share = client.get(f"{V1}/claims", params={"subject": "CHN/rare earth production/world share"}).json()["data"]
    d = client.get(f"{V1}/claims/{share[0]['id']}").json()
    assert d["claim"]["text"] == "69%"
    assert d["document"]["name"] == "fake_daily.txt" and "repaired_text" not in d["document"]
    assert [(e["relation"], e["source_id"]) for e in d["evidence"]] == [("agrees", "test-news")]
    assert d["sources"]["test-news"]["publisher"] == "Test Wire"
    wealth = client.get(f"{V1}/claims", params={"subject": WEALTH}).json()["data"]
    d2 = client.get(f"{V1}/claims/{wealth[0]['id']}").json()
    assert [c["id"] for c in d2["same_subject"]] == [wealth[1]["id"]]


def test_conflicts_pages_by_subject_with_every_claim(client: TestClient) -> None:
    body = client.get(f"{V1}/conflicts").json()
    by = {s["subject"]: s for s in body["data"]}
    assert by[WEALTH]["status"] == "contradict"
    assert sorted(c["value"] for c in by[WEALTH]["claims"]) == [6.0, 8.0]
    assert body["meta"]["total"] == len(body["data"])
    only = client.get(f"{V1}/conflicts", params={"include_hedged": "false"}).json()
    assert {s["status"] for s in only["data"]} <= {"contradict", "incomparable"}
    one = client.get(f"{V1}/conflicts", params={"limit": 1}).json()
    assert one["meta"]["count"] == 1 and len(one["data"][0]["claims"]) >= 2
    resp = client.get(f"{V1}/conflicts", headers={"Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {r["subject"] for r in rows} == set(by) and len(rows) == sum(len(s["claims"]) for s in by.values())


def test_documents_with_text_that_claim_offsets_point_into(client: TestClient) -> None:
    docs = client.get(f"{V1}/documents").json()["data"]
    assert [d["name"] for d in docs] == ["fake_daily.txt", "fake_weekly.txt"]
    assert "repaired_text" not in docs[0] and docs[0]["claims"] == 2
    d = client.get(f"{V1}/documents/{docs[0]['id']}").json()
    text = d["document"]["text"]
    assert [text[c["start"]:c["end"]] for c in d["claims"]] == [c["text"] for c in d["claims"]]
    assert {c["subject_status"] for c in d["claims"]} == {"contradict", "agree"}
    assert [e["source_id"] for e in d["evidence"]] == ["test-news"] and "test-news" in d["sources"]


def test_subjects(client: TestClient) -> None:
    rows = client.get(f"{V1}/claims/subjects").json()["data"]
    status = {r["subject"]: r["status"] for r in rows}
    assert status[WEALTH] == "contradict" and len(status) == 3


def test_evidence_links_list(client: TestClient) -> None:
    rows = client.get(f"{V1}/claims/evidence").json()["data"]
    assert [(r["relation"], r["source_id"]) for r in rows] == [("agrees", "test-news")]
    assert client.get(f"{V1}/claims/evidence", params={"claim": rows[0]["claim"]}).json()["meta"]["total"] == 1
    assert client.get(f"{V1}/claims/evidence", params={"claim": "nope"}).json()["meta"]["total"] == 0
