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

The arithmetic is :mod:`orechain.analytics.geopolrisk_kernel` (numpy only, typed arrays in and out); the
functions here take and return DataFrames and convert at the edge. Importing this module loads numpy
only: pandas is imported when a DataFrame function is first called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.geopolrisk_kernel import (
    PEER_CF_COPPER,
    CopperReference,
    GprsInputs,
    GprsResult,
    IntArray,
    Mode,
    compute,
    copper_reference_value,
    production_hhi_arrays,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PEER_CF_COPPER",
    "CopperReference",
    "copper_reference",
    "geopolrisk",
    "inputs_from_frames",
    "production_hhi",
    "result_frame",
]

_AGGREGATES = ("WLD", "OTH")


class _Codes:
    """String labels -> dense integer codes, shared by every column that names a country (or material)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def encode(self, values: object, what: str) -> IntArray:
        import pandas as pd

        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        if len(codes) and codes.min() < 0:
            row = int(np.flatnonzero(codes < 0)[0])
            raise AnalyticsInputError("geopolrisk", [f"{what} is missing in row {row}"])
        lut = np.array([self.index.setdefault(str(u), len(self.index)) for u in uniques], dtype=np.int64)
        return lut[codes] if len(codes) else np.zeros(0, dtype=np.int64)

    def labels(self) -> tuple[str, ...]:
        return tuple(self.index)


def inputs_from_frames(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame,
                       extra_countries: Iterable[str] = ()) -> tuple[GprsInputs, dict[str, int]]:
    """The frames as kernel arrays, and the country label -> index map (``extra_countries``, such as importer
    group members without any row, are given an index too). ``WLD`` and ``OTH`` are the aggregate rows."""
    countries, mats = _Codes(), _Codes()
    for name in _AGGREGATES:
        countries.index[name] = len(countries.index)
    arrays = dict(
        prod_material=mats.encode(production["material"], "production.material"),
        prod_country=countries.encode(production["country"], "production.country"),
        prod_year=production["year"].to_numpy(dtype=np.int64),
        prod_value=production["value"].to_numpy(dtype=np.float64),
        trade_material=mats.encode(trade["material"], "trade.material"),
        trade_year=trade["year"].to_numpy(dtype=np.int64),
        trade_importer=countries.encode(trade["importer"], "trade.importer"),
        trade_exporter=countries.encode(trade["exporter"], "trade.exporter"),
        trade_qty=trade["qty"].to_numpy(dtype=np.float64),
        trade_value=trade["value"].to_numpy(dtype=np.float64),
        gov_country=countries.encode(governance["country"], "governance.country"),
        gov_year=governance["year"].to_numpy(dtype=np.int64),
        gov_risk=governance["risk"].to_numpy(dtype=np.float64),
    )
    for c in extra_countries:
        countries.index.setdefault(str(c), len(countries.index))
    inp = GprsInputs(countries.labels(), mats.labels(), world=0, other=1, **arrays)
    return inp, countries.index


def _groups(importers: Mapping[str, Sequence[str]], index: Mapping[str, int]) -> dict[str, IntArray]:
    return {name: np.array([index[str(m)] for m in dict.fromkeys(members)], dtype=np.int64)
            for name, members in importers.items()}


def result_frame(r: GprsResult, cf_reference: float) -> pd.DataFrame:
    """A kernel result as the DataFrame :func:`geopolrisk` returns."""
    import pandas as pd

    e, m, y = r.keys()
    out = pd.DataFrame({
        "importer": np.asarray(r.importers, dtype=object)[e], "material": np.asarray(r.materials, dtype=object)[m],
        "year": y, "score": r.score, "cf": r.cf(cf_reference), "hhi": r.hhi, "import_risk": r.import_risk,
        "price": r.price, "imports_t": r.imports_t, "imports_kusd": r.imports_kusd, "production_t": r.production_t,
        "numerator": r.numerator, "cf_reference": cf_reference,
    })
    if r.mode == "default":
        out["missing_wgi_share"] = r.missing_wgi_share()
        out["missing_wgi_partners"] = list(r.missing_wgi_partners)
        out["rows_missing_qty"] = r.rows_missing_qty
        out["note"] = list(r.notes())
    out["mode"] = r.mode
    return out


def production_hhi(production: pd.DataFrame, *, mode: Mode = "default") -> pd.DataFrame:
    """HHI of mine production per (material, year): columns material, year, hhi, producers, total.

    ``production`` has columns material, country, year, value (tonnes). ``WLD`` rows are ignored; ``OTH``
    rows (lumped "other countries") count in the total but not in the sum of squares. In compat mode the
    values are truncated to whole tonnes first, as the peer does.
    """
    import pandas as pd

    keys = production[["material", "year"]].drop_duplicates().sort_values(["material", "year"])
    keys = keys.reset_index(drop=True)
    slot = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(production[["material", "year"]]))
    country = production["country"].to_numpy(dtype=object)
    code = np.where(country == "WLD", 0, np.where(country == "OTH", 1, 2)).astype(np.int64)
    hhi, total, producers = production_hhi_arrays(slot.astype(np.int64), code, production["value"].to_numpy(
        dtype=np.float64), len(keys), world=0, other=1, mode=mode)
    return keys.assign(hhi=hhi, producers=producers, total=total)[["material", "year", "hhi", "producers", "total"]]


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
    if not importers:
        raise AnalyticsInputError("geopolrisk", ["no importers given"])
    members = [str(m) for ms in importers.values() for m in ms]
    ref_members = [str(m) for ms in (reference_importers or {}).values() for m in ms]
    inp, index = inputs_from_frames(production, trade, governance, [*members, *ref_members])
    r = compute(inp, _groups(importers, index), materials, [int(y) for y in years], mode=mode,
                missing_wgi=missing_wgi)
    if cf_reference is None:
        if mode == "compat":
            ref = PEER_CF_COPPER
        else:
            if reference_importers is None:
                raise AnalyticsInputError("geopolrisk", [
                    "default mode computes the copper reference: pass reference_importers (e.g. OECD members) "
                    "or an explicit cf_reference"])
            ref, _ = copper_reference_value(inp, [index[m] for m in ref_members], reference_years,
                                            material=reference_material, missing_wgi=missing_wgi)
    elif isinstance(cf_reference, CopperReference):
        ref = cf_reference.value
    else:
        ref = float(cf_reference)
    return result_frame(r, ref)


def copper_reference(production: pd.DataFrame, trade: pd.DataFrame, governance: pd.DataFrame,
                     importers: Mapping[str, Sequence[str]], years: Sequence[int], *, material: str = "copper",
                     missing_wgi: float | None = 0.5) -> CopperReference:
    """The copper reference computed, not assumed: the mean of score x price (the un-normalised CF) for
    ``material`` over every importer in ``importers`` (each country on its own) and every year in
    ``years``. Combinations whose import risk is undefined are left out and the count reports it."""
    singles = list(dict.fromkeys(str(m) for members in importers.values() for m in members))
    inp, index = inputs_from_frames(production, trade, governance, singles)
    value, n = copper_reference_value(inp, [index[c] for c in singles], years, material=material,
                                      missing_wgi=missing_wgi)
    return CopperReference(value, tuple(singles), tuple(int(y) for y in years), n, material)
