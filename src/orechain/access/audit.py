"""The audit log: who changed what, when, citing which source; and undo.

Every audited write records its rows through a :class:`ChangeLog` inside the write's own transaction, so
the change and its record commit together or not at all. One change (one API call or CLI command) has one
``change_id`` and one row per changed field (``update``: old and new value) or per whole record
(``insert``/``delete``: the record). Values are JSON, so ``null``, numbers and text keep their type.

:func:`undo` reverses a change as a new change (its ``undoes`` names the original): an update is set back,
an insert deleted, a delete re-inserted, in reverse order, in one transaction. It refuses (``conflict``)
when a value was changed again since, when the change was already undone, or for changes to users and
tokens (revoke or re-add those instead). Undoing an undo re-applies the change. A claims document's
insert is undone by deleting the document with its claims; that undo cannot itself be undone (ingest the
document again instead).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from sqlalchemy import Connection, Table, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from orechain.access import tables
from orechain.evidence import schema
from orechain.evidence.store import Store

__all__ = ["UNDOABLE", "Actor", "ChangeError", "ChangeLog", "changes", "record_key", "undo"]

ErrorKind = Literal["not_found", "conflict", "invalid", "forbidden"]


class ChangeError(Exception):
    """A write or undo that cannot be done; ``kind`` says why (the API maps it to 404, 409, 422 or 403)."""

    def __init__(self, kind: ErrorKind, message: str, *, field: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.field = field
        self.details = details


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user (and the token it used) or ``cli:<login>`` for local commands."""

    name: str
    token_id: str | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _unjson(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def record_key(key: Mapping[str, Any]) -> str:
    """The ``record_id`` of a record: its primary key as canonical JSON (``{"id": "x"}``)."""
    return json.dumps(dict(key), sort_keys=True, ensure_ascii=False)


class ChangeLog:
    """Writes the audit rows of one change on the caller's connection (inside its transaction)."""

    def __init__(self, conn: Connection, actor: Actor, *, source_id: str | None = None, note: str | None = None,
                 undoes: str | None = None) -> None:
        self.conn = conn
        self.actor = actor
        self.change_id = uuid.uuid4().hex
        self.at = _now()
        self.source_id = source_id
        self.note = note
        self.undoes = undoes
        self.rows = 0

    def _add(self, action: str, table: str, key: Mapping[str, Any], field: str | None, old: Any, new: Any) -> None:
        self.conn.execute(tables.audit_log.insert().values(
            change_id=self.change_id, seq=self.rows, at=self.at, actor=self.actor.name, token_id=self.actor.token_id,
            action=action, table_name=table, record_id=record_key(key), field=field, old_value=_json(old),
            new_value=_json(new), source_id=self.source_id, note=self.note, undoes=self.undoes))
        self.rows += 1

    def insert(self, table: str, key: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        self._add("insert", table, key, None, None, dict(row))

    def delete(self, table: str, key: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        self._add("delete", table, key, None, dict(row), None)

    def update(self, table: str, key: Mapping[str, Any], field: str, old: Any, new: Any) -> None:
        self._add("update", table, key, field, old, new)


# Tables whose changes can be undone (users and tokens cannot: revoke or add instead).
UNDOABLE: dict[str, Table] = {t.name: t for t in (schema.facilities, schema.facility_status, schema.observations,
                                                   schema.sources)}
_DOCUMENTS = "documents"


def _where(table: Table, key: Mapping[str, Any]) -> ColumnElement[bool]:
    return and_(*(table.c[k] == v for k, v in key.items()))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return a is not None and b is not None and float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _delete_document(conn: Connection, doc_id: str) -> int:
    """Delete a claims document with its claims, their entities and links; returns the claims deleted."""
    from orechain.claims import tables as ct

    claim_ids = select(ct.claims.c.id).where(ct.claims.c.document == doc_id)
    conn.execute(delete(ct.claim_links).where(ct.claim_links.c.claim.in_(claim_ids)))
    conn.execute(delete(ct.claim_entities).where(ct.claim_entities.c.claim.in_(claim_ids)))
    n = conn.execute(delete(ct.claims).where(ct.claims.c.document == doc_id).execution_options(
        preserve_rowcount=True)).rowcount
    conn.execute(delete(ct.documents).where(ct.documents.c.id == doc_id))
    return int(n)


def undo(store: Store, change_id: str, actor: Actor, *, any_actor: bool, note: str | None = None) -> ChangeLog:
    """Reverse change ``change_id`` as a new, audited change. ``any_actor`` false: only one's own changes."""
    a = tables.audit_log
    with store.transaction() as conn:
        rows = [dict(r) for r in conn.execute(select(a).where(a.c.change_id == change_id).order_by(a.c.seq))
                .mappings()]
        if not rows:
            raise ChangeError("not_found", f"no change {change_id!r}")
        if not any_actor and rows[0]["actor"] != actor.name:
            raise ChangeError("forbidden", f"change {change_id} was made by {rows[0]['actor']}; an editor may undo "
                                           "only their own changes (an admin may undo any)")
        later = conn.execute(select(a.c.change_id, a.c.actor).where(a.c.undoes == change_id).limit(1)).first()
        if later is not None:
            raise ChangeError("conflict", f"change {change_id} was already undone by change {later[0]} ({later[1]})",
                              details={"undone_by": later[0]})
        for r in rows:
            if r["table_name"] not in UNDOABLE and r["table_name"] != _DOCUMENTS:
                raise ChangeError("conflict", f"changes to {r['table_name']} are not undone; use `orechain users` "
                                              "to revoke or add instead")
        log = ChangeLog(conn, actor, source_id=rows[0]["source_id"], note=note or f"undo {change_id}",
                        undoes=change_id)
        try:
            for r in reversed(rows):
                _undo_row(conn, log, r)
        except IntegrityError as exc:
            raise ChangeError("conflict", "the undo would break a reference (another record now uses this one); "
                                          "nothing was changed", details={"reason": str(exc.orig)}) from None
        return log


def _undo_row(conn: Connection, log: ChangeLog, r: dict[str, Any]) -> None:
    name, key = r["table_name"], json.loads(r["record_id"])
    where = f"{name} {r['record_id']}"
    if name == _DOCUMENTS:
        if r["action"] != "insert":
            raise ChangeError("conflict", "a removed claims document is restored by ingesting it again, not by undo")
        doc = conn.execute(select(func.count()).select_from(schema.metadata.tables[_DOCUMENTS])
                           .where(schema.metadata.tables[_DOCUMENTS].c.id == key["id"])).scalar_one()
        if not doc:
            raise ChangeError("conflict", f"{where} is gone already")
        _delete_document(conn, key["id"])
        log.delete(name, key, _unjson(r["new_value"]))
        return
    table = UNDOABLE[name]
    current = conn.execute(select(table).where(_where(table, key)).with_for_update()).mappings().first()
    if r["action"] == "update":
        field, old, new = r["field"], _unjson(r["old_value"]), _unjson(r["new_value"])
        if current is None:
            raise ChangeError("conflict", f"{where} no longer exists")
        if not (_same(current[field], new) or (current[field] is None and new is None)):
            raise ChangeError("conflict", f"{where}: {field} was changed again since (now {current[field]!r}, "
                                          f"this change set {new!r}); undo the later change first", field=field)
        conn.execute(update(table).where(_where(table, key)).values({field: old}))
        log.update(name, key, field, new, old)
    elif r["action"] == "insert":
        row = _unjson(r["new_value"])
        if current is None:
            raise ChangeError("conflict", f"{where} no longer exists")
        changed = [k for k, v in row.items() if not (_same(current[k], v) or (current[k] is None and v is None))]
        if changed:
            raise ChangeError("conflict", f"{where} was changed since it was added ({', '.join(changed)}); undo "
                                          "those changes first", details={"fields": changed})
        conn.execute(delete(table).where(_where(table, key)))
        log.delete(name, key, row)
    elif r["action"] == "delete":
        row = _unjson(r["old_value"])
        if current is not None:
            raise ChangeError("conflict", f"{where} exists again; nothing to restore")
        conn.execute(table.insert().values(**row))
        log.insert(name, key, row)
    else:  # pragma: no cover - only the three actions are written
        raise ChangeError("conflict", f"unknown action {r['action']!r}")


def changes(store: Store, *, change_id: str | None = None, actor: str | None = None, table: str | None = None,
            record: str | None = None) -> pd.DataFrame:
    """Audit rows, newest change first, with ``undone_by`` (the change that reversed each, if any).

    ``record`` is a record's id (for tables keyed by one ``id``/``name`` column) or its ``record_id`` JSON.
    """
    a = tables.audit_log
    u = select(a.c.undoes, func.min(a.c.change_id).label("undone_by")).where(a.c.undoes.is_not(None)).group_by(
        a.c.undoes).subquery()
    stmt = (select(a.c.id, a.c.change_id, a.c.seq, a.c.at, a.c.actor, a.c.token_id, a.c.action, a.c.table_name,
                   a.c.record_id, a.c.field, a.c.old_value, a.c.new_value, a.c.source_id, a.c.note, a.c.undoes,
                   u.c.undone_by)
            .outerjoin(u, u.c.undoes == a.c.change_id).order_by(a.c.id.desc()))
    if change_id is not None:
        stmt = stmt.where(a.c.change_id == change_id)
    if actor is not None:
        stmt = stmt.where(a.c.actor == actor)
    if table is not None:
        stmt = stmt.where(a.c.table_name == table)
    if record is not None:
        keys = [record] if record.startswith("{") else [record_key({"id": record}), record_key({"name": record})]
        stmt = stmt.where(a.c.record_id.in_(keys))
    cols = ["id", "change_id", "seq", "at", "actor", "token_id", "action", "table_name", "record_id", "field",
            "old_value", "new_value", "source_id", "note", "undoes", "undone_by"]
    with store.engine.connect() as conn:
        return pd.DataFrame([dict(r) for r in conn.execute(stmt).mappings()], columns=cols)
