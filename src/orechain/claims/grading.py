"""Grading claims: reporting-ladder status, corroboration and plausibility.

* :func:`ladder_status`: where a claim sits on the resource-reporting ladder (CRIRSCO family: JORC,
  NI 43-101, SAMREC, S-K 1300): ``unclassified_estimate`` < ``exploration_target`` < ``exploration_results``
  < ``inferred_resource`` < ``indicated_resource`` < ``measured_resource`` < ``probable_reserve`` <
  ``proved_reserve``; ``not_applicable`` for claims that are not about a resource (a deal's value, a share).
  A government's "worth $N trillion" is an unclassified estimate.
* :func:`grade_tonnage`: the grade-tonnage-price calculator (pure, works on arrays): what contained tonnage,
  and what ore tonnage at a grade, a claimed value needs at a price.
* :func:`plausibility`: a verdict and a note for one claim against :class:`Reference` figures (the evidence
  base's prices, reserves and stage shares when it has them; otherwise the sourced rows of
  ``claims/data/reference.csv``, each with its source and quality).
* Corroboration depends on the whole ledger and is computed when the ledger is read
  (:func:`orechain.claims.ledger.grade`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from orechain.claims.extract import Claim
    from orechain.evidence.store import Store

__all__ = ["LADDER", "DocumentSource", "RefRow", "Reference", "canonical_source", "grade_tonnage", "ladder_status",
           "plausibility", "share_agrees"]

LADDER = ("not_applicable", "unclassified_estimate", "exploration_target", "exploration_results",
          "inferred_resource", "indicated_resource", "measured_resource", "probable_reserve", "proved_reserve")

_LEVELS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("indicated_resource", re.compile(r"\bmeasured\s+and\s+indicated\b", re.IGNORECASE)),
    ("proved_reserve", re.compile(r"\bprove[dn]\s+(?:ore\s+|mineral\s+)?reserves?\b", re.IGNORECASE)),
    ("probable_reserve", re.compile(r"\bprobable\s+(?:ore\s+|mineral\s+)?reserves?\b", re.IGNORECASE)),
    ("measured_resource", re.compile(r"\bmeasured\s+(?:mineral\s+)?resources?\b", re.IGNORECASE)),
    ("indicated_resource", re.compile(r"\bindicated\s+(?:mineral\s+)?resources?\b", re.IGNORECASE)),
    ("inferred_resource", re.compile(r"\binferred\s+(?:mineral\s+)?resources?\b|\b(?:JORC|NI\s?43-101|SAMREC|"
                                     r"S-K\s?1300)[\s-]*(?:compliant|code)?\s+(?:mineral\s+)?resources?\b",
                                     re.IGNORECASE)),
    ("exploration_target", re.compile(r"\bexploration\s+targets?\b", re.IGNORECASE)),
    ("exploration_results", re.compile(r"\b(?:exploration|drill(?:ing)?|assay)\s+results?\b|\bassays?\b|"
                                       r"\bsamples?\s+(?:show|returned|grad)", re.IGNORECASE)),
)
_NEGATION = re.compile(r"\b(?:not|no|un\w+|without|absence|lack(?:ing)?|never|rather\s+than)\b[^.;]{0,60}$",
                       re.IGNORECASE)
_RESOURCE_TALK = re.compile(r"\b(?:reserves?|resources?|deposits?|wealth|treasure|worth|ore|grade|belts?|"
                            r"mg/kg|ppm)\b", re.IGNORECASE)
_RESOURCE_METRICS = ("total mineral wealth", "reserves", "resources", "grade")


def ladder_status(sentence: str, metric: str | None, kind: str) -> str:
    """The claim's rung on the reporting ladder, read from its sentence (negated mentions do not count)."""
    for level, pat in _LEVELS:
        for m in pat.finditer(sentence):
            if not _NEGATION.search(sentence[max(0, m.start() - 80):m.start()]):
                return level
    about_resource = (metric is not None and any(metric.endswith(r) for r in _RESOURCE_METRICS)) or \
        (kind in ("grade",)) or (kind in ("mass", "money") and metric is not None and "reserve" in metric)
    if about_resource or (kind == "money" and metric is None and _RESOURCE_TALK.search(sentence) and
                          re.search(r"\b(?:worth|valued)\b", sentence, re.IGNORECASE)):
        return "unclassified_estimate"
    return "not_applicable"


A = TypeVar("A", float, npt.NDArray[np.float64])


