"""Audited writes: edit a facility, add an observation or a source, ingest a claims document.

Each function checks its input against the evidence base (references exist, units parse, dates are
dates), then writes the records and their audit rows in one transaction: all or nothing. Each returns an
:class:`EditResult` with the ``change_id`` to undo it by (None when nothing changed: the same observation,
source or document was already there, which makes a retried request harmless). Problems raise
:class:`~orechain.access.audit.ChangeError` naming the field.

The request models are pydantic, shared with the REST API as its request bodies. No input names a file:
a claims document arrives as text and is read through a private temporary file the server names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import Connection, Table, select, update

from orechain.access.audit import Actor, ChangeError, ChangeLog
from orechain.evidence import schema
from orechain.evidence.model import Quality, SourceKind, Stage, Status
from orechain.evidence.store import Store, insert_ignore

__all__ = ["DocumentFormat", "DocumentIn", "EditResult", "FacilityEdit", "ObservationIn", "SourceIn", "add_observation",
           "add_source", "edit_facility", "ingest_document"]

DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
Date = Annotated[str, StringConstraints(pattern=DATE_PATTERN)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Long = Annotated[str, StringConstraints(max_length=4000)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FacilityEdit(_In):
    """Fields to change on a facility; fields left out stay as they are. ``source_id`` is required: every
    change cites where it comes from. A status change adds a dated row to the facility's status history
    (the current status is the latest by date). ``capacity: null`` clears the capacity."""

    source_id: Id = Field(description="the source of this change (an existing source id)")
    note: Long | None = Field(None, description="why; kept in the audit log and on a status row")
    status: Status | None = None
    status_date: Date | None = Field(None, description="when the status took effect: YYYY, YYYY-MM or YYYY-MM-DD")
    capacity: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    capacity_unit: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    capacity_year: Annotated[int, Field(ge=1800, le=2200)] | None = None
    name: Short | None = None
    site: Short | None = None
    region: Short | None = None
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)] | None = None
    operator: Id | None = Field(None, description="an existing organisation id")
    notes: Long | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FacilityEdit:
        if (self.status is None) != (self.status_date is None):
            raise ValueError("status and status_date go together")
        if self.capacity is not None and "capacity_unit" not in self.model_fields_set:
            raise ValueError("capacity needs capacity_unit")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be cleared")
        if not (self.model_fields_set - {"source_id", "note"}):
            raise ValueError("nothing to change: give at least one field besides source_id and note")
        return self


class ObservationIn(_In):
    """A sourced number. Its id is derived from source, metric, commodity, stage, form, country, facility,
    year and period (as for the shipped data), so posting the same observation twice adds it once."""

    metric: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    commodity: Id
    stage: Stage | None = None
    form: Id | None = None
    country: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        None, description="ISO3 code or a country name")
    facility: Id | None = None
    year: Annotated[int, Field(ge=1800, le=2200)] | None = None
    period: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = None
    value: Finite | None = None
    lower: Finite | None = None
    upper: Finite | None = None
    value_text: Short | None = Field(None, description="the value exactly as published")
    unit: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    estimated: bool = False
    source_id: Id
    quality: Quality
    note: Long | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ObservationIn:
        if self.value is None and self.value_text is None:
            raise ValueError("give value or value_text")
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError("lower is above upper")
        return self


class SourceIn(_In):
    """A source to cite (a report, article or dataset). ``url`` is a web address, never a file."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}$")]
    publisher: Short
    title: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    date: Date | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")] | None = None
    kind: SourceKind
    licence: Short | None = None
    notes: Long | None = None


class DocumentFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"


_SUFFIX = {DocumentFormat.TEXT: ".txt", DocumentFormat.MARKDOWN: ".md", DocumentFormat.HTML: ".html"}


