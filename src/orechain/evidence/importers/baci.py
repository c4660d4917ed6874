"""CEPII BACI bilateral trade CSVs, streamed into ``trade_flows``.

Layout: header ``t,i,j,k,v,q`` (year, exporter code, importer code, HS6 product, value in thousand
US$, quantity in metric tonnes); ``q`` may be blank or ``NA`` (padded with spaces in some releases).
Files run to tens of millions of rows, so they are read in chunks (pandas' C parser), checked with
vectorised code and written in batches through the driver's ``executemany``; memory stays flat except
for 8 bytes per row kept to refuse duplicate flows at the end.

Country codes: BACI uses ISO 3166 numeric codes except for a few of its own (842 USA, 251 France,
699 India, 757 Switzerland, 579 Norway, 490 "Other Asia, nes" = Taiwan). The companion file
``country_codes_V*.csv`` (``--codes``, or found beside the data file) is read when present; otherwise
ISO numeric plus the built-in exceptions apply. A code that maps to nothing is an error naming the line
and column, never a dropped row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from orechain.evidence import schema
from orechain.evidence.errors import InputError, ProblemCollector
from orechain.evidence.importers.base import Batch
from orechain.evidence.importers.parsing import clean, csv_lines, decode, read_text, slug
from orechain.evidence.model import Source, SourceId, SourceKind
from orechain.evidence.names import UnknownName, countries, resolve_country

__all__ = ["BACI_EXCEPTIONS", "BaciImporter", "baci_code_table"]

HEADER = ("t", "i", "j", "k", "v", "q")
COLUMNS = ("year", "exporter", "importer", "product", "value_kusd", "quantity_t")
BACI_EXCEPTIONS: dict[int, str] = {842: "USA", 251: "FRA", 699: "IND", 757: "CHE", 579: "NOR", 490: "TWN"}
_NAME = re.compile(r"BACI_(?P<hs>HS\d{2})_Y(?P<year>\d{4})_V(?P<version>\d{6})", re.IGNORECASE)
_MAX_CODE = 1000


def _find_codes_file(path: Path) -> Path | None:
    found = sorted(path.parent.glob("country_codes_V*.csv"))
    if len(found) <= 1:
        return found[0] if found else None
    m = _NAME.search(path.name)
    same = [f for f in found if m is not None and f"V{m['version']}" in f.name]
    if len(same) == 1:
        return same[0]
    raise InputError.one(path, None, None, f"several BACI country-code files beside the data file "
                                           f"({', '.join(f.name for f in found)}); name one with --codes")


def baci_code_table(codes: Path | None) -> tuple[dict[int, str], dict[int, str]]:
    """``(code -> ISO3, code -> why it cannot be mapped)``: ISO numeric, BACI's exceptions, then the
    companion file's rows (its ISO3 column, else its name)."""
    table: dict[int, str] = {c.numeric: c.code for c in countries() if c.numeric is not None}
    table.update(BACI_EXCEPTIONS)
    unmapped: dict[int, str] = {}
    if codes is None:
        return table, unmapped
    text, _ = read_text(codes)
    lines = iter(csv_lines(codes, text))
    header = [clean(h) for h in next(lines)[1]]
    code_col = "country_code"
    iso_col = next((h for h in ("country_iso3", "iso_3digit_alpha") if h in header), None)
    name_col = next((h for h in ("country_name", "country_name_full", "country_name_abbreviation") if h in header),
                    None)
    if code_col not in header or (iso_col is None and name_col is None):
        raise InputError.one(codes, 1, None, "not a BACI country-code file: expected country_code with "
                                             f"country_iso3 or country_name; found {header}")
    col = ProblemCollector(codes)
    for line, cells in lines:
        row = dict(zip(header, (clean(c) for c in cells), strict=False))
        if not any(row.values()):
            continue
        try:
            code = int(row[code_col])
        except ValueError:
            col.add(line, code_col, f"not a numeric code: {row[code_col]!r}")
            continue
        iso = row.get(iso_col or "", "")
        name = row.get(name_col or "", "")
        mapped: str | None = None
        for candidate in (iso, name):
            if candidate:
                try:
                    mapped = resolve_country(candidate)
                    break
                except UnknownName:
                    continue
        if mapped is None and code in BACI_EXCEPTIONS:
            mapped = BACI_EXCEPTIONS[code]
        if mapped is None:
            table.pop(code, None)
            unmapped[code] = f"{codes.name} line {line}: {name or iso!r} ({iso}) is not a single country"
        else:
            table[code] = mapped
    col.raise_if_any()
    return table, unmapped