def grade_tonnage(value_usd: A, price_usd_per_kg: A, grade_ppm: A) -> tuple[A, A]:
    """(contained tonnes, ore tonnes) that a value needs at a price per kg of product and an ore grade.

    >>> grade_tonnage(6e12, 56.0, 1400.0)
    (107142857.14285715, 76530612244.89796)
    """
    contained = value_usd / (price_usd_per_kg * 1000.0)
    ore = contained / (grade_ppm / 1e6)
    return contained, ore


@dataclass(frozen=True)
class RefRow:
    kind: str
    item: str
    country: str | None
    stage: str | None
    commodity: str | None
    value: float
    lower: float | None
    upper: float | None
    unit: str
    tonnage_t: float | None
    year: str | None
    source: str
    quality: str
    observation_id: str | None = None
    publisher: str | None = None  # the evidence source's publisher
    cites: str = ""  # the evidence source's id, title, URL and notes, lower-cased: where it says what it rests on


@dataclass
class Reference:
    """Figures plausibility checks compare claims with, each with its source and quality."""

    rows: list[RefRow] = field(default_factory=list)

    def of(self, kind: str, **match: str | None) -> list[RefRow]:
        return [r for r in self.rows if r.kind == kind and all(getattr(r, k) == v for k, v in match.items())]

    @classmethod
    def shipped(cls) -> Reference:
        text = (resources.files("orechain.claims") / "data" / "reference.csv").read_text(encoding="utf-8")
        rows = []
        for r in csv.DictReader(io.StringIO(text)):
            def f(x: str) -> float | None:
                return float(x) if x else None
            rows.append(RefRow(r["kind"], r["item"], r["country"] or None, r["stage"] or None, r["commodity"] or None,
                               float(r["value"]), f(r["lower"]), f(r["upper"]), r["unit"], f(r["tonnage_t"]),
                               r["year"] or None, r["source"], r["quality"]))
        return cls(rows)

    @classmethod
    def from_store(cls, store: Store | None) -> Reference:
        """Evidence-base figures first (prices, reserves, stage shares); shipped rows fill what it lacks."""
        shipped = cls.shipped()
        if store is None:
            return shipped
        from orechain.evidence import queries

        try:
            obs = queries.observations(store, metric=["price", "reserves", "stage_share"])
            sources = queries.sources(store)
            deals = queries.deals(store)
        except Exception:  # an evidence schema mid-change must not stop claims work
            return shipped
        cites = {str(r["id"]): " ".join(str(r.get(k) or "") for k in ("id", "title", "url", "notes")).lower()
                 for r in sources.to_dict(orient="records")}
        pubs = {str(r["id"]): _str(r.get("publisher")) for r in sources.to_dict(orient="records")}
        rows: list[RefRow] = []
        for o in obs.to_dict(orient="records"):
            value = _num(o.get("value"))
            if value is None:
                continue
            year = _num(o.get("year"))
            rows.append(RefRow(str(o["metric"]), f"{o['metric']} {o['commodity']} {o.get('country') or ''}".strip(),
                               _str(o.get("country")), _str(o.get("stage")), _str(o.get("commodity")), value,
                               _num(o.get("lower")), _num(o.get("upper")), str(o["unit"]), None,
                               None if year is None else str(int(year)),
                               f"{o.get('publisher')}: {o.get('source_title')}", str(o["quality"]), str(o["id"]),
                               _str(o.get("publisher")), cites.get(str(o["source_id"]), "")))
        rows.extend(_deal_rows(deals.to_dict(orient="records"), pubs, cites))
        have = {(r.kind, r.country, r.stage, r.commodity) for r in rows}
        rows += [r for r in shipped.rows if r.kind == "deposit_grade"
                 or (r.kind, r.country, r.stage, r.commodity) not in have]
        return cls(rows)


def _deal_rows(deals: list[dict[Any, Any]], publishers_: dict[str, str | None],
               cites: dict[str, str]) -> list[RefRow]:
    """One ``deal_value`` row per evidence deal with a value, in US$ (bounds from its value text's qualifier)."""
    from orechain.claims.quantities import find_quantities, to_base

    rows = []
    for d in deals:
        value, unit = _num(d.get("value")), _str(d.get("value_unit"))
        if value is None or unit is None:
            continue
        factor, base = to_base(unit)
        if base != "USD":
            continue
        lo = hi = value * factor
        text = _str(d.get("value_text")) or ""
        q = next((q for q in find_quantities(text) if q.kind == "money"), None)
        if q is not None and abs((q.base()[0] or 0.0) - value * factor) <= 1e-6 * value * factor:
            lo, hi = q.interval()
        src = str(d.get("source_id") or "")
        stated = text or f"{value:g} {unit}"
        rows.append(RefRow("deal_value", str(d["id"]), None, None, None, value * factor, lo, hi, "USD", None,
                           (_str(d.get("signed")) or "")[:4] or None, f"{d.get('name')} ({src}); stated as {stated}",
                           "quality not recorded", None, publishers_.get(src), cites.get(src, "")))
    return rows


