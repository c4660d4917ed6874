"""Read endpoints of the evidence base: countries, commodities, organisations, facilities,
observations, deals, events and sources. Lists are paged and come as JSON or CSV; a detail is one JSON
object with its parts and a ``sources`` map of every source it cites (so each number links to one)."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable, Mapping
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from orechain.evidence import queries
from orechain.evidence.model import Stage, Status
from orechain.evidence.names import UnknownName, countries, resolve_country
from orechain.interfaces.api.cache import request_version
from orechain.interfaces.api.common import context, model_detail, model_listing, read
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import ListBody, Page, page_params
from orechain.interfaces.api.readmodel import Filter, ListEndpoint, ReadModel, Spec, View, one_of, strict_int, text

__all__ = ["LIST_ENDPOINTS", "TABLES", "router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "unknown id"},
    406: {"model": ErrorBody, "description": "the Accept header names no format this endpoint offers"},
    422: {"model": ErrorBody, "description": "malformed or unknown query parameter"},
}
_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "a page of rows (JSON) or the same rows as CSV"}}
router = APIRouter(responses=_ERRORS)
PageDep = Annotated[Page, Depends(page_params)]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]


def _country(value: str | None, field: str = "country") -> str | None:
    if value is None:
        return None
    try:
        return resolve_country(value)
    except UnknownName as exc:
        raise ApiError(422, str(exc), details={"field": field, "suggestions": exc.suggestions}) from None


def _commodity(request: Request, value: str | None) -> str | None:
    """``value`` if it is a known commodity (for the routes that read frames, e.g. the analytics router)."""
    return None if value is None else _one_of_known(set(read(request, queries.commodities)["id"]), value)


def _known_commodity(model: ReadModel, version: Hashable, value: str | None) -> str | None:
    """``value`` if it is a known commodity in the read model's table."""
    return None if value is None else _one_of_known(set(model.table("commodities", version).positions["id"]), value)


def _one_of_known(known: set[Any], value: str) -> str:
    if value not in known:
        raise ApiError(422, f"unknown commodity {value!r}", details={"field": "commodity", "known": sorted(known)})
    return value


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) != 4 or any(n != n for n in nums):
        raise ApiError(422, "bbox must be four numbers: min_lon,min_lat,max_lon,max_lat",
                       details={"field": "bbox", "input": value})
    min_lon, min_lat, max_lon, max_lat = nums
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise ApiError(422, "bbox out of range or min > max (lon -180..180, lat -90..90)",
                       details={"field": "bbox", "input": value})
    return min_lon, min_lat, max_lon, max_lat


def _missing(what: str, value: str) -> ApiError:
    return ApiError(404, f"no {what} with id {value!r}", details={"id": value})


