"""Governance vintages: the 0005 migration puts source_id in the governance key (both backends, data kept,
downgrade refuses to drop a vintage), two WGI files that disagree stay apart, and the analytics choose one
vintage explicitly (default: the newest) and say which."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from orechain.evidence import schema
from orechain.evidence.store import Store

ROW = {"indicator": "PV.EST", "country": "PAK", "year": 2023, "estimate": -1.5, "std_err": 0.2}


def _alembic(store: Store, conn: sa.Connection, how: str, rev: str) -> None:
    from alembic import command

    getattr(command, how)(store._alembic_config(conn), rev)


def _pk(store: Store) -> list[str]:
    return list(sa.inspect(store.engine).get_pk_constraint("governance")["constrained_columns"])


def test_migration_0005_keys_governance_by_source(fresh_db: str) -> None:
    store = Store.open(fresh_db, migrate=False)
    with store.engine.begin() as conn:
        _alembic(store, conn, "upgrade", "0004_access")
        conn.execute(schema.countries.insert(), [{"code": "PAK", "name": "Pakistan"}])
        conn.execute(schema.sources.insert(), [{"id": s, "publisher": "World Bank", "title": s, "kind": "dataset"}
                                               for s in ("wgi-a", "wgi-b")])
        conn.execute(schema.governance.insert(), [{**ROW, "source_id": "wgi-a"}])
    assert _pk(store) == ["indicator", "country", "year"]
    assert store.migrate() is True
    assert _pk(store) == ["indicator", "country", "year", "source_id"]
    with store.engine.begin() as conn:
        # the row written before the migration survives; a second vintage with another value is a new row
        conn.execute(schema.governance.insert(), [{**ROW, "estimate": -1.2, "source_id": "wgi-b"}])
        got = conn.execute(sa.select(schema.governance.c.source_id, schema.governance.c.estimate)
                           .order_by(schema.governance.c.source_id)).all()
    assert [tuple(r) for r in got] == [("wgi-a", -1.5), ("wgi-b", -1.2)]
    # going back would have to drop a vintage: refused, nothing changed
    with pytest.raises(RuntimeError, match=r"1 \(indicator, country, year\) keys are held by more than one source"), \
            store.engine.begin() as conn:
        _alembic(store, conn, "downgrade", "0004_access")
    assert _pk(store) == ["indicator", "country", "year", "source_id"]
    with store.engine.begin() as conn:
        conn.execute(sa.delete(schema.governance).where(schema.governance.c.source_id == "wgi-b"))
        _alembic(store, conn, "downgrade", "0004_access")
    assert _pk(store) == ["indicator", "country", "year"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.governance)).scalar_one() == 1
    store.close()


def _wgi(path: Path, pak: float, last_year: int = 2023) -> Path:
    rows = [f"Pakistan,PAK,{y},{pak},0.2" for y in range(2021, last_year + 1)]
    path.write_text("country,iso3,year,pv_estimate,std_err\n" + "\n".join(rows) + "\nChina,CHN,2022,-0.4,0.2\n")
    return path


def test_two_disagreeing_vintages_of_the_same_years_stay_apart(empty_store: Store, tmp_path: Path) -> None:
    from orechain.evidence import queries
    from orechain.evidence.importers import IMPORTERS, run_import
    from orechain.evidence.shipped import load_into

    load_into(empty_store)
    a = run_import(empty_store, IMPORTERS["wgi"], _wgi(tmp_path / "a.csv", -1.5))
    b = run_import(empty_store, IMPORTERS["wgi"], _wgi(tmp_path / "b.csv", -1.2))
    assert (a.added, b.added) == (4, 4)  # nothing of the second vintage "already present"
    g = queries.governance(empty_store)
    pak = g[(g["country"] == "PAK") & (g["year"] == 2023)].set_index("source_id")["estimate"]
    assert sorted(pak.tolist()) == [-1.5, -1.2] and pak.index.nunique() == 2
    # the same values in another file (a re-export) are the same source: nothing added twice
    same = tmp_path / "a-again.csv"
    same.write_text((tmp_path / "a.csv").read_text() + "\n")
    assert run_import(empty_store, IMPORTERS["wgi"], same).added == 0


def test_choose_governance_source_is_explicit() -> None:
    import pandas as pd

    from orechain.analytics.errors import AnalyticsInputError
    from orechain.analytics.inputs import choose_governance_source

    held = pd.DataFrame({"source_id": ["old", "revised", "newer"], "last_year": [2023, 2023, 2024],
                         "import_id": [1, 3, 2]})
    assert choose_governance_source(held) == "newer"  # reaches the latest year
    assert choose_governance_source(held.iloc[:2]) == "revised"  # same years: the one imported last
    assert choose_governance_source(held, "old") == "old"
    with pytest.raises(AnalyticsInputError, match="no governance vintage 'nope'; the store holds: newer, revised, old"):
        choose_governance_source(held, "nope")
    with pytest.raises(AnalyticsInputError, match="import WGI first"):
        choose_governance_source(held.iloc[:0])


# --- the CLI chooses one vintage and says which ------------------------------------------------------------
COUNTRIES = {"CHN": "China", "USA": "United States", "MMR": "Myanmar", "AUS": "Australia", "MYS": "Malaysia",
             "JPN": "Japan", "EST": "Estonia", "DEU": "Germany", "FRA": "France", "AUT": "Austria", "RUS": "Russia",
             "IND": "India", "BRA": "Brazil", "THA": "Thailand", "NGA": "Nigeria", "VNM": "Vietnam",
             "MDG": "Madagascar", "LAO": "Laos"}


def _vintage(path: Path, china: float, years: range) -> Path:
    lines = ["country,iso3,year,pv_estimate,std_err"]
    lines += [f"{name},{code},{y},{china if code == 'CHN' else 0.5},0.2" for code, name in COUNTRIES.items()
              for y in years]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def vintages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    from orechain.evidence.importers import IMPORTERS, run_import
    from orechain.evidence.shipped import load_into

    d = tmp_path_factory.mktemp("vintages")
    store = Store.open(d / "o.db")
    load_into(store)
    ids = []
    for name, china, years in (("old.csv", 0.0, range(2020, 2024)), ("new.csv", -1.0, range(2020, 2025))):
        path = _vintage(d / name, china, years)
        run_import(store, IMPORTERS["wgi"], path)
        ids.append(str(IMPORTERS["wgi"].source(path).id))
    baci = d / "BACI_HS22_Y2023_V202501.csv"  # invented flows (BACI layout), rare earths into the USA and the EU
    baci.write_text("t,i,j,k,v,q\n2023,156,842,284690,90000,12000\n2023,458,842,284690,20000,2500\n"
                    "2023,233,842,280530,3000,150\n2023,156,276,284690,40000,6000\n2023,156,251,284610,8000,1500\n"
                    "2023,233,276,280530,2000,90\n")
    run_import(store, IMPORTERS["baci"], baci)
    store.close()
    return d / "o.db", ids[0], ids[1]


def _json(args: list[str]) -> tuple[list[dict[str, object]], str]:
    import json

    from typer.testing import CliRunner

    from orechain.interfaces.cli import app

    r = CliRunner().invoke(app, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), r.stderr


def test_hhi_uses_the_newest_vintage_unless_told(vintages: tuple[Path, str, str]) -> None:
    db, old, new = vintages
    assert old.startswith("wb-wgi-to-2023-") and new.startswith("wb-wgi-to-2024-")
    args = ["risk", "hhi", "--db", str(db), "-y", "2023"]
    rows, stderr = _json(args)
    assert {r["governance_source"] for r in rows} == {new}
    assert f"from {new} (the newest); also held: {old}" in " ".join(stderr.split())
    old_rows, _ = _json([*args, "--governance", old])
    assert {r["governance_source"] for r in old_rows} == {old}
    # China is less stable in the new vintage (-1.0 against 0.0): its weight, and the gw-HHI, are higher
    by_source = {r["source_id"]: r["gw_hhi"] for r in rows}
    for r in old_rows:
        assert by_source[r["source_id"]] > r["gw_hhi"]  # type: ignore[operator]
    cap, _ = _json(["risk", "hhi", "--db", str(db), "--by", "controller", "--stage", "magnet", "--governance", old])
    assert cap[0]["governance_source"] == old and cap[0]["governance_year"] == 2023


def test_unknown_vintage_is_an_error_naming_those_held(vintages: tuple[Path, str, str]) -> None:
    from typer.testing import CliRunner

    from orechain.interfaces.cli import app

    db, old, new = vintages
    r = CliRunner().invoke(app, ["risk", "eu-sr", "--db", str(db), "-m", "rare-earths", "-y", "2023",
                                 "--governance", "wb-wgi-1999"])
    assert r.exit_code == 2
    assert "no governance vintage 'wb-wgi-1999'" in r.output and new in r.output and old in r.output


def test_geopolrisk_and_eu_sr_end_to_end_report_the_vintage(vintages: tuple[Path, str, str]) -> None:
    db, old, new = vintages
    g, stderr = _json(["risk", "geopolrisk", "--db", str(db), "-i", "USA", "-i", "EU27", "-m", "rare-earths",
                       "-y", "2023", "--cf-reference", "0.409412948"])
    assert [(r["importer"], r["governance_source"]) for r in g] == [("USA", new), ("EU27", new)]
    assert "production source per year: rare-earths 2023: usgs-mcs-2025-ree" in " ".join(stderr.split())
    g_old, _ = _json(["risk", "geopolrisk", "--db", str(db), "-i", "USA", "-m", "rare-earths", "-y", "2023",
                      "--cf-reference", "0.409412948", "--governance", old])
    assert g_old[0]["governance_source"] == old and g_old[0]["import_risk"] != g[0]["import_risk"]
    sr, sr_err = _json(["risk", "eu-sr", "--db", str(db), "-m", "rare-earths", "-y", "2023"])
    assert sr[0]["governance_source"] == new and sr[0]["supply_risk"] > 0  # type: ignore[operator]
    # every assumption the result rests on is in the output, not only in the docs
    for part in ("eol_rir=0.01 (secondary: eu-crm-2023)", "si_sr=1 (assumption: orechain)",
                 "t=1 for every supplying country (assumption: orechain)", "PV.EST"):
        assert part in str(sr[0]["assumptions"]) and part in " ".join(sr_err.split()), part


def test_geopolrisk_says_what_the_copper_reference_needs(vintages: tuple[Path, str, str]) -> None:
    from typer.testing import CliRunner

    from orechain.interfaces.cli import app

    r = CliRunner().invoke(app, ["risk", "geopolrisk", "--db", str(vintages[0]), "-i", "USA", "-m", "rare-earths",
                                 "-y", "2023"])
    assert r.exit_code == 2
    assert "needs copper mine production for 2017" in r.output and "--cf-reference" in " ".join(r.output.split())


def test_missing_trade_names_the_years(vintages: tuple[Path, str, str]) -> None:
    from typer.testing import CliRunner

    from orechain.interfaces.cli import app

    r = CliRunner().invoke(app, ["risk", "eu-sr", "--db", str(vintages[0]), "-m", "rare-earths", "-y", "2022"])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    assert "no trade flows in the store for HS 284690, 284610, 280530 in 2022" in out
    assert "the store has these codes for 2023" in out
