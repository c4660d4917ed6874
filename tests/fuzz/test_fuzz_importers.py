"""Importers on mutated files: they import, or raise InputError naming file and line or field, and a failed
import leaves the database exactly as it was. Nothing else may escape (no KeyError, IntegrityError, ...).
The files and mutations are described in importer_fuzz.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, note, settings
from importer_fuzz import KNOWN_NOISE, TARGETS, ByteMutation, ImportCheck, byte_mutations, original

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = KNOWN_NOISE


@pytest.fixture(scope="module")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImportCheck]:
    c = ImportCheck(tmp_path_factory.mktemp("importers"))
    yield c
    c.store.close()


def _check_mutated(checker: ImportCheck, name: str, muts: list[ByteMutation]) -> None:
    """Apply the mutations to the real file and check the import either succeeds or fails cleanly."""
    target = TARGETS[name]
    data = original(target)
    for m in muts:
        data = m.apply(data)
    note(f"{name}: {muts!r}")
    checker.check(target, data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_unmutated_file_imports(checker: ImportCheck, name: str) -> None:  # the check can see success
    target = TARGETS[name]
    assert checker.check(target, original(target)) in ("imported", "already imported")


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(FUZZ, max_examples=15)
@given(muts=byte_mutations())
def test_mutated_file(checker: ImportCheck, name: str, muts: list[ByteMutation]) -> None:
    _check_mutated(checker, name, muts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(FUZZ, max_examples=400)
@given(muts=byte_mutations())
def test_mutated_file_deep(checker: ImportCheck, name: str, muts: list[ByteMutation]) -> None:
    _check_mutated(checker, name, muts)
