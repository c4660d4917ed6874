"""World Mining Data (Austrian Federal Ministry of Finance, BMF) production tables.

The workbook "Production of Mineral Raw Materials of individual Countries by Minerals" has one sheet
per mineral (``Antimony``, ``Tungsten (W)``, ``Rare Earths (REO)``, ...). Each sheet has, after an
optional title row, a header row ``Country | unit | 2018 | 2019 | ... | data source`` and one row per
producing country. Values are numbers; empty means no figure. The parenthesis in the sheet name gives
the basis (``REO``, an element symbol for contained metal); the ``unit`` column the magnitude
(``metr. t``, ``kg``, ``Mio. metr. t``). A single sheet saved as CSV (named after the mineral, e.g.
``Tungsten (W).csv``) is read the same way.

Sheets without a ``Country`` header (cover, notes) must hold no numbers; otherwise they are an error.
Minerals not yet in the evidence base are added as commodities (id from the name) so that no row is
dropped. The source is named by the data it covers: ``bmf-wmd-to-<last year>``.
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
from orechain.evidence.importers.parsing import (
    ParseOnce,
    clean,
    csv_lines,
    parse_cell,
    read_text,
    slug,
    unique_header,
)
from orechain.evidence.importers.usgs_mcs import COMMODITIES
from orechain.evidence.model import Quality, Source, SourceId, SourceKind, Stage
from orechain.evidence.names import UnknownName, resolve_country
from orechain.evidence.shipped import observation_id

__all__ = ["WmdImporter", "parse_wmd"]

UNITS = {"metr. t": "t", "t": "t", "kg": "kg", "mio. metr. t": "Mt", "mill. metr. t": "Mt", "1000 metr. t": "kt"}
_SYMBOLS = {"n.a.": "not available", "-": "no production reported", "NA": "not available"}
_COMMODITY_BY_SLUG = {"rare_earths": "rare-earths", "antimony": "antimony", "tungsten": "tungsten",
                      "copper": "copper", "lithium": "lithium", "cobalt": "cobalt", "nickel": "nickel",
                      "graphite": "graphite", "gold": "gold"}
_TOTALS = {"total", "world", "world total"}
_SHEET = re.compile(r"^(?P<name>[^()]+?)\s*(?:\((?P<basis>[^)]+)\))?\s*$")


@dataclass(frozen=True)
class _Sheet:
    name: str
    where: str  # "file (sheet 'X')" for messages
    rows: list[tuple[int, list[Any]]]  # (row number, cells)


def _sheets(path: Path) -> list[_Sheet]:
    if path.suffix.lower() == ".csv":
        text, _ = read_text(path)
        return [_Sheet(path.stem, str(path), [(ln, list(c)) for ln, c in csv_lines(path, text)])]
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":
        raise InputError.one(path, None, None, "not an .xlsx workbook (nor a .csv sheet)")
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise InputError.one(path, None, None, f"cannot read the workbook: {exc}") from exc
    try:
        return [_Sheet(ws.title, f"{path} (sheet {ws.title!r})",
                       [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)])
                for ws in wb.worksheets]
    finally:
        wb.close()


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return clean(str(v))


def _commodity(sheet: str) -> tuple[str, str | None, str | None, str]:
    """(commodity id, mine form, basis, display name) from a sheet name such as 'Tungsten (W)'."""
    m = _SHEET.match(sheet)
    name, basis = (m["name"].strip(), m["basis"]) if m else (sheet.strip(), None)
    cid = _COMMODITY_BY_SLUG.get(slug(name), slug(name).replace("_", "-"))
    form = next((c.mine_form for c in COMMODITIES if c.id == cid), None)
    return cid, form, basis, name


def _unit(magnitude: str, basis: str | None) -> str:
    if basis and basis.upper() == "REO":
        return f"{magnitude} REO"
    if basis and re.fullmatch(r"[A-Z][a-z]?", basis):
        return f"{magnitude} {basis}"
    return magnitude


def parse_wmd(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(observations without source id, commodities to add, last year) from a WMD workbook or sheet."""
    obs: list[dict[str, Any]] = []
    new_commodities: dict[str, dict[str, Any]] = {}
    problems = []
    found_data_sheet = False
    for sheet in _sheets(path):
        col = ProblemCollector(sheet.where)
        header_at = next((i for i, (_, cells) in enumerate(sheet.rows[:10])
                          if any(_text(c).casefold() == "country" for c in cells)), None)
        if header_at is None:
            for line, cells in sheet.rows:
                if any(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cells):
                    col.add(line, None, "numbers on a sheet without a 'Country | unit | years' header")
                    break
            problems.extend(col.problems)
            continue
        found_data_sheet = True
        header_line, header_cells = sheet.rows[header_at]
        header = [_text(c) for c in header_cells]
        lower = [h.casefold() for h in header]
        try:
            unique_header(sheet.where, lower, header_line)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        years = {i: int(h) for i, h in enumerate(header) if re.fullmatch(r"(19|20)\d{2}", h)}
        for need in ("country", "unit"):
            if need not in lower:
                col.add(header_line, need, f"missing column {need!r}")
        if not years:
            col.add(header_line, None, "no year columns (e.g. 2019, 2020, ...)")
        if col.problems:
            problems.extend(col.problems)
            continue
        ci, ui = lower.index("country"), lower.index("unit")
        si = lower.index("data source") if "data source" in lower else None
        for i, h in enumerate(header):
            if h and i not in years and i not in (ci, ui, si):
                col.add(header_line, h, "unknown column (expected Country, unit, years, data source)")
        cid, form, basis, display = _commodity(sheet.name)
        if form is None:
            new_commodities.setdefault(cid, {"id": cid, "name": display, "symbol": None, "critical_eu": False,
                                             "eol_rir": None, "notes": "added by the World Mining Data importer"})
        seen: dict[str, int] = {}
        for line, cells in sheet.rows[header_at + 1:]:
            texts = [_text(c) for c in cells]
            if not any(texts):
                continue
            name = texts[ci] if ci < len(texts) else ""
            if not name:
                col.add(line, "Country", "empty country on a row with data")
                continue
            try:
                country = "WLD" if name.casefold() in _TOTALS else resolve_country(name)
            except UnknownName as exc:
                col.add(line, "Country", str(exc))
                continue
            unit_text = texts[ui] if ui < len(texts) else ""
            magnitude = UNITS.get(unit_text.casefold())
            if magnitude is None:
                col.add(line, "unit", f"unknown or missing unit {unit_text!r} (known: {', '.join(UNITS)})")
                continue
            source_note = texts[si] if si is not None and si < len(texts) and texts[si] else None
            for i, year in years.items():
                raw = cells[i] if i < len(cells) else None
                try:
                    cell = parse_cell(_text(raw), _SYMBOLS)
                except ValueError as exc:
                    col.add(line, header[i], str(exc))
                    continue
                if cell.text is None:
                    continue
                oid = observation_id("", "mine_production", cid, Stage.MINING.value, form, country, None, year, None)
                if oid in seen:
                    col.add(line, header[i], f"duplicate: {country} {year} is also on row {seen[oid]}")
                    continue
                seen[oid] = line
                notes = [f"WMD data source: {source_note}" if source_note else None,
                         f"{cell.text} = {cell.meaning}" if cell.meaning else None,
                         f"row published as {name!r}" if name.casefold() in _TOTALS else None,
                         f"sheet {sheet.name!r}" if basis and _unit("t", basis) == "t" else None]
                obs.append({"metric": "mine_production", "commodity": cid, "stage": Stage.MINING.value,
                            "form": form, "country": country, "facility": None, "year": year, "period": None,
                            "value": cell.value, "lower": cell.lower, "upper": cell.upper, "value_text": cell.text,
                            "unit": _unit(magnitude, basis), "estimated": False, "quality": Quality.PRIMARY.value,
                            "note": "; ".join(n for n in notes if n) or None})
        problems.extend(col.problems)
    if problems:
        raise InputError(problems)
    if not found_data_sheet or not obs:
        raise InputError.one(path, None, None, "no production table found (a sheet with a 'Country | unit | "
                                               "years' header and rows)")
    return obs, list(new_commodities.values()), max(o["year"] for o in obs)


def _source_id(last_year: int) -> str:
    return f"bmf-wmd-to-{last_year}"


class WmdImporter:
    kind = "wmd"
    description = "World Mining Data (BMF Austria) production workbook (.xlsx) or one sheet as .csv"

    def __init__(self) -> None:
        self._parse = ParseOnce(parse_wmd)

    def source(self, path: Path) -> Source:
        _, _, last = self._parse(path)
        return Source(id=SourceId(_source_id(last)), publisher="Austrian Federal Ministry of Finance (BMF)",
                      title=f"World Mining Data: production by minerals (data to {last})", date=None,
                      url="https://www.world-mining-data.info", kind=SourceKind.STATISTICAL_RELEASE,
                      licence="see world-mining-data.info", notes=f"Imported from {path.name}")

    def batches(self, path: Path) -> Iterator[Batch]:
        parsed, new_commodities, last = self._parse(path)
        self._parse.forget()
        sid = _source_id(last)
        obs = [{**o, "source_id": sid, "id": observation_id(sid, o["metric"], o["commodity"], o["stage"], o["form"],
                                                            o["country"], None, o["year"], None)} for o in parsed]
        if new_commodities:
            yield Batch(schema.commodities, new_commodities)
        yield Batch(schema.observations, obs)
