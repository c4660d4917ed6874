"""Offline claim extraction: text in, :class:`Claim` records out (pure; no I/O, no model downloads).

A claim is a quantity with a unit or a measure (see :mod:`orechain.claims.quantities`), in one sentence,
with the subject it is about (:mod:`orechain.claims.subjects`), the date or period the sentence gives
(:mod:`orechain.claims.dates`), who the sentence attributes it to ("according to The Economic Times",
"officials say") and the hedging words around it ("estimated", "could", "reportedly"). Years, ordinals,
standard names ("NI 43-101") and counts of ordinary things ("two nations") are not claims.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from orechain.claims.dates import find_dates
from orechain.claims.quantities import Quantity, find_quantities
from orechain.claims.subjects import DocContext, NameTable, doc_context, shipped_names, subject_for

__all__ = ["Claim", "extract_claims", "split_sentences"]

_ABBREV = {"u.s", "mr", "mrs", "ms", "dr", "prof", "sept", "sep", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "oct", "nov", "dec", "inc", "ltd", "co", "corp", "no", "st", "vs", "e.g", "i.e", "approx", "gov", "gen",
           "lt", "col", "mt", "jr", "sr", "rs", "u.k", "u.n", "est", "fig", "al", "p.m", "a.m"}
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9$])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: lines are split apart, then at ., ! or ? before a capital or digit."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        s = start
        for m in _BOUNDARY.finditer(line):
            word = re.search(r"([\w.]+)[.!?]*$", line[:m.start() + 1])
            w = word.group(1).lower().rstrip(".") if word else ""
            if w in _ABBREV or (len(w) == 1 and w.isalpha()):
                continue
            cut = start + m.end()
            spans.append((s, cut))
            s = cut
        if start + len(line) > s:
            spans.append((s, start + len(line)))
    return [(a + len(text[a:b]) - len(text[a:b].lstrip()), a + len(text[a:b].rstrip()))
            for a, b in spans if text[a:b].strip()]


_NAME = r"(?:[A-Z][\w.&’'-]*)(?:\s+(?:of\s+|the\s+|and\s+)?[A-Z][\w.&’'-]*){0,5}"
_GROUP = (r"(?:the\s+)?(?:government|officials|(?:government|company|industry|senior|Pakistani|US|Chinese)\s+"
          r"officials|experts|analysts|sources|critics|executives|the\s+company|the\s+ministry|observers|"
          r"investors|the\s+state|authorities)")
_ATTRIBUTION = (
    re.compile(rf"\b(?i:according\s+to\s+(?:the\s+)?(?:a\s+)?)(?P<a>{_NAME}|{_GROUP})"),
    re.compile(rf"\b(?i:(?:as\s+)?(?:reported|cited|quoted|estimated)\s+by\s+(?:the\s+)?)(?P<a>{_NAME}|{_GROUP})"),
    re.compile(rf"(?P<a>{_NAME}|{_GROUP})\s+(?:has\s+|have\s+)?(?:said|says|say|stated|states|told|reported|"
               r"reports|estimates?|estimated|claimed|claims?|asserts?|asserted|believes?|believe|noted|notes|"
               r"warned|warns?|pointed\s+out|point\s+out|declared|announced|suggests?|suggested|calculates?|"
               r"puts?|put)\b"),
)
_NOT_SPEAKER = re.compile(r"^(?:The|This|That|These|It|In|As|But|And|Yet|Even|For|Once|If|Despite|Indeed|Just|"
                          r"Via|By|Ironically|Although|Considering|Following|Nevertheless|However)$")
_HEDGES = re.compile(
    r"\b(?:may|might|could|would|reportedly|allegedly|estimated?|potential(?:ly)?|claimed|claims?|believed|"
    r"expected|projected|planned|proposed|unverified|likely|aims?|hopes?|envisions?|targets?|targeted|"
    r"unconfirmed|purported(?:ly)?|touted|speculative|rhetoric|proclamations?|mirage|as\s+claimed|"
    r"up\s+to|at\s+least|nearly|roughly|about|around|approximately|some)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    sentence_index: int
    sentence: str
    start: int
    end: int
    text: str
    kind: str
    subject: str
    scope: str
    metric: str | None
    measure: str
    value: float | None
    unit: str
    lower: float | None
    upper: float | None
    base_value: float | None
    base_lower: float | None
    base_upper: float | None
    base_unit: str
    qualifier: str
    precision: float
    date: str | None
    attribution: str | None
    hedges: tuple[str, ...]
    entities: tuple[tuple[str, str], ...]

    def interval(self) -> tuple[float, float]:
        """Values compatible with the text, in the base unit (qualifier bounds widened by rounding)."""
        q = Quantity(self.start, self.end, self.text, self.kind, self.value, self.lower, self.upper, self.unit,
                     self.qualifier, self.precision)
        return q.interval()


_VERB = re.compile(r"\b(?:said|says|say|stated|states|told|reported|reports|estimates?|estimated|claimed|claims?|"
                   r"asserts?|asserted|believes?|believe|noted|notes|warned|warns?|pointed|point|declared|"
                   r"announced|suggests?|suggested|calculates?|puts?|put)\b")


def _attribution(sentence: str) -> str | None:
    low = sentence.lower()
    verb = _VERB.search(sentence)
    for i, pat in enumerate(_ATTRIBUTION):
        if (i == 0 and "according" not in low) or (i == 1 and " by " not in low) or (i == 2 and verb is None):
            continue  # cheap tests first: these patterns backtrack on long sentences
        for m in pat.finditer(sentence):
            a = m.group("a").strip()
            first = a.split()[0] if a.split() else ""
            if i == len(_ATTRIBUTION) - 1 and _NOT_SPEAKER.match(first):
                continue
            return re.sub(r"[’']s$", "", a)
    return None


def extract_claims(text: str, names: NameTable | None = None, ctx: DocContext | None = None) -> list[Claim]:
    """Every quantitative claim in ``text`` (a repaired, plain-text document), in document order."""
    names = names or shipped_names()
    quantities = find_quantities(text)
    if not quantities:
        return []
    spans = [(q.start, q.end) for q in quantities]
    mentions = [m for m in names.find(text) if not any(a < m.end and m.start < b for a, b in spans)]  # "US$68"
    ctx = ctx or doc_context(mentions, names)
    sentences = split_sentences(text)
    out: list[Claim] = []
    si = 0
    mi = 0
    for q in quantities:
        while si < len(sentences) and sentences[si][1] <= q.start:
            si += 1
        if si >= len(sentences):
            break
        s0, s1 = sentences[si]
        if q.start < s0:
            continue
        sentence = text[s0:s1]
        while mi < len(mentions) and mentions[mi].end <= s0:
            mi += 1
        local = [m for m in mentions[mi:] if m.start < s1]
        subj = subject_for(sentence, s0, q, local, ctx)
        out.append(_claim(text, si, s0, sentence, q, subj.key, subj.scope, subj.metric, subj.measure,
                          subj.entities))
    return out


def _claim(text: str, si: int, s0: int, sentence: str, q: Quantity, key: str, scope: str, metric: str | None,
           measure: str, entities: Sequence[tuple[str, str]]) -> Claim:
    bv, bl, bu, bunit = q.base()
    dates = find_dates(sentence)
    date = None
    if dates:
        qs = q.start - s0
        date = min(dates, key=lambda d: abs(d.start - qs)).value
    hedges = tuple(dict.fromkeys(h.lower() for h in _HEDGES.findall(sentence)))
    return Claim(si, sentence, q.start, q.end, q.text, q.kind, key, scope, metric, measure, q.value, q.unit,
                 q.lower, q.upper, bv, bl, bu, bunit, q.qualifier, q.precision, date, _attribution(sentence),
                 hedges, tuple(entities))
