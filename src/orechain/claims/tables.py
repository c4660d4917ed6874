"""SQL tables of the claims ledger, on the evidence store's MetaData (created by migration 0002_claims).

* ``documents``: one row per distinct article (id = sha256 of the normalised repaired text), keeping the
  text exactly as read (``original_text``) beside the repaired text that claim offsets point into.
* ``claims``: one row per quantitative claim: its document, sentence, character span in the repaired text,
  subject key, value and unit as stated, bounds, the value normalised to a base unit, qualifier, date,
  attribution, hedges and the two static grades (reporting-ladder status, plausibility).
* ``claim_entities``: the typed ids (country, organisation, deal, place, commodity, person) a claim names.
* ``claim_links``: evidence-base observations a claim was compared with, and how they compare.
* ``ingest_progress``: per-file progress of a folder ingest, so an interrupted run resumes.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, Table, Text

from orechain.evidence.schema import metadata

__all__ = ["claim_entities", "claim_links", "claims", "documents", "ingest_progress"]

documents = Table(
    "documents", metadata,
    Column("id", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("title", Text),
    Column("date", String(10)),
    Column("publisher", Text),
    Column("language", String(8), nullable=False),
    Column("status", String(24), nullable=False),
    Column("repairs", Integer, nullable=False, default=0),
    Column("words", Integer, nullable=False, default=0),
    Column("original_text", Text, nullable=False),
    Column("repaired_text", Text, nullable=False),
    Column("ingested_at", String(32), nullable=False),
    Column("notes", Text),
)

claims = Table(
    "claims", metadata,
    Column("id", String(40), primary_key=True),
    Column("document", String(64), ForeignKey("documents.id"), nullable=False, index=True),
    Column("sentence_index", Integer, nullable=False),
    Column("sentence", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("subject", String(240), nullable=False, index=True),
    Column("scope", String(120), nullable=False),
    Column("metric", String(120)),
    Column("measure", String(40), nullable=False),
    Column("value", Float),
    Column("unit", String(40), nullable=False),
    Column("lower", Float),
    Column("upper", Float),
    Column("precision", Float, nullable=False, default=0.0),
    Column("base_value", Float),
    Column("base_lower", Float),
    Column("base_upper", Float),
    Column("base_unit", String(40), nullable=False),
    Column("qualifier", String(20), nullable=False),
    Column("date", String(24)),
    Column("attribution", Text),
    Column("hedges", Text, nullable=False, default=""),
    Column("ladder", String(32), nullable=False),
    Column("plausibility", String(24), nullable=False),
    Column("plausibility_note", Text),
)

claim_entities = Table(
    "claim_entities", metadata,
    Column("claim", String(40), ForeignKey("claims.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("entity", String(80), primary_key=True),
)

claim_links = Table(
    "claim_links", metadata,
    Column("claim", String(40), ForeignKey("claims.id"), primary_key=True),
    Column("observation", String(40), ForeignKey("observations.id"), primary_key=True),
    Column("relation", String(20), nullable=False),
)

ingest_progress = Table(
    "ingest_progress", metadata,
    Column("run", String(64), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("size", Integer, nullable=False),
    Column("mtime", Float, nullable=False),
    Column("status", String(24), nullable=False),
    Column("document", String(64)),
    Column("message", Text),
    Index("ix_ingest_progress_run_status", "run", "status"),
)
