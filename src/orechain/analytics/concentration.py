"""Concentration of supply: shares, Herfindahl-Hirschman index, top-n share, governance-weighted HHI.

Everything here is a pure function: long frames in, frames out. A *supply frame* has one row per
(group..., country) with a non-negative ``value``; the groups are usually (commodity, stage, year).
``country`` may be the host country or the controlling country (see :func:`controlling_countries`).

Rules, so that nothing is silent:

* ``WLD`` rows (a published world total) are never counted as a country. With ``denominator="auto"`` a
  group's total is its world row when it has one (as USGS publishes shares) and the sum of the country
  rows otherwise; the ``basis`` column says which. ``denominator="sum"`` always sums the countries.
* ``OTH`` rows ("other countries") count in the total but are several countries lumped together: they are
  left out of the sum of squares, so the HHI is a lower bound, and ``other_share`` reports their weight.
* Negative values, and groups whose total is zero, raise :class:`AnalyticsInputError` naming each group.
* When a world row is smaller than the sum of the countries (rounded published totals), shares can add
  to a little more than one; ``share_sum`` reports it.

Controlling country (documented in docs/analytics.md): an organisation is controlled from the country of
the organisation that holds more than half of it, followed up the ownership chain (``ownership`` table);
an organisation with no majority owner is controlled from its own ``country``. A facility is controlled
from the country whose organisations together hold the largest stake in it (``rule="largest"``, the
default) or, with ``rule="majority"``, more than half of it. A facility without recorded owners (or, under
the majority rule, without a majority country) falls back to its operator's country, then to its host
country; ``control_basis`` says which rule decided each facility.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from orechain.analytics.errors import AnalyticsInputError

__all__ = [
    "concentration",
    "controlling_countries",
    "feed_routes",
    "feed_shares",
    "hhi",
    "normalise_governance",
    "organisation_controllers",
    "shares",
]

WORLD = "WLD"
OTHER = "OTH"


def hhi(shares_: np.ndarray | Sequence[float]) -> float:
    """Herfindahl-Hirschman index (0-1) of a vector of shares (or of raw values, which are normalised)."""
    s = np.asarray(shares_, dtype=float)
    if (s < 0).any():
        raise AnalyticsInputError("hhi", ["negative value"])
    total = s.sum()
    if total <= 0:
        raise AnalyticsInputError("hhi", ["total is zero"])
    s = s / total
    return float((s * s).sum())


def normalise_governance(estimate: pd.Series | np.ndarray) -> np.ndarray:
    """WGI Political Stability estimate (about -2.5 to +2.5, higher = more stable) to a 0-1 risk score
    (higher = less stable): clip((2.5 - estimate) / 5, 0, 1), as the GeoPolRisk method does."""
    est = np.asarray(estimate, dtype=float)
    return np.clip((2.5 - est) / 5.0, 0.0, 1.0)


def _check_values(df: pd.DataFrame, by: list[str], value: str, what: str) -> None:
    problems: list[str] = []
    bad = df[df[value] < 0]
    for _, row in bad.head(20).iterrows():
        problems.append(f"negative {value} {row[value]} for " + ", ".join(f"{c}={row[c]}" for c in [*by, "country"]))
    if df[value].isna().any():
        n = int(df[value].isna().sum())
        problems.append(f"{n} row(s) with no {value}; drop them explicitly or fill them before computing shares")
    if problems:
        raise AnalyticsInputError(what, problems)


def shares(df: pd.DataFrame, *, by: Sequence[str] = ("commodity", "stage", "year"), key: str = "country",
           value: str = "value", denominator: Literal["auto", "sum"] = "auto") -> pd.DataFrame:
    """Each country's share of its group's total. Returns the country rows (no ``WLD`` row) with
    ``share``, ``total`` and ``basis`` ("world row" or "sum of countries") added."""
    by = list(by)
    d = df.rename(columns={key: "country"}) if key != "country" else df
    _check_values(d, by, value, "shares")
    is_world = d["country"] == WORLD
    countries = d[~is_world].groupby([*by, "country"], as_index=False, dropna=False)[value].sum()
    sums = countries.groupby(by, dropna=False)[value].sum().rename("sum_countries")
    out = countries.join(sums, on=by)
    if denominator == "auto" and is_world.any():
        world = d[is_world].groupby(by, dropna=False)[value].sum().rename("world_row")
        out = out.join(world, on=by)
        has_world = out["world_row"].notna()
        out["total"] = np.where(has_world, out["world_row"], out["sum_countries"])
        out["basis"] = np.where(has_world, "world row", "sum of countries")
        out = out.drop(columns=["world_row"])
    else:
        out["total"] = out["sum_countries"]
        out["basis"] = "sum of countries"
    zero = out[out["total"] <= 0]
    if len(zero):
        groups = zero[by].drop_duplicates().head(20)
        raise AnalyticsInputError("shares", [
            "total is zero for " + ", ".join(f"{c}={r[c]}" for c in by) for _, r in groups.iterrows()])
    out["share"] = out[value] / out["total"]
    out = out.drop(columns=["sum_countries"])
    if key != "country":
        out = out.rename(columns={"country": key})
    result: pd.DataFrame = out.sort_values([*by, "share"], ascending=[True] * len(by) + [False], kind="stable")
    return result.reset_index(drop=True)


def concentration(df: pd.DataFrame, *, by: Sequence[str] = ("commodity", "stage", "year"), key: str = "country",
                  value: str = "value", top_n: int = 3, governance: pd.DataFrame | None = None,
                  denominator: Literal["auto", "sum"] = "auto") -> pd.DataFrame:
    """Concentration per group: ``hhi`` (0-1), ``hhi_10000`` (0-10,000), ``top_n_share`` and the top
    countries, ``other_share`` (the ``OTH`` rows), and, when ``governance`` is given, the
    governance-weighted HHI ``gw_hhi`` = sum of share^2 x risk.

    ``governance`` has columns ``country``, ``year`` and ``risk`` (0-1, higher = less stable; see
    :func:`normalise_governance`). Countries without a governance value for the group's year are not
    treated as stable: they are left out of ``gw_hhi``, and ``gw_missing_share`` and ``gw_missing`` report
    which ones and how much of the supply they hold (so ``gw_hhi`` is then a lower bound).
    """
    by = list(by)
    s = shares(df, by=by, key=key, value=value, denominator=denominator)
    if key != "country":
        s = s.rename(columns={key: "country"})
    s["is_other"] = s["country"] == OTHER
    s["sq"] = np.where(s["is_other"], 0.0, s["share"] ** 2)
    named = s[~s["is_other"]]
    g = s.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame({
        "total": g["total"].first(),
        "basis": g["basis"].first(),
        "countries": named.groupby(by, dropna=False)["country"].nunique(),
        "hhi": g["sq"].sum(),
        "other_share": s[s["is_other"]].groupby(by, dropna=False)["share"].sum(),
        "share_sum": g["share"].sum(),
    })
    out["other_share"] = out["other_share"].fillna(0.0)
    out["countries"] = out["countries"].fillna(0).astype(int)
    out["hhi_10000"] = out["hhi"] * 10_000
    top = named.groupby(by, dropna=False, sort=False).head(top_n)
    out[f"top{top_n}_share"] = top.groupby(by, dropna=False)["share"].sum()
    out[f"top{top_n}"] = top.groupby(by, dropna=False)["country"].agg(lambda c: " ".join(c))
    out["leader"] = named.groupby(by, dropna=False)["country"].first()
    out["leader_share"] = named.groupby(by, dropna=False)["share"].first()
    if governance is not None:
        if "year" not in by:
            raise AnalyticsInputError("concentration", ["governance weighting needs 'year' among the groups"])
        gov = governance[["country", "year", "risk"]].drop_duplicates(["country", "year"])
        m = named.merge(gov, on=["country", "year"], how="left")
        m["gw"] = m["share"] ** 2 * m["risk"]
        gm = m.groupby(by, dropna=False)
        out["gw_hhi"] = gm["gw"].sum(min_count=0)
        miss = m[m["risk"].isna()]
        gmiss = miss.groupby(by, dropna=False)
        out["gw_missing_share"] = gmiss["share"].sum()
        out["gw_missing"] = gmiss["country"].agg(lambda c: " ".join(sorted(c)))
        out["gw_missing_share"] = out["gw_missing_share"].fillna(0.0)
        out["gw_missing"] = out["gw_missing"].fillna("")
    return out.reset_index()


# --- processing shares from feed ---------------------------------------------------------------------------
def feed_routes(commodity: str | None = None) -> pd.DataFrame:
    """The shipped routes of mine output to the country that processes it (``analytics/data/
    separation_feed_routes.csv``): commodity, year, exporter, processor, quantity (blank: all of the exporter's
    mine production), unit, basis, source_ids, quality, mine_source_id (the mine-production source whose figures
    the route was read against; use that source's production with it). Each row says where it comes from."""
    text = (resources.files("orechain.analytics") / "data" / "separation_feed_routes.csv").read_text(encoding="utf-8")
    df = pd.DataFrame(list(csv.DictReader(io.StringIO(text))))
    df["year"] = df["year"].astype(int)
    df["quantity"] = pd.to_numeric(df["quantity"].replace("", np.nan))
    if commodity is not None:
        df = df[df["commodity"] == commodity]
    return df.reset_index(drop=True)


def feed_shares(mine: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """Each country's share of processing (e.g. separation) estimated from the feed it receives: its own mine
    production (``mine``: year, country, value; one source, no ``WLD`` row) less what it sends abroad, plus what
    it receives along ``routes`` (year, exporter, processor, quantity: a number, or NaN for all of the
    exporter's production). The total is the sum of the countries' mine production (``OTH`` counts as
    processed outside the named countries), so every tonne is processed once. Returns year, country, feed,
    own (its own production processed at home), received, sent, share, and ``routes_used`` (exporters it
    receives from). A route whose exporter has no production that year, or that sends more than it mined,
    raises :class:`AnalyticsInputError` naming it."""
    m = mine[mine["country"] != WORLD]
    _check_values(m, ["year"], "value", "feed shares")
    problems: list[str] = []
    rows = []
    for year in sorted(set(m["year"]) | set(routes["year"])):
        prod = m[m["year"] == year].groupby("country")["value"].sum()
        r = routes[routes["year"] == year]
        sent = pd.Series(0.0, index=prod.index)
        received: dict[str, float] = {}
        sources: dict[str, list[str]] = {}
        for exp, proc, qty in zip(r["exporter"], r["processor"], r["quantity"], strict=True):
            if exp not in prod.index:
                problems.append(f"route {exp} -> {proc} in {year}: no mine production of {exp}")
                continue
            q = float(prod[exp]) if pd.isna(qty) else float(qty)
            sent[exp] += q
            received[proc] = received.get(proc, 0.0) + q
            sources.setdefault(proc, []).append(str(exp))
        over = sent[sent > prod + 1e-9]
        problems += [f"routes from {c} in {year} send {sent[c]:,.0f}, more than its production {prod[c]:,.0f}"
                     for c in over.index]
        total = float(prod.sum())
        for c in sorted(set(prod.index) | set(received)):
            own = float(prod.get(c, 0.0) - sent.get(c, 0.0))
            rec = received.get(c, 0.0)
            rows.append((int(year), c, own + rec, own, rec, float(sent.get(c, 0.0)),
                         (own + rec) / total if total > 0 else np.nan, " ".join(sources.get(c, []))))
    if problems:
        raise AnalyticsInputError("feed shares", problems)
    out = pd.DataFrame(rows, columns=["year", "country", "feed", "own", "received", "sent", "share", "routes_used"])
    return out.sort_values(["year", "share"], ascending=[True, False], kind="stable").reset_index(drop=True)


# --- controlling country -------------------------------------------------------------------------------
def organisation_controllers(organisations: pd.DataFrame, ownership: pd.DataFrame) -> pd.DataFrame:
    """For each organisation, the organisation at the top of its chain of majority (> 50%) owners and that
    top organisation's country. Cycles stop where they close. Columns: ``id``, ``controller``,
    ``control_country``, ``chain`` (ids from the organisation up)."""
    country = dict(zip(organisations["id"], organisations["country"], strict=True))
    parent: dict[str, str] = {}
    if len(ownership):
        own = ownership.copy()
        own["stake"] = own["stake"].astype(float)
        bad = own[(own["stake"] < 0) | (own["stake"] > 1)]
        if len(bad):
            raise AnalyticsInputError("ownership", [f"stake {r.stake} of {r.owner} in {r.owned} is outside 0-1"
                                                    for r in bad.itertuples()])
        total = own.groupby(["owned", "owner"])["stake"].sum().reset_index()
        top = total.sort_values(["owned", "stake", "owner"], ascending=[True, False, True]).drop_duplicates("owned")
        for owned, owner, stake in zip(top["owned"], top["owner"], top["stake"].astype(float), strict=True):
            if stake > 0.5:
                parent[str(owned)] = str(owner)
    rows = []
    for org in organisations["id"]:
        chain = [str(org)]
        while chain[-1] in parent and parent[chain[-1]] not in chain:
            chain.append(parent[chain[-1]])
        top_org = chain[-1]
        rows.append((org, top_org, country.get(top_org, country[org]), " > ".join(chain)))
    return pd.DataFrame(rows, columns=["id", "controller", "control_country", "chain"])


def controlling_countries(facilities: pd.DataFrame, facility_owners: pd.DataFrame, organisations: pd.DataFrame,
                          ownership: pd.DataFrame | None = None, *,
                          rule: Literal["largest", "majority"] = "largest") -> pd.DataFrame:
    """The controlling country of each facility (see the module docstring for the rule).

    Returns ``facility``, ``host``, ``controller`` (country), ``control_stake`` (the stake held from
    that country, NaN when no owners are recorded) and ``control_basis``.
    """
    orgs = organisation_controllers(organisations, ownership if ownership is not None else
                                    pd.DataFrame(columns=["owner", "owned", "stake"]))
    org_country = dict(zip(orgs["id"], orgs["control_country"], strict=True))
    fo = facility_owners.copy()
    unknown = sorted(set(fo["organisation"]) - set(org_country))
    if unknown:
        raise AnalyticsInputError("facility owners", [f"organisation {o!r} is not in the organisations table"
                                                      for o in unknown])
    fo["country"] = fo["organisation"].map(org_country)
    by_country = fo.groupby(["facility", "country"])["stake"].sum().reset_index()
    by_country = by_country.sort_values(["facility", "stake", "country"], ascending=[True, False, True])
    best = by_country.drop_duplicates("facility").set_index("facility")
    ties = by_country.groupby("facility")["stake"].apply(lambda s: len(s) > 1 and np.isclose(s.iloc[0], s.iloc[1]))
    out = facilities[["id", "country", "operator"]].rename(columns={"id": "facility", "country": "host"}).copy()
    out["controller"] = out["facility"].map(best["country"]).astype(object)  # object even when no owner is known
    out["control_stake"] = out["facility"].map(best["stake"])
    out["control_basis"] = np.where(out["controller"].notna(), "largest owner stake", "")
    if rule == "majority":
        no_majority = out["control_stake"].notna() & (out["control_stake"] <= 0.5)
        out.loc[no_majority, "controller"] = np.nan
        out.loc[no_majority, "control_basis"] = ""
        out.loc[out["controller"].notna(), "control_basis"] = "majority owner stake"
    elif len(ties):
        tied = out["facility"].map(ties).eq(True)  # NaN (no tie recorded) is False, whatever the dtype
        out.loc[tied & out["controller"].notna(), "control_basis"] = "largest owner stake (tie, first code)"
    op = out["operator"].map(org_country)
    use_op = out["controller"].isna() & op.notna()
    out.loc[use_op, "controller"] = op[use_op]
    out.loc[use_op, "control_basis"] = "operator"
    use_host = out["controller"].isna()
    out.loc[use_host, "controller"] = out.loc[use_host, "host"]
    out.loc[use_host, "control_basis"] = "host country (no owner or operator recorded)"
    return out.drop(columns=["operator"])
