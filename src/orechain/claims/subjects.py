"""Name tables and subject keys: what each number in a sentence is about.

Entities come from one :class:`NameTable`: countries (:mod:`orechain.evidence.names`, plus demonyms and
capitals used as metonyms: "Beijing controls ..."), and the tables shipped in ``claims/data``:
organisations, places (ports, mines, regions, plants), people, deals and commodities. The evidence base's
organisations and facilities can be added with :meth:`NameTable.with_evidence`.

A subject key is ``scope/metric/measure``:

* scope: a deal key (``USSM-FWO MoU``), a place or facility (``Pasni port``), an organisation (``Lynas``)
  or an ISO 3166 alpha-3 code (``PAK``);
* metric: what is measured, from ``data/metrics.csv`` and the commodity named nearest to the number
  (``NdFeB magnet production``, ``total mineral wealth``, ``mining projects``); omitted for a deal's value;
* measure: ``value`` (money), ``world share``, ``share of GDP``, ``share``, ``grade``, ``quantity``,
  ``annual rate``, ``price``, ``distance``, ``duration``, ``count`` or ``ratio``.

Examples: ``PAK/total mineral wealth/value``, ``CHN/NdFeB magnet production/world share``,
``USSM-FWO MoU/value``, ``Pasni port/Gwadar port/distance``.
"""

from __future__ import annotations

import csv
import io
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from itertools import accumulate
from typing import Any, TypeVar

from orechain.claims.quantities import Quantity
from orechain.evidence.names import countries

__all__ = ["DocContext", "Entity", "Mention", "NameTable", "Subject", "doc_context", "publishers", "shipped_names",
           "subject_for"]


@dataclass(frozen=True)
class Entity:
    kind: str  # country, organisation, deal, place, person, commodity
    id: str
    key: str  # the label used in subject keys
    country: str | None = None
    sub: str = ""  # place kind (port, mine, region, facility), deal kind (mou, agreement, programme)
    links: tuple[str, ...] = ()  # deal: party organisation ids; person: organisation id
    countries: tuple[str, ...] = ()  # deal: the countries it is between
    evidence: tuple[tuple[str, str], ...] = ()  # evidence-base rows it is: ("organisation"|"facility"|"deal", id)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    entity: Entity


_TOKEN = re.compile(r"[A-Za-z0-9]+")
_TOKEN_SPLIT = re.compile(r"([A-Za-z0-9]+)")


def _squeeze(s: str) -> str:
    return re.sub(r"[\s\-‐–]+", " ", s.replace("’", "'")).strip()


def _case_sensitive(variant: str) -> bool:
    letters = [c for c in variant if c.isalpha()]
    return len(variant) <= 3 or (sum(c.isupper() for c in letters) >= 2 and " " not in variant.strip())


