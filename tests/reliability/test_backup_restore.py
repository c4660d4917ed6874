"""The backup and restore recipes of docs/operations.md work: SQLite's online backup API (while a writer is
mid-transaction) and the sqlite3 shell's .backup; pg_dump and pg_restore for PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from orechain.evidence import schema
from orechain.evidence.store import Store


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_online_backup_api(backend: str, store: Store, tmp_path: Path) -> None:
    counts = store.counts()
    live = str(store.engine.url.database)
    backup = tmp_path / "backup.db"
    with store.transaction() as conn:  # a writer holds an open, uncommitted transaction meanwhile
        conn.execute(schema.sources.insert().values(id="uncommitted", publisher="p", title="t", kind="news"))
        src, dst = sqlite3.connect(live), sqlite3.connect(backup)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    with Store.open(backup) as restored:
        assert restored.counts() == counts  # the committed state, without the uncommitted row
        assert restored.revision() == restored.head()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_shell_backup(backend: str, store: Store, tmp_path: Path) -> None:
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed (Debian package sqlite3)")
    backup = tmp_path / "backup.db"
    subprocess.run(["sqlite3", str(store.engine.url.database), f".backup '{backup}'"], check=True)
    with Store.open(backup) as restored:
        assert restored.counts() == store.counts()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_pg_dump_and_restore(backend: str, store: Store, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed (Debian package postgresql-client)")
    server = request.getfixturevalue("pg_server")
    libpq = make_url(server.url_of(str(store.engine.url.database))).set(drivername="postgresql")
    dump = tmp_path / "orechain.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", libpq.render_as_string(hide_password=False)],
                   check=True)
    target = server.create()
    restored_url = make_url(server.url_of(target)).set(drivername="postgresql")
    subprocess.run(["pg_restore", "--no-owner", "--exit-on-error",
                    f"--dbname={restored_url.render_as_string(hide_password=False)}", str(dump)], check=True)
    with Store.open(server.url_of(target)) as restored:
        assert restored.counts() == store.counts()
        assert restored.revision() == restored.head()
