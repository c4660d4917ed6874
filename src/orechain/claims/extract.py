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

from orechain.claims.dates import DateRef, find_dates
from orechain.claims.quantities import Quantity, find_quantities
from orechain.claims.subjects import DocContext, Mention, NameTable, doc_context, shipped_names, subject_for

__all__ = ["Claim", "extract_claims", "split_sentences"]

_ABBREV = {"u.s", "mr", "mrs", "ms", "dr", "prof", "sept", "sep", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
           "oct", "nov", "dec", "inc", "ltd", "co", "corp", "no", "st", "vs", "e.g", "i.e", "approx", "gov", "gen",
           "lt", "col", "mt", "jr", "sr", "rs", "u.k", "u.n", "est", "fig", "al", "p.m", "a.m"}
# A sentence ends at a line break, or at ., ! or ? (and closing quotes or brackets) followed by spaces and a
# capital, a digit or "$"; unless the word before the mark is an abbreviation or an initial.
_BREAK = re.compile(r"[.!?]+[\"”’')\]]*[^\S\n]+(?=[\"“‘(\[]?[A-Z0-9$])|\n")
_LAST_WORD = re.compile(r"([\w.]+)[.!?]*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: lines are split apart, then at ., ! or ? before a capital or digit."""
    cuts: list[tuple[int, int]] = []  # (end of one sentence, start of the next)
    last_word = _LAST_WORD.search
    for m in _BREAK.finditer(text):
        at = m.start()
        if text[at] == "\n":
            cuts.append((at, at + 1))
            continue
        # Only the word before the mark matters (an abbreviation or an initial): look at a short window first
        # and at the whole line only when the word may run on past it. A line break ends a word.
        lo = max(0, at - 15)
        word = last_word(text, lo, at + 1)
        if word is not None and lo > 0 and word.start() == lo:
            word = last_word(text, text.rfind("\n", 0, at) + 1, at + 1)
        w = word.group(1).lower().rstrip(".") if word else ""
        if w in _ABBREV or (len(w) == 1 and w.isalpha()):
            continue
        cuts.append((m.end(), m.end()))
    spans: list[tuple[int, int]] = []
    s = 0
    for end, nxt in (*cuts, (len(text), len(text))):
        seg = text[s:end]
        core = seg.strip()
        if core:
            a = s + seg.find(core)
            spans.append((a, a + len(core)))
        s = nxt
    return spans


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
    mentions = _outside(names.find(text), quantities)  # "US$68" is money, not the United States
    ctx = ctx or doc_context(mentions, names)
    sentences = split_sentences(text)
    out: list[Claim] = []
    si = 0
    mi = 0
    per_sentence: tuple[int, list[DateRef], tuple[str, ...], str | None] | None = None
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
        if per_sentence is None or per_sentence[0] != si:  # dates, hedges, speaker: once per sentence
            hedge_words = tuple(dict.fromkeys(h.lower() for h in _HEDGES.findall(sentence)))
            per_sentence = (si, find_dates(sentence), hedge_words, _attribution(sentence))
        _, dates, hedges, speaker = per_sentence
        date = None
        if dates:
            qs = q.start - s0
            date = min(dates, key=lambda d: abs(d.start - qs)).value
        bv, bl, bu, bunit = q.base()
        out.append(Claim(si, sentence, q.start, q.end, q.text, q.kind, subj.key, subj.scope, subj.metric, subj.measure,
                         q.value, q.unit, q.lower, q.upper, bv, bl, bu, bunit, q.qualifier, q.precision, date, speaker,
                         hedges, subj.entities))
    return out


def _outside(mentions: list[Mention], quantities: Sequence[Quantity]) -> list[Mention]:
    """The mentions that overlap no quantity (both lists are in text order; quantities do not overlap)."""
    out: list[Mention] = []
    k = 0
    nq = len(quantities)
    for m in mentions:
        while k < nq and quantities[k].end <= m.start:
            k += 1
        if k < nq and quantities[k].start < m.end:
            continue
        out.append(m)
    return out
