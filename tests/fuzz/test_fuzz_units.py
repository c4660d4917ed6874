"""Unit parsing never raises anything but UnitError."""

from __future__ import annotations

import pytest
from fuzz_surfaces import check_unit, known_unit_spellings
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import mutated

SEEDS = known_unit_spellings()


def test_known_spellings_parse() -> None:  # the property check can tell a parse from a rejection
    assert {check_unit(s) for s in SEEDS} == {"parsed"}
    assert check_unit("furlongs of REO") == "rejected"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text(text: str) -> None:
    check_unit(text)


@settings(max_examples=300, deadline=None)
@given(mutated(SEEDS))
def test_mutated_spellings(text: str) -> None:
    check_unit(text)


@pytest.mark.slow
@settings(max_examples=20_000, deadline=None)
@given(st.one_of(st.text(max_size=60), mutated(SEEDS)))
def test_units_deep(text: str) -> None:
    check_unit(text)