_GENERIC_SPEAKER = re.compile(r"^(?:the\s+)?(?:\w+\s+)?(?:government|officials?|experts?|analysts?|sources?|critics|"
                              r"executives|company|ministry|observers|investors|state|authorities)$", re.IGNORECASE)


def canonical_source(name: str | None) -> str | None:
    """A publisher or speaker name in one spelling: publisher variants mapped to the publisher
    (``REEx`` -> ``rare earth exchanges``), lower case, without a leading "the"; None for generic speakers
    ("officials", "the government"), which name no particular source."""
    if not name or _GENERIC_SPEAKER.match(name.strip()):
        return None
    from orechain.claims.subjects import publishers

    key = " ".join(re.findall(r"[\w.]+", name)).lower().rstrip(".")  # "... to Rare Earth Exchanges."
    key = publishers().get(key, key).lower()
    return re.sub(r"^the\s+", "", key) or None


@dataclass(frozen=True)
class DocumentSource:
    """What a claim's document is, for telling whether an evidence row rests on the same source."""

    publisher: str | None = None
    name: str | None = None  # file name
    title: str | None = None

    def same_source(self, row: RefRow, attribution: str | None = None) -> bool:
        """True when ``row`` is not independent of the document: the same publisher, a source that cites
        the document's file or title, or the source the claim itself attributes its figure to."""
        pub = canonical_source(row.publisher)
        if pub is not None and pub in (canonical_source(self.publisher), canonical_source(attribution)):
            return True
        if self.name and len(self.name) >= 8 and self.name.lower() in row.cites:
            return True
        title = " ".join(re.findall(r"\w+", self.title or "")).lower()
        cited = " ".join(re.findall(r"\w+", row.cites))
        return len(title.split()) >= 4 and title in cited


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if v != v else v


def _str(x: Any) -> str | None:
    return None if x is None or (isinstance(x, float) and x != x) or x == "" else str(x)


_STAGE_OF = (("magnet", "magnet"), ("refin", "separation"), ("separation", "separation"), ("process", "separation"),
             ("mine production", "mining"), ("mining", "mining"), ("production", "mining"))


def _stage(metric: str | None) -> str | None:
    if metric is None:
        return None
    for word, stage in _STAGE_OF:
        if word in metric:
            return stage
    return None


def share_agrees(lo: float, hi: float, value: float) -> bool:
    """A stage share from the evidence base agrees with a claimed interval within 5 percentage points."""
    return lo - 5 <= value <= hi + 5


def _fmt_t(t: float) -> str:
    return f"{t / 1e9:,.1f} Gt" if t >= 1e9 else f"{t / 1e6:,.1f} Mt" if t >= 1e6 else f"{t:,.0f} t"


def _verdict(fits: list[RefRow], rows: list[RefRow], same: list[bool]) -> str:
    """consistent / inconsistent on the independent rows; ``same_source`` when only the claim's own source
    is there to compare with."""
    independent = [r for r, s_ in zip(rows, same, strict=True) if not s_]
    if not independent:
        return "same_source"
    return "consistent" if any(r in fits for r in independent) else "inconsistent"


