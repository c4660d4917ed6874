"""Every importer: bad input is an error naming file/line/column and leaves the database unchanged in
content; re-importing a file changes nothing and says so; wrong encodings and empty files are refused."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from orechain.evidence import schema
from orechain.evidence.errors import InputError
from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.store import Store

FIX = Path(__file__).resolve().parents[1] / "fixtures"
GOOD = {
    "usgs-mcs": FIX / "usgs-mcs" / "mcs2099-raree_world.csv",
    "usgs-mcs-salient": FIX / "usgs-mcs" / "mcs2099-tungs_salient.csv",
    "wmd": FIX / "wmd" / "6.4-production-by-minerals.xlsx",
    "baci": FIX / "baci" / "BACI_HS22_Y2099_V209901.csv",
    "wgi": FIX / "wgi" / "wgi_pv_long.csv",
}


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), plus the schema's index list: the database's content."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        insp = inspect(conn)
        for name in sorted(insp.get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
            out[f"{name} (indexes)"] = sorted((ix["name"] or "",) for ix in insp.get_indexes(name))
    return out


def test_registry_has_every_kind() -> None:
    assert set(IMPORTERS) == set(GOOD)
    for imp in IMPORTERS.values():
        assert imp.description


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_reimport_changes_nothing_and_says_so(store: Store, kind: str, tmp_path: Path) -> None:
    src = GOOD[kind]
    first = run_import(store, IMPORTERS[kind], src)
    assert first.added > 0 and not first.already_imported
    before = dump(store)
    again = run_import(store, IMPORTERS[kind], src)
    assert again.already_imported and "already imported" in again.message() and "nothing changed" in again.message()
    assert dump(store) == before
    # A renamed copy with the same bytes is recognised by its sha256 too.
    copy = tmp_path / ("copy" + src.suffix)
    if kind == "baci":
        copy = tmp_path / src.name
    shutil.copy(src, copy)
    assert run_import(store, IMPORTERS[kind], copy).already_imported


def _bad_files(tmp: Path) -> list[tuple[str, Path]]:
    """One bad file per importer, failing late (after good rows) so that a partial write would show."""
    out = []
    world = GOOD["usgs-mcs"].read_bytes().replace(b"MCS2099,Other countries", b"MCS2099,Atlantis")
    (tmp / "mcs2099-raree_world.csv").write_bytes(world)
    out.append(("usgs-mcs", tmp / "mcs2099-raree_world.csv"))
    sal = GOOD["usgs-mcs-salient"].read_bytes().replace(b'"1,600"', b"1.6.0")
    (tmp / "mcs2099-tungs_salient.csv").write_bytes(sal)
    out.append(("usgs-mcs-salient", tmp / "mcs2099-tungs_salient.csv"))
    from openpyxl import load_workbook

    wb = load_workbook(GOOD["wmd"])
    wb["Bauxite"]["C4"] = "about 80"
    wb.save(tmp / "wmd.xlsx")
    out.append(("wmd", tmp / "wmd.xlsx"))
    baci = GOOD["baci"].read_text() + "2099,156,842,850511,abc,1\n"
    (tmp / "BACI_HS22_Y2099_V209901.csv").write_text(baci)
    shutil.copy(FIX / "baci" / "country_codes_V209901.csv", tmp)
    out.append(("baci", tmp / "BACI_HS22_Y2099_V209901.csv"))
    wgi = GOOD["wgi"].read_text() + "Atlantis,ATL,2099,0.1,0.1,1,1,1,1\n"
    (tmp / "wgi.csv").write_text(wgi)
    out.append(("wgi", tmp / "wgi.csv"))
    return out


def test_failed_import_leaves_the_database_unchanged(store: Store, tmp_path: Path) -> None:
    for kind, path in GOOD.items():  # a database that already holds imported data of every kind
        if kind != "usgs-mcs":
            run_import(store, IMPORTERS[kind], path)
    before = dump(store)
    assert before["trade_flows"] and before["governance"]
    for kind, bad in _bad_files(tmp_path):
        with pytest.raises(InputError) as exc:
            run_import(store, IMPORTERS[kind], bad)
        p = exc.value.problems[0]
        assert Path(p.file.split(" (sheet")[0]).name == bad.name and p.line is not None and p.field, (kind, p)
        assert dump(store) == before, kind


def _refuse(store: Store, kind: str, path: Path, message: str) -> None:
    before = dump(store)
    with pytest.raises(InputError, match=message):
        run_import(store, IMPORTERS[kind], path)
    assert dump(store) == before


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_wrong_encodings_and_empty_files(store: Store, kind: str, tmp_path: Path) -> None:
    name = GOOD[kind].name if kind != "wmd" else "wmd.csv"
    text_src = GOOD[kind] if kind != "wmd" else FIX / "wmd" / "Tungsten (W).csv"
    utf16 = tmp_path / "utf16" / name
    utf16.parent.mkdir()
    utf16.write_bytes(text_src.read_bytes().decode("utf-8", errors="replace").encode("utf-16"))
    _refuse(store, kind, utf16, "UTF-16")
    empty = tmp_path / "empty" / name
    empty.parent.mkdir()
    empty.write_bytes(b"")
    _refuse(store, kind, empty, "empty file")
    binary = tmp_path / "binary" / name
    binary.parent.mkdir()
    binary.write_bytes(bytes(range(256)) * 4)
    _refuse(store, kind, binary, "binary|NUL|not an .xlsx")
    missing = tmp_path / "missing.csv"
    _refuse(store, kind, missing, "no such file")


def test_header_only_is_not_an_import(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "mcs2099-raree_world.csv"
    p.write_text("Source,Country,Type,Prod_t_2097\n")
    _refuse(store, "usgs-mcs", p, "no data rows")


def test_observation_rows_cite_their_source_and_quality(store: Store) -> None:
    run_import(store, IMPORTERS["usgs-mcs"], GOOD["usgs-mcs"])
    with store.engine.connect() as conn:
        o, s = schema.observations, schema.sources
        rows = conn.execute(select(o.c.source_id, o.c.quality, s.c.publisher).join(s, o.c.source_id == s.c.id)
                            .where(o.c.source_id == "usgs-mcs-2099")).all()
    assert rows and {r.quality for r in rows} == {"primary"}
    assert {r.publisher for r in rows} == {"U.S. Geological Survey"}
