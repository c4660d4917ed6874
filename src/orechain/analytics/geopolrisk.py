"""GeoPolRisk (Koyamparambath et al.; as implemented by geopolrisk-py 2.0.1), vectorised.

For an importing economy *e* (a country or a group such as EU-27), a material *m* and a year *y*::

    HHI(m, y)        = sum_c p_c^2 / (sum_c p_c)^2            mine production p of every producer c
    WTA(e, m, y)     = sum_{r in e} sum_x q_{x->r} * g_{x,y}   imports q into each member r from each
                       ----------------------------------      exporter x, weighted by the exporter's
                       sum_{r in e} sum_x q_{x->r} + P_e       political-stability risk g (0-1); g = 0 for
                                                               exporters inside e; P_e = e's own production
    score            = HHI * WTA
    price            = sum of import values / sum of import quantities          (kUSD / t = USD / kg)
    CF               = score * price / CF_ref                  (characterisation factor, kg Cu-eq / kg)

``g`` is the World Bank WGI Political Stability estimate normalised as clip((2.5 - est) / 5, 0, 1).
All (importer, material, year) combinations are computed at once with joins and group sums.

Two modes:

``mode="compat"`` reproduces geopolrisk-py 2.0.1 on the same inputs, quirks included: production is
truncated to whole tonnes before the HHI; a partner without a governance row counts 0.5 and whatever the
governance table holds is used as is (the peer's table stores missing estimates as 0.0, "perfectly
stable"); a missing trade quantity counts 0 t while its value still counts in the price; a zero
denominator gives WTA = 0; the copper reference is the constant 0.409412948. Where the peer would stop at
the first failing combination and return the shorter list, orechain raises an error naming every failing
combination instead (the one deliberate difference).

``mode="default"`` fixes the defects: no truncation; a partner without a governance value is flagged
(``missing_wgi_share``, ``missing_wgi_partners``) and given the stated ``missing_wgi`` value (0.5,
mid-scale; pass ``missing_wgi=None`` to refuse such input) rather than taken as stable; trade rows
without a quantity are left out of quantity and price alike and counted in ``rows_missing_qty``; an
importer with neither imports nor production gets NaN with a ``note``; the copper reference is computed
from the same inputs (:func:`copper_reference`). See docs/validation.md for each difference and its
effect on the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from orechain.analytics.errors import AnalyticsInputError

__all__ = [
    "PEER_CF_COPPER",
    "CopperReference",
    "copper_reference",
    "geopolrisk",
    "import_risk_terms",
    "production_hhi",
]

PEER_CF_COPPER = 0.409412948
"""geopolrisk-py 2.0.1's fixed copper reference ("average CF of copper for OECD countries, 2017-2021")."""

Mode = Literal["default", "compat"]
_AGGREGATES = ("WLD", "OTH")


