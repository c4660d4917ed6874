"""Scenario jobs live in the database: any API process (``orechain serve --workers N``, or a restarted one)
answers the status and result of any job, and the unique content hash makes two processes that submit the same
scenario at once share one job.

Times are POSIX seconds (``heartbeat_at`` is refreshed by the process running the job; a queued or running job
whose heartbeat is older than the manager's limit is reported as failed). ``result`` is the result as JSON text.

Revision ID: 0006_scenario_jobs
Revises: 0005_governance_source
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_scenario_jobs"
down_revision = "0005_governance_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenario_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("scenarios", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("deadline_at", sa.Float(), nullable=True),
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_jobs")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_scenario_jobs_content_hash")),
    )


def downgrade() -> None:
    # SQLite (pysqlite) commits DDL even when the surrounding transaction later rolls back, so a downgrade that
    # failed further down (0005 refuses when vintages would be lost) may already have dropped the table.
    if "scenario_jobs" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("scenario_jobs")
