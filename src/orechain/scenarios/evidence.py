"""The scenario engine's one reader of the evidence base (the I/O edge): the facility table that
``facility:`` references and ``select:`` rules resolve against."""

from __future__ import annotations

import pandas as pd

from orechain.evidence import queries
from orechain.evidence.store import Store

__all__ = ["facility_table"]


def facility_table(store: Store) -> pd.DataFrame:
    """Facilities with their latest status and controlling country (``controlled_by``), as the analytics
    attribute control (largest owner stake, else operator, else host country)."""
    from orechain.analytics.concentration import controlling_countries

    fac = queries.facilities(store)
    if fac.empty:
        return fac.assign(controlled_by=pd.Series(dtype=str))
    ctrl = controlling_countries(fac, queries.facility_owners(store), queries.organisations(store),
                                 queries.ownership(store))
    out = fac.merge(ctrl[["facility", "controller"]].rename(columns={"facility": "id", "controller": "controlled_by"}),
                    on="id", how="left")
    return out
