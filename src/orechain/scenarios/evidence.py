"""The scenario engine's one reader of the evidence base (the I/O edge): the facility table that
``facility:`` references and ``select:`` rules resolve against."""

from __future__ import annotations

import pandas as pd

from orechain.evidence import queries
from orechain.evidence.store import Store

__all__ = ["facility_table"]


def facility_table(store: Store) -> pd.DataFrame:
    """Facilities with their latest status, controlling country (``controlled_by``, as the analytics
    attribute control: largest owner stake, else operator, else host country) and the analytics' shared
    factor to its common basis (``basis_factor`` to ``basis_unit``, from ``analytics/data/chain_basis.csv``),
    so scenarios and the present-day network convert capacities the same way."""
    from orechain.analytics.concentration import controlling_countries
    from orechain.analytics.network import basis_factors

    fac = queries.facilities(store)
    if fac.empty:
        return fac.assign(controlled_by=pd.Series(dtype=str), basis_factor=pd.Series(dtype=float),
                          basis_unit=pd.Series(dtype=str))
    owners, orgs = queries.facility_owners(store), queries.organisations(store)
    if owners.empty:
        # controlling_countries (pandas string dtype) fails on an empty owners table; with no owners its rule
        # reduces to: the operator's country, else the host country
        op_country = fac["operator"].map(dict(zip(orgs["id"], orgs["country"], strict=True)))
        out = fac.assign(controlled_by=op_country.where(op_country.notna(), fac["country"]).astype(object))
    else:
        ctrl = controlling_countries(fac, owners, orgs, queries.ownership(store))
        out = fac.merge(ctrl[["facility", "controller"]].rename(columns={"facility": "id",
                                                                         "controller": "controlled_by"}),
                        on="id", how="left")
    factors = basis_factors()
    table = {(c, s, unit_key(u)): (float(f), f"{b}/yr") for c, s, u, f, b in
             zip(factors["commodity"], factors["stage"], factors["capacity_unit"], factors["factor"], factors["basis"],
                 strict=True)}
    found = [table.get((c, s, unit_key(u))) if isinstance(u, str) else None
             for c, s, u in zip(out["commodity"], out["stage"], out["capacity_unit"], strict=True)]
    out["basis_factor"] = [f[0] if f else float("nan") for f in found]
    out["basis_unit"] = [f[1] if f else None for f in found]
    return out


def unit_key(unit: str) -> str:
    """A capacity unit without its per-year suffix, lower case: 't NdPr oxide/yr' -> 't ndpr oxide'."""
    u = " ".join(unit.split()).lower()
    for suffix in ("/yr", "/y", "/year", " per year", " pa", "/a"):
        u = u.removesuffix(suffix).strip()
    return u
