"""Country-name resolution never raises anything but UnknownName."""

from __future__ import annotations

import pytest
from fuzz_surfaces import check_country, known_country_names
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import mutated

SEEDS = known_country_names()


def test_known_names_resolve() -> None:
    assert {check_country(s) for s in SEEDS} == {"resolved"}
    assert check_country("Atlantis") == "rejected"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_any_text(text: str) -> None:
    check_country(text)


@settings(max_examples=300, deadline=None)
@given(mutated(SEEDS))
def test_mutated_names(text: str) -> None:
    check_country(text)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None)
@given(st.one_of(st.text(max_size=80), mutated(SEEDS)))
def test_countries_deep(text: str) -> None:
    check_country(text)
