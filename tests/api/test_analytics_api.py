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


# --- mine to magnet (fake network: one operating magnet plant in CHN; a US separation plant under construction)
def test_sankey_nodes_links_and_sources(client: TestClient) -> None:
    d = client.get(f"{V1}/analytics/sankey").json()
    assert d["stages"] == ["magnet"] and d["links"] == []
    assert [(s["country"], s["controlled"]) for s in d["stage_shares"]] == [("CHN", 1.0)]
    d = client.get(f"{V1}/analytics/sankey", params={"include": "fac-usa-sep"}).json()
    assert d["stages"] == ["separation", "magnet"]
    assert d["links"] == [{"source_stage": "separation", "source": "USA", "target_stage": "magnet",
                           "target": "CHN", "share": 1.0}]
    fac = {f["id"]: f for f in d["facilities"]}
    assert fac["fac-usa-sep"]["capacity_source_id"] == "test-company" and fac["fac-usa-sep"]["share"] == 1.0
    assert {"test-company", "test-stats"} <= set(d["sources"])
    # a year: facilities producing at its end by their dated status (the old CHN smelter ran until 2020)
    y = client.get(f"{V1}/analytics/sankey", params={"year": 2019, "include": "fac-usa-sep"}).json()
    assert "fac-chn-old" in {f["id"] for f in y["facilities"]} and y["missing_capacity"] == ["fac-chn-old"]
    assert y["links"][0]["source"] == "?"  # the magnet plant's only known supplier has no recorded capacity


def test_trace_and_independent_capacity(client: TestClient) -> None:
    t = client.get(f"{V1}/analytics/trace", params={"include": "fac-usa-sep", "consumer": "United States"}).json()
    assert t["consumer"] == ["USA"] and t["path_shares"] == [{"route": "USA -> CHN", "share": 1.0}]
    assert t["bottleneck_stage"] == "separation"
    cap = client.get(f"{V1}/analytics/independent-capacity", params={"include": "fac-usa-sep"}).json()
    assert cap["value"] == pytest.approx(500.0, abs=1e-3)  # the separation plant, 500 t NdPr oxide
    ex = client.get(f"{V1}/analytics/independent-capacity",
                    params=[("include", "fac-usa-sep"), ("exclude", "USA")]).json()
    assert ex["value"] == 0.0 and ex["excluded"] == ["fac-usa-sep"]


def test_network_endpoints_bad_input(client: TestClient) -> None:
    assert_error(client.get(f"{V1}/analytics/sankey", params={"commodity": "unobtainium"}), 422)
    assert_error(client.get(f"{V1}/analytics/sankey", params={"consumer": "Narnia"}), 422)
    assert_error(client.get(f"{V1}/analytics/trace", params={"year": "soon"}), 422)
    assert_error(client.get(f"{V1}/analytics/trace", params={"demand": -5}), 422)
    assert_error(client.get(f"{V1}/analytics/independent-capacity", params={"exclude": "Atlantis"}), 422)
    assert_error(client.get(f"{V1}/analytics/independent-capacity", params={"by": "owner"}), 422)
    assert_error(client.get(f"{V1}/analytics/sankey", params={"commodity": "antimony"}), 422)  # no final capacity


def test_sankey_links_from_facility_paths() -> None:
    import pandas as pd

    from orechain.interfaces.api.routers.analytics import sankey_links

    fac = pd.DataFrame({"id": ["m1", "m2", "c1", "s1", "s2", "g1"],
                        "stage": ["mining", "mining", "beneficiation", "separation", "separation", "magnet"],
                        "level": [0, 0, 1, 2, 2, 3], "controller": ["AUS", "USA", "AUS", "MYS", "CHN", "CHN"]})
    paths = pd.DataFrame({"route": ["m1 -> c1 -> s1 -> g1", "m2 -> s2 -> g1", "? -> s2 -> s1 -> g1", "m2 -> g1"],
                          "share": [0.5, 0.2, 0.3, 0.0]})
    out = sankey_links(paths, fac, ["mining", "beneficiation", "separation", "magnet"])
    got = {(r.source_stage, r.source, r.target_stage, r.target): r.share for r in out.itertuples()}
    assert got == pytest.approx({
        ("mining", "AUS", "beneficiation", "AUS"): 0.5, ("beneficiation", "AUS", "separation", "MYS"): 0.5,
        ("separation", "MYS", "magnet", "CHN"): 0.8,  # s2 -> s1 within a stage counts as s1
        ("mining", "USA", "separation", "CHN"): 0.2,  # bypassing beneficiation
        ("separation", "CHN", "magnet", "CHN"): 0.2, ("beneficiation", "?", "separation", "MYS"): 0.3})


