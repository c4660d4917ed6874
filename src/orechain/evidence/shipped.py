"""The evidence base shipped inside the package, as reviewable CSV and YAML, and its loader.

Files under ``orechain/evidence/data/`` (one record per row; every row names its ``source_id``):

==========================  =====================================================================
``sources.csv``             publications: publisher, title, date, URL, kind, licence
``commodities.yaml``        commodities and their forms along the chain (with units)
``groups.yaml``             country groups (EU-27, ...)
``organisations.csv``       companies, state and military bodies, with the controlling country
``ownership.csv``           stakes between organisations
``facilities.csv``          facilities: stage, commodity, location, host country, operator, capacity
``facility_owners.csv``     stakes in facilities
``facility_status.csv``     lifecycle status history, one dated row per status
``links.csv``               known offtake/supply links between facilities
``observations.csv``        sourced numbers: production, reserves, stage shares, prices, lead times
``deals.yaml``              deals with parties, phases and milestones
``events.yaml``             policy events such as export controls and their suspensions
==========================  =====================================================================

:func:`load_dataset` parses and validates all of it (collecting every problem with file, line and
field); :func:`load_into` writes it to a store in one transaction, idempotently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Table

from orechain.evidence import schema
from orechain.evidence.errors import InputError, ProblemCollector
from orechain.evidence.model import (
    Commodity,
    CountryGroup,
    Deal,
    Event,
    Facility,
    FacilityOwner,
    Form,
    Link,
    Observation,
    ObservationId,
    Organisation,
    Ownership,
    Source,
    StatusChange,
)
from orechain.evidence.names import UnknownName, countries, resolve_country
from orechain.evidence.store import Store, insert_ignore

M = TypeVar("M", bound=BaseModel)

__all__ = ["Dataset", "load_dataset", "load_into", "load_shipped", "observation_id", "shipped_data_dir"]


def shipped_data_dir() -> Traversable:
    return resources.files("orechain.evidence") / "data"


def observation_id(source_id: str, metric: str, commodity: str, stage: str | None, form: str | None,
                   country: str | None, facility: str | None, year: int | None, period: str | None) -> ObservationId:
    """A stable id: the same observation from the same source always gets the same id."""
    key = "|".join(str(x or "") for x in (source_id, metric, commodity, stage, form, country, facility, year,
                                           period))
    return ObservationId(hashlib.sha1(key.encode()).hexdigest()[:16])


@dataclass
class Dataset:
    sources: list[Source] = field(default_factory=list)
    commodities: list[Commodity] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    groups: list[CountryGroup] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    ownership: list[Ownership] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def _blank_to_none(row: dict[str, str]) -> dict[str, Any]:
    return {k: (v.strip() if v.strip() != "" else None) for k, v in row.items() if k is not None}


def _read_csv(base: Traversable, name: str, col: ProblemCollector) -> Iterator[tuple[int, dict[str, Any]]]:
    """Data rows with their line numbers; a row with too few or too many fields is a problem, not dropped."""
    reader = csv.DictReader(io.StringIO((base / name).read_text(encoding="utf-8"), newline=""))
    width = len(reader.fieldnames or [])
    try:
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                n = width + len(row.get(None) or []) if None in row else sum(v is not None for v in row.values())
                col.add(reader.line_num, None, f"{n} fields where the header has {width}")
                continue
            yield reader.line_num, _blank_to_none(row)
    except csv.Error as exc:
        col.add(reader.line_num, None, f"not readable as CSV: {exc}")


def _validate(model: type[M], data: dict[str, Any], col: ProblemCollector, line: int | None) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or None
            col.add(line, loc, err["msg"])
        return None


def _check_country(value: str | None, col: ProblemCollector, line: int | None, fld: str) -> str | None:
    if value is None:
        return None
    try:
        return resolve_country(value)
    except UnknownName as exc:
        col.add(line, fld, str(exc))
        return None


_CSV_TABLES = {"sources.csv": schema.sources, "organisations.csv": schema.organisations,
               "ownership.csv": schema.ownership, "facilities.csv": schema.facilities, "links.csv": schema.links,
               "observations.csv": schema.observations}


def _check_lengths(rec: BaseModel, table: Table | None, col: ProblemCollector, line: int | None) -> None:
    """Text longer than its column holds: SQLite would store it, PostgreSQL would refuse the whole load."""
    if table is None:
        return
    for column in table.c:
        limit = getattr(column.type, "length", None)
        value = getattr(rec, column.name, None)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            col.add(line, column.name, f"{len(value)} characters; the database column holds at most {limit}")


def _yaml(base: Traversable, name: str, col: ProblemCollector) -> Any:
    text = (base / name).read_text(encoding="utf-8")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        col.add(mark.line + 1 if mark else None, None, f"invalid YAML: {exc}")
        return None


def load_dataset(base: Traversable | Path | None = None) -> Dataset:
    """Parse and validate the shipped (or another) evidence folder; raise InputError listing all problems."""
    base = base if base is not None else shipped_data_dir()
    ds = Dataset()
    problems = []

    def csv_records(name: str, model: type[M], prep: Callable[[dict[str, Any], ProblemCollector, int], None]
                    | None = None) -> list[M]:
        col = ProblemCollector(name)
        out: list[M] = []
        for line, row in _read_csv(base, name, col):
            if prep is not None:
                prep(row, col, line)
            rec = _validate(model, row, col, line)
            if rec is not None:
                _check_lengths(rec, _CSV_TABLES.get(name), col, line)
                out.append(rec)
        problems.extend(col.problems)
        return out

    def prep_country(fld: str) -> Callable[[dict[str, Any], ProblemCollector, int], None]:
        def prep(row: dict[str, Any], col: ProblemCollector, line: int) -> None:
            row[fld] = _check_country(row.get(fld), col, line, fld)
        return prep

    ds.sources = csv_records("sources.csv", Source)
    col = ProblemCollector("commodities.yaml")
    for item in _yaml(base, "commodities.yaml", col) or []:
        forms = item.pop("forms", []) or []
        c = _validate(Commodity, item, col, None)
        if c is not None:
            ds.commodities.append(c)
            for f in forms:
                fm = _validate(Form, {**f, "commodity": c.id}, col, None)
                if fm is not None:
                    ds.forms.append(fm)
    problems.extend(col.problems)
    col = ProblemCollector("groups.yaml")
    for item in _yaml(base, "groups.yaml", col) or []:
        item["members"] = [_check_country(m, col, None, f"{item.get('id')}.members") for m in item.get("members", [])]
        g = _validate(CountryGroup, item, col, None)
        if g is not None:
            ds.groups.append(g)
    problems.extend(col.problems)

    def prep_org(row: dict[str, Any], col: ProblemCollector, line: int) -> None:
        row["country"] = _check_country(row.get("country"), col, line, "country")
        row["aliases"] = tuple(a for a in (row.get("aliases") or "").split("|") if a)

    ds.organisations = csv_records("organisations.csv", Organisation, prep_org)
    ds.ownership = csv_records("ownership.csv", Ownership)

    owners: dict[str, list[FacilityOwner]] = {}
    fcol = ProblemCollector("facility_owners.csv")
    for fo_line, row in _read_csv(base, "facility_owners.csv", fcol):
        fid = row.pop("facility", None)
        fo = _validate(FacilityOwner, row, fcol, fo_line)
        if fid is None:
            fcol.add(fo_line, "facility", "missing facility id")
        elif fo is not None:
            owners.setdefault(fid, []).append(fo)
    problems.extend(fcol.problems)
    history: dict[str, list[StatusChange]] = {}
    scol = ProblemCollector("facility_status.csv")
    for st_line, row in _read_csv(base, "facility_status.csv", scol):
        fid = row.pop("facility", None)
        sc = _validate(StatusChange, row, scol, st_line)
        if fid is None:
            scol.add(st_line, "facility", "missing facility id")
        elif sc is not None:
            history.setdefault(fid, []).append(sc)
    problems.extend(scol.problems)

    def prep_facility(row: dict[str, Any], col: ProblemCollector, line: int) -> None:
        row["country"] = _check_country(row.get("country"), col, line, "country")
        row["owners"] = tuple(owners.get(row.get("id") or "", []))
        row["history"] = tuple(sorted(history.get(row.get("id") or "", []), key=lambda h: h.date))

    ds.facilities = csv_records("facilities.csv", Facility, prep_facility)
    ds.links = csv_records("links.csv", Link)

    def prep_obs(row: dict[str, Any], col: ProblemCollector, line: int) -> None:
        row["country"] = _check_country(row.get("country"), col, line, "country")
        row["estimated"] = (row.get("estimated") or "").lower() in ("1", "true", "yes", "e")
        year = row.get("year")
        try:
            year_i = int(year) if year is not None else None
        except ValueError:
            col.add(line, "year", f"not a year: {year!r}")
            year_i = None
        row["id"] = observation_id(row.get("source_id") or "", row.get("metric") or "", row.get("commodity") or "",
                                   row.get("stage"), row.get("form"), row.get("country"), row.get("facility"),
                                   year_i, row.get("period"))

    ds.observations = csv_records("observations.csv", Observation, prep_obs)

    col = ProblemCollector("deals.yaml")
    for item in _yaml(base, "deals.yaml", col) or []:
        d = _validate(Deal, item, col, None)
        if d is not None:
            ds.deals.append(d)
    problems.extend(col.problems)
    col = ProblemCollector("events.yaml")
    for item in _yaml(base, "events.yaml", col) or []:
        if item.get("issuer"):
            item["issuer"] = _check_country(item["issuer"], col, None, f"{item.get('id')}.issuer")
        item["destinations"] = [_check_country(c, col, None, f"{item.get('id')}.destinations")
                                for c in item.get("destinations", []) or []]
        e = _validate(Event, item, col, None)
        if e is not None:
            ds.events.append(e)
    problems.extend(col.problems)
    problems.extend(_check_references(ds))
    if problems:
        raise InputError(problems)
    return ds


def _check_references(ds: Dataset) -> list[Any]:
    """Every id a record points at exists; no duplicate ids."""
    col = ProblemCollector("dataset")
    src = {s.id for s in ds.sources}
    orgs = {o.id for o in ds.organisations}
    facs = {f.id for f in ds.facilities}
    comms = {c.id for c in ds.commodities}
    forms = {f.id for f in ds.forms}
    for kind, ids in (("source", [s.id for s in ds.sources]), ("organisation", [o.id for o in ds.organisations]),
                      ("facility", [f.id for f in ds.facilities]), ("observation", [o.id for o in ds.observations]),
                      ("deal", [d.id for d in ds.deals]), ("event", [e.id for e in ds.events])):
        seen: set[str] = set()
        for i in ids:
            if i in seen:
                col.add(None, kind, f"duplicate {kind} id {i!r}")
            seen.add(i)

    def need(ref: str | None, pool: Collection[str], what: str, where: str) -> None:
        if ref is not None and ref not in pool:
            col.add(None, where, f"unknown {what} {ref!r}")

    for o in ds.organisations:
        need(o.source_id, src, "source", f"organisations.csv:{o.id}.source_id")
    for ow in ds.ownership:
        need(ow.owner, orgs, "organisation", "ownership.csv:owner")
        need(ow.owned, orgs, "organisation", "ownership.csv:owned")
        need(ow.source_id, src, "source", "ownership.csv:source_id")
    for f in ds.facilities:
        where = f"facilities.csv:{f.id}"
        need(f.commodity, comms, "commodity", f"{where}.commodity")
        need(f.form, forms, "form", f"{where}.form")
        need(f.operator, orgs, "organisation", f"{where}.operator")
        need(f.source_id, src, "source", f"{where}.source_id")
        need(f.capacity_source_id, src, "source", f"{where}.capacity_source_id")
        for fo in f.owners:
            need(fo.organisation, orgs, "organisation", f"facility_owners.csv:{f.id}")
            need(fo.source_id, src, "source", f"facility_owners.csv:{f.id}")
        for h in f.history:
            need(h.source_id, src, "source", f"facility_status.csv:{f.id}")
    for ln in ds.links:
        need(ln.upstream, facs, "facility", "links.csv:upstream")
        need(ln.downstream, facs, "facility", "links.csv:downstream")
        need(ln.source_id, src, "source", "links.csv:source_id")
    for ob in ds.observations:
        where = f"observations.csv:{ob.metric}/{ob.commodity}/{ob.country}/{ob.year}"
        need(ob.commodity, comms, "commodity", where)
        need(ob.form, forms, "form", where)
        need(ob.facility, facs, "facility", where)
        need(ob.source_id, src, "source", where)
    for d in ds.deals:
        need(d.source_id, src, "source", f"deals.yaml:{d.id}")
        for p in d.parties:
            need(p.organisation, orgs, "organisation", f"deals.yaml:{d.id}.parties")
        for ph in d.phases:
            for ms in ph.milestones:
                need(ms.source_id, src, "source", f"deals.yaml:{d.id}.phases.milestones")
    ev_ids = {e.id for e in ds.events}
    for e in ds.events:
        need(e.source_id, src, "source", f"events.yaml:{e.id}")
        need(e.suspends, ev_ids, "event", f"events.yaml:{e.id}.suspends")
    for g in ds.groups:
        need(g.source_id, src, "source", f"groups.yaml:{g.id}")
    return col.problems


def _join(values: tuple[str, ...] | list[str]) -> str:
    return "|".join(values)


def load_into(store: Store, ds: Dataset | None = None) -> dict[str, int]:
    """Write the dataset into the store in one transaction; returns rows added per table (0 = unchanged)."""
    ds = ds if ds is not None else load_dataset()
    added: dict[str, int] = {}
    with store.transaction() as conn:
        _write(conn, ds, added)
    return added


def load_shipped(store: Store, notes: list[str] | None = None) -> dict[str, int]:
    """Load the whole shipped evidence base: the CSV/YAML records (one transaction) and the World Bank
    governance table ``wgi_pv.csv`` through the ``wgi`` importer (its own transaction, idempotent).

    The importer's warnings about rows of the shipped table it cannot import (documented in docs/data.md)
    go to ``notes`` when a list is given, instead of the log."""
    from orechain.evidence.importers import IMPORTERS, run_import

    added = load_into(store)
    wgi_log = logging.getLogger("orechain.evidence.importers.wgi")
    handler = _Collect()
    if notes is not None:
        wgi_log.addHandler(handler)
        wgi_log.propagate = False
    try:
        with resources.as_file(shipped_data_dir() / "wgi_pv.csv") as path:
            rec = run_import(store, IMPORTERS["wgi"], Path(path))
    finally:
        if notes is not None:
            wgi_log.removeHandler(handler)
            wgi_log.propagate = True
            notes.extend(handler.messages)
    added["governance"] = rec.added
    return added


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _write(conn: Connection, ds: Dataset, added: dict[str, int]) -> None:
    def put(table: Any, rows: list[dict[str, Any]]) -> None:
        added[table.name] = added.get(table.name, 0) + insert_ignore(conn, table, rows)

    put(schema.countries, [{"code": c.code, "name": c.name, "iso2": c.iso2, "numeric": c.numeric}
                           for c in countries()])
    put(schema.sources, [s.model_dump(mode="json") for s in ds.sources])
    put(schema.commodities, [c.model_dump(mode="json") for c in ds.commodities])
    put(schema.forms, [f.model_dump(mode="json") for f in ds.forms])
    put(schema.country_groups, [{"group_id": g.id, "code": m, "name": g.name, "source_id": g.source_id}
                                for g in ds.groups for m in g.members])
    put(schema.organisations, [{**o.model_dump(mode="json"), "aliases": _join(o.aliases)} for o in ds.organisations])
    put(schema.ownership, [o.model_dump(mode="json") for o in ds.ownership])
    fac_rows = []
    for f in ds.facilities:
        d = f.model_dump(mode="json", exclude={"owners", "history"})
        st = f.status
        d["status"] = st.value if st else None
        d["status_date"] = max((h.date for h in f.history if h.status == st), default=None) if st else None
        fac_rows.append(d)
    put(schema.facilities, fac_rows)
    put(schema.facility_owners, [{"facility": f.id, **o.model_dump(mode="json")} for f in ds.facilities
                                 for o in f.owners])
    put(schema.facility_status, [{"facility": f.id, **h.model_dump(mode="json")} for f in ds.facilities
                                 for h in f.history])
    put(schema.links, [ln.model_dump(mode="json") for ln in ds.links])
    put(schema.observations, [o.model_dump(mode="json") for o in ds.observations])
    put(schema.deals, [{**d.model_dump(mode="json", exclude={"parties", "phases"}),
                        "commodities": _join(list(d.commodities))} for d in ds.deals])
    put(schema.deal_parties, [{"deal": d.id, **p.model_dump(mode="json")} for d in ds.deals for p in d.parties])
    put(schema.deal_phases, [{"deal": d.id, **p.model_dump(mode="json", exclude={"milestones"})}
                             for d in ds.deals for p in d.phases])
    put(schema.deal_milestones, [{"deal": d.id, "seq": p.seq, **m.model_dump(mode="json")}
                                 for d in ds.deals for p in d.phases for m in p.milestones])
    put(schema.events, [{**e.model_dump(mode="json"), "commodities": _join(list(e.commodities)),
                         "elements": _join(list(e.elements)), "forms": _join(list(e.forms)),
                         "destinations": _join(list(e.destinations))} for e in ds.events])

