"""The one edge of the analytics that reads the evidence store: typed queries in, the frames that the pure
functions take out. Nothing here computes an indicator."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

from orechain.analytics.concentration import controlling_countries, normalise_governance
from orechain.analytics.errors import AnalyticsInputError
from orechain.evidence import queries
from orechain.evidence.store import Store

__all__ = ["facility_frame", "governance_frame", "hs_codes", "importer_groups", "oecd_members", "production_frame",
           "trade_frame"]

PRODUCING = ("commissioning", "operating")


def hs_codes() -> pd.DataFrame:
    """The shipped commodity -> HS6 code map (with sources)."""
    text = (resources.files("orechain.analytics") / "data" / "hs_codes.csv").read_text(encoding="utf-8")
    return pd.DataFrame(list(csv.DictReader(io.StringIO(text))))


def production_frame(store: Store, commodity: str | None = None, *, source_id: str | None = None) -> pd.DataFrame:
    """Mine production observations as a supply frame: commodity, stage, year, country, value, unit,
    source_id, quality. Every source stays its own rows: group by ``source_id`` (or pass one) rather than
    mixing vintages that disagree."""
    df = queries.production(store, commodity=commodity)
    df = df[df["value"].notna()]
    if source_id is not None:
        df = df[df["source_id"] == source_id]
    out = pd.DataFrame({"commodity": df["commodity"], "stage": "mining", "year": df["year"].astype(int),
                        "country": df["country"], "value": df["value"].astype(float), "unit": df["unit"],
                        "source_id": df["source_id"], "quality": df["quality"]})
    return out.reset_index(drop=True)


def governance_frame(store: Store) -> pd.DataFrame:
    """WGI Political Stability from the store: country, year, estimate, risk (0-1, see
    :func:`normalise_governance`). Empty when no WGI file has been imported."""
    g = queries.governance(store)
    return pd.DataFrame({"country": g["country"], "year": g["year"].astype(int), "estimate": g["estimate"],
                         "risk": normalise_governance(g["estimate"].to_numpy(dtype=float))})


def trade_frame(store: Store, materials: Sequence[str], years: Sequence[int] | None = None) -> pd.DataFrame:
    """Imported BACI trade summed to material level: material, year, importer, exporter, qty (t),
    value (kUSD). Raises when no trade has been imported for the materials asked."""
    codes = hs_codes()
    codes = codes[codes["commodity"].isin(materials)]
    unknown = sorted(set(materials) - set(codes["commodity"]))
    if unknown:
        raise AnalyticsInputError("trade", [f"no HS codes for material {m!r} (analytics/data/hs_codes.csv)"
                                            for m in unknown])
    t = queries.trade_flows(store, products=list(codes["hs6"]), years=years)
    if not len(t):
        raise AnalyticsInputError("trade", [
            f"no trade flows in the store for HS {', '.join(codes['hs6'])}: import BACI first "
            "(orechain data import baci FILE)"])
    t = t.merge(codes[["commodity", "hs6"]], left_on="product", right_on="hs6")
    out = pd.DataFrame({"material": t["commodity"], "year": t["year"].astype(int), "importer": t["importer"],
                        "exporter": t["exporter"], "qty": t["quantity_t"].astype(float),
                        "value": t["value_kusd"].astype(float)})
    return out.reset_index(drop=True)


def oecd_members() -> list[str]:
    """The 38 OECD member countries (ISO3), the reference set of the computed copper reference."""
    text = (resources.files("orechain.analytics") / "data" / "oecd_members.csv").read_text(encoding="utf-8")
    return [r["code"] for r in csv.DictReader(io.StringIO(text))]


def importer_groups(store: Store, names: Sequence[str]) -> dict[str, list[str]]:
    """Importer name -> member codes: a country group id from the store (e.g. EU27), ``OECD`` (shipped with
    the analytics), or a country."""
    from orechain.evidence.names import UnknownName, resolve_country

    out: dict[str, list[str]] = {}
    problems: list[str] = []
    for n in names:
        members = queries.group_members(store, n) or (oecd_members() if n == "OECD" else [])
        if members:
            out[n] = members
            continue
        try:
            code = resolve_country(n)
        except UnknownName as exc:
            problems.append(str(exc))
            continue
        out[str(code)] = [str(code)]
    if problems:
        raise AnalyticsInputError("importers", problems)
    return out


def facility_frame(store: Store, commodity: str, *, statuses: Sequence[str] = PRODUCING,
                   extra: Sequence[str] = ()) -> pd.DataFrame:
    """Facilities of a commodity with the given statuses (plus the ids in ``extra`` whatever their status),
    with their controlling country (:func:`controlling_countries`, largest-stake rule)."""
    f = queries.facilities(store, commodity=commodity)
    keep = f["status"].isin(statuses) | f["id"].isin(extra)
    f = f[keep].reset_index(drop=True)
    control = controlling_countries(f, queries.facility_owners(store), queries.organisations(store),
                                    queries.ownership(store))
    f["controller"] = f["id"].map(dict(zip(control["facility"], control["controller"], strict=True)))
    f["control_basis"] = f["id"].map(dict(zip(control["facility"], control["control_basis"], strict=True)))
    f["capacity"] = pd.to_numeric(f["capacity"], errors="coerce").astype(float)
    f["capacity_from"] = np.where(f["capacity"].notna(), "facility table", "")
    # fall back on a sourced facility observation: capacity first, else output (a lower bound of capacity)
    o = queries.observations(store, metric=["capacity", "production", "mine_production"], commodity=commodity)
    o = o[o["facility"].notna() & o["value"].notna()].copy()
    o["rank"] = o["metric"].map({"capacity": 0, "production": 1, "mine_production": 1})
    o = o.sort_values(["facility", "rank", "year", "value"], ascending=[True, True, False, False], na_position="last")
    best = o.drop_duplicates("facility").set_index("facility")
    fill = f["capacity"].isna() & f["id"].isin(best.index)
    ids = f.loc[fill, "id"]
    f.loc[fill, "capacity"] = ids.map(best["value"]).astype(float).to_numpy()
    f.loc[fill, "capacity_unit"] = ids.map(best["unit"]).to_numpy()
    label = "observation " + best["metric"].astype(str) + " " + best["source_id"].astype(str) + " (" + \
        best["quality"].astype(str) + ")"
    f.loc[fill, "capacity_from"] = ids.map(label).to_numpy()
    return f