def _read(name: str) -> list[dict[str, str]]:
    text = (resources.files("orechain.claims") / "data" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


class NameTable:
    """Finds entity mentions by their variants: longest match wins; short or acronym variants match case."""

    def __init__(self, entries: Iterable[tuple[str, Entity]]) -> None:
        # first token (lower case) -> (tokens, lower-case tokens, variant as compared, case-sensitive, entity)
        self._first: dict[str, list[tuple[int, tuple[str, ...], str, bool, Entity]]] = {}
        self._entries: list[tuple[str, Entity]] = []  # as given, for :meth:`with_entities`
        self.entities: dict[tuple[str, str], Entity] = {}
        seen: set[tuple[str, str]] = set()
        for variant, ent in entries:
            variant = variant.strip()
            toks = _TOKEN.findall(variant)
            if not toks or (variant.lower(), ent.kind) in seen:
                continue
            seen.add((variant.lower(), ent.kind))
            self._entries.append((variant, ent))
            self.entities[(ent.kind, ent.id)] = ent
            cs = _case_sensitive(variant)
            squeezed = _squeeze(variant)
            self._first.setdefault(toks[0].lower(), []).append(
                (len(toks), tuple(t.lower() for t in toks), squeezed if cs else squeezed.lower(), cs, ent))
        for lst in self._first.values():
            lst.sort(key=lambda t: -t[0])

    def find(self, text: str) -> list[Mention]:
        """Every mention in ``text``, in order, without overlaps.

        The text is cut into tokens (runs of ASCII letters and digits) by one ``re.split``, with offsets
        from the running sum of the pieces' lengths (both in C); only tokens that start some variant are
        looked at in Python, and there the variants are compared longest first (a dict lookup per token,
        then a tuple comparison: an Aho-Corasick-style scan over tokens rather than over characters).
        """
        parts = _TOKEN_SPLIT.split(text)  # separator, token, separator, token, ..., separator
        offs = list(accumulate(map(len, parts), initial=0))  # token k spans offs[2k+1]:offs[2k+2]
        lows = list(map(str.lower, parts[1::2]))
        ntok = len(lows)
        first = self._first
        out: list[Mention] = []
        free = 0  # tokens before this are taken by an earlier mention
        for i in [k for k, t in enumerate(lows) if t in first]:
            if i < free:
                continue
            for n, vtoks, variant, cs, ent in first[lows[i]]:
                if i + n > ntok or (n > 1 and tuple(lows[i:i + n]) != vtoks):
                    continue
                start, end = offs[2 * i + 1], offs[2 * (i + n)]
                span = parts[2 * i + 1] if n == 1 else _squeeze(text[start:end])  # a token needs no squeezing
                if span == variant if cs else span.lower() == variant:
                    out.append(Mention(start, end, ent))
                    free = i + n
                    break
        return out

    def with_entities(self, entries: Iterable[tuple[str, Entity]]) -> NameTable:
        """A new table with more entries (e.g. the evidence base's organisations and facilities)."""
        return NameTable([*self._entries, *entries])

    def with_evidence(self, organisations: Iterable[Mapping[Any, Any]], facilities: Iterable[Mapping[Any, Any]],
                      deal_parties: Iterable[Mapping[Any, Any]]) -> NameTable:
        """A new table that knows the evidence base's organisations, facilities and deals.

        Rows are the evidence base's (``queries.organisations``, ``queries.facilities``,
        ``queries.deal_parties``). An organisation or facility that shares a name or alias with an entity
        of the shipped tables is linked to it (the entity keeps its subject key and gains the evidence
        id); the others are added as new entities under their evidence ids. A shipped deal is linked to
        the evidence deal with the same parties.
        """
        by_variant: dict[tuple[str, str], Entity] = {}
        for variant, ent in self._entries:
            by_variant.setdefault((ent.kind, _squeeze(variant).lower()), ent)
        links: dict[tuple[str, str], list[tuple[str, str]]] = {}
        added: list[tuple[str, Entity]] = []
        org_ids: dict[str, str] = {}  # evidence organisation id -> entity id in this table
        for row in organisations:
            variants = [str(row["name"]), *_split(str(row.get("aliases") or ""))]
            match = next((by_variant[("organisation", _squeeze(v).lower())] for v in variants
                          if ("organisation", _squeeze(v).lower()) in by_variant), None)
            if match is not None:
                links.setdefault(("organisation", match.id), []).append(("organisation", str(row["id"])))
                org_ids[str(row["id"])] = match.id
                continue
            country = _opt(row.get("country"))
            key = _PAREN.sub("", str(row["name"])).strip()
            if country and row.get("kind") == "state_body" and _GOVERNMENT.match(key):
                key = country  # "the US government" is about the country, as "Washington" and "the US" are
            ent = Entity("organisation", str(row["id"]), key, country, str(row.get("kind") or ""),
                         evidence=(("organisation", str(row["id"])),))
            added.extend((v, ent) for v in variants)
            org_ids[str(row["id"])] = ent.id
        for row in facilities:
            name = str(row["name"])
            variants = list(dict.fromkeys([name, _PAREN.sub("", name).strip()]))
            site = _squeeze(str(_opt(row.get("site")) or "")).lower()  # "mt-weld" -> "mt weld"
            match = next((by_variant[("place", _squeeze(v).lower())] for v in variants
                          if ("place", _squeeze(v).lower()) in by_variant), None)
            if match is None and site:  # the site names a shipped mine, plant or port (not a region)
                cand = by_variant.get(("place", site))
                match = cand if cand is not None and cand.sub != "region" else None
            if match is not None:
                links.setdefault(("place", match.id), []).append(("facility", str(row["id"])))
                continue
            first = self.find(variants[-1])
            if first and first[0].start == 0 and first[0].entity.kind == "country":
                continue  # "China rare-earth mining (national aggregate)" would hide the country
            sub = "mine" if row.get("stage") == "mining" else "facility"
            ent = Entity("place", str(row["id"]), variants[-1], _opt(row.get("country")), sub,
                         evidence=(("facility", str(row["id"])),))
            added.extend((v, ent) for v in variants)
        parties: dict[str, set[str]] = {}
        for row in deal_parties:
            parties.setdefault(str(row["deal"]), set()).add(org_ids.get(str(row["organisation"]), ""))
        for (kind, _), ent in self.entities.items():
            if kind == "deal" and ent.links:
                links.setdefault(("deal", ent.id), []).extend(
                    ("deal", d) for d, ps in sorted(parties.items()) if ps == set(ent.links))

        def linked(ent: Entity) -> Entity:
            more = tuple(x for x in links.get((ent.kind, ent.id), []) if x not in ent.evidence)
            return replace(ent, evidence=ent.evidence + more) if more else ent

        return NameTable([*((v, linked(e)) for v, e in self._entries), *added])

    def deals(self) -> list[Entity]:
        return [e for (k, _), e in self.entities.items() if k == "deal"]


def _split(v: str) -> list[str]:
    return [x for x in (v or "").split("|") if x]


_PAREN = re.compile(r"\s*\([^)]*\)")
_GOVERNMENT = re.compile(r"^(?:the\s+)?(?:federal\s+)?government\b", re.IGNORECASE)


def _opt(x: Any) -> str | None:
    return None if x is None or (isinstance(x, float) and x != x) or x == "" else str(x)


@lru_cache(maxsize=1)
def shipped_names() -> NameTable:
    """The name table from the shipped country list and ``claims/data`` tables."""
    entries: list[tuple[str, Entity]] = []
    for c in countries():
        ent = Entity("country", c.code, c.code, c.code)
        for v in (c.name, *c.variants):
            entries.append((v, ent))
    for row in _read("country_aliases.csv"):
        ent = Entity("country", row["code"], row["code"], row["code"])
        entries.extend((v, ent) for v in _split(row["variants"]))
    for row in _read("organisations.csv"):
        ent = Entity("organisation", row["id"], row["key"], row["country"], row["kind"])
        entries.extend((v, ent) for v in (row["name"], row["key"], *_split(row["variants"])))
    for row in _read("places.csv"):
        ent = Entity("place", row["id"], row["key"], row["country"], row["kind"])
        entries.extend((v, ent) for v in (row["name"], row["key"], *_split(row["variants"])))
    for row in _read("people.csv"):
        ent = Entity("person", row["id"], row["key"], row["country"], "", tuple(_split(row["organisation"])))
        entries.extend((v, ent) for v in (row["name"], row["key"], *_split(row["variants"])))
    for row in _read("deals.csv"):
        ent = Entity("deal", row["id"], row["key"], None, row["kind"], tuple(_split(row["parties"])),
                     tuple(_split(row["countries"])))
        if row["pair_default"] == "yes":
            ent = Entity(ent.kind, ent.id, ent.key, "default", ent.sub, ent.links, ent.countries)
        entries.extend((v, ent) for v in (row["name"], row["key"], *_split(row["variants"])))
    for row in _read("commodities.csv"):
        ent = Entity("commodity", row["id"], row["key"])
        entries.extend((v, ent) for v in _split(row["variants"]))
    return NameTable(entries)


@lru_cache(maxsize=1)
def publishers() -> dict[str, str]:
    """Lower-cased publisher name or variant -> the publisher's name (``data/publishers.csv``)."""
    out: dict[str, str] = {}
    for row in _read("publishers.csv"):
        for v in (row["name"], *_split(row["variants"])):
            out[" ".join(re.findall(r"[\w.]+", v)).lower()] = row["name"]
    return out


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    kinds: frozenset[str]
    commodity: str  # "yes": prefix the nearest commodity; "no": never; other text: default prefix
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def metrics() -> tuple[Metric, ...]:
    return tuple(Metric(r["id"], r["label"], frozenset(_split(r["kinds"])), r["commodity"],
                        re.compile(rf"\b(?:{r['pattern']})", re.IGNORECASE)) for r in _read("metrics.csv"))


@dataclass(frozen=True)
class DocContext:
    """What a document is mostly about: the fallback scope for sentences that name nothing."""

    country: str | None
    deal: Entity | None
    mentions: tuple[Mention, ...] = field(default=())
    deals: tuple[Entity, ...] = field(default=())  # every known deal, for "the memorandum" + a named party


_GENERIC_DEAL_KINDS = ("mou", "agreement")


def doc_context(mentions: Sequence[Mention], names: NameTable) -> DocContext:
    """The most-mentioned country and the deal an unnamed "the agreement" most likely means."""
    cc = Counter(m.entity.id for m in mentions if m.entity.kind == "country" and m.entity.id not in ("WLD", "OTH"))
    country = cc.most_common(1)[0][0] if cc else None
    orgs = {m.entity.id for m in mentions if m.entity.kind == "organisation"}
    dc: Counter[str] = Counter()
    deals = {d.id: d for d in names.deals() if d.sub in _GENERIC_DEAL_KINDS}
    for m in mentions:
        if m.entity.kind == "deal" and m.entity.id in deals:
            dc[m.entity.id] += 2
    for d in deals.values():
        if d.links and all(p in orgs for p in d.links):
            dc[d.id] += 1
    deal = deals[dc.most_common(1)[0][0]] if dc else None
    if deal is None:
        pair = [d for d in deals.values() if d.country == "default" and d.countries
                and all(c in cc for c in d.countries)]
        if pair:
            deal = max(pair, key=lambda d: sum(cc[c] for c in d.countries))
    return DocContext(country, deal, tuple(mentions), tuple(names.deals()))


@dataclass(frozen=True)
class Subject:
    key: str
    scope: str
    metric: str | None
    measure: str
    entities: tuple[tuple[str, str], ...]  # (kind, id) named in the sentence, plus the scope's


_DEAL_NOUN = r"(?:pact|deal|agreement|accord|MoU|memorandum|contract|partnership|framework|compact)"
_DEAL_AFTER = re.compile(rf"^(?:\s+[\w-]+){{0,3}}?\s+{_DEAL_NOUN}\b", re.IGNORECASE)
_DEAL_BEFORE = re.compile(rf"\b{_DEAL_NOUN}\b(?:\s+[\w’'-]+){{0,4}}?\s+(?:worth|valued\s+at|of|for)\s*(?:about|"
                          r"around|nearly|up\s+to|some|an\s+estimated)?\s*$", re.IGNORECASE)
_DEAL_CONTEXT = re.compile(rf"\b(?:{_DEAL_NOUN}|phases?|steps?)\b", re.IGNORECASE)
_ANAPHORA = re.compile(r"\bthe\s+(?P<n>port|mine|plant|refinery|facility|project)\b", re.IGNORECASE)
_ANAPHORA_KINDS = {"port": ("port",), "mine": ("mine",), "plant": ("facility",), "refinery": ("facility",),
                   "facility": ("facility",), "project": ("mine", "port", "facility")}
_GLOBAL = re.compile(r"\b(?:global|world(?:wide|'s)?|international|planet)\b", re.IGNORECASE)
_GDP = re.compile(r"\b(?:GDP|gross domestic product)\b")
_GDP_BEFORE = re.compile(r"\b(?:GDP|gross domestic product)(?:\s+(?:share|contribution))?\s*(?:of|at|is|was|to|by|:)?"
                         r"\s*(?:about|around|roughly|nearly|some|an\s+estimated|just)?\s*$")
_SECTOR = re.compile(r"\b(?:mining|mineral|minerals)\b(?:\s+(?:and\s+\w+\s+)?(?:sector|industry|industries))?",
                     re.IGNORECASE)
_FROM = re.compile(r"^\s+(?:\w+\s+)?(?:from|to)\s+(?:the\s+)?(?P<p>[^,.;()—]+?)(?=\s+and\s|\s+or\s|[,.;()—]|$)")
_TARGETS = re.compile(r"(?:miles?|km|kilomet\w+)\s+(?:\w+\s+)?(?:from|to)\s+(?:the\s+)?(?P<p>[^,.;()—]+?)"
                      r"(?=\s+and\s|\s+or\s|[,.;()—]|$)")
_COUNT_FILLER = {"ambitious", "new", "major", "large", "small", "separate", "additional", "more", "key", "big",
                 "different", "other", "planned", "proposed", "further", "initial", "its", "the"}
_COUNT_LABEL = {"step": "phases", "steps": "phases", "stage": "phases", "stages": "phases", "phase": "phases",
                "project": "projects", "mine": "mines", "plant": "plants", "refinery": "refineries",
                "deposit": "deposits", "shipment": "shipments", "facility": "facilities", "licenses": "licences"}
_MEASURE = {"money": "value", "grade": "grade", "mass": "quantity", "rate": "annual rate", "price": "price",
            "distance": "distance", "duration": "duration", "count": "count", "ratio": "ratio"}


_CLAUSE_SEPS = (re.compile(r"[,;()—–:]"), re.compile(r"[;()—–]"))


def _clauses(sentence: str, pos: int) -> list[tuple[int, int]]:
    """Nested windows around ``pos``: comma clause, then bracket/semicolon/dash clause, then the sentence."""
    out = []
    for seps in _CLAUSE_SEPS:
        cuts = [m.start() for m in seps.finditer(sentence)]
        k = bisect_left(cuts, pos)  # cuts[:k] lie before pos
        out.append((cuts[k - 1] + 1 if k else 0, cuts[k] if k < len(cuts) else len(sentence)))
    out.append((0, len(sentence)))
    return out


T = TypeVar("T")


def _nearest(items: Iterable[tuple[int, int, T]], q_start: int, q_end: int) -> T | None:
    best: T | None = None
    dist: int | None = None
    for s, e, obj in items:
        d = q_start - e if e <= q_start else s - q_end if s >= q_end else 0
        d = d if e <= q_start else d + 1  # ties go to what comes before
        if dist is None or d < dist:
            best, dist = obj, d
    return best


@lru_cache(maxsize=32)
def _metrics_of(kind: str) -> tuple[tuple[Metric, ...], re.Pattern[str] | None]:
    """The metrics that apply to a kind of quantity, and one regex matching wherever any of them does."""
    mets = tuple(m for m in metrics() if kind in m.kinds)
    if not mets:
        return mets, None
    return mets, re.compile("|".join(f"(?:{m.pattern.pattern})" for m in mets), re.IGNORECASE)


def _metric_for(sentence: str, q: Quantity, qs: int, qe: int, exclude: str = "") -> tuple[Metric | None, int, int]:
    mets, any_metric = _metrics_of(q.kind)
    if any_metric is None:
        return None, -1, -1
    for lo, hi in _clauses(sentence, qs):
        if any_metric.search(sentence, lo, hi) is None:  # no metric of this kind in the window
            continue
        found: list[tuple[int, int, tuple[Metric, int, int]]] = []
        for met in mets:
            if met.id == exclude:
                continue
            for m in met.pattern.finditer(sentence, lo, hi):
                if m.start() < qe and qs < m.end():
                    continue
                found.append((m.start(), m.end(), (met, m.start(), m.end())))
        best = _nearest(found, qs, qe)
        if best is not None:
            return best
    return None, -1, -1


def _commodity_label(sentence: str, mentions: Sequence[Mention], qs: int, qe: int) -> str | None:
    for lo, hi in _clauses(sentence, qs)[:2]:
        found = [(m.start, m.end, m.entity.key) for m in mentions
                 if m.entity.kind == "commodity" and lo <= m.start and m.end <= hi]
        best = _nearest(found, qs, qe)
        if best is not None:
            return str(best)
    return None


def subject_for(sentence: str, offset: int, q: Quantity, mentions: Sequence[Mention], ctx: DocContext) -> Subject:
    """The subject of quantity ``q`` (spans relative to the document; ``offset`` = the sentence's start)."""
    qs, qe = q.start - offset, q.end - offset
    local = [Mention(m.start - offset, m.end - offset, m.entity) for m in mentions]
    named = tuple(sorted({(m.entity.kind, m.entity.id) for m in local}))
    met, ms, _me = _metric_for(sentence, q, qs, qe)
    measure = _MEASURE.get(q.kind, "share")
    metric_label: str | None = None
    if met is not None:
        if met.commodity == "no":
            metric_label = met.label
        else:
            com = _commodity_label(sentence, local, qs, qe) or (
                "rare earth" if q.noun and re.search(r"REO|rare", q.noun, re.IGNORECASE) else None)
            if met.commodity not in ("yes", "") and com in (None, "rare earth"):
                com = met.commodity  # "rare earth magnets" are the default (NdFeB) magnets
            if com is None and (re.search(r"\b(?:mineral|minerals)\s+$", sentence[max(0, ms - 10):ms])
                                or re.match(r"\w+\s+of\s+minerals\b", sentence[ms:ms + 30])):
                com = "mineral"
            metric_label = f"{com} {met.label}" if com else met.label
    if met is not None and met.id == "growth":
        measure = "change"
        other, ms, _me = _metric_for(sentence, q, qs, qe, exclude="growth")
        if other is not None:
            met = other
            com = _commodity_label(sentence, local, qs, qe)
            if com is None and re.match(r"\w+\s+of\s+minerals\b", sentence[ms:ms + 30]):
                com = "mineral"
            metric_label = f"{com} {other.label}" if com and other.commodity != "no" else other.label
    if met is None and q.kind in ("grade", "price"):
        com = _commodity_label(sentence, local, qs, qe) or (
            "rare earth" if q.noun and re.search(r"REO|rare", q.noun, re.IGNORECASE) else None)
        metric_label = f"{com} {q.kind}" if com else q.kind
    if q.kind == "share" and measure != "change":
        if _GDP.search(sentence[qe:qe + 30]) or _GDP_BEFORE.search(sentence[max(0, qs - 40):qs]):
            measure = "share of GDP"
            sector = _SECTOR.search(sentence)
            metric_label = "mining sector" if sector else "economy"
        elif met is not None and met.id == "stake":
            measure, metric_label = "stake", None
        else:
            measure = "world share" if _GLOBAL.search(sentence) else "share"
    if q.kind == "count":
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", q.text)[1:] if w.lower() not in _COUNT_FILLER]
        if words and words[0] in ("step", "phase", "stage"):
            words = words[:1]
        if words:
            words[-1] = _COUNT_LABEL.get(words[-1], words[-1])
        metric_label = " ".join(words) or None
    if q.kind == "distance":
        m = _FROM.match(sentence[qe:])
        if m:
            p0 = qe + m.start("p")
            p1 = qe + m.end("p")
            target = [lm for lm in local if p0 <= lm.start < p1 and lm.entity.kind == "place"]
            if target:
                metric_label = target[0].entity.key
            else:
                words = m.group("p").split()
                while words and (words[0].islower() or words[0].endswith("-backed")):
                    words = words[1:]
                metric_label = " ".join(words) or None

    targets = [(m.start("p"), m.end("p")) for m in _TARGETS.finditer(sentence)] if q.kind == "distance" else []
    scope = _pick_scope(sentence, offset, q, qs, qe, local, ctx, met, targets)
    scope_key = scope.key if scope is not None else (ctx.country or "unknown")
    if scope is not None and scope.kind == "deal" and q.kind == "money" and _DEAL_AFTER.match(sentence[qe:qe + 60]):
        metric_label = None  # "$500 million pact": the value of the deal itself
    ents = set(named) | {(f"ev_{t}", i) for m in local for t, i in m.entity.evidence}
    if scope is not None:
        ents.add((scope.kind, scope.id))
        ents.update((f"ev_{t}", i) for t, i in scope.evidence)
    parts = [scope_key] + ([metric_label] if metric_label else []) + [measure]
    return Subject("/".join(parts), scope_key, metric_label, measure, tuple(sorted(ents)))


def _pick_scope(sentence: str, offset: int, q: Quantity, qs: int, qe: int, local: Sequence[Mention],
                ctx: DocContext, met: Metric | None, distance_targets: Sequence[tuple[int, int]]) -> Entity | None:
    countries_ = [m for m in local if m.entity.kind == "country" and m.entity.id not in ("WLD", "OTH")]
    if met is not None and met.id == "wealth" and q.kind == "money":
        c = _nearest([(m.start, m.end, m.entity) for m in countries_], qs, qe)
        if c is None:
            orgs = [m for m in local if m.entity.kind in ("organisation", "person", "place") and m.entity.country]
            o = _nearest([(m.start, m.end, m.entity) for m in orgs], qs, qe)
            if isinstance(o, Entity) and o.country:
                return Entity("country", o.country, o.country, o.country)
            return Entity("country", ctx.country, ctx.country, ctx.country) if ctx.country else None
        return c if isinstance(c, Entity) else None
    deals_named = [m for m in local if m.entity.kind == "deal"]
    if q.kind in ("money", "count"):
        adjacent = q.kind == "money" and (_DEAL_AFTER.match(sentence[qe:qe + 60]) is not None
                                          or _DEAL_BEFORE.search(sentence[max(0, qs - 80):qs]) is not None)
        phase_like = q.kind == "count" and (q.noun or "") in ("phases", "phase", "steps", "step", "stages")
        in_deal_talk = q.kind == "count" and _DEAL_CONTEXT.search(sentence) is not None
        if deals_named and (adjacent or q.kind == "money" or phase_like or in_deal_talk):
            d = _nearest([(m.start, m.end, m.entity) for m in deals_named], qs, qe)
            return d if isinstance(d, Entity) else None
        org_ids = {m.entity.id for m in local if m.entity.kind == "organisation"}
        if _DEAL_CONTEXT.search(sentence):
            by_party = [d for d in ctx.deals if d.links and org_ids & set(d.links)]
            if by_party:
                return by_party[0]
        if (adjacent or phase_like or in_deal_talk) and ctx.deal is not None:
            org_ids = {m.entity.id for m in local if m.entity.kind == "organisation"}
            if not org_ids or not ctx.deal.links or org_ids & set(ctx.deal.links):
                return ctx.deal
    if met is not None and met.id == "stake" and q.kind == "share":
        owned = [m for m in local if m.start >= qe and m.entity.kind in ("place", "organisation")]
        if owned:
            return owned[0].entity
    if q.kind in ("grade", "ratio"):
        anywhere = [m for m in local if m.entity.kind == "place"]
        if anywhere:
            p = _nearest([(m.start, m.end, m.entity) for m in anywhere], qs, qe)
            if p is not None:
                return p
    if q.kind == "distance":
        places = [m for m in local if m.entity.kind == "place" and m.end <= qs
                  and not any(a <= m.start < b for a, b in distance_targets)]
        if places:
            return places[0].entity
    places = [m for m in local if m.entity.kind == "place" and m.entity.sub in ("port", "mine", "facility")]
    ana = _ANAPHORA.search(sentence)
    if not places and ana:
        kinds = _ANAPHORA_KINDS[ana.group("n").lower()]
        prior = [m for m in ctx.mentions if m.entity.kind == "place" and m.entity.sub in kinds
                 and m.start < offset + qs]
        if prior:
            return prior[-1].entity
    if places and q.kind not in ("share",):
        p = _nearest([(m.start, m.end, m.entity) for m in places], qs, qe)
        return p if isinstance(p, Entity) else None
    cands = [m for m in local if m.entity.kind in ("organisation", "country", "person", "place")
             and m.entity.id not in ("WLD", "OTH") and not (m.entity.kind == "place" and m.entity.sub == "region")]
    before = [m for m in cands if m.end <= qs]
    pick = before[-1] if before else (cands[0] if cands else None)
    if pick is None:
        regions = [m for m in local if m.entity.kind == "place"]
        if regions:
            return Entity("country", regions[0].entity.country or "", regions[0].entity.country or "",
                          regions[0].entity.country)
        return Entity("country", ctx.country, ctx.country, ctx.country) if ctx.country else None
    e = pick.entity
    if e.kind == "person":
        return Entity("country", e.country or "", e.country or "", e.country) if e.country else None
    if e.kind == "organisation" and q.kind == "share" and e.sub in ("state_body", "military_body") and e.country:
        return Entity("country", e.country, e.country, e.country)
    return e
