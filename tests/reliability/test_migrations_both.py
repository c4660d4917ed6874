"""The migrations build, on both backends, exactly the tables the code declares (schema.py and the other
table modules): a column or type added to the code without a migration fails here, not on a team's server."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import orechain
from orechain.evidence import schema
from orechain.evidence.store import Store


def _import_table_modules() -> None:
    """Every ``tables`` module registers its tables on the shared MetaData when imported."""
    for mod in pkgutil.walk_packages(orechain.__path__, "orechain."):
        if mod.name.endswith(".tables"):
            importlib.import_module(mod.name)


def test_migrated_schema_matches_the_code(empty_store: Store) -> None:
    _import_table_modules()
    with empty_store.engine.connect() as conn:
        # SQLite does not enforce declared types (VARCHAR(40) holds any text), so types are compared on
        # PostgreSQL only, where they are enforced.
        ctx = MigrationContext.configure(conn, opts={"compare_type": conn.dialect.name == "postgresql"})
        diff: list[Any] = compare_metadata(ctx, schema.metadata)
    assert diff == [], f"the migrations and the table definitions differ on {empty_store.engine.dialect.name}"

