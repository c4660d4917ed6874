"""Migration 0007: the database keeps per-table data versions itself (triggers), on both backends; the downgrade
drops the table, the triggers and (PostgreSQL) the trigger function."""

from __future__ import annotations

import importlib

import pytest
import sqlalchemy as sa

from orechain.evidence import schema
from orechain.evidence.store import Store

M0007 = importlib.import_module("orechain.evidence.migrations.versions.0007_data_versions")


def _versions(conn: sa.Connection) -> dict[str, int]:
    return {str(t): int(v) for t, v in conn.exec_driver_sql("SELECT table_name, version FROM data_versions")}


def _alembic(store: Store, conn: sa.Connection, how: str, rev: str) -> None:
    from alembic import command

    getattr(command, how)(store._alembic_config(conn), rev)


def test_every_table_is_tracked_or_deliberately_not() -> None:
    # register every table on the shared metadata
    import orechain.access.tables
    import orechain.claims.tables  # noqa: F401

    tracked, excluded = set(M0007.TRACKED), set(M0007.EXCLUDED)
    assert not tracked & excluded
    assert tracked | excluded == set(schema.metadata.tables) - {"data_versions"}


def test_triggers_bump_the_row_of_the_table_written(empty_store: Store) -> None:
    pg = empty_store.engine.dialect.name == "postgresql"
    with empty_store.engine.begin() as conn:
        start = _versions(conn)
        assert set(start) == set(M0007.TRACKED) and set(start.values()) == {0}
        # raw SQL, three rows in one statement: PostgreSQL's statement trigger bumps once, SQLite's row trigger thrice
        conn.exec_driver_sql("INSERT INTO sources (id, publisher, title, kind) VALUES ('f1', 'p', 'one', 'k'), "
                             "('f2', 'p', 'two', 'k'), ('f3', 'p', 'three', 'k')")
        after_insert = _versions(conn)
        assert after_insert["sources"] == (1 if pg else 3)
        assert {t: v for t, v in after_insert.items() if t != "sources"} == {t: 0 for t in start if t != "sources"}
        conn.exec_driver_sql("UPDATE sources SET title = 'uno' WHERE id = 'f1'")
        assert _versions(conn)["sources"] == after_insert["sources"] + 1
        conn.exec_driver_sql("UPDATE sources SET title = 'none' WHERE id = 'missing'")  # no row: PG bumps, SQLite not
        conn.exec_driver_sql("DELETE FROM sources WHERE id = 'f3'")
        assert _versions(conn)["sources"] == (4 if pg else 5)
        if pg:
            conn.exec_driver_sql("TRUNCATE sources CASCADE")
            assert _versions(conn)["sources"] == 5
        conn.execute(schema.scenario_jobs.insert().values(id="j" * 32, content_hash="j" * 64, state="queued",
                                                          scenarios=1, done=0, submitted_at=0.0, heartbeat_at=0.0,
                                                          worker="t"))
        assert "scenario_jobs" not in _versions(conn)


def _triggers(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE :p ESCAPE '!'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE :p ESCAPE '!'"
    return {str(r[0]) for r in conn.execute(sa.text(sql), {"p": "dv!_%"})}


def test_downgrade_drops_table_and_triggers_and_upgrade_restores_them(empty_store: Store) -> None:
    per_table = 1 if empty_store.engine.dialect.name == "postgresql" else 3
    with empty_store.engine.connect() as conn:
        assert len(_triggers(conn)) == per_table * len(M0007.TRACKED)
    with empty_store.engine.begin() as conn:
        _alembic(empty_store, conn, "downgrade", "0006_scenario_jobs")
    assert "data_versions" not in sa.inspect(empty_store.engine).get_table_names()
    with empty_store.engine.begin() as conn:
        assert _triggers(conn) == set()
        # writes work with no triggers
        conn.exec_driver_sql("INSERT INTO sources (id, publisher, title, kind) VALUES ('f1', 'p', 'one', 'k')")
        if conn.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_proc WHERE proname = "
                                        "'orechain_bump_data_version'").scalar_one() == 0
    assert empty_store.migrate() is True
    with empty_store.engine.begin() as conn:
        assert len(_triggers(conn)) == per_table * len(M0007.TRACKED)
        conn.exec_driver_sql("DELETE FROM sources")
        assert _versions(conn)["sources"] == 1


@pytest.mark.parametrize("table", ["trade_flows", "scenario_jobs"])
def test_untracked_tables_have_no_trigger(empty_store: Store, table: str) -> None:
    with empty_store.engine.connect() as conn:
        assert not {t for t in _triggers(conn) if t.startswith(f"dv_{table}")}