class BaciImporter:
    kind = "baci"
    description = "CEPII BACI trade CSV (t,i,j,k,v,q), streamed"
    defer_indexes = True  # bulk load: rebuild the trade_flows index once at the end (SQLite)

    def __init__(self, codes: Path | None = None, chunk_rows: int = 250_000) -> None:
        self.codes = codes
        self.chunk_rows = chunk_rows

    def source(self, path: Path) -> Source:
        m = _NAME.search(path.name)
        if m is not None:
            sid = f"cepii-baci-{m['hs'].lower()}-v{m['version']}"
            title = f"BACI {m['hs'].upper()} version {m['version']}"
        else:
            sid = f"cepii-baci-{slug(path.stem)}"[:80]
            title = f"BACI trade data ({path.name})"
        return Source(id=SourceId(sid), publisher="CEPII", title=title, date=None,
                      url="https://www.cepii.fr/CEPII/en/bdd_modele/bdd_modele_item.asp?id=37",
                      kind=SourceKind.DATASET, licence="Etalab Open Licence 2.0",
                      notes="Values in thousand current US$, quantities in metric tonnes")

    def batches(self, path: Path) -> Iterator[Batch]:
        codes_path = self.codes if self.codes is not None else _find_codes_file(path)
        table, unmapped = baci_code_table(codes_path)
        lookup = np.full(_MAX_CODE, None, dtype=object)
        for code, iso in table.items():
            if 0 <= code < _MAX_CODE:
                lookup[code] = iso
        _check_head(path)
        col = ProblemCollector(path, limit=200)
        failed = False
        keys: list[np.ndarray[Any, Any]] = []
        start = 2  # file line of the chunk's first row (line 1 is the header)
        reader = pd.read_csv(
            path, chunksize=self.chunk_rows, header=0, names=list(HEADER), usecols=list(range(6)),
            dtype={"t": "int64", "i": "int64", "j": "int64", "k": "int64", "v": "float64", "q": "float64"},
            na_values={"v": ["NA"], "q": ["NA", ""]}, keep_default_na=False, skipinitialspace=True,
            skip_blank_lines=False, encoding="utf-8", encoding_errors="strict", engine="c",
        )
        while True:
            try:
                chunk = next(reader)
            except StopIteration:
                break
            except (ValueError, OverflowError, pd.errors.ParserError, UnicodeDecodeError) as exc:
                _scan(path, start, self.chunk_rows, lookup, unmapped, col, str(exc))
                col.raise_if_any()
                raise InputError.one(path, start, None, f"cannot parse rows from line {start}: {exc}") from exc
            n = len(chunk)
            if len(col.problems) >= col.limit:
                break  # enough to report; the file is refused anyway
            out = _check_chunk(chunk, start, lookup, unmapped, col)
            if out is not None and not failed:
                keys.append(_flow_keys(chunk))
                yield Batch(schema.trade_flows, [], idempotent_keys=False, columns=COLUMNS, tuples=out)
            else:
                failed = True
            start += n
        col.raise_if_any()
        if start == 2:
            raise InputError.one(path, None, None, "no data rows (only a header)")
        _check_unique(keys, col)  # after the last batch: a duplicate anywhere rolls the whole file back
        col.raise_if_any()


def _flow_keys(chunk: pd.DataFrame) -> np.ndarray[Any, Any]:
    """One int64 per flow (year, exporter, importer, product), from the checked raw codes."""
    t, i, j, k = (chunk[c].to_numpy(dtype=np.int64) for c in ("t", "i", "j", "k"))
    keys: np.ndarray[Any, Any] = (((t - 1900) * _MAX_CODE + i) * _MAX_CODE + j) * 1_000_000 + k
    return keys


def _check_unique(keys: list[np.ndarray[Any, Any]], col: ProblemCollector) -> None:
    """BACI has one row per year, exporter, importer and product; a second one would double-count.

    Costs 8 bytes per row (the one part of the import whose memory grows with the file) and a sort."""
    if not keys:
        return
    allkeys = np.concatenate(keys)
    keys.clear()
    ranked = np.sort(allkeys)
    if not (ranked[1:] == ranked[:-1]).any():
        return
    del ranked
    order = np.argsort(allkeys, kind="stable")  # error path only: which lines
    ranked = allkeys[order]
    for d in np.flatnonzero(ranked[1:] == ranked[:-1])[:50]:
        first, again = int(order[d]) + 2, int(order[d + 1]) + 2
        col.add(again, None, f"duplicate flow: the same year, exporter, importer and product as line {first}")


