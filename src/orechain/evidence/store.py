"""The evidence store: where it lives, its schema migrations, and transactional writes.

SQLite is the embedded default; any SQLAlchemy URL works, and PostgreSQL is supported by the same code
(only portable SQL is used; inserts that must be idempotent use each dialect's ``ON CONFLICT DO
NOTHING``). The location comes from, in order: an explicit argument (the CLI's ``--db``), the
``ORECHAIN_DB`` environment variable, and the per-user default ``$XDG_DATA_HOME/orechain/orechain.db``
(``~/.local/share/orechain/orechain.db``). A value without ``://`` is a file path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from orechain import settings
from orechain.evidence import schema

__all__ = ["ImportRecord", "Store", "StoreError", "default_db_location", "resolve_url"]

HEAD_REVISION = "0001_initial"
WRITE_LOCK_TIMEOUT_S = 600.0  # how long a SQLite writer waits for another writer before giving up
_MIGRATION_LOCK_KEY = 0x6F72_6563  # PostgreSQL advisory lock held while migrating ("orec")


class StoreError(RuntimeError):
    """The store cannot be opened or written (bad URL, read-only file, full disk, old schema)."""


def default_db_location() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "orechain" / "orechain.db"


def resolve_url(db: str | os.PathLike[str] | None = None) -> str:
    """A SQLAlchemy URL from ``--db``/``ORECHAIN_DB``/the default; a plain path means SQLite."""
    value = str(db) if db is not None else settings.DB.get() or str(default_db_location())
    if "://" in value:
        try:
            make_url(value)
        except Exception as exc:
            raise StoreError(f"not a database URL: {value!r} ({exc})") from exc
        return value
    path = Path(value).expanduser()
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL below may wait for another process
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


@dataclass(frozen=True)
class ImportRecord:
    id: int | None
    kind: str
    file_name: str
    sha256: str
    rows: int
    added: int
    already_imported: bool

    def message(self) -> str:
        if self.already_imported:
            return f"{self.file_name}: already imported as {self.kind} (sha256 {self.sha256[:12]}); nothing changed"
        unchanged = self.rows - self.added
        return (f"{self.file_name}: imported {self.rows} rows as {self.kind}: {self.added} added, "
                f"{unchanged} already present")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Store:
    """A handle on one evidence database."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        # A store that is dropped without close() (a CLI command's store) still closes its connections
        # cleanly: psycopg warns about, and the server logs, connections that are only garbage-collected.
        weakref.finalize(self, engine.dispose)

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, migrate: bool = True) -> Store:
        """Open (and by default create or upgrade) the store at ``db``."""
        url = resolve_url(db)
        parsed = make_url(url)
        is_uri = str(parsed.query.get("uri", "")).lower() == "true" or str(parsed.database or "").startswith("file:")
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") and not is_uri:
            path = Path(parsed.database)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for {path}: {exc.strerror}") from exc
            if path.exists() and not os.access(path, os.W_OK) and migrate:
                raise StoreError(f"database {path} is read-only")
        try:
            engine = create_engine(url, future=True, pool_pre_ping=True)
        except Exception as exc:
            raise StoreError(f"cannot open database {url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(url, engine)
        if migrate:
            store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------------------
    def _alembic_config(self, connection: Connection) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("orechain.evidence") / "migrations"))
        cfg.attributes["connection"] = connection
        return cfg

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            rev: str | None = MigrationContext.configure(conn).get_current_revision()
            return rev

    def head(self) -> str:
        from alembic.script import ScriptDirectory

        with self.engine.connect() as conn:
            head = ScriptDirectory.from_config(self._alembic_config(conn)).get_current_head()
        assert head is not None
        return str(head)

    def migrate(self) -> bool:
        """Bring the schema to the newest revision; True when anything was applied.

        Safe to run from several processes at once: the upgrade runs in one write transaction (SQLite:
        ``BEGIN IMMEDIATE``; PostgreSQL: under an advisory lock) and re-reads the revision inside it, so
        only the first process applies the migrations and the others find the schema current.
        """
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        try:
            head = self.head()
            if self.revision() == head:
                return False
            with self.transaction() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
                if MigrationContext.configure(conn).get_current_revision() == head:
                    return False
                command.upgrade(self._alembic_config(conn), "head")
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot migrate {self.display_url}: {exc}") from exc
        return True

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One all-or-nothing unit of work; database errors of the environment become :class:`StoreError`.

        On SQLite the transaction starts with ``BEGIN IMMEDIATE``: writers queue for the write lock up front
        (waiting up to ``WRITE_LOCK_TIMEOUT_S``) instead of failing with "database is locked" when two
        processes that both read first then try to write. On PostgreSQL concurrent writers are handled by
        the server (row locks; ``ON CONFLICT DO NOTHING`` for idempotent inserts).
        """
        try:
            with self.engine.connect() as conn, conn.begin():
                if conn.dialect.name == "sqlite":
                    _sqlite_begin_immediate(conn)
                yield conn
        except OSError as exc:
            raise StoreError(f"cannot write to {self.display_url}: {exc.strerror or exc}") from exc
        except SQLAlchemyError as exc:
            problem = _environment_problem(exc)
            if problem is not None:
                raise StoreError(f"{problem} ({self.display_url}); nothing was written") from exc
            raise

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            out = {}
            for name, table in schema.metadata.tables.items():
                if name in names:
                    out[name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            return out

    def find_import(self, conn: Connection, kind: str, sha256: str) -> int | None:
        """The id of the import of this file (by kind and content hash), if one was committed.

        Call it inside the import's write transaction: it also serialises concurrent imports of the same
        file, so the second one waits for the first and then finds it ("already imported") instead of
        failing on the unique (kind, sha256) constraint. SQLite's write transaction is already exclusive;
        on PostgreSQL this takes a transaction-scoped advisory lock on (kind, sha256).
        """
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                         {"key": f"orechain-import:{kind}:{sha256}"})
        row = conn.execute(
            select(schema.imports.c.id).where(schema.imports.c.kind == kind, schema.imports.c.sha256 == sha256)
        ).first()
        return None if row is None else int(row[0])

    def record_import(self, conn: Connection, kind: str, file_name: str, sha256: str, rows: int,
                      added: int) -> int:
        res = conn.execute(schema.imports.insert().values(
            kind=kind, file_name=file_name, sha256=sha256, rows=rows, added=added,
            imported_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        ))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])


def insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows, skipping those whose primary key exists; returns how many were added."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table).on_conflict_do_nothing()
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other dialects are not supported
        raise StoreError(f"unsupported database dialect {conn.dialect.name}")
    added = 0
    for start in range(0, len(rows), 5000):
        # rowcount counts the rows actually inserted (conflicts skipped) on both SQLite and PostgreSQL, and,
        # unlike counting the table before and after, is not thrown off by other writers committing meanwhile.
        added += conn.execute(stmt.execution_options(preserve_rowcount=True), list(rows[start:start + 5000])).rowcount
    return added


def _sqlite_begin_immediate(conn: Connection) -> None:
    """Take SQLite's write lock now, waiting for another writer up to ``WRITE_LOCK_TIMEOUT_S``."""
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT_S
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except SQLAlchemyError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            # busy_timeout (30 s) already waited; go on waiting until the deadline.


def _environment_problem(exc: SQLAlchemyError) -> str | None:
    """A plain-words description when a database error is about the environment, not the statement."""
    msg = str(getattr(exc, "orig", None) or exc).lower()
    if "readonly" in msg or "read-only" in msg or "read only" in msg:
        return "the database is read-only"
    if "disk is full" in msg or "no space" in msg or "disk full" in msg:
        return "the disk is full"
    if "database is locked" in msg or "database table is locked" in msg:
        return f"the database stayed locked by another writer for more than {WRITE_LOCK_TIMEOUT_S:.0f} s"
    if "unable to open database" in msg or "connection refused" in msg or "could not connect" in msg:
        return "cannot reach the database"
    return None

