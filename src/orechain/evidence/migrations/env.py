"""Alembic environment: runs migrations on the connection orechain hands over."""

from __future__ import annotations

from alembic import context

from orechain.evidence.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - orechain always passes a connection
    raise RuntimeError("orechain migrations run through orechain.evidence.store, not the alembic CLI")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
