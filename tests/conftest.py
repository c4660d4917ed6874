"""Shared fixtures. The database fixtures run every test that uses them on both backends.

``empty_store``, ``store``, ``loaded_db`` and ``fresh_db`` are parametrised by ``backend``: each test that uses
one runs as ``[sqlite]`` and as ``[postgresql]``. The PostgreSQL variants carry the ``postgres`` marker (so a
plain ``pytest`` runs SQLite only, as pyproject's addopts say; ``make test`` and CI run both) and need
``ORECHAIN_TEST_PG_URL``, a SQLAlchemy URL of a role that may create databases (``scripts/ci_postgres.sh``
starts a local server and prints it). Without it they skip, saying so; with ``ORECHAIN_REQUIRE_PG=1`` (set by
CI) they fail instead. Every PostgreSQL test gets its own database, copied from a template made once per
session, and dropped afterwards.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orechain.evidence.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ENV = "ORECHAIN_TEST_PG_URL"
PG_SKIP_REASON = (f"PostgreSQL variant: set {PG_ENV} to a postgresql+psycopg:// URL of a role that may create "
                  "databases (eval \"$(scripts/ci_postgres.sh)\" starts a local server and sets it)")


@pytest.fixture
def shared() -> Path:
    """The read-only ../shared folder beside the checkout (real USGS files, WGI, corpus)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout (it is in CI and on developer machines)")
    return SHARED


class PgServer:
    """Makes and drops throwaway databases on the server that ``ORECHAIN_TEST_PG_URL`` points at."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._names = (f"oct_{os.getpid()}_{i}" for i in itertools.count())
        self.created: list[str] = []

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database (a copy of ``template`` when given); returns its name."""
        name = next(self._names)
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(sql)
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        # WITH (FORCE) cannot end an autovacuum worker that happens to be in the database (PostgreSQL answers
        # "must be a member of the role whose process is being terminated"); such a worker finishes within
        # moments, so the drop is retried for up to 30 s before the error stands.
        from sqlalchemy.exc import DBAPIError

        for attempt in range(60):
            try:
                with self.admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except DBAPIError as exc:
                if "must be a member of the role" not in str(exc) or attempt == 59:
                    raise
                time.sleep(0.5)
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("ORECHAIN_REQUIRE_PG") == "1":
            pytest.fail(f"ORECHAIN_REQUIRE_PG=1 but {PG_ENV} is not set")
        pytest.skip(PG_SKIP_REASON)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(f"{PG_ENV} is set but psycopg is not installed (pip install -e '.[postgres]')")
    server = PgServer(url)
    try:
        with server.admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # a set URL that does not answer is a broken environment, not a skip
        pytest.fail(f"{PG_ENV} is set but the server does not answer: {exc}")
    yield server
    server.close()


@pytest.fixture(scope="session")
def pg_templates(pg_server: PgServer) -> dict[str, str]:
    """Two private template databases: ``empty`` (migrated) and ``loaded`` (with the shipped evidence base)."""
    from orechain.evidence.shipped import load_into

    empty = pg_server.create()
    Store.open(pg_server.url_of(empty)).close()
    loaded = pg_server.create(template=empty)
    with Store.open(pg_server.url_of(loaded)) as s:
        load_into(s)
    return {"empty": empty, "loaded": loaded}


@pytest.fixture(scope="session", params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on: ``sqlite`` or ``postgresql``."""
    name: str = request.param
    if name == "postgresql":
        request.getfixturevalue("pg_server")  # skips (or fails under CI) when no server is configured
    return name


@pytest.fixture
def new_db(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """A maker of new, empty, not yet migrated databases on the test's backend; returns ``--db`` values."""
    made: list[str] = []
    server: PgServer | None = request.getfixturevalue("pg_server") if backend == "postgresql" else None

    def make() -> str:
        name = server.create() if server is not None else f"new-{len(made)}.db"
        made.append(name)
        return server.url_of(name) if server is not None else str(tmp_path / name)

    yield make
    if server is not None:
        for name in made:
            server.drop(name)


@pytest.fixture
def fresh_db(new_db: Callable[[], str]) -> str:
    """A location (``--db`` value) of a new, empty, not yet migrated database on the test's backend."""
    return new_db()


def _pg_copy(request: pytest.FixtureRequest, template: str) -> Iterator[str]:
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create(template=request.getfixturevalue("pg_templates")[template])
    yield server.url_of(name)
    server.drop(name)


@pytest.fixture
def empty_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated database with no rows."""
    if backend == "sqlite":
        store = Store.open(tmp_path / "test.db")
        yield store
        store.close()
        return
    for url in _pg_copy(request, "empty"):
        store = Store.open(url)
        yield store
        store.close()


@pytest.fixture(scope="session")
def loaded_db(backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path | str:
    """A database with the shipped evidence base, built once per session and backend; treat it as read-only.

    A ``Path`` on SQLite and a URL string on PostgreSQL: pass ``str(loaded_db)`` to ``--db`` or ``Store.open``.
    """
    if backend == "sqlite":
        from orechain.evidence.shipped import load_into

        path = tmp_path_factory.mktemp("db") / "shipped.db"
        with Store.open(path) as store:
            load_into(store)
        return path
    server: PgServer = request.getfixturevalue("pg_server")
    return server.url_of(server.create(template=request.getfixturevalue("pg_templates")["loaded"]))


@pytest.fixture
def store(backend: str, loaded_db: Path | str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A private copy of the shipped database, safe to write to."""
    if backend == "sqlite":
        target = tmp_path / "copy.db"
        shutil.copy(loaded_db, target)
        s = Store.open(target)
        yield s
        s.close()
        return
    for url in _pg_copy(request, "loaded"):
        s = Store.open(url)
        yield s
        s.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for every real-browser test of the session (Playwright's sync API
    allows one running instance per thread, so the dashboard and report suites share it)."""
    from chromium_launch import ARGS, CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()
