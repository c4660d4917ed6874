"""BACI, World Mining Data and WGI importers on their fake copies (and WGI on the real table)."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from orechain.evidence import queries, schema
from orechain.evidence.errors import InputError
from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.importers.baci import BaciImporter, baci_code_table
from orechain.evidence.importers.wgi import parse_wgi
from orechain.evidence.importers.wmd import parse_wmd
from orechain.evidence.store import Store
from orechain.units import parse_unit

FIX = Path(__file__).resolve().parents[1] / "fixtures"
BACI = FIX / "baci" / "BACI_HS22_Y2099_V209901.csv"


def _trade(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.trade_flows)).mappings().all()
    return pd.DataFrame(rows).sort_values(["exporter", "importer"]).reset_index(drop=True)


# -- BACI ---------------------------------------------------------------------------------------------
def test_baci_fixture_maps_baci_codes_and_keeps_missing_quantities(store: Store) -> None:
    rec = run_import(store, IMPORTERS["baci"], BACI)
    assert rec.rows == rec.added == 6
    df = _trade(store)
    pairs = set(zip(df["exporter"], df["importer"], strict=True))
    assert pairs == {("CHN", "USA"), ("PAK", "USA"), ("TWN", "FRA"), ("IND", "CHE"), ("NOR", "DEU"), ("AUS", "CHN")}
    pak = df[df["exporter"] == "PAK"].iloc[0]
    assert pak["product"] == "261710" and pak["value_kusd"] == 12 and pd.isna(pak["quantity_t"])
    assert df[df["exporter"] == "IND"].iloc[0]["product"] == "010121"  # HS6 written without its leading zero
    assert pd.isna(df[df["exporter"] == "TWN"].iloc[0]["quantity_t"])  # blank q
    assert run_import(store, IMPORTERS["baci"], BACI).already_imported
    assert len(_trade(store)) == 6
    src = queries.sources(store)
    assert "cepii-baci-hs22-v209901" in set(src["id"])


def test_baci_without_companion_file_uses_iso_and_exceptions(tmp_path: Path, store: Store) -> None:
    data = tmp_path / BACI.name
    shutil.copy(BACI, data)
    table, unmapped = baci_code_table(None)
    assert table[842] == "USA" and table[490] == "TWN" and table[840] == "USA" and not unmapped
    assert run_import(store, BaciImporter(), data).rows == 6


def test_baci_unknown_code_names_line_and_column(tmp_path: Path, store: Store) -> None:
    data = tmp_path / "BACI_HS22_Y2099_V209901.csv"
    data.write_text("t,i,j,k,v,q\n2099,156,842,850511,1,1\n2099,58,842,850511,1,1\n2099,156,999,850511,1,1\n")
    shutil.copy(FIX / "baci" / "country_codes_V209901.csv", tmp_path)
    with pytest.raises(InputError) as exc:
        run_import(store, IMPORTERS["baci"], data)
    found = {(p.line, p.field) for p in exc.value.problems}
    assert found == {(3, "i"), (4, "j")}
    assert "Belgium-Luxembourg" in str(exc.value.problems[0])


@pytest.mark.parametrize(("body", "line", "field", "message"), [
    ("t,i,j,k,v,q\n2099,156,842,85x511,1,1\n", 2, "k", "malformed number"),
    ("t,i,j,k,v,q\n2099,156,842,850511,1,1\n2099,156,842,850511,,1\n", 3, "v", "malformed number ''"),
    ("t,i,j,k,v,q\n2099,156,842,850511,1,1\n\n2099,156,842,850511,1,1\n", 3, None, "expected 6 fields"),
    ("t,i,j,k,v,q\n2099,156,842,850511,-1,1\n", 2, "v", "negative"),
    ("t,i,j,k,v\n2099,156,842,850511,1\n", 1, None, "the header must be t,i,j,k,v,q"),
    ("t,i,j,k,v,q\n", None, None, "no data rows"),
    ("t,i,j,k,v,q\n2099,156,842,850511,1,1\n2099,156,842,850512,1,1\n2099,156,842,850511,2,1\n", 4, None,
     "duplicate flow: the same year, exporter, importer and product as line 2"),
])
def test_baci_bad_rows(tmp_path: Path, store: Store, body: str, line: int | None, field: str | None,
                       message: str) -> None:
    data = tmp_path / "BACI_HS22_Y2099_V209901.csv"
    data.write_text(body)
    with pytest.raises(InputError) as exc:
        run_import(store, BaciImporter(codes=FIX / "baci" / "country_codes_V209901.csv"), data)
    p = exc.value.problems[0]
    assert (p.line, p.field) == (line, field) and message in p.message


def test_baci_streams_in_chunks_and_an_error_late_in_the_file_writes_nothing(tmp_path: Path, store: Store) -> None:
    good = [f"2099,156,842,{850500 + n},1.5,2" for n in range(25)]
    data = tmp_path / "BACI_HS22_Y2099_V209901.csv"
    data.write_text("t,i,j,k,v,q\n" + "\n".join([*good, "2099,156,842,850511,1.5,abc", *good]) + "\n")
    importer = BaciImporter(codes=FIX / "baci" / "country_codes_V209901.csv", chunk_rows=10)
    with pytest.raises(InputError) as exc:
        run_import(store, importer, data)
    assert (exc.value.problems[0].line, exc.value.problems[0].field) == (27, "q")
    assert len(store.counts()) and store.counts()["trade_flows"] == 0
    good += [f"2099,156,842,{260100 + n},1.5,2" for n in range(25)]
    data.write_text("t,i,j,k,v,q\n" + "\n".join(good) + "\n")
    assert run_import(store, importer, data).rows == 50  # five chunks of ten
    with store.engine.connect() as conn:  # the deferred index is back
        names = {ix["name"] for ix in __import__("sqlalchemy").inspect(conn).get_indexes("trade_flows")}
    assert "ix_trade_flows_lookup" in names


# -- World Mining Data --------------------------------------------------------------------------------------
def test_wmd_workbook_fixture() -> None:
    obs, new, last = parse_wmd(FIX / "wmd" / "6.4-production-by-minerals.xlsx")
    assert last == 2098
    df = pd.DataFrame(obs).set_index(["commodity", "country", "year"]).sort_index()
    chn = df.loc[("tungsten", "CHN", 2096)]
    assert chn["value"] == 62000.5 and chn["unit"] == "t W" and chn["form"] == "w-concentrate"
    assert "Rep. of China: CNIA" in chn["note"]
    assert ("tungsten", "VNM", 2096) not in df.index  # empty cell: no figure, no row
    assert df.loc[("rare-earths", "MMR", 2098)]["unit"] == "t REO"
    assert df.loc[("tungsten", "COD", 2094)]["value"] == 100
    assert df.loc[("bauxite", "WLD", 2098)]["unit"] == "Mt"
    assert [c["id"] for c in new] == ["bauxite"]
    for unit in set(df["unit"]):
        parse_unit(unit)


def test_wmd_import_adds_unknown_minerals_as_commodities(store: Store) -> None:
    rec = run_import(store, IMPORTERS["wmd"], FIX / "wmd" / "6.4-production-by-minerals.xlsx")
    assert rec.added == rec.rows == 9 * 5 - 1 + 1  # 44 figures (one cell empty) and the new commodity
    df = queries.production(store, commodity="bauxite")
    assert set(df["country"]) == {"GIN", "WLD"} and set(df["source_id"]) == {"bmf-wmd-to-2098"}


def test_wmd_single_sheet_csv() -> None:
    obs, _, last = parse_wmd(FIX / "wmd" / "Tungsten (W).csv")
    assert last == 2098 and len(obs) == 3 and {o["unit"] for o in obs} == {"t W"}


@pytest.mark.parametrize(("rows", "field", "message"), [
    ([["Country", "unit", 2098], ["Atlantis", "metr. t", 5]], "Country", "unknown country name"),
    ([["Country", "unit", 2098], ["China", "bushels", 5]], "unit", "unknown or missing unit"),
    ([["Country", "unit", 2098], ["China", "metr. t", "lots"]], "2098", "not a number"),
    ([["Country", 2098], ["China", 5]], "unit", "missing column"),
])
def test_wmd_bad_sheets(tmp_path: Path, rows: list[list[object]], field: str, message: str) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Tungsten (W)"
    for r in rows:
        ws.append(r)
    path = tmp_path / "wmd.xlsx"
    wb.save(path)
    with pytest.raises(InputError) as exc:
        parse_wmd(path)
    p = exc.value.problems[0]
    assert p.field == field and message in p.message and "sheet 'Tungsten (W)'" in p.file


def test_wmd_numbers_on_a_sheet_without_header_are_an_error(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["China", 5])
    path = tmp_path / "wmd.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match=re.escape("without a 'Country | unit | years' header")):
        parse_wmd(path)


# -- WGI --------------------------------------------------------------------------------------------------
def test_wgi_long_fixture(store: Store) -> None:
    rows, last = parse_wgi(FIX / "wgi" / "wgi_pv_long.csv")
    by = {(r["country"], r["year"]): r for r in rows}
    assert last == 2099
    assert by[("PAK", 2098)]["estimate"] == -1.5 and by[("PAK", 2098)]["std_err"] == 0.2
    assert by[("TWN", 2098)]["estimate"] == 0.5
    assert by[("COG", 2098)]["estimate"] == -0.6  # name "Congo" is ambiguous, the code decides
    assert by[("TZA", 2098)]["estimate"] is None  # missing stays missing, never 0
    assert by[("UMI", 2098)]["estimate"] is None  # "None" marker; name resolves where code PUS does not
    assert not any(r["country"] == "R20" for r in rows)
    rec = run_import(store, IMPORTERS["wgi"], FIX / "wgi" / "wgi_pv_long.csv")
    assert rec.added == len(rows) == 7 - 1
    gov = queries.governance(store)
    assert gov[(gov["country"] == "TZA") & (gov["year"] == 2098)]["estimate"].isna().all()


def test_wgi_databank_fixture() -> None:
    rows, last = parse_wgi(FIX / "wgi" / "wgi_databank.csv")
    by = {(r["indicator"], r["country"], r["year"]): r for r in rows}
    assert last == 2098
    assert by[("PV.EST", "PAK", 2097)] == {"indicator": "PV.EST", "country": "PAK", "year": 2097, "estimate": -1.6,
                                           "std_err": 0.21}
    assert by[("PV.EST", "PAK", 2098)]["std_err"] is None
    assert by[("GE.EST", "KOR", 2098)]["estimate"] is None
    assert len(rows) == 4


def test_wgi_revision_long_fixture() -> None:
    rows, last = parse_wgi(FIX / "wgi" / "wgi_revision_long.csv")
    by = {(r["indicator"], r["country"], r["year"]): r for r in rows}
    assert last == 2098 and len(rows) == 3
    assert by[("PV.EST", "PAK", 2098)]["estimate"] == -1.5 and by[("GE.EST", "PAK", 2098)]["std_err"] == 0.2
    assert by[("PV.EST", "TWN", 2098)]["estimate"] is None


def test_wgi_bad_inputs(tmp_path: Path) -> None:
    bad = tmp_path / "wgi.csv"
    bad.write_text("country,iso3,year,pv_estimate,std_err\nAtlantis,ATL,2098,0.1,0.2\nChina,CHN,2098,high,0.2\n")
    with pytest.raises(InputError) as exc:
        parse_wgi(bad)
    assert [(p.line, p.field) for p in exc.value.problems] == [(2, "country"), (3, "pv_estimate")]
    bad.write_text("country,iso3,year,pv_estimate,std_err\nChina,USA,2098,0.1,0.2\n")
    with pytest.raises(InputError, match="conflicting"):
        parse_wgi(bad)
    bad.write_text("name,value\nChina,1\n")
    with pytest.raises(InputError, match="not a WGI layout"):
        parse_wgi(bad)


def test_real_wgi_table(shared: Path, store: Store, caplog: pytest.LogCaptureFixture) -> None:
    path = shared / "data" / "wgi" / "wgi_political_stability_pv.csv"
    with caplog.at_level(logging.WARNING, logger="orechain.evidence.importers.wgi"):
        rec = run_import(store, IMPORTERS["wgi"], path)
    assert "GUY 1996 (lines 81, 83)" in caplog.text  # the peer's two different Guyana rows: neither kept
    assert "Europe EFTA, nes" in caplog.text
    assert rec.rows == 5566
    gov = queries.governance(store)
    gov = gov[gov["source_id"].str.startswith("wb-wgi-to-2024-")]
    assert gov["country"].nunique() == 215  # 216 names less the pseudo-area
    twn = gov[(gov["country"] == "TWN") & (gov["year"] == 1996)]
    assert twn["estimate"].round(3).tolist() == [1.057]  # Taiwan's row matches
    assert gov["estimate"].isna().sum() > 0 and not (gov["estimate"] == 0).any()
    assert set(gov[gov["country"] == "GUY"]["year"]) == {2023, 2024}  # identical duplicates kept once


def test_wgi_conflicting_std_err_only_is_reported_not_guessed(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "wgi.csv"
    path.write_text('"Country Name","Country Code","Series Name","Series Code","2098 [YR2098]"\n'
                    '"Chile","CHL","x","PV.STD.ERR","0.2"\n"Chile","CHL","x","PV.STD.ERR","0.3"\n'
                    '"Peru","PER","x","PV.EST","0.1"\n')
    with caplog.at_level(logging.WARNING, logger="orechain.evidence.importers.wgi"):
        rows, _ = parse_wgi(path)
    assert [r["country"] for r in rows] == ["PER"] and "CHL 2098 (lines 2, 3)" in caplog.text


@pytest.mark.parametrize(("cell", "value", "field"), [(0, "9" * 40, "t"), (1, "9" * 40, "i"), (3, "9" * 40, "k"),
                                                     (4, "inf", "v"), (5, "-inf", "q")])
def test_baci_huge_numbers_are_refused_with_line_and_field(tmp_path: Path, store: Store, cell: int, value: str,
                                                           field: str) -> None:
    """Found by fuzzing: an integer too large for int64 made pandas raise OverflowError."""
    row = ["2099", "156", "842", "850511", "1", "1"]
    row[cell] = value
    data = tmp_path / "BACI_HS22_Y2099_V209901.csv"
    data.write_text("t,i,j,k,v,q\n2099,156,842,850512,1,1\n" + ",".join(row) + "\n")
    with pytest.raises(InputError) as exc:
        run_import(store, BaciImporter(codes=FIX / "baci" / "country_codes_V209901.csv"), data)
    assert (exc.value.problems[0].line, exc.value.problems[0].field) == (3, field)


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    wgi = tmp_path / "wgi.csv"
    wgi.write_text("country,iso3,year,pv_estimate,std_err,pv_estimate\nChina,CHN,2098,0.1,0.2,0.3\n")
    with pytest.raises(InputError, match="appear more than once"):
        parse_wgi(wgi)
    wmd = tmp_path / "Tungsten (W).csv"
    wmd.write_text("Country,unit,2098,2098\nChina,metr. t,1,2\n")
    with pytest.raises(InputError, match="'2098' appear more than once"):
        parse_wmd(wmd)
