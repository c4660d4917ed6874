"""The import framework: parse a file into batches of rows, write them in one transaction, idempotently.

An importer turns one file into :class:`Batch` objects (rows for one table) and names the
:class:`~orechain.evidence.model.Source` the rows cite. :func:`run_import` hashes the file; a file
already imported under the same kind changes nothing and says so. Otherwise every batch is written
inside one transaction: a parse error anywhere (raised as :class:`InputError` naming file, line and
field) rolls everything back, so a failed import leaves the database unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Table, update

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


class Importer(Protocol):
    kind: str
    description: str

    def source(self, path: Path) -> Source:
        """The source record that the imported rows cite."""
        ...

    def batches(self, path: Path) -> Iterator[Batch]:
        """Parse ``path``; raise InputError (file, line, field) on bad input."""
        ...


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
        for batch in importer.batches(path):
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
        conn.execute(update(schema.imports).where(schema.imports.c.id == import_id).values(rows=rows, added=added))
    return ImportRecord(import_id, importer.kind, path.name, sha, rows, added, already_imported=False)