def _source_map(view: View, ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Every source ``ids`` names, by id (in the sources' order)."""
    return {r["id"]: r for r in view.any_of("sources", "id", {str(i) for i in ids if i is not None and i == i})}


def _sources(request: Request, ids: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """:func:`_source_map` for a request (the claims router's detail answers)."""
    ctx = context(request)
    return _source_map(View(ctx.model, request_version(request.scope, ctx.cache)), ids)


# --- countries and commodities -----------------------------------------------------------------------
@functools.cache
def _countries_frame() -> pd.DataFrame:
    """The country table (shipped with the code, never changed by a write): built once per process; callers
    only filter it (copy-on-write keeps the kept frame as it is)."""
    return pd.DataFrame([{"code": c.code, "name": c.name, "iso2": c.iso2, "numeric": c.numeric,
                          "variants": "|".join(c.variants)} for c in countries()])


# --- list endpoints: what each filter means, shared by the routes and the read model's fast path ---------------
def _equal(*pairs: tuple[str, Hashable | None]) -> tuple[tuple[str, Hashable], ...]:
    return tuple((col, value) for col, value in pairs if value is not None)


def _facilities_query(model: ReadModel, version: Hashable, a: Mapping[str, Any]) -> Filter:
    country = _country(a.get("country"))
    commodity = _known_commodity(model, version, a.get("commodity"))
    return Filter(equal=_equal(("stage", a.get("stage")), ("status", a.get("status")), ("country", country),
                              ("commodity", commodity)), bbox=_bbox(a.get("bbox")))


def _observations_query(model: ReadModel, version: Hashable, a: Mapping[str, Any]) -> Filter:
    commodity = _known_commodity(model, version, a.get("commodity"))
    country = _country(a.get("country"))
    return Filter(equal=_equal(("metric", a.get("metric")), ("commodity", commodity), ("country", country),
                              ("year", a.get("year")), ("stage", a.get("stage")), ("source_id", a.get("source"))))


def _organisations_query(model: ReadModel, version: Hashable, a: Mapping[str, Any]) -> Filter:
    return Filter(equal=_equal(("country", _country(a.get("country"))), ("kind", a.get("kind"))))


def _deals_query(model: ReadModel, version: Hashable, a: Mapping[str, Any]) -> Filter:
    """Deals with a party controlled from each of the ``party_country`` countries."""
    deals = model.table("deals", version)
    allow: np.ndarray | None = None
    for value in a.get("party_country") or ():
        cc = _country(value, "party_country")
        parties = model.table("deal_parties", version)
        rows = parties.positions["country"].get(cc, np.zeros(0, dtype=np.intp))
        m = np.zeros(len(deals), dtype=bool)
        for deal in set(parties.frame["deal"].iloc[rows]):
            m[deals.positions["id"].get(deal, np.zeros(0, dtype=np.intp))] = True
        allow = m if allow is None else allow & m
    return Filter(allow=allow)


_STAGES, _STATUSES = one_of([s.value for s in Stage]), one_of([s.value for s in Status])
LIST_ENDPOINTS: dict[str, ListEndpoint] = {
    "/countries": ListEndpoint("countries"),
    "/commodities": ListEndpoint("commodities"),
    "/forms": ListEndpoint("forms"),
    "/organisations": ListEndpoint("organisations", _organisations_query, {"country": text(), "kind": text()}),
    "/facilities": ListEndpoint("facilities", _facilities_query,
                                {"stage": _STAGES, "status": _STATUSES, "country": text(), "commodity": text(),
                                 "bbox": text()}, needs=("commodities",)),
    "/links": ListEndpoint("links"),
    "/observations": ListEndpoint("observations", _observations_query,
                                  {"metric": text(80), "commodity": text(), "country": text(),
                                   "year": strict_int(1800, 2200), "stage": _STAGES, "source": text(200)},
                                  needs=("commodities",)),
    "/deals": ListEndpoint("deals", _deals_query, {"party_country": text()}, frozenset({"party_country"}),
                           needs=("deal_parties",)),
    "/events": ListEndpoint("events"),
    "/sources": ListEndpoint("sources"),
}
"""The list endpoints the read model answers (path under the API prefix -> endpoint)."""
TABLES: dict[str, Spec] = {"countries": Spec(lambda _store: _countries_frame(), keys=("code",), reads=frozenset())}
"""Tables of this router that are not in the store (the country table ships with the code)."""


@router.get("/countries", response_model=ListBody, responses=_CSV, summary="Countries and their name variants")
async def list_countries(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/countries"], {})


@router.get("/countries/{code}", summary="One country, with the facilities it hosts and organisations it controls")
async def get_country(request: Request, code: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        cc = _country(code, "code")
        country = view.one("countries", "code", cc)
        if country is None:
            raise _missing("country", str(cc))
        fac = view.where("facilities", "country", cc, ["id", "name", "stage", "commodity", "status", "source_id"])
        org = view.where("organisations", "country", cc, ["id", "name", "kind", "source_id"])
        return {"country": country, "facilities": fac, "organisations": org,
                "sources": _source_map(view, [r["source_id"] for r in fac + org])}
    return await model_detail(request, ("countries", "facilities", "organisations", "sources"), build)


@router.get("/commodities", response_model=ListBody, responses=_CSV, summary="Commodities")
async def list_commodities(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/commodities"], {})


@router.get("/forms", response_model=ListBody, responses=_CSV, summary="Forms of each commodity along the chain")
async def list_forms(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/forms"], {})


# --- organisations -----------------------------------------------------------------------------------
@router.get("/organisations", response_model=ListBody, responses=_CSV, summary="Organisations")
async def list_organisations(
    request: Request, page: PageDep,
    country: Annotated[str | None, Query(description="controlling country (ISO3 or name)")] = None,
    kind: Annotated[str | None, Query(description="company, state_body, ...")] = None,
) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/organisations"], {"country": country, "kind": kind})


@router.get("/organisations/{org_id}", summary="One organisation with its stakes and facilities")
async def get_organisation(request: Request, org_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        org = view.one("organisations", "id", org_id)
        if org is None:
            raise _missing("organisation", org_id)
        owns, owned_by = view.where("ownership", "owner", org_id), view.where("ownership", "owned", org_id)
        stakes = view.where("facility_owners", "organisation", org_id)
        operated = view.where("facilities", "operator", org_id, ["id", "name", "stage", "commodity", "country",
                                                                 "status", "source_id"])
        cited = [org["source_id"], *(r["source_id"] for r in owns + owned_by + stakes + operated)]
        for r in operated:
            del r["source_id"]
        return {"organisation": org, "owns": owns, "owned_by": owned_by, "facility_stakes": stakes,
                "operates": operated, "sources": _source_map(view, cited)}
    return await model_detail(request, ("organisations", "ownership", "facility_owners", "facilities", "sources"),
                              build)


# --- facilities --------------------------------------------------------------------------------------
@router.get("/facilities", response_model=ListBody, responses=_CSV, summary="Facilities, filtered")
async def list_facilities(
    request: Request, page: PageDep,
    stage: Annotated[Stage | None, Query()] = None,
    status: Annotated[Status | None, Query(description="current status")] = None,
    country: Annotated[str | None, Query(description="host country (ISO3 or name)")] = None,
    commodity: Annotated[str | None, Query()] = None,
    bbox: Annotated[str | None, Query(description="min_lon,min_lat,max_lon,max_lat",
                                      examples=["60,23,78,37"])] = None,
) -> Response:
    args = {"stage": stage.value if stage else None, "status": status.value if status else None,
            "country": country, "commodity": commodity, "bbox": bbox}
    return await model_listing(request, page, LIST_ENDPOINTS["/facilities"], args)


@router.get("/facilities/{facility_id}", summary="One facility: owners, status history, links, observations")
async def get_facility(request: Request, facility_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        fac = view.one("facilities", "id", facility_id)
        if fac is None:
            raise _missing("facility", facility_id)

        def org(org_id: Any) -> dict[str, Any]:
            return view.one("organisations", "id", org_id) or {}

        def name(fid: Any) -> Any:
            return (view.one("facilities", "id", fid) or {}).get("name")

        owners = view.where("facility_owners", "facility", facility_id)
        for o in owners:
            o["name"], o["country"] = org(o["organisation"]).get("name"), org(o["organisation"]).get("country")
        history = view.where("facility_status", "facility", facility_id)
        up = [{**r, "name": name(r["upstream"])} for r in view.where("links", "downstream", facility_id)]
        down = [{**r, "name": name(r["downstream"])} for r in view.where("links", "upstream", facility_id)]
        obs = [r for r in view.where("observations", "facility", facility_id) if r["commodity"] == fac["commodity"]]
        operator = view.one("organisations", "id", fac.get("operator"))
        cited = [fac["source_id"], fac.get("capacity_source_id"),
                 *(r["source_id"] for r in owners + history + up + down + obs),
                 *([operator["source_id"]] if operator else [])]
        return {"facility": fac, "operator": operator, "owners": owners, "history": history, "upstream": up,
                "downstream": down, "observations": obs, "sources": _source_map(view, cited)}
    return await model_detail(request, ("facilities", "facility_owners", "organisations", "facility_status", "links",
                                        "observations", "sources"), build)


@router.get("/links", response_model=ListBody, responses=_CSV, summary="Known material links between facilities")
async def list_links(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/links"], {})


# --- observations ------------------------------------------------------------------------------------
@router.get("/observations", response_model=ListBody, responses=_CSV, summary="Sourced numbers, filtered")
async def list_observations(
    request: Request, page: PageDep,
    metric: Annotated[str | None, Query(max_length=80, examples=["mine_production"])] = None,
    commodity: Annotated[str | None, Query()] = None,
    country: Annotated[str | None, Query(description="ISO3 or name")] = None,
    year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    stage: Annotated[Stage | None, Query()] = None,
    source: Annotated[str | None, Query(max_length=200, description="source id")] = None,
) -> Response:
    args = {"metric": metric, "commodity": commodity, "country": country, "year": year,
            "stage": stage.value if stage else None, "source": source}
    return await model_listing(request, page, LIST_ENDPOINTS["/observations"], args)


# --- deals and events --------------------------------------------------------------------------------
@router.get("/deals", response_model=ListBody, responses=_CSV, summary="Deals, optionally between given countries")
async def list_deals(
    request: Request, page: PageDep,
    party_country: Annotated[list[str] | None, Query(
        description="repeatable: only deals with a party controlled from each of these countries (ISO3 or name)",
        examples=[["PAK", "USA"]])] = None,
) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/deals"], {"party_country": party_country})


@router.get("/deals/{deal_id}", summary="One deal: parties, phases and dated milestones")
async def get_deal(request: Request, deal_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        deal = view.one("deals", "id", deal_id)
        if deal is None:
            raise _missing("deal", deal_id)
        parties = view.where("deal_parties", "deal", deal_id)
        phases = view.where("deal_phases", "deal", deal_id)
        ms = view.where("deal_milestones", "deal", deal_id)
        for p in phases:
            p["milestones"] = [dict(m) for m in ms if m["seq"] == p["seq"]]
        deal["commodities"] = [c for c in (deal.get("commodities") or "").split("|") if c]
        return {"deal": deal, "parties": parties, "phases": phases,
                "sources": _source_map(view, [deal["source_id"], *(r["source_id"] for r in parties + ms)])}
    return await model_detail(request, ("deals", "deal_parties", "deal_phases", "deal_milestones", "sources"), build)


@router.get("/events", response_model=ListBody, responses=_CSV, summary="Policy events (export controls, ...)")
async def list_events(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/events"], {})


@router.get("/events/{event_id}", summary="One policy event")
async def get_event(request: Request, event_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        ev = view.one("events", "id", event_id)
        if ev is None:
            raise _missing("event", event_id)
        for col in ("commodities", "elements", "forms", "destinations"):
            ev[col] = [c for c in (ev.get(col) or "").split("|") if c]
        return {"event": ev, "sources": _source_map(view, [ev["source_id"]])}
    return await model_detail(request, ("events", "sources"), build)


# --- sources -----------------------------------------------------------------------------------------
@router.get("/sources", response_model=ListBody, responses=_CSV, summary="Sources, with how often each is cited")
async def list_sources(request: Request, page: PageDep) -> Response:
    return await model_listing(request, page, LIST_ENDPOINTS["/sources"], {})


@router.get("/sources/{source_id}", summary="One source and the observations and facilities citing it")
async def get_source(request: Request, source_id: IdPath) -> Response:
    def build(view: View) -> dict[str, Any]:
        src = view.one("sources", "id", source_id)
        if src is None:
            raise _missing("source", source_id)
        obs = view.where("observations", "source_id", source_id)
        for r in obs:
            for col in ("publisher", "source_title", "source_date"):
                del r[col]
        table = view.table("facilities")
        cols = ["id", "name", "stage", "country", "capacity", "capacity_unit"]
        cites = [table.positions[c].get(source_id) for c in ("source_id", "capacity_source_id")]
        fac = view.rows(table, sorted({int(i) for hit in cites if hit is not None for i in hit}), cols)
        return {"source": src, "observations": obs, "facilities": fac}
    return await model_detail(request, ("sources", "observations", "facilities"), build)
