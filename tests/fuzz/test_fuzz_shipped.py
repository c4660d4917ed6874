"""The shipped-data loader, given mutated rows, loads or raises InputError naming file and line or field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fuzz_surfaces import SHIPPED_CSVS, RowMutation, ShippedCopy
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import NASTY, field_values

from orechain.evidence.shipped import shipped_data_dir

HEADERS = {name: next(csv.reader(io.StringIO((shipped_data_dir() / name).read_text(encoding="utf-8"))))
           for name in SHIPPED_CSVS}


@st.composite
def row_mutations(draw: st.DrawFn) -> RowMutation:
    file = draw(st.sampled_from(SHIPPED_CSVS))
    if draw(st.integers(0, 4)) == 0:  # raw text damage: break quoting, add stray fields or lines
        return RowMutation(file, value=draw(st.sampled_from([*NASTY, "\n,,,,", '"\n"', ",extra"])),
                           raw_old=draw(st.sampled_from(["", ",", "\n", '"', "-"])))
    return RowMutation(file, row=draw(st.integers(0, 10_000)), field=draw(st.sampled_from(HEADERS[file])),
                       value=draw(field_values()))


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedCopy]:
    yield ShippedCopy(tmp_path_factory.mktemp("shipped"))


def test_mutation_is_caught(shipped_copy: ShippedCopy) -> None:  # the check can see a rejection
    assert shipped_copy.check(RowMutation("observations.csv", row=0, field="year", value="19x9")) == "rejected"
    assert shipped_copy.check(RowMutation("observations.csv", row=0, field="note", value="fine")) == "loaded"
    long = "p" * 41
    assert shipped_copy.check(RowMutation("observations.csv", row=0, field="unit", value=long)) == "rejected"


FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(FUZZ, max_examples=60)
@given(row_mutations())
def test_mutated_rows(shipped_copy: ShippedCopy, m: RowMutation) -> None:
    note(repr(m))
    shipped_copy.check(m)


@pytest.mark.slow
@settings(FUZZ, max_examples=3000)
@given(row_mutations())
def test_mutated_rows_deep(shipped_copy: ShippedCopy, m: RowMutation) -> None:
    note(repr(m))
    shipped_copy.check(m)


