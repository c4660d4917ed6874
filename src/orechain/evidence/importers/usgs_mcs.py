"""USGS Mineral Commodity Summaries (MCS) data-release CSVs, read exactly as published.

Two kinds of file per commodity and vintage (``mcs2024-raree_world.csv``, ``mcs2024-raree_salient.csv``):

``usgs-mcs`` (world tables)
    ``Source, Country, Type, Prod_t_2022, Prod_t_est_2023, Prod_notes, Reserves_t, Reserves_notes`` and
    variants (``Prod_t_Est_2021``, ``Prod_note``), dozens of unnamed trailing columns, blank trailing rows,
    UTF-8 with a byte-order mark or Windows-1252, non-breaking spaces, ``NA``/``W`` markers, footnote
    numbers glued to names (``World total (rounded)10``). One observation per country, metric and year:
    ``mine_production`` for each production column (``estimated`` when the column says ``est`` or the
    row's note says that year is "also estimated") and ``reserves`` dated ``vintage - 1`` (MCS publishes
    reserves beside the estimated production of the year before publication; MCS2024 reserves are the
    2023 assessment). The basis unit comes from the ``Type`` text (``t REO``, ``t Sb``, ``t W``).

``usgs-mcs-salient`` (US salient statistics)
    ``DataSource, Commodity, Year`` then one column per item whose suffix gives the unit (``_t`` tonnes,
    ``_dkg`` USD/kg, ``_dlb`` USD/lb, ``_dt`` USD/t, ``_pct`` %, ``_num`` count). ``E`` (net exporter)
    and ``W`` keep ``value`` empty and the text; ``>95`` is a lower bound.

The source id is ``usgs-mcs-<vintage>`` from the ``Source``/``DataSource`` column (``MCS2024``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orechain.evidence import schema
from orechain.evidence.errors import InputError, ProblemCollector
from orechain.evidence.importers.base import Batch
from orechain.evidence.importers.parsing import Cell, clean, csv_lines, parse_cell, read_text, slug, unique_header
from orechain.evidence.model import Quality, Source, SourceId, SourceKind, Stage
from orechain.evidence.names import UnknownName, resolve_country
from orechain.evidence.shipped import observation_id

__all__ = ["MCS_SYMBOLS", "McsSalientImporter", "McsWorldImporter", "mcs_source"]

MCS_SYMBOLS = {"NA": "not available", "W": "withheld to avoid disclosing company proprietary data",
               "XX": "not applicable", "--": "zero or negligible", "—": "zero or negligible",
               "E": "net exporter"}
_WORLD_SYMBOLS = {k: v for k, v in MCS_SYMBOLS.items() if k != "E"}


@dataclass(frozen=True)
class McsCommodity:
    id: str
    code: str  # the file-name code of the data release, e.g. "raree"
    words: str  # regex matched against the Type/Commodity text
    element: str | None  # contained-metal symbol, e.g. "Sb"
    mine_form: str  # the form (commodities.yaml) that mine production and reserves are counted in


COMMODITIES: tuple[McsCommodity, ...] = (
    McsCommodity("rare-earths", "raree", r"rare[\s-]*earth", None, "ree-concentrate"),
    McsCommodity("antimony", "antim", r"antimony", "Sb", "sb-concentrate"),
    McsCommodity("tungsten", "tungs", r"tungsten", "W", "w-concentrate"),
    McsCommodity("copper", "coppe", r"copper", "Cu", "cu-concentrate"),
    McsCommodity("lithium", "lithi", r"lithium", "Li", "li-mine"),
    McsCommodity("cobalt", "cobal", r"cobalt", "Co", "co-mine"),
    McsCommodity("nickel", "nicke", r"nickel", "Ni", "ni-mine"),
    McsCommodity("graphite", "graph", r"graphite", None, "graphite-mine"),
    McsCommodity("gold", "gold", r"\bgold\b", "Au", "au-dore"),
)
# Salient price items that are a known form (commodities.yaml): stored as metric "price" of that form,
# so that the same figure from the same release is one row whether imported or shipped.
PRICE_FORMS: dict[tuple[str, str], str] = {
    ("rare-earths", "nd2o3"): "nd-oxide", ("rare-earths", "dy2o3"): "dy-oxide", ("rare-earths", "tbo2"): "tb-oxide",
    ("antimony", "metal"): "sb-metal-oxide", ("tungsten", "wo3"): "w-apt",
}
_BY_CODE = {c.code: c for c in COMMODITIES}
_FILE_NAME = re.compile(r"mcs(?P<vintage>\d{4})-(?P<code>[a-z]+)_(?P<kind>world|salient)", re.IGNORECASE)
_VINTAGE = re.compile(r"^MCS\s*(?P<vintage>\d{4})$", re.IGNORECASE)
# DOIs of the data releases, where known (OWID ETL metadata cites them).
_RELEASE_URL = {2023: "https://doi.org/10.5066/P9WCYUI6", 2024: "https://doi.org/10.5066/P144BA54"}


def mcs_source(vintage: int) -> Source:
    return Source(id=SourceId(f"usgs-mcs-{vintage}"), publisher="U.S. Geological Survey",
                  title=f"Mineral Commodity Summaries {vintage} (data release)", date=str(vintage),
                  url=_RELEASE_URL.get(vintage), kind=SourceKind.STATISTICAL_RELEASE,
                  licence="US Government work (public domain)",
                  notes="World production/reserves and US salient-statistics CSVs")


# -- file-level detection ------------------------------------------------------------------------------
@dataclass
class _Table:
    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]  # data rows (blank rows dropped), with their line numbers


def _read_table(path: Path) -> _Table:
    text, _enc = read_text(path)
    lines = list(csv_lines(path, text))
    header = [clean(h) for h in lines[0][1]]
    unique_header(path, header)
    rows: list[tuple[int, list[str]]] = []
    for line, cells in lines[1:]:
        if not any(clean(c) for c in cells):
            continue  # blank trailing rows: the release pads files with them
        rows.append((line, cells))
    return _Table(path, header, rows)


def _vintage(table: _Table, column: str) -> int:
    try:
        idx = table.header.index(column)
    except ValueError:
        raise InputError.one(table.path, 1, column, f"missing column {column!r} (the MCS vintage, e.g. MCS2024); "
                                                    f"header is {table.header[:8]}") from None
    col = ProblemCollector(table.path)
    seen: dict[int, int] = {}
    for line, cells in table.rows:
        raw = clean(cells[idx]) if idx < len(cells) else ""
        m = _VINTAGE.match(raw)
        if m is None:
            col.add(line, column, f"not an MCS vintage: {raw!r} (expected e.g. MCS2024)")
        else:
            seen.setdefault(int(m["vintage"]), line)
    col.raise_if_any()
    if not seen:
        raise InputError.one(table.path, None, None, "no data rows")
    if len(seen) > 1:
        raise InputError.one(table.path, max(seen.values()), column,
                             f"the file mixes MCS vintages {sorted(seen)}; expected one")
    vintage = next(iter(seen))
    m = _FILE_NAME.search(table.path.name)
    if m is not None and int(m["vintage"]) != vintage:
        raise InputError.one(table.path, next(iter(seen.values())), column,
                             f"the file name says MCS{m['vintage']} but the {column} column says MCS{vintage}")
    return vintage


def _commodity(table: _Table, texts: list[tuple[int, str]], column: str) -> McsCommodity:
    by_text: dict[str, tuple[McsCommodity, int]] = {}
    for line, text in texts:
        hits = [c for c in COMMODITIES if re.search(c.words, text, re.IGNORECASE)]
        if len(hits) == 1:
            by_text.setdefault(hits[0].id, (hits[0], line))
    m = _FILE_NAME.search(table.path.name)
    by_name = _BY_CODE.get(m["code"].lower()) if m else None
    if len(by_text) > 1:
        lines = sorted(v[1] for v in by_text.values())
        raise InputError.one(table.path, lines[-1], column, f"the file mixes commodities {sorted(by_text)}")
    found = next(iter(by_text.values()))[0] if by_text else None
    if found and by_name and found.id != by_name.id:
        raise InputError.one(table.path, None, column, f"the file name says {by_name.id} ({by_name.code}) but the "
                                                        f"{column} column says {found.id}")
    result = found or by_name
    if result is None:
        known = ", ".join(f"{c.code} ({c.id})" for c in COMMODITIES)
        raise InputError.one(table.path, texts[0][0] if texts else None, column,
                             f"cannot tell the commodity from the file name or the {column} column; known: {known}")
    return result


def _basis_unit(commodity: McsCommodity, type_text: str, magnitude: str) -> str | None:
    """``t REO``/``t Sb``/``t W`` from the Type text; None when the text states no basis we can read."""
    t = type_text.casefold()
    if "rare-earth-oxide" in t or re.search(r"\breo\b", t):
        return f"{magnitude} REO"
    m = re.search(r"contained (\w+)|(\w+) content", t)
    if m:
        word = m[1] or m[2]
        el = next((c.element for c in COMMODITIES if re.fullmatch(c.words, word, re.IGNORECASE)), None)
        return f"{magnitude} {el}" if el else None
    if commodity.element is None and commodity.id != "rare-earths":
        return magnitude  # gross weight commodities (graphite)
    return None


def _metric_stage(type_text: str) -> tuple[str, Stage] | None:
    t = type_text.casefold()
    if "mine production" in t:
        return "mine_production", Stage.MINING
    return None


# -- world tables --------------------------------------------------------------------------------------
_PROD = re.compile(r"^Prod_(?P<mag>t|kt|kg|Mt)_(?:(?P<est>est)_)?(?P<year>\d{4})$", re.IGNORECASE)
_RESERVES = re.compile(r"^Reserves_(?P<mag>t|kt|kg|Mt)$", re.IGNORECASE)
_NOTES = re.compile(r"^(?P<what>Prod|Reserves)_notes?$", re.IGNORECASE)
_ALSO_EST = re.compile(r"estimated in (\d{4}) also|also estimated in (\d{4})|production in (\d{4}) is also estimated",
                       re.IGNORECASE)
_BOUND_IN_NOTE = re.compile(r"^\s*(?P<bound>[<>]\s*\d{1,3}(?:,\d{3})+|[<>]\s*\d+)(?:\.(?!\d)|\s|$)")
_NAME_QUALIFIER = re.compile(r"\(|\d")


@dataclass(frozen=True)
class _WorldColumns:
    source: int
    country: int
    type: int
    prod: tuple[tuple[int, int, bool, str], ...]  # (index, year, estimated column, magnitude)
    reserves: tuple[int, str] | None
    prod_note: int | None
    reserves_note: int | None


def _world_columns(table: _Table) -> _WorldColumns:
    col = ProblemCollector(table.path)
    fixed: dict[str, int] = {}
    prod: list[tuple[int, int, bool, str]] = []
    reserves: tuple[int, str] | None = None
    notes: dict[str, int] = {}
    unnamed: list[int] = []
    for i, h in enumerate(table.header):
        if h in ("Source", "Country", "Type"):
            fixed[h] = i
        elif (m := _PROD.match(h)) is not None:
            prod.append((i, int(m["year"]), m["est"] is not None, m["mag"]))
        elif (m := _RESERVES.match(h)) is not None:
            reserves = (i, m["mag"])
        elif (m := _NOTES.match(h)) is not None:
            notes[m["what"].casefold()] = i
        elif h == "":
            unnamed.append(i)
        else:
            col.add(1, h, "unknown column for an MCS world table (expected Source, Country, Type, Prod_t_YYYY, "
                          "Prod_t_est_YYYY, Prod_notes, Reserves_t, Reserves_notes)")
    for need in ("Source", "Country", "Type"):
        if need not in fixed:
            col.add(1, need, f"missing column {need!r}")
    if not prod and reserves is None:
        col.add(1, None, "no production (Prod_t_YYYY) or reserves (Reserves_t) column")
    _check_unnamed(table, unnamed, col)
    col.raise_if_any()
    return _WorldColumns(fixed["Source"], fixed["Country"], fixed["Type"], tuple(prod), reserves,
                         notes.get("prod"), notes.get("reserves"))


def _check_unnamed(table: _Table, indices: list[int], col: ProblemCollector) -> None:
    """Columns without a header must be empty: nothing may be dropped unseen."""
    for line, cells in table.rows:
        for i in indices:
            if i < len(cells) and clean(cells[i]):
                col.add(line, f"column {i + 1} (no header)", f"value {clean(cells[i])!r} in a column with no header")


def _cell(cells: list[str], i: int | None) -> str:
    return cells[i] if i is not None and i < len(cells) else ""


def _join(*parts: str | None) -> str | None:
    out = [p for p in parts if p]
    return "; ".join(out) if out else None


class McsWorldImporter:
    kind = "usgs-mcs"
    description = "USGS MCS data-release world production and reserves CSV (mcsYYYY-xxxxx_world.csv)"

    def source(self, path: Path) -> Source:
        return mcs_source(_vintage(_read_table(path), "Source"))

    def batches(self, path: Path) -> Iterator[Batch]:
        yield Batch(schema.observations, parse_world(path))


def parse_world(path: Path) -> list[dict[str, Any]]:
    """Observation rows (dicts for the ``observations`` table) from one MCS world CSV."""
    table = _read_table(path)
    cols = _world_columns(table)
    vintage = _vintage(table, "Source")
    source_id = f"usgs-mcs-{vintage}"
    types = [(line, clean(_cell(cells, cols.type))) for line, cells in table.rows]
    commodity = _commodity(table, types, "Type")
    col = ProblemCollector(path)
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def add(line: int, field: str, row: dict[str, Any]) -> None:
        row["id"] = observation_id(source_id, row["metric"], commodity.id, row["stage"], row["form"], row["country"],
                                   None, row["year"], None)
        if row["id"] in seen:
            col.add(line, field, f"duplicate: {row['metric']} {row['country']} {row['year']} is also on line "
                                 f"{seen[row['id']]}")
            return
        seen[row["id"]] = line
        out.append(row)

    for (line, cells), (_, type_text) in zip(table.rows, types, strict=True):
        name = clean(_cell(cells, cols.country))
        if not name:
            col.add(line, "Country", "empty country name on a row with data")
            continue
        try:
            country = resolve_country(name)
        except UnknownName as exc:
            col.add(line, "Country", str(exc))
            continue
        ms = _metric_stage(type_text)
        if ms is None:
            col.add(line, "Type", f"cannot tell the measure from Type {type_text!r} (expected 'Mine production, ...')")
            continue
        metric, stage = ms
        name_note = f"row published as {name!r}" if _NAME_QUALIFIER.search(name) else None
        prod_note = clean(_cell(cells, cols.prod_note)) or None
        also_est = {int(y) for m in _ALSO_EST.finditer(prod_note or "") for y in m.groups() if y}
        base = {"commodity": commodity.id, "form": commodity.mine_form, "country": country, "facility": None,
                "period": None, "source_id": source_id, "quality": Quality.PRIMARY.value}
        for idx, year, est_col, mag in cols.prod:
            header = table.header[idx]
            unit = _basis_unit(commodity, type_text, mag)
            if unit is None:
                col.add(line, "Type", f"cannot tell the basis unit (REO or contained metal) from Type {type_text!r}")
                break
            try:
                cell = parse_cell(_cell(cells, idx), _WORLD_SYMBOLS)
            except ValueError as exc:
                col.add(line, header, str(exc))
                continue
            if cell.text is None:
                continue  # an empty cell is no observation (MCS leaves none empty in practice)
            add(line, header, {**base, "metric": metric, "stage": stage.value, "year": year, "value": cell.value,
                               "lower": cell.lower, "upper": cell.upper, "value_text": cell.text, "unit": unit,
                               "estimated": est_col or year in also_est,
                               "note": _join(name_note, _meaning(cell), prod_note)})
        if cols.reserves is not None:
            idx, mag = cols.reserves
            header = table.header[idx]
            unit = _basis_unit(commodity, type_text, mag)
            res_note = clean(_cell(cells, cols.reserves_note)) or None
            try:
                cell = parse_cell(_cell(cells, idx), _WORLD_SYMBOLS)
            except ValueError as exc:
                col.add(line, header, str(exc))
                continue
            if unit is None:
                col.add(line, "Type", f"cannot tell the basis unit (REO or contained metal) from Type {type_text!r}")
                continue
            extra = None
            if cell.value is None and res_note and (b := _BOUND_IN_NOTE.match(res_note)) is not None:
                # The release writes a bound such as ">1,800,000" at the start of the note, the cell saying NA.
                bound = parse_cell(b["bound"], {})
                extra = f"table cell {cell.text or '(empty)'}; the figure is the bound that opens Reserves_notes"
                cell = bound
            if cell.text is None and not res_note:
                continue
            add(line, header, {**base, "metric": "reserves", "stage": stage.value, "year": vintage - 1,
                               "value": cell.value, "lower": cell.lower, "upper": cell.upper,
                               "value_text": cell.text, "unit": unit, "estimated": False,
                               "note": _join(name_note, _meaning(cell), extra, res_note,
                                             f"reserves as published in MCS{vintage}")})
    col.raise_if_any()
    return out


def _meaning(cell: Cell) -> str | None:
    return f"{cell.text} = {cell.meaning}" if cell.meaning else None


# -- salient statistics ----------------------------------------------------------------------------------
_UNIT_SUFFIX = {"t": "t", "kt": "kt", "kg": "kg", "dkg": "USD/kg", "dlb": "USD/lb", "dt": "USD/t", "pct": "%",
                "num": "count"}
# Headers published with a typo in a release, and how they are read. Each is named in the row's note.
HEADER_FIXES: dict[str, str] = {
    # MCS2024 tungsten salient: the unit suffix lost its underscore.
    "USprod_Minet": "USprod_Mine_t", "USprod_Secondaryt": "USprod_Secondary_t",
    "Imports_Concentratet": "Imports_Concentrate_t", "Imports_Othert": "Imports_Other_t",
    "Exports_Concentratet": "Exports_Concentrate_t", "Exports_Othert": "Exports_Other_t",
    "Shipments_Concentratet": "Shipments_Concentrate_t", "Shipments_Othert": "Shipments_Other_t",
    "Consump_Reportedt": "Consump_Reported_t", "Consump_Apparentt": "Consump_Apparent_t",
    "Price_WO3dt": "Price_WO3_dt", "Stocks_": "Stocks_t", "NIR_ct": "NIR_pct",
    # MCS2024 rare earths salient: employment and net import reliance labelled as tonnes/"m" (MCS2023: _num, _pct).
    "Employment_m": "Employment_num", "NIR_Compounds-Metals_t": "NIR_Compounds-Metals_pct",
    "NIR_Concentrate_t": "NIR_Concentrate_pct",
}
_PREFIX_METRIC = {"usprod": "us_production", "imports": "us_imports", "exports": "us_exports",
                  "consump": "us_consumption", "shipments": "us_shipments", "stocks": "us_stocks",
                  "nir": "us_net_import_reliance", "price": "price", "employment": "us_employment"}
_SALIENT_FIXED = ("DataSource", "Commodity", "Year")


@dataclass(frozen=True)
class _SalientColumn:
    index: int
    header: str  # as published
    metric: str
    unit: str
    note: str | None
    form: str | None = None
    stage: str | None = None


def _salient_column(index: int, published: str, commodity: McsCommodity) -> _SalientColumn:
    header = HEADER_FIXES.get(published, published)
    parts = header.split("_")
    if len(parts) < 2 or parts[-1] not in _UNIT_SUFFIX:
        raise ValueError(f"no unit suffix ({', '.join('_' + s for s in _UNIT_SUFFIX)}) in column {published!r}")
    prefix = parts[0].casefold()
    if prefix not in _PREFIX_METRIC:
        raise ValueError(f"unknown salient-statistics item {parts[0]!r} in column {published!r}")
    metric = "_".join(p for p in (_PREFIX_METRIC[prefix], slug("_".join(parts[1:-1]))) if p)
    unit = _UNIT_SUFFIX[parts[-1]]
    notes = [f"column {published!r}" + (f" read as {header!r}" if header != published else "")]
    if commodity.id == "tungsten" and parts[-1] == "dt" and "wo3" in header.casefold():
        unit = "USD/mtu"  # the MCS tungsten chapter prices concentrate per metric ton unit (10 kg) of WO3
        notes.append("price per metric ton unit (10 kg) of WO3, as in the MCS tungsten chapter")
    if unit == "t":
        notes.append("basis (gross weight or content) as stated per item in the MCS chapter, not in the file")
    if len(metric) > 40:
        raise ValueError(f"column {published!r} gives a metric name longer than 40 characters")
    form = PRICE_FORMS.get((commodity.id, slug("_".join(parts[1:-1])))) if prefix == "price" else None
    if form is not None:
        return _SalientColumn(index, published, "price", unit, "; ".join(notes), form, Stage.SEPARATION.value)
    return _SalientColumn(index, published, metric, unit, "; ".join(notes))


class McsSalientImporter:
    kind = "usgs-mcs-salient"
    description = "USGS MCS data-release US salient statistics CSV (mcsYYYY-xxxxx_salient.csv)"

    def source(self, path: Path) -> Source:
        return mcs_source(_vintage(_read_table(path), "DataSource"))

    def batches(self, path: Path) -> Iterator[Batch]:
        yield Batch(schema.observations, parse_salient(path))


def parse_salient(path: Path) -> list[dict[str, Any]]:
    table = _read_table(path)
    col = ProblemCollector(path)
    for need in _SALIENT_FIXED:
        if need not in table.header:
            col.add(1, need, f"missing column {need!r}")
    col.raise_if_any()
    vintage = _vintage(table, "DataSource")
    source_id = f"usgs-mcs-{vintage}"
    ci, yi = table.header.index("Commodity"), table.header.index("Year")
    commodity = _commodity(table, [(ln, clean(_cell(c, ci))) for ln, c in table.rows], "Commodity")
    columns: list[_SalientColumn] = []
    for i, h in enumerate(table.header):
        if h in _SALIENT_FIXED:
            continue
        if h == "":
            _check_unnamed(table, [i], col)
            continue
        try:
            columns.append(_salient_column(i, h, commodity))
        except ValueError as exc:
            col.add(1, h, str(exc))
    col.raise_if_any()
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, cells in table.rows:
        raw_year = clean(_cell(cells, yi))
        if not re.fullmatch(r"\d{4}", raw_year):
            col.add(line, "Year", f"not a year: {raw_year!r}")
            continue
        year = int(raw_year)
        for c in columns:
            try:
                cell = parse_cell(_cell(cells, c.index), MCS_SYMBOLS)
            except ValueError as exc:
                col.add(line, c.header, str(exc))
                continue
            if cell.text is None:
                continue
            if cell.meaning == "net exporter" and not c.metric.startswith("us_net_import_reliance"):
                col.add(line, c.header, "'E' (net exporter) outside a net-import-reliance column")
                continue
            country = None if c.metric.startswith("price") else "USA"
            oid = observation_id(source_id, c.metric, commodity.id, c.stage, c.form, country, None, year, None)
            if oid in seen:
                col.add(line, c.header, f"duplicate: {c.metric} {year} is also on line {seen[oid]}")
                continue
            seen[oid] = line
            out.append({"id": oid, "metric": c.metric, "commodity": commodity.id, "stage": c.stage, "form": c.form,
                        "country": country, "facility": None, "year": year, "period": None, "value": cell.value,
                        "lower": cell.lower, "upper": cell.upper, "value_text": cell.text, "unit": c.unit,
                        "estimated": False, "source_id": source_id, "quality": Quality.PRIMARY.value,
                        "note": _join(_meaning(cell), c.note)})
    col.raise_if_any()
    return out
