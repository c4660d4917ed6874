"""Claims against the evidence base: entity links, deal values, and independence of corroboration."""

from __future__ import annotations

from orechain.claims.extract import extract_claims
from orechain.claims.ingest import names_from_store
from orechain.claims.subjects import shipped_names
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

ORGS = [
    {"id": "fwo", "name": "Frontier Works Organisation", "aliases": "FWO", "country": "PAK", "kind": "military_body"},
    {"id": "ussm-ev", "name": "US Strategic Metals", "aliases": "", "country": "USA", "kind": "company"},
    {"id": "zeta", "name": "Zeta Magnetics", "aliases": "Zeta", "country": "DEU", "kind": "company"},
    {"id": "ruritania-gov", "name": "Government of Ruritania", "aliases": "Ruritanian government", "country": "RUR",
     "kind": "state_body"},
]
FACILITIES = [
    {"id": "reko-diq-mine", "name": "Reko Diq copper-gold mine", "site": "reko-diq", "stage": "mining",
     "country": "PAK"},
    {"id": "zeta-plant", "name": "Zeta Hochstadt magnet plant (Bavaria)", "site": "hochstadt", "stage": "magnet",
     "country": "DEU"},
    {"id": "cn-aggregate", "name": "China rare-earth mining (national aggregate)", "site": None, "stage": "mining",
     "country": "CHN"},
]
PARTIES = [{"deal": "ussm-fwo-2025", "organisation": "fwo"}, {"deal": "ussm-fwo-2025", "organisation": "ussm-ev"},
           {"deal": "other-deal", "organisation": "fwo"}]


def _ev(claim_entities: tuple[tuple[str, str], ...]) -> set[tuple[str, str]]:
    return {e for e in claim_entities if e[0].startswith("ev_")}


def test_name_table_links_shipped_entities_and_adds_new_ones() -> None:
    names = shipped_names().with_evidence(ORGS, FACILITIES, PARTIES)
    (c,) = extract_claims("US Strategic Metals and the Frontier Works Organisation signed a $500 million MoU.", names)
    assert c.subject == "USSM-FWO MoU/value"  # the shipped key is kept
    assert _ev(c.entities) == {("ev_deal", "ussm-fwo-2025"), ("ev_organisation", "fwo"),
                               ("ev_organisation", "ussm-ev")}  # "other-deal" has other parties
    (m,) = extract_claims("Reko Diq will need about $7 billion in investment.", names)
    assert m.subject == "Reko Diq/investment/value" and ("ev_facility", "reko-diq-mine") in m.entities  # by site
    (z,) = extract_claims("The Zeta Hochstadt magnet plant will make 5,000 tonnes a year.", names)
    assert z.scope == "Zeta Hochstadt magnet plant" and ("ev_facility", "zeta-plant") in z.entities
    (g,) = extract_claims("The Ruritanian government will invest $40 million in Zeta Magnetics.", names)
    assert g.scope == "RUR", "a national government is grouped under its country, as the country name would be"
    assert ("ev_organisation", "ruritania-gov") in g.entities and ("ev_organisation", "zeta") in g.entities
    (s,) = extract_claims("China rare-earth mining rose 5.9% in 2024.", names)
    assert s.scope == "CHN", "a facility row named after a country must not hide the country"
    # the shipped table alone links nothing
    (c0,) = extract_claims("US Strategic Metals and the Frontier Works Organisation signed a $500 million MoU.")
    assert _ev(c0.entities) == set()


def test_cli_name_table_comes_from_the_evidence_base(empty_store: Store) -> None:
    load_into(empty_store)
    names = names_from_store(empty_store)
    assert names.entities[("deal", "ussm-fwo-mou-2025")].evidence == (("deal", "ussm-fwo-2025"),)
    assert names.entities[("place", "bayan-obo")].evidence == (("facility", "bayan-obo-mine"),)
    (c,) = extract_claims("US Strategic Metals and the FWO signed a $500 million memorandum.", names)
    assert ("ev_deal", "ussm-fwo-2025") in c.entities and c.subject == "USSM-FWO MoU/value"