def _check_head(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(65536)
    cut = head.rfind(b"\n")
    text, _ = decode(head[: cut + 1] if cut > 0 else head, path)
    first = text.splitlines()[0] if text.splitlines() else ""
    header = tuple(h.strip().strip('"') for h in first.split(","))
    if header != HEADER:
        raise InputError.one(path, 1, None, f"not a BACI file: the header must be {','.join(HEADER)}; "
                                            f"found {first[:80]!r}")


def _check_chunk(chunk: pd.DataFrame, start: int, lookup: np.ndarray[Any, Any], unmapped: dict[int, str],
                 col: ProblemCollector) -> list[tuple[Any, ...]] | None:
    """The chunk's rows as tuples in ``COLUMNS`` order, or None after recording its problems."""
    t = chunk["t"].to_numpy()
    k = chunk["k"].to_numpy()
    v = chunk["v"].to_numpy()
    q = chunk["q"].to_numpy()
    mapped = {}
    bad = np.zeros(len(chunk), dtype=bool)
    for name in ("i", "j"):
        codes = chunk[name].to_numpy()
        inside = (codes >= 0) & (codes < _MAX_CODE)
        iso = lookup[np.where(inside, codes, 0)]
        unknown = ~inside | (iso == None)  # noqa: E711 - elementwise comparison on an object array
        for idx in np.flatnonzero(unknown)[:50]:
            code = int(codes[idx])
            why = unmapped.get(code, "not an ISO 3166 numeric code nor a known BACI exception")
            col.add(start + int(idx), name, f"unknown BACI country code {code}: {why}")
        bad |= unknown
        mapped[name] = iso
    checks = (
        ("t", (t < 1900) | (t > 2100), "year out of range"),
        ("k", (k <= 0) | (k >= 1_000_000), "not an HS6 product code"),
        ("v", ~np.isfinite(v) | (v < 0), "value missing, negative or not finite"),
        ("q", np.isinf(q) | (q < 0), "quantity negative or not finite"),
    )
    for field, mask, message in checks:
        for idx in np.flatnonzero(mask)[:50]:
            raw = chunk[field].iloc[int(idx)]
            col.add(start + int(idx), field, f"{message}: {raw!r}")
        bad |= mask
    if bad.any():
        return None
    uniq, inverse = np.unique(k, return_inverse=True)
    products = np.array([f"{int(u):06d}" for u in uniq], dtype=object)[inverse]
    qty = q.astype(object)
    qty[np.isnan(q)] = None
    return list(zip(t.tolist(), mapped["i"].tolist(), mapped["j"].tolist(), products.tolist(), v.tolist(), qty.tolist(),
                    strict=True))


def _scan(path: Path, start: int, nrows: int, lookup: np.ndarray[Any, Any], unmapped: dict[int, str],
          col: ProblemCollector, fallback: str) -> None:
    """Slow path after the fast parser failed in a chunk: find each bad line and column."""
    import csv
    import itertools

    with path.open(encoding="utf-8", errors="strict", newline="") as fh:
        reader = csv.reader(fh)
        try:
            for offset, row in enumerate(itertools.islice(reader, start - 1, start - 1 + nrows)):
                line = start + offset
                cells = [c.strip() for c in row]
                if len(cells) != len(HEADER):
                    col.add(line, None, f"expected {len(HEADER)} fields (t,i,j,k,v,q), found {len(cells)}")
                    continue
                for name, raw in zip(HEADER, cells, strict=True):
                    if name == "q" and raw in ("", "NA"):
                        continue
                    try:
                        num = float(raw) if name in ("v", "q") else int(raw)
                    except ValueError:
                        col.add(line, name, f"malformed number {raw!r}")
                        continue
                    if name in ("i", "j") and (not 0 <= int(num) < _MAX_CODE or lookup[int(num)] is None):
                        col.add(line, name, f"unknown BACI country code {raw}: "
                                            f"{unmapped.get(int(num), 'not an ISO 3166 numeric code')}")
                    elif name == "t" and not 1900 <= num <= 2100:
                        col.add(line, name, f"year out of range: {raw!r}")
                    elif name == "k" and not 0 < num < 1_000_000:
                        col.add(line, name, f"not an HS6 product code: {raw!r}")
                    elif name in ("v", "q") and not 0 <= num < float("inf"):
                        col.add(line, name, f"value negative or not finite: {raw!r}")
        except UnicodeDecodeError as exc:
            col.add(None, None, f"not UTF-8 text ({exc.reason}); is this a BACI CSV?")
        except csv.Error as exc:
            col.add(start + reader.line_num - 1, None, f"malformed CSV: {exc}")
    if not col.problems:
        col.add(start, None, f"cannot parse rows from line {start}: {fallback}")
