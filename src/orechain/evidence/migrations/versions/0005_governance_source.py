"""The governance table's key gains source_id: two vintages of the WGI that disagree stay as separate rows
(with the key (indicator, country, year) the second vintage's rows were skipped as "already present").

Batch mode: SQLite cannot alter a primary key, so the table is copied into a new one; PostgreSQL alters it in
place. The downgrade refuses, naming the count, when a key is held by more than one source (it would have to
drop rows to restore the old key).

Revision ID: 0005_governance_source
Revises: 0004_access
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_governance_source"
down_revision = "0004_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("governance", recreate="auto") as batch:
        batch.drop_constraint("pk_governance", type_="primary")
        batch.create_primary_key("pk_governance", ["indicator", "country", "year", "source_id"])


def downgrade() -> None:
    shared = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM (SELECT indicator, country, year FROM governance "
        "GROUP BY indicator, country, year HAVING COUNT(*) > 1) AS k")).scalar_one()
    if shared:
        raise RuntimeError(f"cannot downgrade 0005_governance_source: {shared} (indicator, country, year) keys are "
                           "held by more than one source; delete all but one source's governance rows first")
    with op.batch_alter_table("governance", recreate="auto") as batch:
        batch.drop_constraint("pk_governance", type_="primary")
        batch.create_primary_key("pk_governance", ["indicator", "country", "year"])
