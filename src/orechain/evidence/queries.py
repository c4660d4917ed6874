"""Typed read functions: the store in, pandas DataFrames with typed-id columns out.

These are what the analytics, the report, the CLI and the API read through; none of them writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import ColumnElement, and_, select

from orechain.evidence import schema
from orechain.evidence.store import Store

__all__ = [
    "commodities", "deal_milestones", "deal_parties", "deal_phases", "deals",
    "events", "facilities", "facility_owners", "facility_status", "forms", "governance",
    "group_members", "links", "observations", "organisations", "ownership", "production", "sources", "trade_flows",
]


def _frame(store: Store, stmt: object) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql_query(stmt, conn)  # type: ignore[call-overload,no-any-return]


def sources(store: Store) -> pd.DataFrame:
    """All sources with how many observations and facilities cite each."""
    df = _frame(store, select(schema.sources).order_by(schema.sources.c.id))
    obs = _frame(store, select(schema.observations.c.source_id))
    fac = _frame(store, select(schema.facilities.c.source_id))
    df["observations"] = df["id"].map(obs["source_id"].value_counts()).fillna(0).astype(int)
    df["facilities"] = df["id"].map(fac["source_id"].value_counts()).fillna(0).astype(int)
    return df


def observations(store: Store, *, metric: str | Sequence[str] | None = None, commodity: str | None = None,
                 country: str | Sequence[str] | None = None, year: int | Sequence[int] | None = None,
                 stage: str | None = None, source_id: str | None = None) -> pd.DataFrame:
    """Observations joined with their source's publisher, title and date."""
    o, s = schema.observations, schema.sources
    stmt = select(o, s.c.publisher, s.c.title.label("source_title"), s.c.date.label("source_date")).join(
        s, o.c.source_id == s.c.id)
    conds: list[ColumnElement[bool]] = []
    for col, val in ((o.c.metric, metric), (o.c.country, country), (o.c.year, year)):
        if val is None:
            continue
        if isinstance(val, (list, tuple)):
            conds.append(col.in_(list(val)))
        else:
            conds.append(col == val)
    if commodity is not None:
        conds.append(o.c.commodity == commodity)
    if stage is not None:
        conds.append(o.c.stage == stage)
    if source_id is not None:
        conds.append(o.c.source_id == source_id)
    if conds:
        stmt = stmt.where(and_(*conds))
    stmt = stmt.order_by(o.c.metric, o.c.commodity, o.c.year, o.c.country, o.c.source_id)
    return _frame(store, stmt)


def production(store: Store, *, commodity: str | None = None, country: str | Sequence[str] | None = None,
               year: int | Sequence[int] | None = None, metric: str = "mine_production",
               facilities: bool = False) -> pd.DataFrame:
    """Mine production (or ``metric='reserves'``) rows by country and year, every source kept.

    Country-level rows only by default; ``facilities=True`` returns the facility-level rows instead
    (e.g. Mountain Pass's reported output), which must never be added to country totals.
    """
    df = observations(store, metric=metric, commodity=commodity, country=country, year=year)
    df = df[df["facility"].notna()] if facilities else df[df["facility"].isna()]
    cols = ["commodity", "country", "facility", "year", "value", "lower", "upper", "value_text", "unit",
            "estimated", "quality", "source_id", "publisher", "source_date", "note", "id"]
    return df[cols].rename(columns={"id": "observation_id"}).reset_index(drop=True)


def organisations(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.organisations).order_by(schema.organisations.c.id))


def ownership(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.ownership))


def facilities(store: Store, *, stage: str | None = None, status: str | None = None, country: str | None = None,
               commodity: str | None = None, bbox: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """Facilities with their current status; ``bbox`` is (min_lon, min_lat, max_lon, max_lat)."""
    f = schema.facilities
    stmt = select(f)
    conds: list[ColumnElement[bool]] = []
    for col, val in ((f.c.stage, stage), (f.c.status, status), (f.c.country, country), (f.c.commodity, commodity)):
        if val is not None:
            conds.append(col == val)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        conds += [f.c.lon >= min_lon, f.c.lon <= max_lon, f.c.lat >= min_lat, f.c.lat <= max_lat]
    if conds:
        stmt = stmt.where(and_(*conds))
    return _frame(store, stmt.order_by(f.c.id))


def facility_owners(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.facility_owners))


def facility_status(store: Store, facility: str | None = None) -> pd.DataFrame:
    t = schema.facility_status
    stmt = select(t)
    if facility is not None:
        stmt = stmt.where(t.c.facility == facility)
    return _frame(store, stmt.order_by(t.c.facility, t.c.date))


def links(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.links))


def deals(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.deals).order_by(schema.deals.c.signed))


def deal_phases(store: Store, deal: str | None = None) -> pd.DataFrame:
    t = schema.deal_phases
    stmt = select(t)
    if deal is not None:
        stmt = stmt.where(t.c.deal == deal)
    return _frame(store, stmt.order_by(t.c.deal, t.c.seq))


def deal_parties(store: Store, deal: str | None = None) -> pd.DataFrame:
    """Deal parties with the organisation's name, kind, controlling country and the organisation's source."""
    dp, org = schema.deal_parties, schema.organisations
    stmt = select(dp.c.deal, dp.c.organisation, dp.c.role, org.c.name, org.c.kind, org.c.country,
                  org.c.source_id).join(org, dp.c.organisation == org.c.id)
    if deal is not None:
        stmt = stmt.where(dp.c.deal == deal)
    return _frame(store, stmt.order_by(dp.c.deal, dp.c.organisation))


def deal_milestones(store: Store, deal: str | None = None) -> pd.DataFrame:
    t = schema.deal_milestones
    stmt = select(t)
    if deal is not None:
        stmt = stmt.where(t.c.deal == deal)
    return _frame(store, stmt.order_by(t.c.deal, t.c.seq, t.c.date))


def commodities(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.commodities).order_by(schema.commodities.c.id))


def forms(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.forms).order_by(schema.forms.c.commodity, schema.forms.c.id))


def events(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.events).order_by(schema.events.c.announced))


def group_members(store: Store, group_id: str) -> list[str]:
    t = schema.country_groups
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(t.c.code).where(t.c.group_id == group_id).order_by(t.c.code))]


def governance(store: Store, indicator: str = "PV.EST") -> pd.DataFrame:
    t = schema.governance
    return _frame(store, select(t).where(t.c.indicator == indicator))


def trade_flows(store: Store, *, products: Sequence[str] | None = None,
                years: Sequence[int] | None = None) -> pd.DataFrame:
    """Imported trade flows (BACI): year, exporter, importer, product (HS6), value_kusd, quantity_t."""
    t = schema.trade_flows
    stmt = select(t.c.year, t.c.exporter, t.c.importer, t.c.product, t.c.value_kusd, t.c.quantity_t)
    if products is not None:
        stmt = stmt.where(t.c.product.in_(list(products)))
    if years is not None:
        stmt = stmt.where(t.c.year.in_(list(years)))
    return _frame(store, stmt)