# --- GeoPolRisk and EU supply risk on imported (fake) BACI trade and WGI governance --------------------------
BACI = """t,i,j,k,v,q
2024,156,842,280530,5000,100
2024,36,842,280530,1000,40
2024,156,276,280530,3000,60
"""
WGI = """country,iso3,year,pv_estimate,std_err,num_sources,rank,lower,upper
China,CHN,2024,-0.5,0.2,9,30,20,40
Australia,AUS,2024,0.9,0.2,9,80,70,90
United States,USA,2024,0.0,0.2,9,50,40,60
"""


@pytest.fixture(scope="module")
def traded(fake_db: object, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    import shutil
    from pathlib import Path

    from orechain.evidence.importers import IMPORTERS, run_import
    from orechain.evidence.importers.baci import BaciImporter
    from orechain.evidence.store import Store
    from orechain.interfaces.api import create_app

    tmp = tmp_path_factory.mktemp("traded")
    db = tmp / "traded.db"
    shutil.copy(str(fake_db), db)
    (tmp / "BACI_HS22_Y2024_V209901.csv").write_text(BACI)
    (tmp / "wgi.csv").write_text(WGI)
    codes = Path(__file__).parents[1] / "fixtures" / "baci" / "country_codes_V209901.csv"
    with Store.open(db) as store:
        run_import(store, BaciImporter(codes=codes), tmp / "BACI_HS22_Y2024_V209901.csv")
        run_import(store, IMPORTERS["wgi"], tmp / "wgi.csv")
    return TestClient(create_app(db=db, load_shipped=False), raise_server_exceptions=False)


def test_geopolrisk_equals_the_analytics_function(traded: TestClient) -> None:
    from orechain.analytics import inputs
    from orechain.analytics.geopolrisk import geopolrisk

    resp = traded.get(f"{V1}/analytics/geopolrisk", params={"importer": "USA", "material": "rare-earths",
                                                             "year": 2024, "cf_reference": 1.0})
    assert resp.status_code == 200, resp.text
    (row,) = resp.json()["data"]
    assert row["production_source_id"] == "test-stats"
    store = traded.app.state.orechain.store  # type: ignore[attr-defined]
    prod = inputs.production_frame(store).rename(columns={"commodity": "material"})
    exp = geopolrisk(prod, inputs.trade_frame(store, ["rare-earths"], [2024]), inputs.governance_frame(store),
                     {"USA": ["USA"]}, ["rare-earths"], [2024], cf_reference=1.0).iloc[0]
    for col in ("score", "cf", "hhi", "import_risk", "price", "imports_t"):
        assert row[col] == pytest.approx(float(exp[col])), col
    assert row["imports_t"] == 140.0 and 0 < row["score"] < 1


def test_geopolrisk_and_eu_supply_risk_need_their_inputs(client: TestClient, traded: TestClient) -> None:
    err = assert_error(client.get(f"{V1}/analytics/geopolrisk", params={"importer": "USA", "material": "rare-earths",
                                                                         "year": 2024, "cf_reference": 1}), 422)
    assert "import BACI first" in err["message"]
    assert_error(client.get(f"{V1}/analytics/geopolrisk", params={"material": "rare-earths", "year": 2024}), 422)
    assert_error(traded.get(f"{V1}/analytics/geopolrisk", params={"importer": "Narnia", "material": "rare-earths",
                                                                   "year": 2024, "cf_reference": 1}), 422)
    assert_error(traded.get(f"{V1}/analytics/geopolrisk", params={"importer": "USA", "material": "rare-earths",
                                                                   "year": 2024, "cf_reference": 0}), 422)
    assert_error(traded.get(f"{V1}/analytics/geopolrisk", params={"importer": "USA", "material": "rare-earths",
                                                                   "year": 2024, "source": "nope",
                                                                   "cf_reference": 1}), 422)
    assert_error(client.get(f"{V1}/analytics/eu-supply-risk", params={"material": "rare-earths", "year": 2024}), 422)


# --- governance vintage and stage-share basis -----------------------------------------------------------------
def test_governance_vintage_is_chosen_validated_and_echoed(traded: TestClient) -> None:
    from orechain.analytics import inputs

    store = traded.app.state.orechain.store  # type: ignore[attr-defined]
    held = [str(x) for x in inputs.governance_sources(store)["source_id"]]
    base = {"importer": "USA", "material": "rare-earths", "year": 2024, "cf_reference": 1.0}
    default = traded.get(f"{V1}/analytics/geopolrisk", params=base)
    assert default.status_code == 200, default.text
    assert default.headers["X-Governance-Source"] == held[0]
    assert {r["governance_source"] for r in default.json()["data"]} == {held[0]}
    asked = traded.get(f"{V1}/analytics/geopolrisk", params={**base, "governance": held[-1]})
    assert asked.status_code == 200 and asked.headers["X-Governance-Source"] == held[-1]
    assert traded.get(f"{V1}/analytics/geopolrisk", params={**base, "governance": held[-1]}).headers[
        "X-Governance-Source"] == held[-1]  # a cached answer keeps the header
    sr = traded.get(f"{V1}/analytics/eu-supply-risk", params={"material": "rare-earths", "year": 2024,
                                                               "region": "USA", "governance": held[0]})
    assert sr.status_code == 200, sr.text
    (row,) = sr.json()["data"]
    assert row["governance_source"] == held[0] and sr.headers["X-Governance-Source"] == held[0]
    assert "trade factor t=1 for every supplying country (assumption: orechain)" in row["assumptions"]
    for route, params in (("geopolrisk", base), ("eu-supply-risk", {"material": "rare-earths", "year": 2024})):
        err = assert_error(traded.get(f"{V1}/analytics/{route}", params={**params, "governance": "wgi-1999"}), 422)
        assert err["details"].get("field") == "governance" and err["details"]["allowed"] == held, (route, err)
        assert all(h in err["message"] for h in held)


def test_stage_shares_say_their_basis_on_the_fake(client: TestClient) -> None:
    cap = client.get(f"{V1}/analytics/stage-shares").json()["data"]
    assert [(r["stage"], r["country"], r["hosted_share"], r["stage_basis"]) for r in cap] == [
        ("magnet", "CHN", 1.0, "capacity")]
    out = client.get(f"{V1}/analytics/stage-shares", params={"basis": "output"}).json()["data"]
    assert out[0]["stage_basis"].startswith("output") and out[0]["measured_share"] == 0  # no output observed
    cov = client.get(f"{V1}/analytics/stage-shares", params={"basis": "output", "show": "coverage"}).json()["data"]
    assert [(r["id"], r["counted_as"]) for r in cov] == [("fac-chn-mag", "capacity (no output)")]
    # the shipped routes need the shipped production: on the fake the feed basis says what is missing
    err = assert_error(client.get(f"{V1}/analytics/stage-shares", params={"basis": "feed"}), 422)
    assert "no mine production of" in err["message"]
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"basis": "tonnage"}), 422)
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"stage": "smelting"}), 422)
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"year": 2024}), 422)
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"basis": "feed", "stage": "magnet"}), 422)
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"basis": "feed", "year": 2022}), 422)
    assert_error(client.get(f"{V1}/analytics/stage-shares", params={"show": "coverage"}), 422)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    from orechain.interfaces.api import create_app

    return TestClient(create_app(db=tmp_path_factory.mktemp("shipped") / "s.db"), raise_server_exceptions=False)


def test_stage_shares_on_the_shipped_data(shipped: TestClient) -> None:
    def china(**params: object) -> dict[str, object]:
        rows = shipped.get(f"{V1}/analytics/stage-shares", params={"stage": "separation", **params}).json()["data"]
        return next(r for r in rows if r["country"] == "CHN" and r.get("year", 2024) == 2024)

    assert china()["hosted_share"] == pytest.approx(50_800 / 69_800, abs=1e-3)
    out = china(basis="output")
    assert 0.86 <= float(out["hosted_share"]) <= float(out["hosted_share_measured"]) <= 0.97  # type: ignore[arg-type]
    assert china(basis="feed")["share"] == pytest.approx(372_430 / 393_950)
    routes = shipped.get(f"{V1}/analytics/stage-shares", params={"basis": "feed", "show": "coverage",
                                                                  "year": 2024}).json()["data"]
    assert {r["exporter"] for r in routes} >= {"MMR", "USA"} and all(r["source_ids"] for r in routes)
