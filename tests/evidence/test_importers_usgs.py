"""USGS MCS importers: the fake copies under tests/fixtures and the real files in ../shared."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orechain.evidence import queries
from orechain.evidence.errors import InputError
from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.importers.usgs_mcs import parse_salient, parse_world
from orechain.evidence.store import Store
from orechain.units import parse_unit

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "usgs-mcs"


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows).set_index(["metric", "country", "year"]).sort_index()


def test_world_fixture_reads_every_quirk() -> None:
    df = _frame(parse_world(FIX / "mcs2099-raree_world.csv"))
    assert set(df["source_id"]) == {"usgs-mcs-2099"}
    assert set(df["unit"]) == {"t REO"}
    assert set(df["commodity"]) == {"rare-earths"} and set(df["form"]) == {"ree-concentrate"}
    chn = df.loc[("mine_production", "CHN", 2098)]
    assert chn["value"] == 2400 and chn["value_text"] == "2,400" and bool(chn["estimated"])
    assert "Production quota" in chn["note"]
    assert not df.loc[("mine_production", "CHN", 2097)]["estimated"]
    # "Estimated in 2097 also." flags the earlier year; "W" keeps no value but its text and meaning.
    mmr97, mmr98 = df.loc[("mine_production", "MMR", 2097)], df.loc[("mine_production", "MMR", 2098)]
    assert bool(mmr97["estimated"]) and mmr97["value"] == 500
    assert pd.isna(mmr98["value"]) and mmr98["value_text"] == "W" and "withheld" in mmr98["note"]
    # Reserves are dated the year before the vintage; NA keeps its text; NBSP becomes a plain space.
    usa = df.loc[("reserves", "USA", 2098)]
    assert usa["value"] == 20000 and "United States were revised" in usa["note"]
    rus = df.loc[("reserves", "RUS", 2098)]
    assert pd.isna(rus["value"]) and rus["value_text"] == "NA" and "Russia (recoverable)" in rus["note"]
    # The glued footnote number resolves to the world; the bound in the note is a lower bound, text kept.
    wld = df.loc[("reserves", "WLD", 2098)]
    assert wld["value"] == 900000 and wld["lower"] == 900000 and wld["value_text"] == ">900,000"
    assert "Côte d’Ivoire" in wld["note"] and "World total (rounded)10" in wld["note"]
    assert df.loc[("mine_production", "OTH", 2098)]["value"] == 70
    assert pd.isna(df.loc[("mine_production", "PRK", 2097)]["value"])


def test_world_fixture_in_windows_1252() -> None:
    df = _frame(parse_world(FIX / "mcs2099-antim_world.csv"))
    assert set(df["unit"]) == {"t Sb"}
    assert df.loc[("mine_production", "TUR", 2097)]["estimated"]  # Prod_t_Est_ spelling
    assert "“Revised”" in df.loc[("reserves", "TUR", 2098)]["note"]
    assert bool(df.loc[("mine_production", "PAK", 2097)]["estimated"])  # "Also estimated in 2097"
    assert df.loc[("reserves", "WLD", 2098)]["lower"] == 2_000_000


def test_units_written_are_known_to_the_registry() -> None:
    rows = parse_world(FIX / "mcs2099-raree_world.csv") + parse_salient(FIX / "mcs2099-tungs_salient.csv")
    for unit in {r["unit"] for r in rows}:
        parse_unit(unit)


def test_salient_fixture_units_bounds_and_header_fixes() -> None:
    rows = parse_salient(FIX / "mcs2099-tungs_salient.csv")
    by = {(r["metric"], r["year"]): r for r in rows}
    nir = by[("us_net_import_reliance", 2097)]
    assert (nir["value"], nir["lower"], nir["value_text"], nir["unit"]) == (50, 50, ">50", "%")
    assert "'NIR_ct' read as 'NIR_pct'" in nir["note"]
    price = by[("price", 2098)]
    assert price["form"] == "w-apt" and price["unit"] == "USD/mtu" and price["value"] == 260
    assert by[("us_imports_concentrate", 2098)]["value"] == 1600
    assert by[("us_stocks", 2097)]["value"] is None and by[("us_stocks", 2097)]["value_text"] == "W"
    assert by[("us_employment", 2098)]["unit"] == "count"
    assert by[("us_production_mine", 2098)]["value_text"] == "NA"
    assert all(r["country"] == "USA" for r in rows if r["metric"] != "price")
    ree = {(r["metric"], r["year"]): r for r in parse_salient(FIX / "mcs2099-raree_salient.csv")}
    e = ree[("us_net_import_reliance_concentrate", 2098)]
    assert e["value"] is None and e["value_text"] == "E" and "net exporter" in e["note"]
    assert ree[("price", 2098)]["form"] == "nd-oxide"
    assert ree[("price_ceo2", 2098)]["unit"] == "USD/kg"


def test_import_through_the_registry_and_query(store: Store) -> None:
    rec = run_import(store, IMPORTERS["usgs-mcs"], FIX / "mcs2099-raree_world.csv")
    assert rec.added == rec.rows > 0
    df = queries.production(store, commodity="rare-earths", country="CHN", year=2098)
    row = df[df["source_id"] == "usgs-mcs-2099"].iloc[0]
    assert row["value"] == 2400 and row["quality"] == "primary"


@pytest.mark.parametrize(("text", "field", "message"), [
    ("Source,Country,Type,Prod_t_2097\r\nMCS2099,Atlantis,\"Mine production, contained antimony\",5\r\n",
     "Country", "unknown country name 'Atlantis'"),
    ("Source,Country,Type,Prod_t_2097\r\nMCS2099,China,\"Mine production, contained antimony\",5x\r\n",
     "Prod_t_2097", "not a number"),
    ("Source,Country,Type,Prod_t_2097\r\nMCS2099,China,\"Mine production\",5\r\n",
     "Type", "cannot tell the basis unit"),
    ("Source,Country,Prod_t_2097\r\nMCS2099,China,5\r\n", "Type", "missing column 'Type'"),
    ("Source,Country,Type,Prod_t_2097,Mystery\r\nMCS2099,China,\"Mine production, contained antimony\",5,1\r\n",
     "Mystery", "unknown column"),
    ("Source,Country,Type,Prod_t_2097,\r\nMCS2099,China,\"Mine production, contained antimony\",5,77\r\n",
     "column 5 (no header)", "no header"),
    ("Source,Country,Type,Prod_t_2097\r\nMCS2099,China,\"Mine production, contained antimony\",5\r\n"
     "MCS2099,PRC,\"Mine production, contained antimony\",6\r\n", "Prod_t_2097", "duplicate"),
    ("Source,Country,Type,Prod_t_2097\r\nMCS2024,China,\"Mine production, contained antimony\",5\r\n",
     "Source", "the file name says MCS2099"),
    ("Source,Country,Type,Country,Prod_t_2097\r\nMCS2099,China,\"Mine production, contained antimony\",PRC,5\r\n",
     "Country", "appear more than once"),
])
def test_bad_world_files_name_line_and_field(tmp_path: Path, text: str, field: str, message: str) -> None:
    path = tmp_path / "mcs2099-antim_world.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        parse_world(path)
    problem = exc.value.problems[0]
    assert problem.file == str(path) and problem.field == field and message in problem.message
    assert problem.line is not None


def test_salient_unknown_unit_suffix(tmp_path: Path) -> None:
    path = tmp_path / "mcs2099-antim_salient.csv"
    path.write_text("DataSource,Commodity,Year,Imports_Ore_zz\nMCS2099,Antimony,2098,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no unit suffix"):
        parse_salient(path)


# -- the real files, exactly as USGS publishes them ------------------------------------------------------
def _real(shared: Path, name: str) -> Path:
    return shared / "data" / "usgs-mcs" / name


@pytest.mark.parametrize("name", ["mcs2024-raree_world.csv", "mcs2023-raree_world.csv",
                                  "rare_earths_mcs2022-raree_world.csv", "mcs2024-antim_world.csv",
                                  "mcs2023-antim_world.csv", "mcs2024-tungs_world.csv", "mcs2023-tungs_world.csv",
                                  "tungsten_mcs2022-tungs_world.csv"])
def test_every_real_world_file_imports(shared: Path, name: str) -> None:
    rows = parse_world(_real(shared, name))
    assert rows and all(r["quality"] == "primary" for r in rows)
    assert {r["country"] for r in rows} >= {"CHN", "WLD"}


def test_real_mcs2024_rare_earths_figures(shared: Path) -> None:
    df = _frame(parse_world(_real(shared, "mcs2024-raree_world.csv")))
    assert df.loc[("mine_production", "CHN", 2023)]["value"] == 240_000
    assert df.loc[("mine_production", "WLD", 2023)]["value"] == 350_000
    assert df.loc[("reserves", "WLD", 2023)]["value"] == 110_000_000
    assert set(df["unit"]) == {"t REO"} and set(df["source_id"]) == {"usgs-mcs-2024"}
    assert "Production quota" in df.loc[("mine_production", "CHN", 2023)]["note"]
    assert "Joint Ore Reserves Committee" in df.loc[("reserves", "AUS", 2023)]["note"]


def test_real_mcs2024_antimony_and_tungsten(shared: Path) -> None:
    sb = _frame(parse_world(_real(shared, "mcs2024-antim_world.csv")))
    assert sb.loc[("mine_production", "PAK", 2023)]["value"] == 80
    assert sb.loc[("reserves", "PAK", 2023)]["value"] == 26_000
    assert sb.loc[("mine_production", "WLD", 2023)]["value"] == 83_000
    wld = sb.loc[("reserves", "WLD", 2023)]
    assert wld["lower"] == 2_000_000 and wld["value_text"] == ">2,000,000"
    assert "inadequate to make reliable estimates" in wld["note"]  # the footnote is kept
    w = _frame(parse_world(_real(shared, "mcs2024-tungs_world.csv")))
    assert set(w["unit"]) == {"t W"}
    assert w.loc[("mine_production", "CHN", 2023)]["value"] == 63_000
    assert w.loc[("mine_production", "WLD", 2023)]["value"] == 78_000
    ru = _frame(parse_world(_real(shared, "mcs2023-antim_world.csv"))).loc[("mine_production", "RUS", 2022)]
    assert "Russia (recoverable)" in ru["note"]


@pytest.mark.parametrize("name", ["mcs2023-antim_salient.csv", "mcs2023-raree_salient.csv",
                                  "mcs2023-tungs_salient.csv", "mcs2024-antim_salient.csv",
                                  "mcs2024-raree_salient.csv", "mcs2024-tungs_salient.csv"])
def test_every_real_salient_file_imports(shared: Path, name: str) -> None:
    rows = parse_salient(_real(shared, name))
    assert rows
    for unit in {r["unit"] for r in rows}:
        parse_unit(unit)


def test_real_files_into_the_shipped_store_twice(shared: Path, store: Store) -> None:
    world = _real(shared, "mcs2024-raree_world.csv")
    first = run_import(store, IMPORTERS["usgs-mcs"], world)
    assert not first.already_imported and first.rows == 48
    again = run_import(store, IMPORTERS["usgs-mcs"], world)
    assert again.already_imported and "nothing changed" in again.message()
    df = queries.production(store, commodity="rare-earths", country="CHN", year=2023)
    mcs2024 = df[df["source_id"] == "usgs-mcs-2024"]
    assert len(mcs2024) == 1 and mcs2024.iloc[0]["value"] == 240_000  # one row per figure and source


def test_rows_are_valid_observation_records(shared: Path) -> None:
    """The importers write plain rows for speed; each must still be a valid domain record."""
    from orechain.evidence.model import Observation

    names = sorted(p.name for p in (shared / "data" / "usgs-mcs").glob("*.csv"))
    rows = [r for n in names for r in (parse_world if "world" in n else parse_salient)(_real(shared, n))]
    rows += parse_world(FIX / "mcs2099-raree_world.csv") + parse_salient(FIX / "mcs2099-raree_salient.csv")
    assert len(rows) > 800
    for r in rows:
        Observation.model_validate(r)
