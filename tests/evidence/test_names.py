"""Country names: driven by files of real-world spellings and of strings that must not match."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from orechain.evidence.names import UnknownName, countries, normalise, resolve_country

HERE = Path(__file__).resolve().parent


def _rows(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


VARIANTS = _rows("name_variants.csv")
NON_MATCHES = _rows("name_non_matches.csv")


def test_the_variant_files_are_substantial() -> None:
    assert len(VARIANTS) >= 80
    assert len({r["variant"] for r in VARIANTS}) == len(VARIANTS)
    assert len(NON_MATCHES) >= 20


@pytest.mark.parametrize("row", VARIANTS, ids=[r["variant"] for r in VARIANTS])
def test_variant_resolves(row: dict[str, str]) -> None:
    assert resolve_country(row["variant"]) == row["code"], row["seen_in"]


@pytest.mark.parametrize("row", NON_MATCHES, ids=[r["text"] or "(empty)" for r in NON_MATCHES])
def test_non_match_is_refused(row: dict[str, str]) -> None:
    with pytest.raises(UnknownName):
        resolve_country(row["text"])


def test_ambiguous_congo_suggests_both() -> None:
    with pytest.raises(UnknownName) as exc:
        resolve_country("Congo")
    assert {"COD", "COG"} <= {s[:3] for s in exc.value.suggestions}


def test_every_code_resolves_to_itself() -> None:
    for c in countries():
        assert resolve_country(c.code) == c.code
        assert resolve_country(c.name) == c.code


def test_normalise_is_insensitive_to_case_accents_and_spacing() -> None:
    assert normalise("Côte\u00a0d’Ivoire") == normalise("COTE D'IVOIRE")


def test_every_country_in_the_real_wgi_table_resolves(shared: Path) -> None:
    """Names and codes of the governance table (the peer's copy of WGI) resolve. Left unresolved on
    purpose: the pseudo-area "Europe EFTA, nes" (not a country; see docs/importers.md) and the Comtrade
    code PUS, whose name "US Misc. Pacific Isds" resolves (to UMI)."""
    path = shared / "data" / "wgi" / "wgi_political_stability_pv.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        pairs = {(r["country"], r["iso3"]) for r in csv.DictReader(fh)}
    unresolved = []
    for name, code in sorted(pairs):
        if name == "Congo":  # ambiguous by name; the row's code COG decides
            assert resolve_country(code) == "COG"
            continue
        try:
            by_name = resolve_country(name)
        except UnknownName:
            unresolved.append(name)
            continue
        try:
            assert resolve_country(code) == by_name, (name, code)
        except UnknownName:
            unresolved.append(code)
    assert unresolved == ["Europe EFTA, nes", "PUS"]
