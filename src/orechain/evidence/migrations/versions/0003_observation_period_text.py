"""observations.period becomes TEXT: periods are free text ("national stream-sediment survey (4,277 samples)"),
and PostgreSQL, unlike SQLite, enforces VARCHAR(40).

Revision ID: 0003_observation_period_text
Revises: 0002_claims
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_observation_period_text"
down_revision = "0002_claims"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce VARCHAR lengths; rebuilding the table would change nothing
    op.alter_column("observations", "period", type_=sa.Text(), existing_type=sa.String(length=40),
                    existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.alter_column("observations", "period", type_=sa.String(length=40), existing_type=sa.Text(),
                    existing_nullable=True)
