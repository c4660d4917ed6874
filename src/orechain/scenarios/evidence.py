"""The scenario engine's one reader of the evidence base (the I/O edge): the facility table that ``base:``,
``facility:`` references and the present-day check resolve against, with the known links attached."""

from __future__ import annotations

import pandas as pd

from orechain.evidence import queries
from orechain.evidence.store import Store

__all__ = ["facility_table", "links_of", "unit_key"]


def facility_table(store: Store) -> pd.DataFrame:
    """Every facility of every commodity and status, as the analytics read it
    (:func:`orechain.analytics.inputs.facility_frame`: controlling country ``controller`` by the largest-stake
    rule, capacity filled from a sourced facility observation where the facility table has none, and
    ``capacity_from`` saying which), plus ``controlled_by`` (= ``controller``) and the analytics' shared factor
    to the common basis (``basis_factor`` to ``basis_unit``, from ``analytics/data/chain_basis.csv``).

    The evidence base's known links travel with the frame in ``attrs["links"]`` as a tuple of (upstream,
    downstream, share) tuples (read them back as a frame with :func:`links_of`), so a scenario builds the same
    network as ``orechain trace``."""
    from orechain.analytics.inputs import facility_frame
    from orechain.analytics.network import basis_factors

    raw = queries.facilities(store)
    lk = queries.links(store)
    shares = pd.to_numeric(lk["share"], errors="coerce") if len(lk) else pd.Series(dtype=float)
    links = tuple((str(a), str(b), None if pd.isna(sh) else float(sh))
                  for a, b, sh in zip(lk["upstream"], lk["downstream"], shares, strict=True))
    if raw.empty:
        out = raw.assign(controller=pd.Series(dtype=str), controlled_by=pd.Series(dtype=str),
                         basis_factor=pd.Series(dtype=float), basis_unit=pd.Series(dtype=str),
                         capacity_from=pd.Series(dtype=str))
        out.attrs["links"] = links
        return out
    parts = [facility_frame(store, str(c), extra=tuple(raw.loc[raw["commodity"] == c, "id"]))
             for c in sorted(raw["commodity"].dropna().unique())]
    out = pd.concat(parts, ignore_index=True)
    rest = raw[~raw["id"].isin(set(out["id"]))]  # facilities without a commodity
    if len(rest):
        out = pd.concat([out, rest.assign(controller=rest["country"])], ignore_index=True)
    out["controlled_by"] = out["controller"].where(out["controller"].notna(), out["country"]).astype(object)
    factors = basis_factors()
    table = {(c, s, unit_key(u)): (float(f), f"{b}/yr") for c, s, u, f, b in
             zip(factors["commodity"], factors["stage"], factors["capacity_unit"], factors["factor"], factors["basis"],
                 strict=True)}
    found = [table.get((c, s, unit_key(u))) if isinstance(u, str) else None
             for c, s, u in zip(out["commodity"], out["stage"], out["capacity_unit"], strict=True)]
    out["basis_factor"] = [f[0] if f else float("nan") for f in found]
    out["basis_unit"] = [f[1] if f else None for f in found]
    out.attrs["links"] = links
    return out


def links_of(facilities: pd.DataFrame | None) -> pd.DataFrame:
    """The known links that :func:`facility_table` attached (an empty frame when there are none)."""
    links = facilities.attrs.get("links") if facilities is not None else None
    df = pd.DataFrame(list(links or ()), columns=["upstream", "downstream", "share"])
    df["share"] = pd.to_numeric(df["share"], errors="coerce").astype(float)
    return df


def unit_key(unit: str) -> str:
    """A capacity unit without its per-year suffix, lower case: 't NdPr oxide/yr' -> 't ndpr oxide'."""
    u = " ".join(unit.split()).lower()
    for suffix in ("/yr", "/y", "/year", " per year", " pa", "/a"):
        u = u.removesuffix(suffix).strip()
    return u
