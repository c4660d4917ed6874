"""The one edge of the analytics that reads the evidence store: typed queries in, the frames that the pure
functions take out. Nothing here computes an indicator."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources

import numpy as np
import pandas as pd

from orechain.analytics.concentration import controlling_countries, feed_routes, feed_shares, normalise_governance
from orechain.analytics.errors import AnalyticsInputError
from orechain.evidence import queries
from orechain.evidence.store import Store

__all__ = ["choose_governance_source", "facility_frame", "governance_frame", "governance_sources", "hs_codes",
           "importer_groups", "oecd_members", "order_governance_sources", "production_frame", "separation_feed",
           "trade_frame"]

PRODUCING = ("commissioning", "operating")


def hs_codes() -> pd.DataFrame:
    """The shipped commodity -> HS6 code map (with sources)."""
    text = (resources.files("orechain.analytics") / "data" / "hs_codes.csv").read_text(encoding="utf-8")
    return pd.DataFrame(list(csv.DictReader(io.StringIO(text))))


def production_frame(store: Store, commodity: str | None = None, *, source_id: str | None = None,
                     with_missing: bool = False) -> pd.DataFrame:
    """Mine production observations as a supply frame: commodity, stage, year, country, value, unit,
    source_id, source_date, quality, value_text. Every source stays its own rows: group by ``source_id`` (or
    pass one) rather than mixing vintages that disagree. Rows without a value (withheld, "W") are left out
    unless ``with_missing``: then they are kept with a NaN value, for the caller to report."""
    df = queries.production(store, commodity=commodity)
    if not with_missing:
        df = df[df["value"].notna()]
    if source_id is not None:
        df = df[df["source_id"] == source_id]
    out = pd.DataFrame({"commodity": df["commodity"], "stage": "mining", "year": df["year"].astype(int),
                        "country": df["country"], "value": df["value"].astype(float), "unit": df["unit"],
                        "source_id": df["source_id"], "source_date": df["source_date"], "quality": df["quality"],
                        "value_text": df["value_text"]})
    return out.reset_index(drop=True)


def separation_feed(store: Store, commodity: str, years: Sequence[int] | None = None,
                    ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Separation estimated from feed (:func:`orechain.analytics.concentration.feed_shares`) for the years asked
    (default: every year the shipped routes cover): (feed shares with ``mine_source_id``, the routes used, the
    unit). Each year's routes are read against the mine production of the source they name, that year only;
    a year whose routes name several sources, a year without routes, or production in several units raises
    :class:`AnalyticsInputError` rather than mixing them."""
    routes = feed_routes(commodity)
    held = sorted(set(routes["year"]))
    if not held:
        raise AnalyticsInputError("feed", [f"no feed routes for {commodity} "
                                           "(analytics/data/separation_feed_routes.csv)"])
    missing = sorted(set(years or ()) - set(held))
    if missing:
        raise AnalyticsInputError("feed", [f"no feed routes for {', '.join(map(str, missing))}; routes are held for "
                                           f"{', '.join(map(str, held))}"])
    routes = routes[routes["year"].isin(list(years) if years else held)].reset_index(drop=True)
    per_year = routes.groupby("year")["mine_source_id"].unique()
    mixed = [f"{y}: {', '.join(sorted(s))}" for y, s in per_year.items() if len(s) > 1]
    if mixed:
        raise AnalyticsInputError("feed", [f"the routes of one year name several production sources ({m})"
                                           for m in mixed])
    mine = production_frame(store, commodity)
    source = mine["year"].map(per_year.map(lambda s: s[0]))
    mine = mine[mine["source_id"] == source]
    units = sorted(set(mine["unit"]))
    if len(units) > 1:
        raise AnalyticsInputError("feed", [f"mine production in several units: {', '.join(units)}"])
    fs = feed_shares(mine[["year", "country", "value"]], routes)
    return fs.assign(mine_source_id=fs["year"].map(per_year.map(lambda s: s[0]))), routes, units[0] if units else ""


def governance_sources(store: Store, indicator: str = "PV.EST") -> pd.DataFrame:
    """The governance vintages in the store, newest first (see :func:`newest_governance_source`): source_id,
    first_year, last_year, countries, rows, import_id (of its latest import)."""
    return _vintages(queries.governance(store, indicator))


def _vintages(g: pd.DataFrame) -> pd.DataFrame:
    cols = ["source_id", "first_year", "last_year", "countries", "rows", "import_id"]
    if not len(g):
        return pd.DataFrame(columns=cols)
    out = g.groupby("source_id").agg(first_year=("year", "min"), last_year=("year", "max"),
                                     countries=("country", "nunique"), rows=("year", "size"),
                                     import_id=("import_id", "max")).reset_index()
    return order_governance_sources(out)[cols]


def order_governance_sources(sources: pd.DataFrame) -> pd.DataFrame:
    """Newest first: the vintage whose data reach the latest year; between vintages that reach the same year,
    the one imported last (highest import id), then the higher source id."""
    return sources.sort_values(["last_year", "import_id", "source_id"], ascending=False,
                               na_position="last").reset_index(drop=True)


def choose_governance_source(sources: pd.DataFrame, source_id: str | None = None) -> str:
    """``source_id`` when the store holds it, else (``None``) the newest vintage of ``sources`` (ordered by
    :func:`order_governance_sources`). Raises when there is none or ``source_id`` is unknown, naming those held."""
    held = list(order_governance_sources(sources)["source_id"]) if len(sources) else []
    if not held:
        raise AnalyticsInputError("governance", ["no governance data: import WGI first (orechain data import wgi "
                                                 "FILE; orechain db init loads the shipped table)"])
    if source_id is None:
        return str(held[0])
    if source_id not in held:
        raise AnalyticsInputError("governance", [f"no governance vintage {source_id!r}; the store holds: "
                                                 + ", ".join(map(str, held))])
    return source_id


def governance_frame(store: Store, source_id: str | None = None, *, indicator: str = "PV.EST") -> pd.DataFrame:
    """WGI Political Stability of one vintage (``source_id``; default the newest, see
    :func:`order_governance_sources`): country, year, estimate, risk (0-1, see :func:`normalise_governance`),
    source_id. Vintages are never mixed. Empty when no WGI file has been imported and none is asked for."""
    g = queries.governance(store, indicator)
    if not len(g) and source_id is None:
        return pd.DataFrame({"country": pd.Series(dtype=object), "year": pd.Series(dtype=int),
                             "estimate": pd.Series(dtype=float), "risk": pd.Series(dtype=float),
                             "source_id": pd.Series(dtype=object)})
    chosen = choose_governance_source(_vintages(g), source_id)
    g = g[g["source_id"] == chosen]
    return pd.DataFrame({"country": g["country"], "year": g["year"].astype(int), "estimate": g["estimate"],
                         "risk": normalise_governance(g["estimate"].to_numpy(dtype=float)),
                         "source_id": g["source_id"]}).reset_index(drop=True)


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
        when = f" in {', '.join(map(str, sorted(set(years))))}" if years is not None else ""
        held = sorted(set(queries.trade_flows(store, products=list(codes["hs6"]))["year"])) if when else []
        raise AnalyticsInputError("trade", [
            f"no trade flows in the store for HS {', '.join(codes['hs6'])}{when}: import BACI first "
            "(orechain data import baci FILE)" + (f"; the store has these codes for {', '.join(map(str, held))}"
                                                 if held else "")])
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
