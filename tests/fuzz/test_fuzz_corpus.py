"""Replay the fuzz corpus: inputs that once broke something, or that sit on an edge, stay handled.

Each corpus line is a JSON object; ``expect`` (when not null) is the outcome the input must have.
Add an input here whenever a fuzz run finds a failure (hypothesis prints the failing example).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fuzz_surfaces import RowMutation, ShippedCopy, check_country, check_unit, corpus
from importer_fuzz import KNOWN_NOISE, TARGETS, ByteMutation, ImportCheck, original


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["where"] for i in items]


UNITS, COUNTRIES, SHIPPED, IMPORTS = corpus("units"), corpus("countries"), corpus("shipped"), corpus("importers")


@pytest.mark.parametrize("item", UNITS, ids=_ids(UNITS))
def test_units_corpus(item: dict[str, Any]) -> None:
    got = check_unit(item["input"])
    assert item["expect"] in (None, got), f"{item['why']}: {got}"


@pytest.mark.parametrize("item", COUNTRIES, ids=_ids(COUNTRIES))
def test_countries_corpus(item: dict[str, Any]) -> None:
    got = check_country(item["input"])
    assert item["expect"] in (None, got), f"{item['why']}: {got}"


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShippedCopy]:
    yield ShippedCopy(tmp_path_factory.mktemp("shipped"))


@pytest.mark.parametrize("item", SHIPPED, ids=_ids(SHIPPED))
def test_shipped_corpus(item: dict[str, Any], shipped_copy: ShippedCopy) -> None:
    m = RowMutation(item["file"], row=item.get("row", 0), field=item.get("field"), value=item["value"],
                    raw_old=item.get("raw_old", ""))
    got = shipped_copy.check(m)
    assert item["expect"] in (None, got), f"{item['why']}: {got}"


@pytest.fixture(scope="module")
def import_checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImportCheck]:
    c = ImportCheck(tmp_path_factory.mktemp("importers"))
    yield c
    c.store.close()


@pytest.mark.parametrize("item", IMPORTS, ids=_ids(IMPORTS))
@KNOWN_NOISE
def test_importers_corpus(item: dict[str, Any], import_checker: ImportCheck) -> None:
    target = TARGETS[item["target"]]
    data = original(target)
    for op, at, other, payload in item["mutations"]:
        data = ByteMutation(op, at, other, bytes.fromhex(payload)).apply(data)
    got = import_checker.check(target, data)
    assert item["expect"] in (None, got), f"{item['why']}: {got}"
