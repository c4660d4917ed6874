"""SQL tables of access control and the audit log, on the evidence store's MetaData (migration 0004_access).

* ``api_users``: a named user with one role (viewer, editor, admin); disabling a user stops all its tokens.
* ``api_tokens``: API tokens of a user. Only the sha256 of the token is stored; the public ``id`` (also the
  token's prefix) finds the row, so a check costs one primary-key lookup and one constant-time comparison.
* ``audit_log``: append-only; one row per changed field (``update``) or per inserted/deleted record
  (``insert``/``delete``), grouped by ``change_id``. An undo is a new change whose ``undoes`` names the
  change it reverses; rows are never updated or deleted.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from orechain.evidence.schema import metadata

__all__ = ["api_tokens", "api_users", "audit_log"]

api_users = Table(
    "api_users", metadata,
    Column("name", String(80), primary_key=True),
    Column("role", String(10), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("disabled_at", String(32)),
    Column("note", Text),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(16), primary_key=True),
    Column("user_name", String(80), ForeignKey("api_users.name"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False),
    Column("label", Text),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32)),
    Column("revoked_at", String(32)),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("change_id", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("token_id", String(16)),
    Column("action", String(10), nullable=False),
    Column("table_name", String(40), nullable=False),
    Column("record_id", Text, nullable=False),
    Column("field", String(80)),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("source_id", String(80)),
    Column("note", Text),
    Column("undoes", String(32)),
    Index("ix_audit_log_change_id", "change_id"),
    Index("ix_audit_log_undoes", "undoes"),
    Index("ix_audit_log_table_record", "table_name", "record_id"),
)
