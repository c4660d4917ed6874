"""Analytics endpoints: country shares and concentration (HHI) of production, per source.

The maths are :mod:`orechain.analytics.concentration`'s; this module only reads the observations and
shapes the answer. Each source's figures are computed apart (disagreeing sources are not mixed), and rows
without a number (withheld, "W") are counted in ``rows_without_value``, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response

from orechain.analytics.concentration import concentration, shares
from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.network import Network
from orechain.evidence import queries
from orechain.evidence.store import Store
from orechain.interfaces.api.common import context, detail, listing, read
from orechain.interfaces.api.errors import ApiError, ErrorBody
from orechain.interfaces.api.paging import ListBody, Page, page_params, records

__all__ = ["router"]

router = APIRouter(responses={422: {"model": ErrorBody, "description": "bad parameter or unusable input"}})
PageDep = Annotated[Page, Depends(page_params)]
BY = ["commodity", "year", "source_id"]


def _production(request: Request, commodity: str | None, year: int | None, metric: str) -> tuple[pd.DataFrame,
                                                                                                 pd.DataFrame]:
    from orechain.interfaces.api.routers.evidence import _commodity

    df = read(request, queries.production, commodity=_commodity(request, commodity), year=year, metric=metric)
    df = df[df["year"].notna()]
    missing = df[df["value"].isna()].groupby(BY, dropna=False).size().rename("rows_without_value")
    quality = df.groupby(BY, dropna=False)["quality"].agg(lambda q: " ".join(sorted(set(q)))).rename("quality")
    return df[df["value"].notna()], pd.concat([missing, quality], axis=1).reset_index()


def _analyse(fn: Any, df: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=[*BY, "country", "share"])
    try:
        out: pd.DataFrame = fn(df, by=BY)
    except AnalyticsInputError as exc:
        raise ApiError(422, str(exc)) from None
    out = out.merge(extra, on=BY, how="outer")  # a group with no number at all still shows, with its count
    out["rows_without_value"] = out["rows_without_value"].fillna(0).astype(int)
    return out


Metric = Annotated[str, Query(max_length=80, description="mine_production or reserves")]


@router.get("/analytics/shares", response_model=ListBody, summary="Country shares of production, per source")
async def get_shares(request: Request, page: PageDep, commodity: Annotated[str | None, Query()] = None,
                     year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
                     metric: Metric = "mine_production") -> Response:
    def build() -> pd.DataFrame:
        df, extra = _production(request, commodity, year, metric)
        return _analyse(shares, df, extra)
    return await listing(request, page, build)


@router.get("/analytics/hhi", response_model=ListBody,
            summary="Concentration of production: HHI, top-3 share and leader, per commodity, year and source")
async def get_hhi(request: Request, page: PageDep, commodity: Annotated[str | None, Query()] = None,
                  year: Annotated[int | None, Query(ge=1800, le=2200)] = None,
                  metric: Metric = "mine_production") -> Response:
    def build() -> pd.DataFrame:
        df, extra = _production(request, commodity, year, metric)
        return _analyse(concentration, df, extra)
    return await listing(request, page, build)


# --- GeoPolRisk and EU supply risk ---------------------------------------------------------------------------

def _newest_source_per_year(prod: pd.DataFrame) -> pd.DataFrame:
    """One production table for the indicators: the newest source (largest id) covering each commodity-year;
    the choice is returned per row in ``production_source_id``."""
    pick = prod.groupby(["commodity", "year"])["source_id"].transform("max")
    return prod[prod["source_id"] == pick].reset_index(drop=True)


def _production_for(store: Store, source: str | None) -> pd.DataFrame:
    from orechain.analytics import inputs

    prod = inputs.production_frame(store, None, source_id=source)
    if source is not None and not len(prod):
        raise ApiError(422, f"source {source!r} has no mine-production figures", details={"field": "source"})
    return _newest_source_per_year(prod)


Governance = Annotated[str | None, Query(max_length=200, description=(
    "governance (WGI) vintage: its source id (GET /sources lists them; an unknown one is a 422 naming those "
    "held); default: the newest, whose data reach the latest year. Every row names the vintage used in "
    "governance_source, and the X-Governance-Source header repeats it"))]
GOVERNANCE_HEADER = "X-Governance-Source"


def _governance(store: Store, source_id: str | None) -> pd.DataFrame:
    """One governance vintage (``source_id``, or the newest); a 422 naming the vintages held when it is unknown
    or when there is none."""
    from orechain.analytics import inputs

    held = [str(x) for x in inputs.governance_sources(store)["source_id"]]
    if source_id is not None and source_id not in held:
        raise ApiError(422, f"no governance vintage {source_id!r}; the store holds: {', '.join(held) or 'none'}",
                       details={"field": "governance", "allowed": held})
    gov = inputs.governance_frame(store, source_id)
    if not len(gov):
        raise ApiError(422, "no governance data: import WGI first (orechain data import wgi FILE)",
                       details={"field": "governance", "allowed": held})
    return gov


async def _listing_with_governance(request: Request, page: Page, build: Any, chosen: dict[str, str]) -> Response:
    """``listing``, with the governance vintage the build used in the X-Governance-Source header."""
    resp = await listing(request, page, build)
    if "source" in chosen:
        resp.headers[GOVERNANCE_HEADER] = chosen["source"]
    return resp


def _with_sources(out: pd.DataFrame, prod: pd.DataFrame) -> pd.DataFrame:
    chosen = prod.groupby(["commodity", "year"])["source_id"].first().rename("production_source_id").reset_index()
    return out.merge(chosen.rename(columns={"commodity": "material"}), on=["material", "year"], how="left")


@router.get("/analytics/geopolrisk", response_model=ListBody,
            summary="GeoPolRisk score and characterisation factor per importer, material and year")
async def get_geopolrisk(
    request: Request, page: PageDep,
    importer: Annotated[list[str], Query(min_length=1, max_length=20, description="country (ISO3 or name) or "
                                         "country-group id such as EU27; repeatable", examples=[["USA"]])],
    material: Annotated[list[str], Query(min_length=1, max_length=20, description="commodity id; repeatable")],
    year: Annotated[list[int], Query(min_length=1, max_length=50, description="repeatable")],
    source: Annotated[str | None, Query(max_length=200, description="production source id (default: the newest "
                                        "source covering each commodity-year)")] = None,
    compat: Annotated[bool, Query(description="reproduce geopolrisk-py 2.0.1, quirks included")] = False,
    cf_reference: Annotated[float | None, Query(gt=0, description="copper reference (default: computed over "
                                                "OECD members 2017-2021)")] = None,
    governance: Governance = None,
) -> Response:
    """The maths are :func:`orechain.analytics.geopolrisk.geopolrisk` on the store's production, imported
    BACI trade and WGI governance (import them first; without them the answer is a 422 that says so)."""
    chosen: dict[str, str] = {}

    def build() -> pd.DataFrame:
        from orechain.analytics import inputs
        from orechain.analytics.geopolrisk import geopolrisk

        store = context(request).store
        if governance is not None:  # an unknown vintage is named before any other input is read
            _governance(store, governance)
        try:
            imps = inputs.importer_groups(store, importer)
            prod = _production_for(store, source)
            years_needed = sorted(set(year) | ({2017, 2018, 2019, 2020, 2021} if cf_reference is None else set()))
            mats = sorted(set(material) | ({"copper"} if cf_reference is None and not compat else set()))
            trade = inputs.trade_frame(store, mats, years_needed)
            gov = _governance(store, governance)
            chosen["source"] = str(gov["source_id"].iat[0])
            oecd = inputs.importer_groups(store, ["OECD"]) if cf_reference is None and not compat else None
            out = geopolrisk(prod.rename(columns={"commodity": "material"}), trade, gov, imps, material, year,
                             mode="compat" if compat else "default", cf_reference=cf_reference,
                             reference_importers=oecd)
        except AnalyticsInputError as exc:
            raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
        return _with_sources(out, prod).assign(governance_source=chosen["source"])
    return await _listing_with_governance(request, page, build, chosen)


@router.get("/analytics/eu-supply-risk", response_model=ListBody,
            summary="EU supply-risk indicator (EU CRM methodology) per material and year")
async def get_eu_supply_risk(
    request: Request, page: PageDep,
    material: Annotated[list[str], Query(min_length=1, max_length=20, description="commodity id; repeatable")],
    year: Annotated[list[int], Query(min_length=1, max_length=50, description="repeatable")],
    region: Annotated[str, Query(max_length=40, description="country group of the importing region")] = "EU27",
    governance: Governance = None,
) -> Response:
    """The maths are :func:`orechain.analytics.eu_supply_risk.supply_risk`; every parameter's provenance is in
    its ``*_source`` column and the production source per row in ``production_source_id``."""
    chosen: dict[str, str] = {}

    def build() -> pd.DataFrame:
        from orechain.analytics import inputs
        from orechain.analytics.eu_supply_risk import governance_0_10, supply_risk

        store = context(request).store
        if governance is not None:
            _governance(store, governance)
        try:
            members = next(iter(inputs.importer_groups(store, [region]).values()))
            prod = _production_for(store, None)
            trade = inputs.trade_frame(store, material, year)
            g = _governance(store, governance)
            chosen["source"] = str(g["source_id"].iat[0])
            gov = pd.DataFrame({"country": g["country"], "year": g["year"], "wgi10": governance_0_10(g["estimate"])})
            out = supply_risk(prod.rename(columns={"commodity": "material"}), trade, gov, material, year,
                              region=members)
        except AnalyticsInputError as exc:
            raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
        return _with_sources(out, prod).assign(governance_source=chosen["source"])
    return await _listing_with_governance(request, page, build, chosen)


# --- mine to magnet: trace, independent-chain capacity, Sankey -----------------------------------------------
Commodity = Annotated[str, Query(max_length=80, description="commodity id")]
Consumer = Annotated[str, Query(max_length=80, description="consumer country (ISO3 or name) or country group")]
Year = Annotated[int | None, Query(ge=1900, le=2200, description="facilities producing at the end of this year "
                                   "(by their dated status history); default: current status")]
Demand = Annotated[float | None, Query(gt=0, description="the consumer's demand on the network's basis "
                                      "(its own final-stage plants serve it first)")]
Include = Annotated[list[str] | None, Query(max_length=50, description="facility ids to add whatever their status "
                                            "(e.g. announced projects); repeatable")]


@dataclass(frozen=True)
class Chain:
    """A consumer's network and the facility frame it was built from (with each capacity's source)."""

    net: Network
    facilities: pd.DataFrame
    consumer: list[str]


def _producing_in(store: Store, year: int) -> list[str]:
    """Facilities whose last dated status on or before the end of ``year`` is a producing one."""
    from orechain.analytics.inputs import PRODUCING

    hist = queries.facility_status(store)
    hist = hist[hist["date"].astype(str) <= f"{year}-12-31"]
    last = hist.sort_values(["facility", "date"], kind="stable").groupby("facility").tail(1)
    return [str(f) for f in last.loc[last["status"].isin(PRODUCING), "facility"]]


def _links_within(store: Store, facilities: pd.DataFrame) -> pd.DataFrame:
    """Known links between the facilities selected (a link to one that is not producing carries nothing)."""
    ln = queries.links(store)
    ids = set(facilities["id"])
    return ln[ln["upstream"].isin(ids) & ln["downstream"].isin(ids)].reset_index(drop=True)


def _chain(request: Request, commodity: str, consumer: str, year: int | None, include: list[str] | None) -> Chain:
    from orechain.analytics import inputs
    from orechain.analytics.network import build_network
    from orechain.interfaces.api.routers.evidence import _commodity

    store = context(request).store
    commodity = _commodity(request, commodity) or commodity
    try:
        members = next(iter(inputs.importer_groups(store, [consumer]).values()))
        if year is None:
            f = inputs.facility_frame(store, commodity, extra=include or ())
        else:
            producing = _producing_in(store, year)
            f = inputs.facility_frame(store, commodity, statuses=(), extra=[*producing, *(include or ())])
        net = build_network(f, _links_within(store, f), commodity=commodity)
    except AnalyticsInputError as exc:
        raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
    if net.size == 0:
        raise ApiError(422, f"no {commodity} facility of the chain stages is producing"
                       + (f" at the end of {year}" if year else ""), details={"field": "commodity"})
    return Chain(net, f, members)


@router.get("/analytics/stage-shares", response_model=ListBody,
            summary="Each country's share of a chain stage on a stated basis: capacity, output or feed")
async def get_stage_shares(
    request: Request, page: PageDep, commodity: Commodity = "rare-earths",
    basis: Annotated[Literal["capacity", "output", "feed"], Query(description=(
        "capacity: facility capacities on the common basis; output: sourced output where observed (dated, "
        "annualised where sub-annual), capacity elsewhere, with the shares counting measured output only beside "
        "them; feed: separation estimated from mine production routed to the country that separates it "
        "(analytics/data/separation_feed_routes.csv). Never switched silently: every row has stage_basis"))]
    = "capacity",
    stage: Annotated[str | None, Query(max_length=40, description="one stage (default: every stage; feed: "
                                       "separation only)")] = None,
    year: Annotated[list[int] | None, Query(max_length=50, description="feed basis: the years (default: every "
                                            "year with routes)")] = None,
    show: Annotated[Literal["shares", "coverage"], Query(description="shares, or coverage: how each facility is "
                                                         "counted (output basis) or the routes (feed basis)")]
    = "shares",
) -> Response:
    """The maths are :func:`orechain.analytics.network.capacity_shares`, :func:`~orechain.analytics.network.
    output_shares` and :func:`orechain.analytics.concentration.feed_shares`."""
    def build() -> pd.DataFrame:
        from orechain.analytics import inputs
        from orechain.analytics.network import (
            CHAIN,
            SECONDARY,
            STAGE_BASES,
            facility_output,
            output_shares,
            stage_shares,
        )

        if stage is not None and stage not in (*CHAIN, *SECONDARY):
            raise ApiError(422, f"unknown stage {stage!r}", details={"field": "stage",
                                                                     "allowed": [*CHAIN, *SECONDARY]})
        if year and basis != "feed":
            raise ApiError(422, "year applies to the feed basis; capacities and outputs are current",
                           details={"field": "year"})
        label = STAGE_BASES[basis]
        if basis == "feed":
            if stage not in (None, "separation"):
                raise ApiError(422, "the feed basis estimates the separation stage only", details={"field": "stage"})
            try:
                fs, routes, unit = inputs.separation_feed(context(request).store, commodity, year)
            except AnalyticsInputError as exc:
                raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
            if show == "coverage":
                return routes.assign(stage_basis=label)
            return fs.assign(stage="separation", unit=unit, stage_basis=label)
        chain = _chain(request, commodity, "USA", None, None)
        stages = [stage] if stage else None
        if basis == "capacity":
            if show == "coverage":
                raise ApiError(422, "show=coverage applies to the output and feed bases", details={"field": "show"})
            return stage_shares(chain.net, stages=stages).assign(unit=chain.net.basis + "/yr")
        obs = queries.observations(context(request).store, metric=["production", "mine_production"],
                                   commodity=commodity)
        try:
            res = output_shares(chain.net, facility_output(obs), commodity=commodity, stages=stages)
        except AnalyticsInputError as exc:
            raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
        frame = res.coverage if show == "coverage" else res.shares
        return frame.assign(unit=res.basis + "/yr", stage_basis=label)
    return await listing(request, page, build)


def capacity_source(f: pd.DataFrame) -> pd.Series:
    """The source of each facility's capacity: its capacity source (or record source) for a capacity from the
    facility table, else the source of the observation the capacity was taken from."""
    table = f["capacity_source_id"].where(f["capacity_source_id"].notna(), f["source_id"])
    if "capacity_from" not in f.columns:
        return table
    obs = f["capacity_from"].astype(str).str.extract(r"^observation \S+ (\S+) \(")[0]
    return obs.where(obs.notna(), table.where(f["capacity"].notna()))


def _facility_rows(chain: Chain, shares: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    f = chain.facilities.assign(capacity_source_id=capacity_source(chain.facilities))
    cols = ["id", "name", "stage", "country", "controller", "status", "capacity", "capacity_unit",
            "capacity_source_id", "source_id"]
    out = f[[c for c in cols if c in f.columns]].rename(columns={"country": "host", "capacity": "capacity_native"})
    basis = chain.net.facilities[["id", "capacity"]].rename(columns={"capacity": "capacity_basis"})
    out = out.merge(basis, on="id", how="left")
    if shares is not None:
        out = out.merge(shares[["id", "share"]], on="id", how="left")
    return records(out)


def _sources_of(request: Request, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    from orechain.interfaces.api.routers.evidence import _sources

    return _sources(request, [r.get(k) for r in rows for k in ("capacity_source_id", "source_id")])


@router.get("/analytics/trace", summary="Mine-to-magnet tracing of a consumer's supply: stage shares hosted and "
                                        "controlled by each country, path shares, bottleneck")
async def get_trace(request: Request, commodity: Commodity = "rare-earths", consumer: Consumer = "USA",
                    year: Year = None, include: Include = None,
                    demand: Demand = None) -> Response:
    """The maths are :func:`orechain.analytics.network.trace`. Shares are model results over the facilities'
    sourced capacities (``facilities`` lists each with its ``capacity_source_id``; ``sources`` describes them)."""
    def build() -> dict[str, Any]:
        from orechain.analytics.network import trace

        chain = _chain(request, commodity, consumer, year, include)
        try:
            res = trace(chain.net, chain.consumer, demand=demand)
        except AnalyticsInputError as exc:
            raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
        rows = _facility_rows(chain, res.facility_shares)
        return {"commodity": commodity, "consumer": chain.consumer, "year": year, "basis": chain.net.basis,
                "stages": list(chain.net.stages), "bottleneck_stage": res.bottleneck_stage,
                "stage_shares": records(res.stage_shares), "path_shares": records(res.path_shares),
                "stage_capacity": records(res.stage_capacity),
                "unsupplied": {str(k): float(v) for k, v in res.unsupplied.items()},
                "missing_capacity": list(chain.net.missing_capacity), "facilities": rows,
                "sources": _sources_of(request, rows)}
    return await detail(request, build)


@router.get("/analytics/independent-capacity",
            summary="Maximum flow from mine to consumer avoiding facilities of the excluded countries")
async def get_independent_capacity(
    request: Request, commodity: Commodity = "rare-earths", consumer: Consumer = "USA", year: Year = None,
    include: Include = None,
    exclude: Annotated[list[str] | None, Query(max_length=50, description="countries (ISO3 or name); repeatable")]
    = None,
    by: Annotated[Literal["controller", "host", "either"], Query(description="exclude facilities the countries "
                                                                "control, host, or either")] = "controller",
    consumer_only: Annotated[bool, Query(description="only final-stage facilities hosted by the consumer deliver")]
    = False,
) -> Response:
    """The maths are :func:`orechain.analytics.network.independent_capacity` (maximum flow, Dinic)."""
    def build() -> dict[str, Any]:
        from orechain.analytics.network import independent_capacity
        from orechain.interfaces.api.routers.evidence import _country

        chain = _chain(request, commodity, consumer, year, include)
        codes = [str(_country(x, "exclude")) for x in exclude or []]
        res = independent_capacity(chain.net, codes, by=by,
                                   consumer_hosts=chain.consumer if consumer_only else None)
        rows = _facility_rows(chain)
        for r in rows:
            r["flow"] = float(res.flows.get(r["id"], 0.0))
        return {"commodity": commodity, "consumer": chain.consumer, "year": year, "basis": chain.net.basis,
                "exclude": codes, "by": by, "value": res.value, "resolution": res.resolution,
                "bottleneck_stage": res.bottleneck_stage, "cut": records(res.cut),
                "stage_capacity": records(res.stage_capacity), "excluded": list(res.excluded),
                "missing_capacity": list(chain.net.missing_capacity), "facilities": rows,
                "sources": _sources_of(request, rows)}
    return await detail(request, build)


def sankey_links(path_shares: pd.DataFrame, facilities: pd.DataFrame, stages: Sequence[str]) -> pd.DataFrame:
    """Sankey links from facility paths: each route "f1 -> f2 -> ..." (facility ids, mine first; "?" first where
    the supply cannot be traced further up) adds its share to the links between the (stage, controller) nodes of
    consecutive facilities. Consecutive facilities at one stage (a link within a stage) count as the last of
    them; "?" sits at the stage above the first facility. ``facilities``: id, stage, level, controller.
    Columns: source_stage, source, target_stage, target, share."""
    level_of = dict(zip(facilities["id"], facilities["level"].astype(int), strict=True))
    ctrl_of = dict(zip(facilities["id"], facilities["controller"].astype(str), strict=True))
    rows: list[tuple[str, str, str, str, float]] = []
    for route, share in zip(path_shares["route"], path_shares["share"], strict=True):
        if not share > 0:
            continue
        nodes: list[tuple[int, str]] = []
        for part in (p.strip() for p in str(route).split("->")):
            if part == "?":
                nodes.append((-1, "?"))
                continue
            level, ctrl = level_of[part], ctrl_of[part]
            if nodes and nodes[-1][0] == level:
                nodes[-1] = (level, ctrl)
            else:
                nodes.append((level, ctrl))
        if nodes and nodes[0][1] == "?" and len(nodes) > 1:
            nodes[0] = (max(nodes[1][0] - 1, 0), "?")
        for (la, a), (lb, b) in pairwise(nodes):
            if la != lb:
                rows.append((stages[la], a, stages[lb], b, float(share)))
    df = pd.DataFrame(rows, columns=["source_stage", "source", "target_stage", "target", "share"])
    return df.groupby(["source_stage", "source", "target_stage", "target"], as_index=False, sort=False).agg(
        share=("share", "sum"))


@router.get("/analytics/sankey", summary="Mine-to-magnet flows between controlling countries, stage by stage "
                                         "(for the Sankey chart)")
async def get_sankey(request: Request, commodity: Commodity = "rare-earths", consumer: Consumer = "USA",
                     year: Year = None, include: Include = None,
                     demand: Demand = None) -> Response:
    """Nodes are (stage, controlling country); a link's ``share`` is the part of the consumer's supply that flows
    from one to the other: :func:`orechain.analytics.network.trace`'s path shares, traced facility by facility
    and summed by controlling country; ``stage_shares`` are the ordinary trace's (hosted and controlled). Each
    facility carrying flow is listed with its capacity's source."""
    def build() -> dict[str, Any]:
        from orechain.analytics.network import trace

        chain = _chain(request, commodity, consumer, year, include)
        try:
            res = trace(chain.net, chain.consumer, demand=demand)
            # the same trace with each facility as its own "host": its paths are facility paths
            fac = chain.net.facilities
            by_facility = replace(chain.net, facilities=fac.assign(host=fac["id"]))
            res_f = trace(by_facility, list(fac.loc[fac["host"].isin(chain.consumer), "id"]), demand=demand)
        except AnalyticsInputError as exc:
            raise ApiError(422, str(exc), details={"problems": exc.problems}) from None
        links = sankey_links(res_f.path_shares, fac, chain.net.stages)
        nodes = pd.concat([links[["source_stage", "source"]].set_axis(["stage", "country"], axis=1),
                           links[["target_stage", "target"]].set_axis(["stage", "country"], axis=1)])
        nodes = nodes.drop_duplicates().reset_index(drop=True)
        rows = _facility_rows(chain, res.facility_shares)
        return {"commodity": commodity, "consumer": chain.consumer, "year": year, "basis": chain.net.basis,
                "stages": list(chain.net.stages), "nodes": records(nodes), "links": records(links),
                "stage_shares": records(res.stage_shares), "bottleneck_stage": res.bottleneck_stage,
                "unsupplied": {str(k): float(v) for k, v in res.unsupplied.items()},
                "missing_capacity": list(chain.net.missing_capacity), "facilities": rows,
                "sources": _sources_of(request, rows)}
    return await detail(request, build)
