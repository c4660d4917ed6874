"""The import framework: parse a file into batches of rows, write them in one transaction, idempotently.

An importer turns one file into :class:`Batch` objects (rows for one table) and names the
:class:`~orechain.evidence.model.Source` the rows cite. :func:`run_import` hashes the file; a file
already imported under the same kind changes nothing and says so. Otherwise every batch is written
inside one transaction: a parse error anywhere (raised as :class:`InputError` naming file, line and
field) rolls everything back, so a failed import leaves the database unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Index, Table, update

from orechain.evidence import schema
from orechain.evidence.errors import InputError
from orechain.evidence.model import Source
from orechain.evidence.store import ImportRecord, Store, file_sha256, insert_ignore

__all__ = ["Batch", "Importer", "run_import"]


@dataclass
class Batch:
    table: Table
    rows: list[dict[str, Any]]
    idempotent_keys: bool = True  # rows have primary keys: insert-or-ignore; else plain insert
    # Bulk path for large tables without keys (trade flows): positional rows in ``columns`` order, written
    # with the driver's executemany (``import_id`` is appended when the table has it). ``rows`` is unused.
    columns: tuple[str, ...] = ()
    tuples: list[tuple[Any, ...]] = field(default_factory=list)


class Importer(Protocol):
    kind: str
    description: str

    def source(self, path: Path) -> Source:
        """The source record that the imported rows cite."""
        ...

    def batches(self, path: Path) -> Iterator[Batch]:
        """Parse ``path``; raise InputError (file, line, field) on bad input."""
        ...


def _bulk_insert(conn: Connection, batch: Batch, import_id: int) -> int:
    cols = list(batch.columns)
    rows: list[tuple[Any, ...]] = batch.tuples
    if not rows:
        return 0
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(conn.dialect.paramstyle)
    with_id = "import_id" in batch.table.c and "import_id" not in cols
    if mark is None:  # pragma: no cover - other drivers: the portable (slower) path
        extra = {"import_id": import_id} if with_id else {}
        conn.execute(batch.table.insert(), [{**dict(zip(cols, r, strict=True)), **extra} for r in rows])
        return len(rows)
    # import_id is the same int for every row: written as a literal, not appended to each tuple
    names = ", ".join(cols + (["import_id"] if with_id else []))
    values = ", ".join([mark] * len(cols) + ([str(int(import_id))] if with_id else []))
    conn.exec_driver_sql(f"INSERT INTO {batch.table.name} ({names}) VALUES ({values})", rows)
    return len(rows)


def _deferred_indexes(conn: Connection, importer: Importer, table: Table) -> list[Index]:
    """On SQLite, an importer marked ``defer_indexes`` has the table's secondary indexes dropped for the
    bulk load and rebuilt at its end, inside the same transaction (a failure restores them)."""
    if not getattr(importer, "defer_indexes", False) or conn.dialect.name != "sqlite":
        return []
    indexes = list(table.indexes)
    for ix in indexes:
        ix.drop(conn)
    return indexes


def run_import(store: Store, importer: Importer, path: Path,
               progress: Callable[[int], None] | None = None) -> ImportRecord:
    path = Path(path)
    if not path.is_file():
        raise InputError.one(path, None, None, "no such file")
    sha = file_sha256(path)
    with store.transaction() as conn:
        existing = store.find_import(conn, importer.kind, sha)
        if existing is not None:
            return ImportRecord(existing, importer.kind, path.name, sha, 0, 0, already_imported=True)
        src = importer.source(path)
        insert_ignore(conn, schema.sources, [src.model_dump(mode="json")])
        import_id = store.record_import(conn, importer.kind, path.name, sha, 0, 0)
        rows = added = 0
        deferred: dict[str, tuple[Table, list[Index]]] = {}
        for batch in importer.batches(path):
            if batch.columns:
                if batch.table.name not in deferred:
                    deferred[batch.table.name] = (batch.table, _deferred_indexes(conn, importer, batch.table))
                n = _bulk_insert(conn, batch, import_id)
                rows += n
                added += n
                if progress is not None:
                    progress(n)
                continue
            for r in batch.rows:
                if "import_id" in batch.table.c:
                    r["import_id"] = import_id
            if batch.idempotent_keys:
                added += insert_ignore(conn, batch.table, batch.rows)
            elif batch.rows:
                conn.execute(batch.table.insert(), batch.rows)
                added += len(batch.rows)
            rows += len(batch.rows)
            if progress is not None:
                progress(len(batch.rows))
        for _table, indexes in deferred.values():
            for ix in indexes:
                ix.create(conn)
        conn.execute(update(schema.imports).where(schema.imports.c.id == import_id).values(rows=rows, added=added))
    return ImportRecord(import_id, importer.kind, path.name, sha, rows, added, already_imported=False)