def plausibility(claim: Claim, ref: Reference, doc_grade_ppm: float | None = None,
                 source: DocumentSource | None = None) -> tuple[str, str]:
    """(verdict, note): verdict is plausible, doubtful, implausible, impossible, consistent, inconsistent,
    same_source (the only evidence to compare with is the claim's own source) or unchecked.
    ``doc_grade_ppm`` is an REE grade stated elsewhere in the same document, if any; ``source`` describes
    the document, so that evidence resting on it is not taken as independent confirmation."""
    lo, hi = claim.interval()
    src = source or DocumentSource()
    if claim.kind == "share" and claim.base_unit == "%":
        if lo > 100:
            return "impossible", "a share above 100%"
        stage = _stage(claim.metric)
        if claim.measure == "world share" and stage and len(claim.scope) == 3:
            obs = ref.of("stage_share", country=claim.scope, stage=stage)
            if not obs:
                return "unchecked", f"no {stage} share for {claim.scope} in the evidence base"
            same = [src.same_source(o, claim.attribution) for o in obs]
            fits = [o for o in obs if share_agrees(lo, hi, o.value)]
            listing = "; ".join(f"{o.value:g}% ({o.year}, {o.source}, {o.quality})"
                                + (" [same source as the article: not independent]" if s_ else "")
                                for o, s_ in zip(obs, same, strict=True))
            return _verdict(fits, obs, same), f"evidence: {listing}"
        return "unchecked", ""
    deal_ids = [e for k, e in claim.entities if k == "ev_deal"]
    if claim.kind == "money" and claim.metric is None and claim.base_unit == "USD" and deal_ids:
        deals = [r for d in dict.fromkeys(deal_ids) for r in ref.of("deal_value", item=d)]
        if not deals:
            return "unchecked", f"no value recorded for {', '.join(dict.fromkeys(deal_ids))} in the evidence base"
        same = [src.same_source(d, claim.attribution) for d in deals]
        fits = [d for d in deals if (d.lower or d.value) <= hi and lo <= (d.upper or d.value)]
        listing = "; ".join(f"US${d.value / 1e6:,.6g} million ({d.source})"
                            + (" [same source as the article: not independent]" if s_ else "")
                            for d, s_ in zip(deals, same, strict=True))
        return _verdict(fits, deals, same), f"evidence: {listing}"
    if claim.kind == "grade" and claim.base_unit == "ppm":
        g = claim.base_value if claim.base_value is not None else (claim.base_upper or claim.base_lower or 0.0)
        deposits = ref.of("deposit_grade")
        parts = []
        for d in deposits:
            if d.lower is not None and d.upper is not None:
                inside = d.lower <= g <= d.upper
                parts.append(f"{'inside' if inside else 'outside'} the {d.item} {d.lower:,.0f}-{d.upper:,.0f} ppm")
            elif g > 0:
                parts.append(f"{d.value / g:,.0f}x below {d.item} ({d.value / 1e4:g}%)" if d.value >= g
                             else f"{g / d.value:,.1f}x above {d.item} ({d.value / 1e4:g}%)")
        verdict = "doubtful" if g > 200_000 and "concentrate" not in claim.sentence.lower() else "plausible"
        return verdict, f"{g:,.0f} ppm = {g / 1e4:g}%: " + "; ".join(parts)
    if claim.kind == "money" and claim.metric == "total mineral wealth" and claim.base_unit == "USD":
        value = claim.base_value if claim.base_value is not None else claim.base_lower
        if value is None:
            return "unchecked", "no value"
        prices = ref.of("price", commodity="rare-earths")
        reserves = ref.of("reserves", country="WLD", commodity="rare-earths")
        if not prices:
            return "unchecked", "no rare-earth price in the evidence base"
        price = max(prices, key=lambda p: p.value if p.item.startswith("Nd") else 0.0)
        grade = doc_grade_ppm or next((d.value for d in ref.of("deposit_grade") if d.lower is not None), 800.0)
        contained, ore = grade_tonnage(value, price.value, grade)
        note = (f"as rare earths at {price.value:g} US$/kg ({price.item}, {price.year}, {price.quality}): "
                f"{_fmt_t(contained)} REO, {_fmt_t(ore)} of ore at {grade:,.0f} ppm")
        best = max(ref.of("deposit_grade"), key=lambda d: (d.tonnage_t is not None, d.value), default=None)
        if best is not None:
            _, ore_best = grade_tonnage(value, price.value, best.value)
            note += f" or {_fmt_t(ore_best)} at {best.item}'s {best.value / 1e4:g}%"
            if best.tonnage_t:
                note += f" ({ore_best / best.tonnage_t:,.0f}x its {_fmt_t(best.tonnage_t)} reserve)"
        if reserves:
            w = max(reserves, key=lambda r: r.year or "")
            ratio = contained / w.value
            note += f"; {ratio:,.2g}x world REE reserves ({_fmt_t(w.value)} REO, {w.year}, {w.quality})"
            verdict = "implausible" if ratio >= 1 else "doubtful" if ratio >= 0.1 else "plausible"
            return verdict, note
        return "unchecked", note
    return "unchecked", ""
