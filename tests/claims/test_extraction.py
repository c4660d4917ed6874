from __future__ import annotations

import pytest

from orechain.claims.dates import find_dates
from orechain.claims.extract import extract_claims, split_sentences
from orechain.claims.quantities import find_quantities


@pytest.mark.parametrize(("text", "kind", "value", "lower", "upper", "unit", "qualifier"), [
    ("a $500 million pact", "money", 500, 500, 500, "USD million", "exact"),
    ("worth US$68 trillion", "money", 68, 68, 68, "USD trillion", "exact"),
    ("up to 1,400 mg/kg of rare earths", "grade", 1400, None, 1400, "mg/kg", "up_to"),
    ("about 90% of output", "share", 90, 81, 99, "%", "about"),
    ("a ratio of three to one", "ratio", 3, 3, 3, "ratio", "exact"),
    ("launching up to ten mining projects", "count", 10, None, 10, "count", "up_to"),
    ("just 70 miles from Gwadar", "distance", 70, 70, 70, "mile", "exact"),
    ("at least a decade before", "duration", 1, 1, None, "decades", "at_least"),
    ("nearly $6 trillion", "money", 6, 5.4, 6, "USD trillion", "nearly"),
    ("over 95%", "share", 95, 95, None, "%", "over"),
    ("an estimated $6 trillion", "money", 6, 5.4, 6.6, "USD trillion", "about"),
    ("Rs 50bn for roads", "money", 50, 50, 50, "PKR billion", "exact"),
    ("10,500 tonnes a year", "rate", 10500, 10500, 10500, "t/yr", "exact"),
    ("2,000–5,000 t/yr", "rate", None, 2000, 5000, "t/yr", "range"),
    ("US$56/kg", "price", 56, 56, 56, "USD/kg", "exact"),
    ("hundreds of millions of dollars", "money", None, 100, 1000, "USD million", "vague"),
])
def test_quantities(text: str, kind: str, value: float | None, lower: float | None, upper: float | None, unit: str,
                    qualifier: str) -> None:
    (q,) = find_quantities(text)
    assert (q.kind, q.unit, q.qualifier) == (kind, unit, qualifier)
    for got, want in ((q.value, value), (q.lower, lower), (q.upper, upper)):
        assert got == pytest.approx(want) if want is not None else got is None


@pytest.mark.parametrize("text", [
    "from 2026 to 2028", "the 18th Constitutional Amendment in 2010", "JORC or NI 43-101", "COVID-19 and G7",
    "our two nations", "Recall 2019, when", "It is the first step",
])
def test_not_quantities(text: str) -> None:
    assert find_quantities(text) == []


@pytest.mark.parametrize(("text", "value"), [
    ("signed on September 8, 2025.", "2025-09-08"), ("in early October 2025", "2025-10-01/2025-10-10"),
    ("from 2026 to 2028", "2026/2028"), ("by 2028", "../2028"), ("2028 and beyond", "2028/.."),
    ("17/01/2026", "2026-01-17"), ("Sept. 28, 2025", "2025-09-28"),
])
def test_dates(text: str, value: str) -> None:
    assert [d.value for d in find_dates(text)] == [value]


def test_sentences_respect_abbreviations() -> None:
    text = "U.S. Strategic Metals signed. Stacy W. Hastie spoke on Sept. 8. Then $1.2 billion was set."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "U.S. Strategic Metals signed.", "Stacy W. Hastie spoke on Sept. 8.", "Then $1.2 billion was set."]


def test_claims_carry_attribution_hedges_and_date() -> None:
    (c,) = extract_claims("According to The Economic Times, Pakistan could be sitting on mineral deposits "
                          "worth up to $68 trillion by 2030.")
    assert c.subject == "PAK/total mineral wealth/value"
    assert c.attribution == "Economic Times"
    assert "could" in c.hedges and "up to" in c.hedges
    assert c.date == "../2030"
    assert (c.base_value, c.base_unit) == (68e12, "USD")


def test_subjects_are_canonical_across_wordings() -> None:
    a = extract_claims("Islamabad says its mineral wealth is worth $6 trillion.")
    b = extract_claims("Pakistan's untapped mineral reserves are valued at nearly $8 trillion, officials say.")
    assert a[0].subject == b[0].subject == "PAK/total mineral wealth/value"
    c = extract_claims("Beijing controls roughly 90% of global magnet output.")
    assert c[0].subject == "CHN/NdFeB magnet production/world share"
    d = extract_claims("US Strategic Metals and the Frontier Works Organisation signed a $500 million MoU.")
    assert d[0].subject == "USSM-FWO MoU/value"


def test_currency_sign_is_not_a_country() -> None:
    (c,) = extract_claims("Pakistan's minerals are worth up to US$68 trillion.")
    assert c.scope == "PAK"


def test_sentence_breaks_on_long_lines_and_line_breaks() -> None:
    # The abbreviation check looks at a short window first; a long line, a long word before the mark and
    # a line break must all give the same sentences as reading the whole line.
    filler = "The plan was discussed at length by officials in several provinces " * 3
    text = (f"{filler}with Mr. Hastie. Then 90% went.\n{'x' * 40}. Next one.\nAnd " + "a" + "." * 30
            + " Z follows. Last")
    got = [text[a:b] for a, b in split_sentences(text)]
    assert got == [f"{filler}with Mr. Hastie.", "Then 90% went.", f"{'x' * 40}.", "Next one.",
                   "And a" + "." * 30 + " Z follows.", "Last"]


def test_name_lookup_matches_whole_tokens_longest_first_and_acronyms_by_case() -> None:
    from orechain.claims.subjects import shipped_names

    names = shipped_names()
    text = "US Strategic Metals met the Frontier Works Organisation in Pakistan's capital; us too, Pakistani."
    found = [(text[m.start:m.end], m.entity.kind, m.entity.id) for m in names.find(text)]
    assert found[0][:2] == ("US Strategic Metals", "organisation")
    assert found[1][:2] == ("Frontier Works Organisation", "organisation")
    assert found[2] == ("Pakistan", "country", "PAK")
    assert not any(t == "us" for t, _, _ in found)  # a short acronym matches only in capitals
    assert found[-1] == ("Pakistani", "country", "PAK")