class DocumentIn(_In):
    """An article's text to ingest into the claims ledger (the upload size limit is a server setting)."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._,()-]{0,119}$")] = Field(
        description="a label for the document (not a file name on the server)")
    text: str = Field(min_length=1)
    format: DocumentFormat = DocumentFormat.TEXT
    title: Short | None = None
    date: Date | None = None
    publisher: Short | None = None


@dataclass(frozen=True)
class EditResult:
    record: dict[str, Any]
    change_id: str | None
    created: bool = True
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


# -- checks ------------------------------------------------------------------------------------------
def _check_date(value: str | None, field: str) -> None:
    if value is None:
        return
    parts = [int(p) for p in value.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise ChangeError("invalid", f"{field}: {value!r} is not a date", field=field) from None


def _exists(conn: Connection, table: Table, col: str, value: Any) -> bool:
    return conn.execute(select(table.c[col]).where(table.c[col] == value)).first() is not None


def _need(conn: Connection, table: Table, col: str, value: Any, field: str, what: str) -> None:
    if value is not None and not _exists(conn, table, col, value):
        raise ChangeError("invalid", f"{field}: no {what} {value!r}", field=field)


def _check_unit(unit: str, field: str) -> None:
    from orechain.units import UnitError, parse_unit

    try:
        parse_unit(unit)
    except UnitError as exc:
        raise ChangeError("invalid", f"{field}: {exc}", field=field) from None


def _same_row(existing: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(existing.get(k) == v or (isinstance(v, float) and existing.get(k) is not None
                                        and float(existing[k]) == v) for k, v in wanted.items())


# -- facility ----------------------------------------------------------------------------------------
_PLAIN = ("name", "site", "region", "lat", "lon", "operator", "notes")


def current_status(history: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """The current status and its date from (status, date) rows: latest by date, then by lifecycle rank
    (as :attr:`orechain.evidence.model.Facility.status`); the date is the latest row of that status."""
    if not history:
        return None, None
    status = max(history, key=lambda h: (h[1], Status(h[0]).rank))[0]
    return status, max(d for s, d in history if s == status)


def edit_facility(store: Store, facility_id: str, edit: FacilityEdit, actor: Actor) -> EditResult:
    """Change a facility's fields and/or add a status change, with audit rows, in one transaction."""
    f, fs = schema.facilities, schema.facility_status
    _check_date(edit.status_date, "status_date")
    if edit.capacity_unit is not None:
        _check_unit(edit.capacity_unit, "capacity_unit")
    given = edit.model_fields_set
    with store.transaction() as conn:
        row = conn.execute(select(f).where(f.c.id == facility_id).with_for_update()).mappings().first()
        if row is None:
            raise ChangeError("not_found", f"no facility {facility_id!r}")
        _need(conn, schema.sources, "id", edit.source_id, "source_id", "source")
        if "operator" in given:
            _need(conn, schema.organisations, "id", edit.operator, "operator", "organisation")
        log = ChangeLog(conn, actor, source_id=edit.source_id, note=edit.note)
        key = {"id": facility_id}
        new: dict[str, Any] = {k: getattr(edit, k) for k in _PLAIN if k in given}
        if "capacity" in given:
            if edit.capacity is None:
                new.update(capacity=None, capacity_unit=None, capacity_year=None, capacity_source_id=None)
            else:
                new.update(capacity=edit.capacity, capacity_unit=edit.capacity_unit,
                           capacity_source_id=edit.source_id)
                if "capacity_year" in given:
                    new["capacity_year"] = edit.capacity_year
        elif "capacity_unit" in given or "capacity_year" in given:
            raise ChangeError("invalid", "capacity_unit and capacity_year change only together with capacity",
                              field="capacity")
        if edit.status is not None and edit.status_date is not None:
            hkey = {"facility": facility_id, "status": edit.status.value, "date": edit.status_date}
            if conn.execute(select(fs.c.facility).where(fs.c.facility == facility_id, fs.c.status == hkey["status"],
                                                        fs.c.date == hkey["date"])).first() is not None:
                raise ChangeError("conflict", f"facility {facility_id} already has status {hkey['status']} dated "
                                              f"{hkey['date']}", field="status")
            hrow = {**hkey, "source_id": edit.source_id, "note": edit.note}
            conn.execute(fs.insert().values(**hrow))
            log.insert(fs.name, hkey, hrow)
            history = [(r[0], r[1]) for r in conn.execute(select(fs.c.status, fs.c.date)
                                                          .where(fs.c.facility == facility_id))]
            new["status"], new["status_date"] = current_status(history)
        changed = {k: v for k, v in new.items() if not _same_row({k: row[k]}, {k: v})}
        if changed:
            conn.execute(update(f).where(f.c.id == facility_id).values(**changed))
            for k, v in changed.items():
                log.update(f.name, key, k, row[k], v)
        if log.rows == 0:
            return EditResult({**dict(row)}, None, created=False)
        record = {**dict(row), **changed}
    return EditResult(record, log.change_id)


