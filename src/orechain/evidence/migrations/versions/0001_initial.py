"""Initial evidence schema: sources, countries, commodities, organisations, facilities,
observations, deals, events, trade flows and governance.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commodities",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("symbol", sa.String(length=10), nullable=True),
        sa.Column("critical_eu", sa.Boolean(), nullable=False),
        sa.Column("eol_rir", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commodities")),
    )
    op.create_table(
        "countries",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("iso2", sa.String(length=2), nullable=True),
        sa.Column("numeric", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_countries")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("kind", "sha256", name="uq_imports_kind_sha256"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("publisher", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("licence", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_table(
        "country_groups",
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["code"], ["countries.code"], name=op.f("fk_country_groups_code_countries")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_country_groups_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("group_id", "code", name=op.f("pk_country_groups")),
    )
    op.create_table(
        "deals",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("signed", sa.String(length=10), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_unit", sa.String(length=40), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("commodities", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_deals_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("issuer", sa.String(length=3), nullable=True),
        sa.Column("announced", sa.String(length=10), nullable=True),
        sa.Column("start", sa.String(length=10), nullable=True),
        sa.Column("end", sa.String(length=10), nullable=True),
        sa.Column("suspends", sa.String(length=80), nullable=True),
        sa.Column("commodities", sa.Text(), nullable=False),
        sa.Column("elements", sa.Text(), nullable=False),
        sa.Column("forms", sa.Text(), nullable=False),
        sa.Column("destinations", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["issuer"], ["countries.code"], name=op.f("fk_events_issuer_countries")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_events_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_table(
        "forms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("commodity", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.id"], name=op.f("fk_forms_commodity_commodities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forms")),
    )
    op.create_table(
        "governance",
        sa.Column("indicator", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("std_err", sa.Float(), nullable=True),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_governance_country_countries")
        ),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_governance_import_id_imports")),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_governance_source_id_sources")),
        sa.PrimaryKeyConstraint("indicator", "country", "year", name=op.f("pk_governance")),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_organisations_country_countries")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_organisations_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "trade_flows",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("exporter", sa.String(length=3), nullable=False),
        sa.Column("importer", sa.String(length=3), nullable=False),
        sa.Column("product", sa.String(length=6), nullable=False),
        sa.Column("value_kusd", sa.Float(), nullable=True),
        sa.Column("quantity_t", sa.Float(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name=op.f("fk_trade_flows_import_id_imports")),
    )
    op.create_index("ix_trade_flows_lookup", "trade_flows", ["product", "year", "importer"], unique=False)
    op.create_table(
        "deal_milestones",
        sa.Column("deal", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["deal"], ["deals.id"], name=op.f("fk_deal_milestones_deal_deals")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_deal_milestones_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("deal", "seq", "date", "description", name=op.f("pk_deal_milestones")),
    )
    op.create_table(
        "deal_parties",
        sa.Column("deal", sa.String(length=80), nullable=False),
        sa.Column("organisation", sa.String(length=80), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["deal"], ["deals.id"], name=op.f("fk_deal_parties_deal_deals")),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.id"], name=op.f("fk_deal_parties_organisation_organisations")
        ),
        sa.PrimaryKeyConstraint("deal", "organisation", name=op.f("pk_deal_parties")),
    )
    op.create_table(
        "deal_phases",
        sa.Column("deal", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("start", sa.String(length=10), nullable=True),
        sa.Column("end", sa.String(length=10), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["deal"], ["deals.id"], name=op.f("fk_deal_phases_deal_deals")),
        sa.PrimaryKeyConstraint("deal", "seq", name=op.f("pk_deal_phases")),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("site", sa.Text(), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("commodity", sa.String(length=40), nullable=False),
        sa.Column("form", sa.String(length=40), nullable=True),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("operator", sa.String(length=80), nullable=True),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column("capacity_unit", sa.String(length=40), nullable=True),
        sa.Column("capacity_year", sa.Integer(), nullable=True),
        sa.Column("capacity_source_id", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("status_date", sa.String(length=10), nullable=True),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["capacity_source_id"], ["sources.id"], name=op.f("fk_facilities_capacity_source_id_sources")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.id"], name=op.f("fk_facilities_commodity_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_facilities_country_countries")
        ),
        sa.ForeignKeyConstraint(["form"], ["forms.id"], name=op.f("fk_facilities_form_forms")),
        sa.ForeignKeyConstraint(
            ["operator"], ["organisations.id"], name=op.f("fk_facilities_operator_organisations")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_facilities_source_id_sources")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facilities")),
    )
    op.create_index(op.f("ix_facilities_commodity"), "facilities", ["commodity"], unique=False)
    op.create_index(op.f("ix_facilities_country"), "facilities", ["country"], unique=False)
    op.create_index(op.f("ix_facilities_stage"), "facilities", ["stage"], unique=False)
    op.create_index(op.f("ix_facilities_status"), "facilities", ["status"], unique=False)
    op.create_table(
        "ownership",
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("owned", sa.String(length=80), nullable=False),
        sa.Column("stake", sa.Float(), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=True),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["owned"], ["organisations.id"], name=op.f("fk_ownership_owned_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["owner"], ["organisations.id"], name=op.f("fk_ownership_owner_organisations")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_ownership_source_id_sources")),
        sa.PrimaryKeyConstraint("owner", "owned", name=op.f("pk_ownership")),
    )
    op.create_table(
        "facility_owners",
        sa.Column("facility", sa.String(length=80), nullable=False),
        sa.Column("organisation", sa.String(length=80), nullable=False),
        sa.Column("stake", sa.Float(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility"], ["facilities.id"], name=op.f("fk_facility_owners_facility_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.id"], name=op.f("fk_facility_owners_organisation_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_facility_owners_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("facility", "organisation", name=op.f("pk_facility_owners")),
    )
    op.create_table(
        "facility_status",
        sa.Column("facility", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["facility"], ["facilities.id"], name=op.f("fk_facility_status_facility_facilities")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_facility_status_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("facility", "status", "date", name=op.f("pk_facility_status")),
    )
    op.create_table(
        "links",
        sa.Column("upstream", sa.String(length=80), nullable=False),
        sa.Column("downstream", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("share", sa.Float(), nullable=True),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["downstream"], ["facilities.id"], name=op.f("fk_links_downstream_facilities")
        ),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], name=op.f("fk_links_source_id_sources")),
        sa.ForeignKeyConstraint(["upstream"], ["facilities.id"], name=op.f("fk_links_upstream_facilities")),
        sa.PrimaryKeyConstraint("upstream", "downstream", name=op.f("pk_links")),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("commodity", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=True),
        sa.Column("form", sa.String(length=40), nullable=True),
        sa.Column("country", sa.String(length=3), nullable=True),
        sa.Column("facility", sa.String(length=80), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("period", sa.String(length=40), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=40), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("quality", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.id"], name=op.f("fk_observations_commodity_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["country"], ["countries.code"], name=op.f("fk_observations_country_countries")
        ),
        sa.ForeignKeyConstraint(
            ["facility"], ["facilities.id"], name=op.f("fk_observations_facility_facilities")
        ),
        sa.ForeignKeyConstraint(["form"], ["forms.id"], name=op.f("fk_observations_form_forms")),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_observations_import_id_imports")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_observations_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(
        "ix_observations_lookup", "observations", ["metric", "commodity", "year", "country"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_observations_lookup", table_name="observations")
    op.drop_table("observations")
    op.drop_table("links")
    op.drop_table("facility_status")
    op.drop_table("facility_owners")
    op.drop_table("ownership")
    op.drop_index(op.f("ix_facilities_status"), table_name="facilities")
    op.drop_index(op.f("ix_facilities_stage"), table_name="facilities")
    op.drop_index(op.f("ix_facilities_country"), table_name="facilities")
    op.drop_index(op.f("ix_facilities_commodity"), table_name="facilities")
    op.drop_table("facilities")
    op.drop_table("deal_phases")
    op.drop_table("deal_parties")
    op.drop_table("deal_milestones")
    op.drop_index("ix_trade_flows_lookup", table_name="trade_flows")
    op.drop_table("trade_flows")
    op.drop_table("organisations")
    op.drop_table("governance")
    op.drop_table("forms")
    op.drop_table("events")
    op.drop_table("deals")
    op.drop_table("country_groups")
    op.drop_table("sources")
    op.drop_table("imports")
    op.drop_table("countries")
    op.drop_table("commodities")
