"""Dates and periods in news text, as ISO 8601 strings and intervals.

:func:`find_dates` returns :class:`DateRef` objects: "September 8, 2025" -> ``2025-09-08``; "early October
2025" -> ``2025-10-01/2025-10-10``; "October 2025" -> ``2025-10``; "2026 to 2028" -> ``2026/2028``; "by 2028"
and "through 2026" -> ``../2028``, ``../2026`` (open start); "2028 and beyond", "from 2028 onward" ->
``2028/..``; "17/01/2026" -> ``2026-01-17`` (day first unless the second field cannot be a month); a year
alone ("in 2010") -> ``2010``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

__all__ = ["DateRef", "find_dates", "first_full_date"]

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS.update({"sept": 9})
MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
YEAR = r"(?:19|20)\d\d"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(rf"\b(?P<y>{YEAR})-(?P<m>\d\d)-(?P<d>\d\d)\b")),
    ("mdy", re.compile(rf"\b(?P<mon>{MONTH})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>{YEAR})\b")),
    ("dmy", re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{MONTH}),?\s+(?P<y>{YEAR})\b")),
    ("numeric", re.compile(rf"\b(?P<a>\d{{1,2}})[/.](?P<b>\d{{1,2}})[/.](?P<y>{YEAR})\b")),
    ("month", re.compile(rf"\b(?:(?P<part>early|mid|mid-|late|end of|beginning of|the end of)\s*)?"
                         rf"(?P<mon>{MONTH}),?\s+(?P<y>{YEAR})\b", re.IGNORECASE)),
    ("range", re.compile(rf"\b(?:from\s+|between\s+)?(?P<y1>{YEAR})\s*(?:-|–|—|to|and|through|until)\s*"
                         rf"(?P<y2>{YEAR}|\d\d)\b")),
    ("by", re.compile(rf"\b(?P<w>by|through|until|till|before|no later than)\s+(?:the\s+end\s+of\s+)?(?P<y>{YEAR})\b",
                      re.IGNORECASE)),
    ("from", re.compile(rf"\b(?:(?:from|after|since|beyond)\s+)?(?P<y>{YEAR})\s+(?P<w>and\s+beyond|onwards?|"
                        rf"and\s+after|and\s+later)\b|\b(?P<w2>from|after|since)\s+(?P<y2>{YEAR})\b",
                        re.IGNORECASE)),
    ("fiscal", re.compile(r"\b(?:FY|fiscal\s+year\s+)(?P<y1>(?:19|20)\d\d)(?:[/-](?P<y2>\d{2,4}))?\b")),
    ("year", re.compile(rf"(?<![\d,.$])\b(?P<y>{YEAR})\b(?!\d|,\d|\s?(?:%|percent|t\b|tonnes|mg|ppm))")),
)
_PRIORITY = {k: i for i, (k, _) in enumerate(_PATTERNS)}
_ANY_YEAR = re.compile(r"(?:19|20)\d\d")


@dataclass(frozen=True)
class DateRef:
    start: int
    end: int
    text: str
    kind: str  # date, month, period, open_start, open_end, year
    value: str  # ISO 8601 date, month, year or interval


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _date(y: int, m: int, d: int) -> str | None:
    if not 1 <= m <= 12 or not 1 <= d <= calendar.monthrange(y, m)[1]:
        return None
    return f"{y:04d}-{m:02d}-{d:02d}"


def _value(kind: str, m: re.Match[str]) -> tuple[str, str] | None:
    g = m.groupdict()
    if kind == "iso":
        v = _date(int(g["y"]), int(g["m"]), int(g["d"]))
        return None if v is None else ("date", v)
    if kind in ("mdy", "dmy"):
        v = _date(int(g["y"]), _month(g["mon"]), int(g["d"]))
        return None if v is None else ("date", v)
    if kind == "numeric":
        a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
        v = _date(y, a, b) if b > 12 else _date(y, b, a)
        return None if v is None else ("date", v)
    if kind == "month":
        y, mo = int(g["y"]), _month(g["mon"])
        last = calendar.monthrange(y, mo)[1]
        part = (g.get("part") or "").lower().strip()
        if part == "early" or part.startswith("beginning"):
            return "period", f"{y:04d}-{mo:02d}-01/{y:04d}-{mo:02d}-10"
        if part.startswith("mid"):
            return "period", f"{y:04d}-{mo:02d}-11/{y:04d}-{mo:02d}-20"
        if part in ("late", "end of", "the end of"):
            return "period", f"{y:04d}-{mo:02d}-21/{y:04d}-{mo:02d}-{last:02d}"
        return "month", f"{y:04d}-{mo:02d}"
    if kind in ("range", "fiscal"):
        y1 = int(g["y1"])
        y2s = g.get("y2")
        if kind == "fiscal" and not y2s:
            return "year", f"FY{y1}"
        assert y2s is not None
        y2 = int(y2s) if len(y2s) == 4 else (y1 // 100) * 100 + int(y2s[-2:])
        if y2 < y1 or y2 - y1 > 50:
            return None
        return "period", f"{y1}/{y2}"
    if kind == "by":
        return "open_start", f"../{g['y']}"
    if kind == "from":
        return "open_end", f"{g.get('y') or g.get('y2')}/.."
    return "year", g["y"]


def find_dates(text: str) -> list[DateRef]:
    """Dates and periods in ``text``, in order; overlapping matches resolved by specificity."""
    found: list[tuple[int, DateRef]] = []
    if _ANY_YEAR.search(text) is None:  # every pattern needs a year: most sentences end here
        return []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            res = _value(kind, m)
            if res is not None:
                found.append((_PRIORITY[kind], DateRef(m.start(), m.end(), m.group(0), res[0], res[1])))
    found.sort(key=lambda t: (t[0], -(t[1].end - t[1].start)))
    taken: list[DateRef] = []
    for _, d in found:
        if any(d.start < t.end and t.start < d.end for t in taken):
            continue
        taken.append(d)
    return sorted(taken, key=lambda d: d.start)


def first_full_date(text: str) -> str | None:
    """The first complete calendar date (YYYY-MM-DD) in ``text``, or None."""
    for d in find_dates(text):
        if d.kind == "date":
            return d.value
    return None