# -- observation -------------------------------------------------------------------------------------
def add_observation(store: Store, obs: ObservationIn, actor: Actor) -> EditResult:
    from orechain.evidence.names import UnknownName, resolve_country
    from orechain.evidence.shipped import observation_id

    o = schema.observations
    country = None
    if obs.country is not None:
        try:
            country = resolve_country(obs.country)
        except UnknownName as exc:
            raise ChangeError("invalid", f"country: {exc}", field="country") from None
    _check_unit(obs.unit, "unit")
    data = obs.model_dump(mode="json")
    data["country"] = country
    oid = observation_id(obs.source_id, obs.metric, obs.commodity, data["stage"], obs.form, country, obs.facility,
                         obs.year, obs.period)
    row = {"id": str(oid), **data, "import_id": None}
    with store.transaction() as conn:
        _need(conn, schema.sources, "id", obs.source_id, "source_id", "source")
        _need(conn, schema.commodities, "id", obs.commodity, "commodity", "commodity")
        _need(conn, schema.forms, "id", obs.form, "form", "form")
        _need(conn, schema.facilities, "id", obs.facility, "facility", "facility")
        if not insert_ignore(conn, o, [row]):  # a concurrent identical request waits here, then finds it
            existing = conn.execute(select(o).where(o.c.id == row["id"])).mappings().one()
            if _same_row(dict(existing), row):
                return EditResult(dict(existing), None, created=False)
            raise ChangeError("conflict", f"observation {row['id']} (same source, metric, commodity, stage, form, "
                                          "place, year and period) exists with other values; disagreeing figures "
                                          "need their own source or period", details={"id": row["id"]})
        log = ChangeLog(conn, actor, source_id=obs.source_id, note=obs.note)
        log.insert(o.name, {"id": row["id"]}, row)
    return EditResult(row, log.change_id)


# -- source ------------------------------------------------------------------------------------------
def add_source(store: Store, src: SourceIn, actor: Actor) -> EditResult:
    _check_date(src.date, "date")
    s = schema.sources
    row = src.model_dump(mode="json")
    with store.transaction() as conn:
        if not insert_ignore(conn, s, [row]):
            existing = conn.execute(select(s).where(s.c.id == src.id)).mappings().one()
            if _same_row(dict(existing), row):
                return EditResult(dict(existing), None, created=False)
            raise ChangeError("conflict", f"source {src.id!r} exists with other details", field="id")
        log = ChangeLog(conn, actor, source_id=src.id)
        log.insert(s.name, {"id": src.id}, row)
    return EditResult(row, log.change_id)


# -- claims document ---------------------------------------------------------------------------------
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def ingest_document(store: Store, doc_in: DocumentIn, actor: Actor, *, max_bytes: int) -> EditResult:
    """Read the text as a document (repairs, metadata), extract its claims and save both, audited."""
    from orechain.claims import ledger
    from orechain.claims import tables as ct
    from orechain.claims.extract import extract_claims
    from orechain.claims.grading import Reference
    from orechain.claims.ingest import IngestError, read_document
    from orechain.claims.subjects import shipped_names

    data = doc_in.text.encode("utf-8")
    if len(data) > max_bytes:
        raise ChangeError("invalid", f"text is {len(data)} bytes; the limit is {max_bytes}", field="text",
                          details={"limit": max_bytes, "size": len(data)})
    _check_date(doc_in.date, "date")
    label = f"api:{doc_in.name}"
    with tempfile.TemporaryDirectory(prefix="orechain-upload-") as tmp:
        path = Path(tmp) / (_SAFE_NAME.sub("_", doc_in.name)[:60] + _SUFFIX[doc_in.format])
        path.write_bytes(data)
        try:
            doc = read_document(path, max_bytes=max_bytes, title=doc_in.title, date=doc_in.date,
                                publisher=doc_in.publisher, display_path=label)
        except IngestError as exc:
            raise ChangeError("invalid", f"text: {exc.reason}", field="text", details={"status": exc.status}) from None
    doc = dataclasses.replace(doc, name=doc_in.name)
    claims = extract_claims(doc.text, shipped_names()) if doc.status == "ok" else []
    ref = Reference.from_store(store)
    summary = {"id": doc.id, "name": doc.name, "title": doc.title, "date": doc.date, "publisher": doc.publisher,
               "status": doc.status, "claims": len(claims)}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with store.transaction() as conn:
        docs_added, _ = ledger.save(conn, [(doc, claims)], ref, now)  # insert-or-ignore
        if not docs_added:
            return EditResult(summary, None, created=False, extra={"status": "duplicate"})
        log = ChangeLog(conn, actor, note=f"ingest {doc.name}")
        log.insert(ct.documents.name, {"id": doc.id}, summary)
    return EditResult(summary, log.change_id, extra={"status": "added" if doc.status == "ok" else doc.status})
