"""Reads the API needs that :mod:`orechain.evidence.queries` does not offer yet (deal parties and
milestones, commodities and forms). Plain selects on the store, kept here until the queries module has them."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from orechain.evidence import schema
from orechain.evidence.store import Store

__all__ = ["commodities", "deal_milestones", "deal_parties", "forms"]


def _frame(store: Store, stmt: object) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql_query(stmt, conn)  # type: ignore[call-overload,no-any-return]


def deal_parties(store: Store, deal: str | None = None) -> pd.DataFrame:
    """Parties with their organisation's name, kind and controlling country (of one deal, or of all)."""
    t, o = schema.deal_parties, schema.organisations
    stmt = (select(t.c.deal, t.c.organisation, t.c.role, o.c.name, o.c.kind, o.c.country, o.c.source_id)
            .join(o, o.c.id == t.c.organisation).order_by(t.c.deal, t.c.organisation))
    if deal is not None:
        stmt = stmt.where(t.c.deal == deal)
    return _frame(store, stmt)


def deal_milestones(store: Store, deal: str) -> pd.DataFrame:
    t = schema.deal_milestones
    return _frame(store, select(t).where(t.c.deal == deal).order_by(t.c.date, t.c.seq))


def commodities(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.commodities).order_by(schema.commodities.c.id))


def forms(store: Store) -> pd.DataFrame:
    return _frame(store, select(schema.forms).order_by(schema.forms.c.commodity, schema.forms.c.id))
