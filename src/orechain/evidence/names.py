"""One table of country names and variants, for importers, claims extraction and the API alike.

``data/countries.csv`` holds ISO 3166-1 codes with a short name and ``|``-separated variants as they
appear in USGS, World Bank, BACI, WMD and news text (Burma, "Korea, Rep.", PRC, Türkiye, ...).
``data/aggregates.csv`` holds the two aggregate rows statistical tables carry: world (``WLD``) and
"other countries" (``OTH``).

Matching is exact after normalisation (case, accents, punctuation, whitespace, a trailing footnote
number and a trailing parenthesised qualifier such as "(recoverable)"); there is no fuzzy matching, so
"Niger" never becomes Nigeria and "Guinea" never becomes Papua New Guinea. An unknown or ambiguous
name raises :class:`UnknownName` with suggestions.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from orechain.evidence.model import AGGREGATES, CountryCode

__all__ = ["CountryName", "UnknownName", "countries", "country_name", "normalise", "resolve_country"]


class UnknownName(LookupError):
    """A name that does not resolve to exactly one entity."""

    def __init__(self, name: str, suggestions: list[str] | None = None, reason: str = "unknown") -> None:
        self.name = name
        self.suggestions = suggestions or []
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"{reason} country name {name!r}{hint}")


@dataclass(frozen=True)
class CountryName:
    code: CountryCode
    name: str
    iso2: str | None
    numeric: int | None
    variants: tuple[str, ...]


_PAREN_QUALIFIER = re.compile(r"\s*\((?:recoverable|rounded|e|est\.?|estimated|\d+)\)\s*$")
_TRAILING_FOOTNOTE = re.compile(r"(?<=[a-z)])\s*\d{1,2}(?:,\s*\d{1,2})*$")


def normalise(name: str) -> str:
    """Casefolded, accent-free, punctuation-light form of a name used as the lookup key."""
    s = unicodedata.normalize("NFKD", name.replace("\u00a0", " "))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("’", "'").replace("‘", "'").strip().casefold()
    s = _TRAILING_FOOTNOTE.sub("", s)
    s = s.replace("&", " and ")
    s = re.sub(r"[.\u2019']", "", s)
    s = re.sub(r"[^a-z0-9(),\- ]+", " ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,-")
    if s.startswith("the "):
        s = s[4:]
    return s


@lru_cache(maxsize=1)
def countries() -> tuple[CountryName, ...]:
    """All countries and the two aggregates, in code order."""
    out: list[CountryName] = []
    data = resources.files("orechain.evidence") / "data"
    for row in csv.DictReader(io.StringIO((data / "countries.csv").read_text(encoding="utf-8"))):
            out.append(CountryName(
                code=CountryCode(row["code"]), name=row["name"], iso2=row["iso2"] or None,
                numeric=int(row["numeric"]) if row["numeric"] else None,
                variants=tuple(v for v in row["variants"].split("|") if v),
            ))
    for row in csv.DictReader(io.StringIO((data / "aggregates.csv").read_text(encoding="utf-8"))):
            out.append(CountryName(code=CountryCode(row["code"]), name=row["name"], iso2=None, numeric=None,
                                   variants=tuple(v for v in row["variants"].split("|") if v)))
    return tuple(sorted(out, key=lambda c: c.code))


@lru_cache(maxsize=1)
def _index() -> dict[str, CountryCode]:
    idx: dict[str, CountryCode] = {}
    clashes: dict[str, set[str]] = {}
    for c in countries():
        keys = {normalise(c.name), *(normalise(v) for v in c.variants)}
        for k in keys:
            if k in idx and idx[k] != c.code:
                clashes.setdefault(k, {idx[k]}).add(c.code)
            idx[k] = c.code
    if clashes:  # a broken shipped table is a bug, not a user error
        raise RuntimeError(f"country name table has ambiguous variants: {clashes}")
    return idx


@lru_cache(maxsize=4096)
def resolve_country(name: str) -> CountryCode:
    """The ISO 3166-1 alpha-3 code (or ``WLD``/``OTH``) for a country name, code or variant.

    >>> resolve_country("Burma"), resolve_country("Korea, Rep."), resolve_country("World total (rounded)")
    ('MMR', 'KOR', 'WLD')
    """
    if not name or not name.strip():
        raise UnknownName(name, reason="empty")
    idx = _index()
    code = name.strip()
    if len(code) == 3 and code.isascii() and code.isupper() and code in _by_code():
        return CountryCode(code)  # an ISO code counts only as written, in capitals ("AND", never "and")
    key = normalise(name)
    if key in idx:
        return idx[key]
    stripped = _PAREN_QUALIFIER.sub("", key).strip()
    if stripped in idx:
        return idx[stripped]
    if key == "congo":
        raise UnknownName(name, ["COD (Democratic Republic of the Congo)", "COG (Republic of the Congo)"],
                          reason="ambiguous")
    if len(code) == 3 and code.upper() in _by_code():
        raise UnknownName(name, [f"{code.upper()} ({country_name(code.upper())})"],
                          reason="ISO codes are written in capitals; unknown")
    close = difflib.get_close_matches(key, list(idx), n=3, cutoff=0.8)
    raise UnknownName(name, sorted({f"{idx[c]} ({country_name(idx[c])})" for c in close}))


@lru_cache(maxsize=1)
def _by_code() -> dict[str, CountryName]:
    return {c.code: c for c in countries()}


def country_name(code: str) -> str:
    """The short display name for a code."""
    c = _by_code().get(code)
    if c is None:
        raise UnknownName(code, reason="unknown code for")
    return c.name


def is_aggregate(code: str) -> bool:
    return code in AGGREGATES


def by_numeric(numeric: int) -> CountryCode:
    """ISO 3166-1 numeric code -> alpha-3 code."""
    for c in countries():
        if c.numeric == numeric:
            return c.code
    raise UnknownName(str(numeric), reason="unknown numeric code for")
