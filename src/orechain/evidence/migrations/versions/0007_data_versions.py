"""Per-table data versions kept by the database itself: ``data_versions(table_name, version)`` holds one row per
table the API's read model, frame cache and response cache read, and triggers on each of those tables add one to
its row whenever a statement inserts, updates or deletes rows in it (and on PostgreSQL when it is truncated). No
write path can forget them: an importer, the API, another process or a raw SQL statement all move the version.

The API checks the database-wide version first (SQLite ``PRAGMA data_version``, 5 us) and reads this table only
when that moved, then re-reads only the tables whose row changed (``interfaces/api/cache.py``, ``readmodel.py``).

* PostgreSQL: one ``FOR EACH STATEMENT`` trigger per table (a bulk insert bumps the row once).
* SQLite has only row triggers: three per table (insert, update, delete), one small update per changed row.

Tables with no row and no trigger (writes to them never invalidate anything the API keeps in memory):
``scenario_jobs`` (job state and a heartbeat every 5 s; job answers are read from the table, never cached),
``trade_flows`` (BACI, the biggest import: millions of rows; no list, detail, cached frame or cached response
reads it, the analytics read it afresh per request), the access tables ``api_users``, ``api_tokens`` and
``audit_log`` (checked per request, never cached) and ``ingest_progress`` (claims-ingest bookkeeping). A table
added later that the API keeps in memory needs a row and triggers in a migration of its own (a test lists every
table as tracked or excluded). A later SQLite migration that rebuilds a tracked table (``batch_alter_table``)
drops its triggers with it and must create them again (:func:`create_triggers`).

Revision ID: 0007_data_versions
Revises: 0006_scenario_jobs
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_data_versions"
down_revision = "0006_scenario_jobs"
branch_labels = None
depends_on = None

TRACKED = ("imports", "sources", "countries", "country_groups", "commodities", "forms", "organisations",
           "ownership", "facilities", "facility_owners", "facility_status", "links", "observations", "deals",
           "deal_parties", "deal_phases", "deal_milestones", "events", "governance", "documents", "claims",
           "claim_entities", "claim_links")
"""The tables with a version row and triggers, as of this revision (frozen: later changes go in new migrations)."""

EXCLUDED = ("scenario_jobs", "trade_flows", "api_users", "api_tokens", "audit_log", "ingest_progress")
"""The tables deliberately left without (see the module text)."""

_SQLITE_EVENTS = ("insert", "update", "delete")


def create_triggers(bind: sa.Connection, table: str) -> None:
    """The triggers that bump ``table``'s row of ``data_versions`` (SQLite or PostgreSQL). DDL cannot bind
    identifiers, so the table name is written into the statements: only names of :data:`TRACKED` are accepted."""
    if table not in TRACKED:
        raise ValueError(f"{table!r} is not a tracked table")
    bump = f"UPDATE data_versions SET version = version + 1 WHERE table_name = '{table}'"
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(f"CREATE TRIGGER dv_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                             "FOR EACH STATEMENT EXECUTE FUNCTION orechain_bump_data_version()")
        return
    for event in _SQLITE_EVENTS:
        bind.exec_driver_sql(f"CREATE TRIGGER dv_{table}_{event} AFTER {event.upper()} ON {table} "
                             f"BEGIN {bump}; END")


def upgrade() -> None:
    bind = op.get_bind()
    versions = op.create_table(
        "data_versions",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(versions, [{"table_name": t, "version": 0} for t in TRACKED])
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(
            "CREATE FUNCTION orechain_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE data_versions SET version = version + 1 WHERE table_name = TG_TABLE_NAME; "
            "RETURN NULL; END $$")
    for table in TRACKED:
        create_triggers(bind, table)


def downgrade() -> None:
    bind = op.get_bind()
    for table in TRACKED:
        if bind.dialect.name == "postgresql":
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS dv_{table} ON {table}")
        else:
            for event in _SQLITE_EVENTS:
                bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS dv_{table}_{event}")
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS orechain_bump_data_version()")
    if "data_versions" in sa.inspect(bind).get_table_names():
        op.drop_table("data_versions")
