from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_evidence_api import assert_error

V1 = "/api/v1"


def test_shares_per_source_against_the_world_row(client: TestClient) -> None:
    rows = client.get(f"{V1}/analytics/shares?commodity=rare-earths&year=2024").json()["data"]
    by_country = {r["country"]: r for r in rows}
    assert set(by_country) == {"CHN", "USA"}  # the world row is the denominator, not a country
    assert by_country["CHN"]["share"] == pytest.approx(270000 / 390000)
    assert by_country["CHN"]["basis"] == "world row" and by_country["CHN"]["source_id"] == "test-stats"


def test_hhi_keeps_disagreeing_sources_apart(client: TestClient) -> None:
    rows = client.get(f"{V1}/analytics/hhi?commodity=antimony").json()["data"]
    # PAK 80 t (test-stats, primary) and 95 t (test-news, secondary): two groups, never summed
    assert {(r["source_id"], r["total"], r["quality"]) for r in rows} == {
        ("test-stats", 80.0, "primary"), ("test-news", 95.0, "secondary")}
    assert all(r["hhi"] == pytest.approx(1.0) and r["rows_without_value"] == 0 for r in rows)
    ree = client.get(f"{V1}/analytics/hhi?commodity=rare-earths&year=2024").json()["data"]
    assert ree[0]["hhi"] == pytest.approx((270000 / 390000) ** 2 + (45000 / 390000) ** 2)
    csv = client.get(f"{V1}/analytics/hhi?commodity=rare-earths", headers={"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv") and "hhi_10000" in csv.text


def test_analytics_bad_input(client: TestClient) -> None:
    assert_error(client.get(f"{V1}/analytics/hhi?commodity=unobtainium"), 422)
    assert_error(client.get(f"{V1}/analytics/shares?year=abc"), 422)
    empty = client.get(f"{V1}/analytics/hhi?commodity=rare-earths&year=1900").json()
    assert empty["meta"]["total"] == 0
