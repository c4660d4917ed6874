"""The grammar of numbers in news text: values, magnitudes, units, ranges and qualifiers.

:func:`find_quantities` scans a text for quantities that carry a unit or a measure: money ("$500 million",
"US$68 trillion", "Rs 50bn", "hundreds of millions of dollars"), shares ("90%", "3.2 percent"), grades
("1,400 mg/kg", "6.44% TREO"), masses and rates ("26,000 t", "10,500 tonnes a year"), prices ("US$56/kg"),
distances ("70 miles"), durations ("at least a decade"), counts of domain things ("up to ten mining
projects", "three-step strategy") and ratios ("three to one", "3:1"). A bare number (a year, an ordinal,
"NI 43-101") is never a quantity.

Each :class:`Quantity` keeps the value in the unit as stated (``500``, ``USD million``), the bounds its
qualifier implies, the precision its digits imply (``3%`` means 2.5-3.5, ``3.2%`` means 3.15-3.25), and the
same numbers in a base unit (``USD``, ``t``, ``ppm``, ``km``, ``years``) for comparison.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import accumulate

from orechain.units import UnitError, convert

__all__ = ["Quantity", "find_quantities", "parse_number", "to_base"]

_WORDS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12, "a dozen": 12,
}
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_UNITS_W = "one|two|three|four|five|six|seven|eight|nine"
WORDNUM = (rf"(?:a\s+dozen|dozen|(?:{_TENS})(?:-(?:{_UNITS_W}))?|eleven|twelve|thirteen|fourteen|fifteen|"
           rf"sixteen|seventeen|eighteen|nineteen|ten|hundred|{_UNITS_W})")
DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUM = rf"(?:{DIGITS}|{WORDNUM})"

_MAG = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
        "b": 1e9, "trillion": 1e12, "tn": 1e12, "trn": 1e12, "crore": 1e7, "lakh": 1e5}
_MAG_NAME = {1e3: "thousand", 1e6: "million", 1e9: "billion", 1e12: "trillion"}
MAG = r"(?:trillion|billion|million|thousand|crore|lakh|trn|tn|bn|mln|mn|m|b|k)"

_CURRENCY = {"us$": "USD", "usd": "USD", "u.s.$": "USD", "$": "USD", "a$": "AUD", "au$": "AUD", "c$": "CAD",
             "ca$": "CAD", "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "rs": "PKR", "rs.": "PKR",
             "pkr": "PKR", "¥": "CNY", "rmb": "CNY", "cny": "CNY", "yuan": "CNY", "rupees": "PKR",
             "dollars": "USD", "us dollars": "USD", "euros": "EUR"}
CUR = r"(?:US\$|U\.S\.\s?\$|USD|A\$|AU\$|C\$|CA\$|Rs\.?|PKR|RMB|CNY|EUR|GBP|\$|€|£|¥)"
PER = r"(?:/|\s?per\s|\s?a\s)\s?(?P<per>kg|kilogram|kilo|tonne|ton|t|lb|pound|ounce|oz|mtu|dmtu)\b"

_QUAL_BEFORE: tuple[tuple[str, str], ...] = (
    ("up_to", r"up\s+to|as\s+(?:much|many|high)\s+as|no\s+more\s+than|at\s+most|a\s+maximum\s+of|max(?:imum)?\.?"),
    ("at_least", r"at\s+least|a\s+minimum\s+of|no\s+(?:less|fewer)\s+than|not\s+less\s+than"),
    ("over", r"over|more\s+than|above|exceeding|in\s+excess\s+of|upwards\s+of|north\s+of|greater\s+than|>"),
    ("under", r"under|less\s+than|below|fewer\s+than|just\s+under|<"),
    ("nearly", r"nearly|almost|close\s+to|just\s+shy\s+of|approaching"),
    ("about", r"about|around|roughly|approximately|approx\.?|some|circa|c\.|~|an\s+estimated|estimated\s+at"),
    ("estimated", r"estimated|est\.|a\s+projected|projected"),
)
_QUAL_RE = re.compile(r"(?:^|\W)(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _QUAL_BEFORE) + r")\s*(?:a\s+|an\s+)?"
                      r"(?:[“\"'‘]\s*)?$", re.IGNORECASE)
_QUAL_AFTER = re.compile(r"^(?:\s*(?:-|\s)?(?:plus|\+)|\s+or\s+(?:more|higher|above)|\s+and\s+(?:above|over))",
                         re.IGNORECASE)


@lru_cache(maxsize=1)
def _countable() -> tuple[str, ...]:
    text = (resources.files("orechain.claims") / "data" / "countables.txt").read_text(encoding="utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


@dataclass(frozen=True)
class Quantity:
    """One quantity found in a text, with its span, the value as stated and its bounds."""

    start: int
    end: int
    text: str
    kind: str  # money, share, grade, mass, rate, price, distance, duration, count, ratio
    value: float | None
    lower: float | None
    upper: float | None
    unit: str
    qualifier: str  # exact, up_to, at_least, over, under, nearly, about, estimated, range, vague
    precision: float  # half the step of the last significant digit, in ``unit``
    noun: str | None = None  # counted thing for counts; basis/commodity text for masses

    def base(self) -> tuple[float | None, float | None, float | None, str]:
        """(value, lower, upper, unit) in the base unit of this kind."""
        factor, unit = to_base(self.unit)
        def f(x: float | None) -> float | None:
            return None if x is None else x * factor
        return f(self.value), f(self.lower), f(self.upper), unit

    def interval(self) -> tuple[float, float]:
        """Closed interval of values compatible with the text, in the base unit (bounds, then rounding)."""
        factor, _ = to_base(self.unit)
        lo = self.lower if self.lower is not None else (self.value if self.qualifier in ("exact",) else None)
        hi = self.upper if self.upper is not None else (self.value if self.qualifier in ("exact",) else None)
        lo_v = -math.inf if lo is None else (lo - self.precision) * factor
        hi_v = math.inf if hi is None else (hi + self.precision) * factor
        if self.qualifier in ("up_to", "under", "nearly") and lo is None:
            lo_v = 0.0
        return lo_v, hi_v


def parse_number(text: str) -> tuple[float, float]:
    """A number written in digits or words -> (value, precision), precision being half its last step.

    >>> parse_number("1,400"), parse_number("3.2"), parse_number("three"), parse_number("twenty-five")
    ((1400.0, 50.0), (3.2, 0.05), (3.0, 0.5), (25.0, 0.5))
    """
    t = text.strip().lower().replace("\u00a0", " ")
    if t in _WORDS:
        return float(_WORDS[t]), 0.5
    if "-" in t and t.split("-")[0] in _WORDS:
        a, b = t.split("-", 1)
        return float(_WORDS[a] + _WORDS.get(b, 0)), 0.5
    digits = t.replace(",", "")
    value = float(digits)
    if "." in digits:
        decimals = len(digits.split(".")[1])
        return value, 0.5 * 10 ** -decimals
    stripped = digits.rstrip("0")
    zeros = len(digits) - len(stripped) if stripped else 0
    return value, 0.5 * 10 ** zeros


_BASE: dict[str, tuple[float, str]] = {
    "%": (1.0, "%"), "pp": (1.0, "pp"), "ppm": (1.0, "ppm"), "mg/kg": (1.0, "ppm"), "g/t": (1.0, "ppm"),
    "ppb": (1e-3, "ppm"), "% grade": (1e4, "ppm"), "mile": (1.609344, "km"), "km": (1.0, "km"),
    "years": (1.0, "years"), "decades": (10.0, "years"), "months": (1 / 12, "years"), "count": (1.0, "count"),
    "ratio": (1.0, "ratio"),
}


@lru_cache(maxsize=512)
def to_base(unit: str) -> tuple[float, str]:
    """(factor, base unit) that turn a value in ``unit`` into the base unit of its kind."""
    if unit in _BASE:
        return _BASE[unit]
    parts = unit.split()
    if len(parts) <= 2 and parts[0] in {"USD", "AUD", "CAD", "EUR", "GBP", "PKR", "CNY"}:
        mag = {"": 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
        per = parts[0].split("/")
        return mag.get(parts[1] if len(parts) > 1 else "", 1.0), per[0]
    if "/" in unit and unit.split("/")[0] in {"USD", "AUD", "CAD", "EUR", "GBP", "PKR", "CNY"}:
        cur, per_unit = unit.split("/", 1)
        per_kg = {"kg": 1.0, "t": 1e-3, "lb": 2.2046226218, "oz": 32.150746568, "mtu": 0.1}.get(per_unit, 1.0)
        return per_kg, f"{cur}/kg"
    for base in ("t REO", "t", "t/yr", "t REO/yr"):
        try:
            return convert(1.0, unit, base), base
        except UnitError:
            continue
    return 1.0, unit


def _money_unit(cur: str, mag: str | None) -> tuple[str, float]:
    """('USD million', multiplier applied to the value) for a currency and magnitude word."""
    if not mag:
        return cur, 1.0
    m = _MAG[mag.lower()]
    if m in _MAG_NAME:
        return f"{cur} {_MAG_NAME[m]}", 1.0
    return f"{cur} million", m / 1e6  # crore, lakh


_SEP = r"\s?(?:-|–|—|to|and)\s?"
_MONEY = re.compile(
    rf"(?P<cur>{CUR})\s?(?P<n1>{DIGITS})(?:{_SEP}(?:{CUR})?\s?(?P<n2>{DIGITS}))?"
    rf"(?:\s?(?P<mag>{MAG})\b)?(?:-plus\b)?(?:{PER})?"
    rf"|(?P<wn1>{DIGITS})(?:{_SEP}(?P<wn2>{DIGITS}))?\s(?P<wmag>trillion|billion|million|crore|lakh)\s"
    rf"(?P<wcur>(?:US\s)?dollars|rupees|euros|yuan)",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"(?P<lead>(?:hundreds|tens|several)\s+of\s+)?(?P<mag>trillions|billions|millions)"
    r"(?P<tail>\s+of\s+(?:US\s+)?dollars|\s+of\s+rupees)?",
    re.IGNORECASE,
)
_VAGUE_CTX = re.compile(r"(?:worth|valued\s+at|value\s+of|worth\s+of)\s*[“\"'‘]?\s*$", re.IGNORECASE)
_PERCENT = re.compile(
    rf"(?P<n1>{NUM})(?:{_SEP}(?P<n2>{NUM}))?\s?(?P<u>%|percent(?:age\s+points?)?\b|per\s?cent\b|pct\b|pc\b)"
    r"(?P<grade>\s?(?:TREO|REO|Li2O|WO3|Cu|Sb|U3O8|Nb2O5|grade)\b)?",
    re.IGNORECASE,
)
_GRADE = re.compile(
    rf"(?P<n1>{DIGITS})(?:{_SEP}(?P<n2>{DIGITS}))?\s?"
    r"(?P<u>mg/kg|ppm|ppb|g/t|grams?\s+per\s+(?:metric\s+)?tonne|grams?\s+per\s+ton)\b",
    re.IGNORECASE,
)
_MASS = re.compile(
    rf"(?P<n1>{DIGITS})(?:{_SEP}(?P<n2>{DIGITS}))?\s?(?P<mag>million|billion|thousand)?\s?"
    r"(?P<u>metric\s+tons|metric\s+tonnes|tonnes|tons|kilotonnes|megatonnes|kilograms|kg|kt|Mt|t|"
    r"ktpa|mtpa|tpa|tpy)\b(?!')"
    r"(?P<basis>\s?(?:of\s+)?(?:TREO|REO|rare[\s-]earth\s+oxides?(?:\s+equivalent)?|contained\s+\w+|NdPr\s+oxide))?"
    r"(?P<rate>\s?(?:per\s+(?:year|annum)|a\s+year|annually|/yr|/y|/year|a\s+yr))?",
)
_DISTANCE = re.compile(rf"(?P<n1>{NUM})\s?(?P<u>miles?|km|kilomet(?:re|er)s?)\b", re.IGNORECASE)
_DURATION = re.compile(
    rf"(?P<n1>{NUM}|an?|one)[\s-](?P<u>years?|decades?|months?)\b(?!\s+(?:ago|old))", re.IGNORECASE)
_RATIO = re.compile(
    rf"(?P<n1>{NUM})\s?(?:-to-|\s+to\s+|:)\s?(?P<n2>one|1)\b(?!\s*(?:%|percent|million|billion))"
    rf"|(?<=ratio\sof\s)(?P<n3>\d+):(?P<n4>\d+)\b",
    re.IGNORECASE,
)

_YEARLIKE = re.compile(r"^(?:1[89]|20)\d\d$")


def _count_re() -> re.Pattern[str]:
    nouns = "|".join(sorted((re.escape(n) for n in _countable()), key=len, reverse=True))
    return re.compile(
        rf"(?P<n1>{NUM})(?:[\s-]+(?:(?!(?:million|billion|trillion|thousand|percent|per|of|and|or|to)\b)"
        rf"[a-z]+[\s-]+){{0,2}}?)(?P<noun>{nouns})\b",
        re.IGNORECASE,
    )


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return (("money", _MONEY), ("grade", _GRADE), ("percent", _PERCENT), ("mass", _MASS),
            ("distance", _DISTANCE), ("ratio", _RATIO), ("duration", _DURATION), ("count", _count_re()),
            ("vague", _VAGUE))


def _qualifier(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 28):start]
    m = _QUAL_RE.search(before)
    if m:
        for k, _ in _QUAL_BEFORE:
            if m.group(k):
                return k
    if _QUAL_AFTER.match(text[end:end + 12]):
        return "at_least"
    return "exact"


def _bounds(value: float, qualifier: str) -> tuple[float | None, float | None]:
    if qualifier in ("up_to", "under"):
        return None, value
    if qualifier == "nearly":
        return value * 0.9, value
    if qualifier in ("at_least", "over"):
        return value, None
    if qualifier in ("about", "estimated"):
        return value * 0.9, value * 1.1
    return value, value


def _make(text: str, m: re.Match[str], kind: str, n1: str, n2: str | None, unit: str, scale: float = 1.0,
          noun: str | None = None) -> Quantity | None:
    try:
        v1, p1 = parse_number(n1)
        v2, p2 = parse_number(n2) if n2 else (None, None)
    except ValueError:
        return None
    v1 *= scale
    prec = p1 * scale
    start, end = m.start(), m.end()
    if v2 is not None:
        v2 *= scale
        if v2 < v1:  # "2026 to 2028"-style reversed or "10 to 5": not a range we understand
            return None
        return Quantity(start, end, text[start:end], kind, None, v1, v2, unit, "range", max(prec, (p2 or 0) * scale),
                        noun)
    qual = _qualifier(text, start, end)
    lo, hi = _bounds(v1, qual)
    return Quantity(start, end, text[start:end], kind, v1, lo, hi, unit, qual, prec, noun)


def _from_match(text: str, kind: str, m: re.Match[str]) -> Quantity | None:
    g = m.groupdict()
    if kind == "money":
        if g.get("wn1"):
            cur = _CURRENCY.get(g["wcur"].lower(), "USD")
            unit, scale = _money_unit(cur, g["wmag"])
            return _make(text, m, "money", g["wn1"], g.get("wn2"), unit, scale)
        cur = _CURRENCY.get(re.sub(r"\s", "", g["cur"]).lower(), "USD")
        if g.get("per"):
            per = {"kilogram": "kg", "kilo": "kg", "tonne": "t", "ton": "t", "pound": "lb", "ounce": "oz",
                   "dmtu": "mtu"}.get(g["per"].lower(), g["per"].lower())
            return _make(text, m, "price", g["n1"], g.get("n2"), f"{cur}/{per}")
        unit, scale = _money_unit(cur, g.get("mag"))
        return _make(text, m, "money", g["n1"], g.get("n2"), unit, scale)
    if kind == "vague":
        ctx = _VAGUE_CTX.search(text[max(0, m.start() - 20):m.start()])
        if not (g.get("lead") or g.get("tail") or ctx):
            return None
        mult = {"trillions": 1e12, "billions": 1e9, "millions": 1e6}[g["mag"].lower()]
        cur = "PKR" if g.get("tail") and "rupee" in g["tail"].lower() else "USD"
        unit = f"{cur} {_MAG_NAME[mult]}"
        lead = (g.get("lead") or "").lower()
        lo, hi = (100.0, 1000.0) if lead.startswith("hundreds") else (10.0, 100.0) if lead.startswith("tens") \
            else (2.0, None)
        return Quantity(m.start(), m.end(), m.group(0), "money", None, lo, hi, unit, "vague", 0.0)
    if kind == "percent":
        u = g["u"].lower()
        if u.startswith("percentage"):
            return _make(text, m, "share", g["n1"], g.get("n2"), "pp")
        if g.get("grade"):
            return _make(text, m, "grade", g["n1"], g.get("n2"), "% grade", noun=g["grade"].strip())
        return _make(text, m, "share", g["n1"], g.get("n2"), "%")
    if kind == "grade":
        u = g["u"].lower()
        unit = "mg/kg" if u == "mg/kg" else "ppm" if u == "ppm" else "ppb" if u == "ppb" else "g/t"
        return _make(text, m, "grade", g["n1"], g.get("n2"), unit)
    if kind == "mass":
        u = g["u"]
        rate = bool(g.get("rate")) or u.lower() in ("tpa", "tpy", "ktpa", "mtpa")
        basis = (g.get("basis") or "").strip()
        reo = bool(re.search(r"REO|rare", basis, re.IGNORECASE))
        base = {"kilotonnes": "kt", "kt": "kt", "ktpa": "kt", "megatonnes": "Mt", "Mt": "Mt", "mtpa": "Mt",
                "kilograms": "kg", "kg": "kg"}.get(u, "t")
        mag = g.get("mag")
        scale = {"thousand": 1e3, "million": 1e6, "billion": 1e9}.get(mag or "", 1.0)
        if base == "kg":
            scale, base = scale / 1000, "t"
        if scale >= 1e6 and base == "t":
            scale, base = scale / 1e6, "Mt"
        elif scale >= 1e3 and base == "t":
            scale, base = scale / 1e3, "kt"
        unit = base + (" REO" if reo and base in ("t", "kt", "Mt") else "") + ("/yr" if rate else "")
        if rate and base != "t":
            unit = ("t REO/yr" if reo else "t/yr")
            scale *= {"kt": 1e3, "Mt": 1e6}.get(base, 1.0)
        return _make(text, m, "rate" if rate else "mass", g["n1"], g.get("n2"), unit, scale, noun=basis or None)
    if kind == "distance":
        unit = "mile" if g["u"].lower().startswith("mile") else "km"
        return _make(text, m, "distance", g["n1"], None, unit)
    if kind == "duration":
        n1 = g["n1"]
        if _YEARLIKE.match(n1):
            return None
        u = g["u"].lower()
        unit = "decades" if u.startswith("decade") else "months" if u.startswith("month") else "years"
        n = "one" if n1.lower() in ("a", "an") else n1
        return _make(text, m, "duration", n, None, unit)
    if kind == "ratio":
        if g.get("n3"):
            a, _ = parse_number(g["n3"])
            b, _ = parse_number(g["n4"])
            if b == 0:
                return None
            return Quantity(m.start(), m.end(), m.group(0), "ratio", a / b, a / b, a / b, "ratio", "exact", 0.0)
        q = _make(text, m, "ratio", g["n1"], None, "ratio")
        return q
    if kind == "count":
        if _YEARLIKE.match(g["n1"]):
            return None
        noun = g["noun"].lower()
        return _make(text, m, "count", g["n1"], None, "count", noun=noun)
    return None  # pragma: no cover - every kind is handled above


_PRIORITY = {"money": 0, "price": 0, "grade": 1, "share": 2, "mass": 3, "rate": 3, "distance": 4, "ratio": 5,
             "duration": 6, "count": 7}
_NOT_AFTER = re.compile(r"^[-\w]*(?:th|st|nd|rd)\b")


_NUMBER_WORDS = frozenset(w for w in _WORDS if " " not in w)
_CURRENCY_TOKENS = frozenset({"us", "u", "usd", "rs", "pkr", "rmb", "cny", "eur", "gbp", "au", "ca", "c", "a"})
_VAGUE_WORDS = frozenset({"hundreds", "tens", "several", "trillions", "billions", "millions"})


# Anchors come from two C-level scans instead of a Python loop over every token: a digit anchor is the first
# digit of a run not preceded by a letter, a digit, "." or "," (the lookbehinds sit after the digit so that
# the scan can skip ahead to digits); word anchors are whole ASCII-letter tokens (and currency symbols),
# cut by ``re.split`` and looked up in one dict.
_DIGIT_ANCHOR = re.compile(r"\d(?<![^\W_]\d)(?<![.,]\d)")
_LETTER_SPLIT = re.compile(r"([A-Za-z]+|[$€£¥])")
_ANCHOR_OF: dict[str, tuple[str, ...]] = {
    **{w: ("word",) for w in _NUMBER_WORDS}, **{w: ("currency",) for w in _CURRENCY_TOKENS},
    **{w: ("vague",) for w in _VAGUE_WORDS}, **{s: ("currency",) for s in "$€£¥"},
    "a": ("article", "currency"), "an": ("article",),  # "a" is also the A of "A$"
}


def _anchors(text: str) -> dict[str, list[int]]:
    """Start positions worth trying each kind of pattern at (a full regex scan of every position is slow)."""
    out: dict[str, list[int]] = {"digit": [m.start() for m in _DIGIT_ANCHOR.finditer(text)], "word": [],
                                 "article": [], "currency": [], "vague": []}
    parts = _LETTER_SPLIT.split(text)  # separator, token, separator, ..., separator
    offs = list(accumulate(map(len, parts), initial=0))  # token k starts at offs[2k+1]
    lows = list(map(str.lower, parts[1::2]))
    anchor_of = _ANCHOR_OF
    for k in [k for k, t in enumerate(lows) if t in anchor_of]:
        for kind in anchor_of[lows[k]]:
            out[kind].append(offs[2 * k + 1])
    return out


_ANCHOR_KINDS = {"money": ("currency", "digit"), "grade": ("digit",), "percent": ("digit", "word"),
                 "mass": ("digit",), "distance": ("digit", "word"), "ratio": ("digit", "word"),
                 "duration": ("digit", "word", "article"), "count": ("digit", "word", "article"), "vague": ("vague",)}


def find_quantities(text: str) -> list[Quantity]:
    """Every quantity in ``text``, in order, overlapping matches resolved (by kind, then longest)."""
    found: list[Quantity] = []
    anchors = _anchors(text)
    for kind, pattern in _patterns():
        starts = sorted({p for a in _ANCHOR_KINDS[kind] for p in anchors[a]})
        for pos in starts:
            m = pattern.match(text, pos)
            if m is None:
                continue
            prev = text[m.start() - 1] if m.start() > 0 else " "
            if (prev.isalnum() or prev in "-/.") and text[m.start()] not in "$€£¥":
                continue  # inside a word or a code ("NI 43-101", "COVID-19", "v2.0")
            q = _from_match(text, kind, m)
            if q is not None:
                found.append(q)
    found.sort(key=lambda q: (_PRIORITY.get(q.kind, 9), -(q.end - q.start), q.start))
    taken: list[Quantity] = []
    for q in found:
        if any(q.start < t.end and t.start < q.end for t in taken):
            continue
        taken.append(q)
    return sorted(taken, key=lambda q: q.start)