def _membership(importers: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    rows = [(name, str(m)) for name, members in importers.items() for m in dict.fromkeys(members)]
    if not rows:
        raise AnalyticsInputError("geopolrisk", ["no importers given"])
    empty = [name for name, members in importers.items() if not len(members)]
    if empty:
        raise AnalyticsInputError("geopolrisk", [f"importer group {n!r} has no members" for n in empty])
    return pd.DataFrame(rows, columns=["entity", "member"])


def production_hhi(production: pd.DataFrame, *, mode: Mode = "default") -> pd.DataFrame:
    """HHI of mine production per (material, year): columns material, year, hhi, producers, total.

    ``production`` has columns material, country, year, value (tonnes). ``WLD`` rows are ignored; ``OTH``
    rows (lumped "other countries") count in the total but not in the sum of squares. In compat mode the
    values are truncated to whole tonnes first, as the peer does.
    """
    p = production[~production["country"].isin(["WLD"])]
    v = p["value"].to_numpy(dtype=float)
    v = np.nan_to_num(v, nan=0.0)
    if mode == "compat":
        v = np.trunc(v)
    is_other = (p["country"] == "OTH").to_numpy()
    frame = pd.DataFrame({"material": p["material"].to_numpy(), "year": p["year"].to_numpy(), "v": v,
                          "sq": np.where(is_other, 0.0, v * v), "named": (~is_other) & (v > 0)})
    g = frame.groupby(["material", "year"], sort=True)
    out = pd.DataFrame({"total": g["v"].sum(), "sumsq": g["sq"].sum(), "producers": g["named"].sum()})
    out["hhi"] = out["sumsq"] / (out["total"] * out["total"])
    return out.drop(columns=["sumsq"]).reset_index()


def _validate(production: pd.DataFrame, trade: pd.DataFrame, materials: Sequence[str], years: Sequence[int],
              mode: Mode) -> None:
    problems: list[str] = []
    neg = production[production["value"] < 0]
    for r in neg.head(10).itertuples():
        problems.append(f"negative production {r.value} for {r.material}, {r.country}, {r.year}")
    neg_t = trade[(trade["qty"] < 0) | (trade["value"] < 0)]
    for r in neg_t.head(10).itertuples():
        problems.append(f"negative trade quantity or value for {r.material} {r.exporter}->{r.importer} {r.year}")
    known = set(production["material"].unique())
    for m in materials:
        if m not in known:
            problems.append(f"unknown material {m!r} (production data has: {', '.join(sorted(map(str, known)))})")
    p = production[~production["country"].isin(_AGGREGATES)]
    tot = p.assign(v=p["value"].fillna(0)).groupby(["material", "year"])["v"].sum()
    trade_years = set(zip(trade["material"], trade["year"], strict=True)) if len(trade) else set()
    for m in materials:
        if m not in known:
            continue
        have = set(tot.loc[m].index) if m in tot.index.get_level_values(0) else set()
        for y in years:
            if y not in have:
                span = f"{min(have)}-{max(have)}" if have else "none"
                problems.append(f"year {y} is outside the production data for {m!r} (years: {span})")
            elif tot.loc[(m, y)] <= 0:
                problems.append(f"world production of {m!r} in {y} is zero: the HHI is undefined")
            elif mode == "default" and (m, y) not in trade_years:
                problems.append(f"no trade rows at all for {m!r} in {y}: import the trade data (e.g. BACI) first")
    if problems:
        raise AnalyticsInputError("geopolrisk", problems)


def import_risk_terms(trade: pd.DataFrame, governance: pd.DataFrame, membership: pd.DataFrame, *,
                      mode: Mode = "default", missing_wgi: float | None = 0.5) -> pd.DataFrame:
    """Sum over each importer group's members and their partners: numerator (q x g), imports (q),
    value, and in default mode the share of imports whose partner has no governance value.

    ``trade``: material, year, importer, exporter, qty (t), value (kUSD). ``governance``: country, year,
    risk (0-1, NaN = missing). ``membership``: entity, member.
    """
    t = trade.merge(membership, left_on="importer", right_on="member", how="inner")
    intra = membership.rename(columns={"member": "exporter"}).assign(intra=True)
    t = t.merge(intra, on=["entity", "exporter"], how="left")
    t["intra"] = t["intra"].fillna(False).astype(bool)
    gov = governance[["country", "year", "risk"]].drop_duplicates(["country", "year"])
    gov = gov.rename(columns={"country": "exporter"})
    t = t.merge(gov, on=["exporter", "year"], how="left")
    qty = t["qty"].to_numpy(dtype=float)
    val = t["value"].to_numpy(dtype=float)
    risk = t["risk"].to_numpy(dtype=float)
    no_gov = np.isnan(risk) & ~t["intra"].to_numpy()
    no_qty = np.isnan(qty)
    if mode == "compat":
        qty = np.nan_to_num(qty, nan=0.0)
        val = np.nan_to_num(val, nan=0.0)
        risk = np.where(np.isnan(risk), 0.5, risk)
    else:
        if missing_wgi is None and no_gov.any():
            missing = t.loc[no_gov, ["exporter", "year"]].drop_duplicates().head(20)
            raise AnalyticsInputError("geopolrisk", [f"no governance value for exporter {r.exporter} in {r.year}"
                                                     for r in missing.itertuples()])
        risk = np.where(np.isnan(risk), np.nan if missing_wgi is None else missing_wgi, risk)
        usable = ~no_qty & ~np.isnan(val)
        qty = np.where(usable, qty, 0.0)
        val = np.where(usable, val, 0.0)
    risk = np.where(t["intra"].to_numpy(), 0.0, risk)
    frame = pd.DataFrame({
        "entity": t["entity"].to_numpy(), "material": t["material"].to_numpy(), "year": t["year"].to_numpy(),
        "num": qty * risk, "qty": qty, "val": val, "miss_qty": np.where(no_gov, qty, 0.0),
        "no_qty": no_qty.astype(int),
    })
    keys = ["entity", "material", "year"]
    out = frame.groupby(keys, sort=False)[["num", "qty", "val", "miss_qty", "no_qty"]].sum()
    if mode == "default":
        miss = t.loc[no_gov & (qty > 0), ["entity", "material", "year", "exporter"]].drop_duplicates()
        out["missing_wgi_partners"] = miss.groupby(keys)["exporter"].agg(lambda c: " ".join(sorted(map(str, c))))
    return out.reset_index()


@dataclass(frozen=True)
class CopperReference:
    """The copper characterisation reference: mean of score x price for copper over ``importers`` x
    ``years``, with how many combinations it averages."""

    value: float
    importers: tuple[str, ...]
    years: tuple[int, ...]
    combinations: int
    material: str


def _core(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame,
          importers: Mapping[str, Sequence[str]], materials: Sequence[str], years: Sequence[int], mode: Mode,
          missing_wgi: float | None) -> pd.DataFrame:
    membership = _membership(importers)
    mats, yrs = list(dict.fromkeys(materials)), [int(y) for y in dict.fromkeys(years)]
    prod = production[production["material"].isin(mats) & production["year"].isin(yrs)]
    tr = trade[trade["material"].isin(mats) & trade["year"].isin(yrs)]
    _validate(prod if len(prod) else production, tr, mats, yrs, mode)
    hhi = production_hhi(prod, mode=mode).set_index(["material", "year"])
    terms = import_risk_terms(tr, governance, membership, mode=mode, missing_wgi=missing_wgi)
    # the importer's own production (WLD/OTH never belong to an importer)
    own = prod[~prod["country"].isin(_AGGREGATES)].merge(membership, left_on="country", right_on="member")
    if mode == "compat":
        own = own.drop_duplicates(["entity", "member", "material", "year"])  # the peer takes the first row
    own_sum = own.assign(v=own["value"].fillna(0.0)).groupby(["entity", "material", "year"])["v"].sum()
    idx = pd.MultiIndex.from_product([list(importers), mats, yrs], names=["entity", "material", "year"])
    out = terms.set_index(["entity", "material", "year"]).reindex(idx)
    for c in ("num", "qty", "val", "miss_qty", "no_qty"):
        out[c] = out[c].fillna(0.0)
    out["production_t"] = own_sum.reindex(idx).fillna(0.0).to_numpy()
    out = out.reset_index()
    hm = hhi.reindex(pd.MultiIndex.from_arrays([out["material"], out["year"]]))
    out["hhi"] = hm["hhi"].to_numpy()
    denom = out["qty"].to_numpy() + out["production_t"].to_numpy()
    num = out["num"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        wta = np.where(denom > 0, num / np.where(denom > 0, denom, 1.0), 0.0 if mode == "compat" else np.nan)
        price = np.where(out["qty"] > 0, out["val"] / out["qty"].where(out["qty"] > 0, 1.0),
                         0.0 if mode == "compat" else np.nan)
    out["import_risk"] = wta
    out["price"] = price
    out["score"] = out["hhi"] * out["import_risk"]
    return out


def geopolrisk(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame,
               importers: Mapping[str, Sequence[str]], materials: Sequence[str], years: Iterable[int], *,
               mode: Mode = "default", missing_wgi: float | None = 0.5,
               cf_reference: float | CopperReference | None = None,
               reference_importers: Mapping[str, Sequence[str]] | None = None,
               reference_years: Sequence[int] = (2017, 2018, 2019, 2020, 2021),
               reference_material: str = "copper") -> pd.DataFrame:
    """GeoPolRisk score, import risk, HHI, price and characterisation factor for every
    (importer, material, year) combination.

    ``production``: material, country, year, value (t). ``trade``: material, year, importer, exporter,
    qty (t), value (kUSD). ``governance``: country, year, risk (0-1, NaN where missing). Country keys only
    need to agree between the frames (ISO3 codes in orechain; BACI numeric codes for the peer's data).
    ``importers`` maps a name to its member countries (a single country is a group of one).

    ``cf_reference``: compat mode uses the peer's constant unless given. Default mode computes it with
    :func:`copper_reference` over ``reference_importers`` (OECD members) x ``reference_years`` from the same
    inputs unless given; a float or :class:`CopperReference` is used as given. The ``cf_reference``
    column reports the value used.

    Raises :class:`AnalyticsInputError` listing every unknown material, year outside the data, negative
    value, zero world production, and (default mode) material-year without any trade row.
    """
    years = [int(y) for y in years]
    out = _core(production, trade, governance, importers, materials, years, mode, missing_wgi)
    if cf_reference is None:
        if mode == "compat":
            ref = PEER_CF_COPPER
        else:
            if reference_importers is None:
                raise AnalyticsInputError("geopolrisk", [
                    "default mode computes the copper reference: pass reference_importers (e.g. OECD members) "
                    "or an explicit cf_reference"])
            ref = copper_reference(production, trade, governance, reference_importers, reference_years,
                                   material=reference_material, missing_wgi=missing_wgi).value
    elif isinstance(cf_reference, CopperReference):
        ref = cf_reference.value
    else:
        ref = float(cf_reference)
    out["cf"] = out["score"] * out["price"] / ref
    out["cf_reference"] = ref
    out = out.rename(columns={"entity": "importer", "qty": "imports_t", "val": "imports_kusd", "num": "numerator"})
    cols = ["importer", "material", "year", "score", "cf", "hhi", "import_risk", "price", "imports_t",
            "imports_kusd", "production_t", "numerator", "cf_reference"]
    if mode == "default":
        with np.errstate(divide="ignore", invalid="ignore"):
            out["missing_wgi_share"] = np.where(out["imports_t"] > 0, out["miss_qty"] / out["imports_t"], 0.0)
        out["missing_wgi_partners"] = out["missing_wgi_partners"].fillna("") if "missing_wgi_partners" in out \
            else ""
        out["rows_missing_qty"] = out["no_qty"].astype(int)
        out["note"] = np.where(out["import_risk"].isna(), "no imports and no production: import risk undefined", "")
        cols += ["missing_wgi_share", "missing_wgi_partners", "rows_missing_qty", "note"]
    out["mode"] = mode
    return out[[*cols, "mode"]]


def copper_reference(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame,
                     importers: Mapping[str, Sequence[str]], years: Sequence[int], *, material: str = "copper",
                     missing_wgi: float | None = 0.5) -> CopperReference:
    """The copper reference computed, not assumed: the mean of score x price (the un-normalised CF) for
    ``material`` over every importer in ``importers`` (each country on its own) and every year in
    ``years``. Combinations whose import risk is undefined are left out and the count reports it."""
    singles = {str(m): [str(m)] for members in importers.values() for m in members}
    core = _core(production, trade, governance, singles, [material], list(years), "default", missing_wgi)
    raw = (core["score"] * core["price"]).to_numpy(dtype=float)
    ok = ~np.isnan(raw)
    if not ok.any():
        raise AnalyticsInputError("copper reference", ["no importer-year with a defined copper score and price"])
    return CopperReference(float(raw[ok].mean()), tuple(singles), tuple(int(y) for y in years), int(ok.sum()),
                           material)
