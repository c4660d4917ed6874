"""Claims ledger: documents, claims, claim entities, claim links and folder-ingest progress.

Revision ID: 0002_claims
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_claims"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("date", sa.String(length=10), nullable=True),
        sa.Column("publisher", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("repairs", sa.Integer(), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=False),
        sa.Column("repaired_text", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.String(length=32), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_table(
        "claims",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("document", sa.String(length=64), nullable=False),
        sa.Column("sentence_index", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=240), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("metric", sa.String(length=120), nullable=True),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("precision", sa.Float(), nullable=False),
        sa.Column("base_value", sa.Float(), nullable=True),
        sa.Column("base_lower", sa.Float(), nullable=True),
        sa.Column("base_upper", sa.Float(), nullable=True),
        sa.Column("base_unit", sa.String(length=40), nullable=False),
        sa.Column("qualifier", sa.String(length=20), nullable=False),
        sa.Column("date", sa.String(length=24), nullable=True),
        sa.Column("attribution", sa.Text(), nullable=True),
        sa.Column("hedges", sa.Text(), nullable=False),
        sa.Column("ladder", sa.String(length=32), nullable=False),
        sa.Column("plausibility", sa.String(length=24), nullable=False),
        sa.Column("plausibility_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["document"], ["documents.id"], name=op.f("fk_claims_document_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    op.create_index(op.f("ix_claims_document"), "claims", ["document"], unique=False)
    op.create_index(op.f("ix_claims_subject"), "claims", ["subject"], unique=False)
    op.create_table(
        "claim_entities",
        sa.Column("claim", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["claim"], ["claims.id"], name=op.f("fk_claim_entities_claim_claims")),
        sa.PrimaryKeyConstraint("claim", "kind", "entity", name=op.f("pk_claim_entities")),
    )
    op.create_table(
        "claim_links",
        sa.Column("claim", sa.String(length=40), nullable=False),
        sa.Column("observation", sa.String(length=40), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["claim"], ["claims.id"], name=op.f("fk_claim_links_claim_claims")),
        sa.ForeignKeyConstraint(
            ["observation"], ["observations.id"], name=op.f("fk_claim_links_observation_observations")
        ),
        sa.PrimaryKeyConstraint("claim", "observation", name=op.f("pk_claim_links")),
    )
    op.create_table(
        "ingest_progress",
        sa.Column("run", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mtime", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("document", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run", "path", name=op.f("pk_ingest_progress")),
    )
    op.create_index("ix_ingest_progress_run_status", "ingest_progress", ["run", "status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ingest_progress_run_status", table_name="ingest_progress")
    op.drop_table("ingest_progress")
    op.drop_table("claim_links")
    op.drop_table("claim_entities")
    op.drop_index(op.f("ix_claims_subject"), table_name="claims")
    op.drop_index(op.f("ix_claims_document"), table_name="claims")
    op.drop_table("claims")
    op.drop_table("documents")
