from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orechain.claims import ledger
from orechain.claims.evaluation import score_corpus, score_sentences
from orechain.claims.extract import extract_claims
from orechain.claims.grading import Reference, grade_tonnage, ladder_status, plausibility
from orechain.claims.ingest import ingest_paths
from orechain.evidence.store import Store

GOLD = Path(__file__).parent / "gold"


def _frame(sentences: list[str]) -> pd.DataFrame:
    rows = []
    for i, s in enumerate(sentences):
        for c in extract_claims(s):
            rows.append({"id": f"{i}-{c.start}", "document": f"doc{i}", "doc": f"doc{i}.txt", "publisher": None,
                         "subject": c.subject, "value": c.value, "unit": c.unit, "lower": c.lower, "upper": c.upper,
                         "precision": c.precision, "base_value": c.base_value, "base_lower": c.base_lower,
                         "base_upper": c.base_upper, "base_unit": c.base_unit, "qualifier": c.qualifier,
                         "ladder": "not_applicable", "plausibility": "unchecked"})
    return pd.DataFrame(rows)


def _status(sentences: list[str]) -> str:
    summary = ledger.compare(_frame(sentences))
    assert len(summary) == 1, summary
    return str(summary["status"].iloc[0])


def test_rounding_makes_3_and_3_2_percent_agree() -> None:
    assert _status(["Mining is 3% of Pakistan's GDP.", "Mining contributes 3.2 percent to Pakistan's GDP."]) == "agree"


def test_six_eight_and_sixty_eight_trillion_contradict() -> None:
    df = _frame(["Pakistan's mineral wealth is worth $6 trillion.", "Pakistan's mineral wealth is worth $8 trillion.",
                 "Pakistan's mineral wealth is worth US$68 trillion."])
    assert set(df["subject"]) == {"PAK/total mineral wealth/value"}
    assert ledger.compare(df)["status"].tolist() == ["contradict"]
    c = ledger.conflicts(df)
    assert len(c) == 3 and sorted(c["value"]) == [6, 8, 68]


def test_up_to_against_an_exact_figure_is_hedged_not_contradicted() -> None:
    assert _status(["Pakistan's mineral wealth is worth up to $8 trillion.",
                    "Pakistan's mineral wealth is worth $6 trillion."]) == "hedged"
    assert _status(["Pakistan's mineral wealth is worth up to $4 trillion.",
                    "Pakistan's mineral wealth is worth $6 trillion."]) == "contradict"


def test_units_are_compared_in_a_base_unit() -> None:
    assert _status(["Pakistan's mineral wealth is worth $6 trillion.",
                    "Pakistan's mineral wealth is worth $6,000 billion."]) == "agree"


def test_ladder_reads_classification_and_negation() -> None:
    s = "The figures remain unverified by JORC or NI 43-101 as mineral reserves valued at nearly $6 trillion."
    assert ladder_status(s, "total mineral wealth", "money") == "unclassified_estimate"
    assert ladder_status("An inferred resource of 12 Mt at 1.2% TREO.", "rare earth resources", "mass") == \
        "inferred_resource"
    assert ladder_status("Proved reserves of 2 Mt.", "reserves", "mass") == "proved_reserve"
    assert ladder_status("The deal is worth $500 million.", None, "count") == "not_applicable"


def test_grade_tonnage_calculator_works_on_arrays() -> None:
    import numpy as np

    contained, ore = grade_tonnage(np.array([6e12, 68e12]), np.array([56.0, 56.0]), np.array([1400.0, 64400.0]))
    assert contained == pytest.approx([6e12 / 56e3, 68e12 / 56e3])
    assert ore[0] == pytest.approx(6e12 / 56e3 / 0.0014)


def test_plausibility_of_wealth_grade_and_share() -> None:
    ref = Reference.shipped()
    (w,) = extract_claims("Pakistan's minerals are worth up to US$68 trillion.")
    verdict, note = plausibility(w, ref)
    assert verdict == "implausible" and "world REE reserves" in note
    (g,) = extract_claims("Samples show up to 1,400 mg/kg of rare earths.")
    verdict, note = plausibility(g, ref)
    assert verdict == "plausible" and "below Mountain Pass" in note and "inside the Ion-adsorption" in note
    (s,) = extract_claims("China controls about 90% of global magnet production.")
    assert plausibility(s, ref)[0] == "consistent"
    (s2,) = extract_claims("China controls about 40% of global magnet production.")
    assert plausibility(s2, ref)[0] == "inconsistent"


def test_corroboration_counts_independent_sources(tmp_path: Path, empty_store: Store) -> None:
    for name, pub, text in (("a.txt", "Dawn", "Pakistan's mineral wealth is worth $6 trillion, officials said."),
                            ("b.txt", "Reuters", "Islamabad says its mineral riches are worth about $6 trillion."),
                            ("c.txt", "Dawn", "Pakistan's mineral wealth is worth $6 trillion, the minister said."),
                            ("d.txt", "Mining.com", "Pakistan's mineral wealth is worth up to $68 trillion.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        list(ingest_paths(empty_store, [tmp_path / name], publisher=pub))
    df = ledger.grade(ledger.claims_frame(empty_store))
    by_doc = dict(zip(df["doc"], df["independent_sources"], strict=True))
    assert by_doc == {"a.txt": 2, "b.txt": 2, "c.txt": 2, "d.txt": 1}
    assert set(df["ladder"]) == {"unclassified_estimate"}
    rec = ledger.records(df)
    for col in ("doc", "sentence", "start", "end", "subject", "value", "unit", "lower", "upper", "qualifier", "date",
                "grade"):
        assert col in rec.columns


def test_gold_corpus_precision_and_recall(shared: Path) -> None:
    s = score_corpus(GOLD / "corpus_gold.jsonl", shared / "corpus")
    assert s.gold == 21
    assert s.precision >= 0.9 and s.recall >= 0.9, s.summary()
    assert s.grouping_precision >= 0.9 and s.grouping_recall >= 0.9, s.summary()


def test_unseen_style_sentences() -> None:
    s = score_sentences(GOLD / "extra_sentences.jsonl")
    assert s.precision >= 0.9 and s.recall >= 0.9, s.summary()
    assert s.subject_accuracy >= 0.8, s.summary()
