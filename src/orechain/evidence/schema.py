"""SQL tables of the evidence store (SQLAlchemy Core; portable between SQLite and PostgreSQL).

The tables mirror :mod:`orechain.evidence.model`. Nested parts of a record (facility owners, status
history, deal parties and phases, event scope) are their own tables keyed by the parent's typed id.
Alembic migrations under ``orechain/evidence/migrations`` create and evolve these tables; this module
is the current shape that the code reads and writes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

imports = Table(
    "imports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    Column("imported_at", String(32), nullable=False),
    UniqueConstraint("kind", "sha256", name="uq_imports_kind_sha256"),
)

sources = Table(
    "sources", metadata,
    Column("id", String(80), primary_key=True),
    Column("publisher", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("date", String(10)),
    Column("url", Text),
    Column("kind", String(40), nullable=False),
    Column("licence", Text),
    Column("notes", Text),
)

countries = Table(
    "countries", metadata,
    Column("code", String(3), primary_key=True),
    Column("name", Text, nullable=False),
    Column("iso2", String(2)),
    Column("numeric", Integer),
)

country_groups = Table(
    "country_groups", metadata,
    Column("group_id", String(40), primary_key=True),
    Column("code", String(3), ForeignKey("countries.code"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("source_id", String(80), ForeignKey("sources.id")),
)

commodities = Table(
    "commodities", metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("symbol", String(10)),
    Column("critical_eu", Boolean, nullable=False, default=False),
    Column("eol_rir", Float),
    Column("notes", Text),
)

forms = Table(
    "forms", metadata,
    Column("id", String(40), primary_key=True),
    Column("commodity", String(40), ForeignKey("commodities.id"), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit", String(40), nullable=False),
)

organisations = Table(
    "organisations", metadata,
    Column("id", String(80), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("country", String(3), ForeignKey("countries.code"), nullable=False),
    Column("aliases", Text, nullable=False, default=""),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("notes", Text),
)

ownership = Table(
    "ownership", metadata,
    Column("owner", String(80), ForeignKey("organisations.id"), primary_key=True),
    Column("owned", String(80), ForeignKey("organisations.id"), primary_key=True),
    Column("stake", Float, nullable=False),
    Column("as_of", String(10)),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
)

facilities = Table(
    "facilities", metadata,
    Column("id", String(80), primary_key=True),
    Column("name", Text, nullable=False),
    Column("site", Text),
    Column("stage", String(20), nullable=False, index=True),
    Column("commodity", String(40), ForeignKey("commodities.id"), nullable=False, index=True),
    Column("form", String(40), ForeignKey("forms.id")),
    Column("country", String(3), ForeignKey("countries.code"), nullable=False, index=True),
    Column("region", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("operator", String(80), ForeignKey("organisations.id")),
    Column("capacity", Float),
    Column("capacity_unit", String(40)),
    Column("capacity_year", Integer),
    Column("capacity_source_id", String(80), ForeignKey("sources.id")),
    Column("status", String(20), index=True),
    Column("status_date", String(10)),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("notes", Text),
)

facility_owners = Table(
    "facility_owners", metadata,
    Column("facility", String(80), ForeignKey("facilities.id"), primary_key=True),
    Column("organisation", String(80), ForeignKey("organisations.id"), primary_key=True),
    Column("stake", Float, nullable=False),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
)

facility_status = Table(
    "facility_status", metadata,
    Column("facility", String(80), ForeignKey("facilities.id"), primary_key=True),
    Column("status", String(20), primary_key=True),
    Column("date", String(10), primary_key=True),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("note", Text),
)

links = Table(
    "links", metadata,
    Column("upstream", String(80), ForeignKey("facilities.id"), primary_key=True),
    Column("downstream", String(80), ForeignKey("facilities.id"), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("share", Float),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
)

observations = Table(
    "observations", metadata,
    Column("id", String(40), primary_key=True),
    Column("metric", String(40), nullable=False),
    Column("commodity", String(40), ForeignKey("commodities.id"), nullable=False),
    Column("stage", String(20)),
    Column("form", String(40), ForeignKey("forms.id")),
    Column("country", String(3), ForeignKey("countries.code")),
    Column("facility", String(80), ForeignKey("facilities.id")),
    Column("year", Integer),
    Column("period", Text),
    Column("value", Float),
    Column("lower", Float),
    Column("upper", Float),
    Column("value_text", Text),
    Column("unit", String(40), nullable=False),
    Column("estimated", Boolean, nullable=False, default=False),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("quality", String(20), nullable=False),
    Column("note", Text),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Index("ix_observations_lookup", "metric", "commodity", "year", "country"),
)

deals = Table(
    "deals", metadata,
    Column("id", String(80), primary_key=True),
    Column("name", Text, nullable=False),
    Column("signed", String(10)),
    Column("value", Float),
    Column("value_unit", String(40)),
    Column("value_text", Text),
    Column("commodities", Text, nullable=False, default=""),
    Column("status", String(20), nullable=False),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("notes", Text),
)

deal_parties = Table(
    "deal_parties", metadata,
    Column("deal", String(80), ForeignKey("deals.id"), primary_key=True),
    Column("organisation", String(80), ForeignKey("organisations.id"), primary_key=True),
    Column("role", Text, nullable=False),
)

deal_phases = Table(
    "deal_phases", metadata,
    Column("deal", String(80), ForeignKey("deals.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("start", String(10)),
    Column("end", String(10)),
    Column("description", Text, nullable=False),
    Column("status", String(20)),
)

deal_milestones = Table(
    "deal_milestones", metadata,
    Column("deal", String(80), ForeignKey("deals.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("date", String(10), primary_key=True),
    Column("description", Text, primary_key=True),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
)

events = Table(
    "events", metadata,
    Column("id", String(80), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("name", Text, nullable=False),
    Column("issuer", String(3), ForeignKey("countries.code")),
    Column("announced", String(10)),
    Column("start", String(10)),
    Column("end", String(10)),
    Column("suspends", String(80)),
    Column("commodities", Text, nullable=False, default=""),
    Column("elements", Text, nullable=False, default=""),
    Column("forms", Text, nullable=False, default=""),
    Column("destinations", Text, nullable=False, default=""),
    Column("source_id", String(80), ForeignKey("sources.id"), nullable=False),
    Column("notes", Text),
)

trade_flows = Table(
    "trade_flows", metadata,
    Column("year", Integer, nullable=False),
    Column("exporter", String(3), nullable=False),
    Column("importer", String(3), nullable=False),
    Column("product", String(6), nullable=False),
    Column("value_kusd", Float),
    Column("quantity_t", Float),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
    Index("ix_trade_flows_lookup", "product", "year", "importer"),
)

governance = Table(
    "governance", metadata,
    Column("indicator", String(20), primary_key=True),
    Column("country", String(3), ForeignKey("countries.code"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("estimate", Float),
    Column("std_err", Float),
    Column("source_id", String(80), ForeignKey("sources.id"), primary_key=True),  # vintages stay apart
    Column("import_id", Integer, ForeignKey("imports.id")),
)

scenario_jobs = Table(  # the API's scenario jobs (interfaces/api/jobs.py; migration 0006_scenario_jobs)
    "scenario_jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("state", String(10), nullable=False),
    Column("scenarios", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("submitted_at", Float, nullable=False),  # POSIX seconds, as every time here
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("deadline_at", Float),
    Column("heartbeat_at", Float, nullable=False),
    Column("worker", String(120), nullable=False),
    Column("error", Text),
    Column("result", Text),  # JSON
)

data_versions = Table(  # one row per table the API keeps in memory, bumped by triggers (migration 0007_data_versions)
    "data_versions", metadata,
    Column("table_name", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
)
