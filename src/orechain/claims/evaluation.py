"""Precision and recall of claim extraction and subject grouping against a hand-written gold file.

A gold file is JSON Lines, one claim per line: ``doc`` (file name), ``context`` (a phrase of the sentence
that occurs once in the document), ``text`` (the quantity as written, inside the context), ``value``,
``lower``, ``upper``, ``unit`` (as :mod:`orechain.claims.quantities` spells it) and ``subject``.

A predicted claim matches a gold claim when their spans overlap and their values agree in the base unit.
Extraction precision = matched / predicted, recall = matched / gold. Subject grouping is scored on the
matched claims as pairs: a pair is "grouped" when both claims have the same subject; precision = pairs
grouped by both / pairs grouped by the extractor, recall = pairs grouped by both / pairs grouped in the
gold. Exact subject-key accuracy is reported too.

Run: ``python -m orechain.claims.evaluation tests/claims/gold/corpus_gold.jsonl ../shared/corpus``
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from orechain.claims.extract import Claim, extract_claims
from orechain.claims.quantities import to_base
from orechain.evidence.errors import InputError, InputProblem

__all__ = ["GoldClaim", "Scores", "load_gold", "score"]


@dataclass(frozen=True)
class GoldClaim:
    doc: str
    context: str
    text: str
    value: float | None
    lower: float | None
    upper: float | None
    unit: str
    subject: str
    line: int = 0


@dataclass
class Scores:
    gold: int
    predicted: int
    matched: int
    subject_exact: int
    pairs_gold: int
    pairs_predicted: int
    pairs_both: int
    misses: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    wrong_subject: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def subject_accuracy(self) -> float:
        return self.subject_exact / self.matched if self.matched else 1.0

    @property
    def grouping_precision(self) -> float:
        return self.pairs_both / self.pairs_predicted if self.pairs_predicted else 1.0

    @property
    def grouping_recall(self) -> float:
        return self.pairs_both / self.pairs_gold if self.pairs_gold else 1.0

    def summary(self) -> str:
        return (f"extraction: precision {self.precision:.3f} ({self.matched}/{self.predicted}), recall "
                f"{self.recall:.3f} ({self.matched}/{self.gold}); subject grouping (pairs): precision "
                f"{self.grouping_precision:.3f} ({self.pairs_both}/{self.pairs_predicted}), recall "
                f"{self.grouping_recall:.3f} ({self.pairs_both}/{self.pairs_gold}); exact subject keys "
                f"{self.subject_accuracy:.3f} ({self.subject_exact}/{self.matched})")


_FIELDS = ("doc", "context", "text", "unit", "subject")


def load_gold(path: Path) -> list[GoldClaim]:
    """Read a gold file; every problem is reported with its line and field."""
    out: list[GoldClaim] = []
    problems: list[InputProblem] = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(InputProblem(str(path), i, None, f"not JSON: {exc.msg}"))
            continue
        missing = [f for f in _FIELDS if not row.get(f)]
        if missing:
            problems.extend(InputProblem(str(path), i, f, "missing") for f in missing)
            continue
        if row["text"] not in row["context"]:
            problems.append(InputProblem(str(path), i, "text", "not inside context"))
            continue
        out.append(GoldClaim(row["doc"], row["context"], row["text"], row.get("value"), row.get("lower"),
                             row.get("upper"), row["unit"], row["subject"], i))
    if problems:
        raise InputError(problems)
    return out


def _locate(g: GoldClaim, text: str) -> tuple[int, int] | None:
    at = text.find(g.context)
    if at < 0:
        return None
    start = at + g.context.index(g.text)
    return start, start + len(g.text)


def _same_value(g: GoldClaim, c: Claim) -> bool:
    factor, unit = to_base(g.unit)
    if unit != c.base_unit:
        return False
    for gv, cv in ((g.value, c.base_value), (g.lower, c.base_lower), (g.upper, c.base_upper)):
        if gv is None and cv is None:
            continue
        if gv is None or cv is None or not math.isclose(gv * factor, cv, rel_tol=1e-3):
            return False
    return True


def score(gold: Sequence[GoldClaim], predicted: Mapping[str, tuple[str, Sequence[Claim]]]) -> Scores:
    """Compare gold claims with ``predicted`` (doc name -> (document text, its claims))."""
    pairs: list[tuple[GoldClaim, Claim]] = []
    used: set[tuple[str, int]] = set()
    misses: list[str] = []
    for g in gold:
        text, claims = predicted.get(g.doc, ("", []))
        span = _locate(g, text)
        hit = None
        if span is not None:
            for c in claims:
                if (g.doc, c.start) in used:
                    continue
                if c.start < span[1] and span[0] < c.end and _same_value(g, c):
                    hit = c
                    break
        if hit is None:
            misses.append(f"{g.doc}: {g.text!r} in {g.context!r}" + (" (context not found)" if span is None else ""))
        else:
            used.add((g.doc, hit.start))
            pairs.append((g, hit))
    spurious = [f"{doc}: {c.text!r} ({c.subject}) in {c.sentence[:90]!r}" for doc, (_, claims) in predicted.items()
                for c in claims if (doc, c.start) not in used]
    n_pred = sum(len(claims) for _, claims in predicted.values())
    exact = [p for p in pairs if p[0].subject == p[1].subject]
    wrong = [f"{g.doc}: {g.text!r}: gold {g.subject!r}, got {c.subject!r}" for g, c in pairs if g.subject != c.subject]
    pg = pp = both = 0
    for (g1, c1), (g2, c2) in combinations(pairs, 2):
        sg, sp = g1.subject == g2.subject, c1.subject == c2.subject
        pg += sg
        pp += sp
        both += sg and sp
    return Scores(len(gold), n_pred, len(pairs), len(exact), pg, pp, both, misses, spurious, wrong)


def score_corpus(gold_path: Path, corpus: Path) -> Scores:
    """Read and repair every gold document in ``corpus`` as ingest does, extract, and score."""
    from orechain.claims.ingest import read_document

    gold = load_gold(gold_path)
    predicted: dict[str, tuple[str, Sequence[Claim]]] = {}
    for name in sorted({g.doc for g in gold}):
        doc = read_document(Path(corpus) / name)
        predicted[name] = (doc.text, extract_claims(doc.text))
    return score(gold, predicted)


def score_sentences(path: Path) -> Scores:
    """Score a file of stand-alone sentences: JSONL with ``id``, ``sentence`` and ``claims`` (gold rows)."""
    gold: list[GoldClaim] = []
    predicted: dict[str, tuple[str, Sequence[Claim]]] = {}
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        sid, sentence = str(row["id"]), row["sentence"]
        predicted[sid] = (sentence, extract_claims(sentence))
        for c in row["claims"]:
            gold.append(GoldClaim(sid, sentence, c["text"], c.get("value"), c.get("lower"), c.get("upper"), c["unit"],
                                  c["subject"], i))
    return score(gold, predicted)


def main(argv: Sequence[str]) -> int:
    if len(argv) == 1:
        s = score_sentences(Path(argv[0]))
    elif len(argv) == 2:
        s = score_corpus(Path(argv[0]), Path(argv[1]))
    else:
        print("usage: python -m orechain.claims.evaluation GOLD.jsonl CORPUS_DIR | SENTENCES.jsonl")
        return 2
    print(s.summary())
    for title, items in (("missed", s.misses), ("spurious", s.spurious), ("wrong subject", s.wrong_subject)):
        for item in items:
            print(f"  {title}: {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
