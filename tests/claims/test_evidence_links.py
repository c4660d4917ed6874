"""Claims against the evidence base: entity links, deal values, and independence of corroboration."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from orechain.claims import ledger, tables
from orechain.claims.extract import extract_claims
from orechain.claims.grading import DocumentSource, Reference, RefRow, plausibility
from orechain.claims.ingest import ingest_paths, names_from_store
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


def _loaded(store: Store) -> Store:
    load_into(store)
    return store


def test_ingest_links_claims_to_evidence_and_checks_deal_values(tmp_path: Path, empty_store: Store,
                                                                  shared: Path) -> None:
    store = _loaded(empty_store)
    assert ("deal", "ussm-fwo-mou-2025") in names_from_store(store).entities
    for name, text in (("ok.txt", "US Strategic Metals and the FWO signed a $500 million memorandum."),
                       ("off.txt", "US Strategic Metals and the FWO signed a $900 million memorandum.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        list(ingest_paths(store, [tmp_path / name], publisher="Dawn"))
    list(ingest_paths(store, [shared / "corpus" / "001_71f90dfcd79863ad.txt"]))
    df = ledger.grade(ledger.claims_frame(store, "USSM-FWO MoU/value"))
    by_doc = {d: g for d, g in df.groupby("doc")}
    ok, off = by_doc["ok.txt"].iloc[0], by_doc["off.txt"].iloc[0]
    assert ok["plausibility"] == "consistent" and "US$500 million" in ok["plausibility_note"]
    assert off["plausibility"] == "inconsistent"
    assert "deal:ussm-fwo-2025" in ok["evidence_entities"].split("|")
    # The evidence base's value for this deal comes from corpus article 001 itself: no independent check.
    own = by_doc["001_71f90dfcd79863ad.txt"]
    assert set(own["plausibility"]) == {"same_source"}
    assert all("not independent" in n for n in own["plausibility_note"])
    with store.engine.connect() as conn:
        kinds = {r[0] for r in conn.execute(select(tables.claim_entities.c.kind))}
    assert {"ev_deal", "ev_organisation"} <= kinds


def test_evidence_from_the_articles_own_publisher_is_not_independent(empty_store: Store, shared: Path,
                                                                       tmp_path: Path) -> None:
    store = _loaded(empty_store)
    # Corpus article 000 (Rare Earth Exchanges; no publisher detected) is the source of the evidence base's
    # 90% magnet share: that observation must not confirm the article's own 90%.
    list(ingest_paths(store, [shared / "corpus" / "000_c04030614284859c.txt"]))
    (tmp_path / "reex.txt").write_text("China controls roughly 90% of global magnet output.", encoding="utf-8")
    list(ingest_paths(store, [tmp_path / "reex.txt"], publisher="REEx"))  # a variant of the same publisher
    (tmp_path / "dawn.txt").write_text("China controls roughly 90% of global magnet production.", encoding="utf-8")
    list(ingest_paths(store, [tmp_path / "dawn.txt"], publisher="Dawn"))
    df = ledger.claims_frame(store, "CHN/NdFeB magnet production/world share")
    with store.engine.connect() as conn:
        links = pd.read_sql_query(select(tables.claim_links), conn)
    reex_obs = "4af16ab6a4135894"  # Rare Earth Exchanges, 90%, 2025 (source reex-2025-09)
    rel = {doc: dict(zip(links[links["claim"] == cid]["observation"], links[links["claim"] == cid]["relation"],
                         strict=True)) for doc, cid in zip(df["doc"], df["id"], strict=True)}
    assert rel["000_c04030614284859c.txt"][reex_obs] == "same_source"
    assert rel["reex.txt"][reex_obs] == "same_source"
    assert rel["dawn.txt"][reex_obs] == "agrees"
    row = df.set_index("doc").loc["000_c04030614284859c.txt"]
    assert row["evidence_same_source"] == 1 and row["evidence_agrees"] >= 1  # the IEA's 94% still agrees
    assert row["plausibility"] == "consistent" and "not independent" in row["plausibility_note"]
    graded = ledger.grade(df).set_index("doc")
    # Article 000 has no detected publisher and reex.txt is REEx: two sources; Dawn makes three. Were the
    # REEx observation counted, article 000 would also show evidence 2.
    assert graded.loc["reex.txt", "independent_sources"] == 3
    assert "evidence 1;" in graded.loc["000_c04030614284859c.txt", "grade"]


def test_share_with_only_its_own_source_as_evidence_is_not_confirmed() -> None:
    row = RefRow("stage_share", "stage_share rare-earths CHN", "CHN", "magnet", "rare-earths", 90.0, None, None, "%",
                 None, "2025", "Rare Earth Exchanges: commentary", "secondary", "obs1", "Rare Earth Exchanges",
                 "reex-2025-09 commentary project corpus file 000_c04030614284859c.txt")
    ref = Reference([row])
    (c,) = extract_claims("Beijing controls roughly 90% of global magnet output.")
    assert plausibility(c, ref)[0] == "consistent"
    assert plausibility(c, ref, source=DocumentSource(publisher="REEx"))[0] == "same_source"
    assert plausibility(c, ref, source=DocumentSource(name="000_c04030614284859c.txt"))[0] == "same_source"
    (a,) = extract_claims("Beijing controls roughly 90% of global magnet output, according to Rare Earth Exchanges.")
    assert plausibility(a, ref, source=DocumentSource(publisher="Dawn"))[0] == "same_source"


def test_claims_resting_on_one_underlying_source_count_once(tmp_path: Path, empty_store: Store) -> None:
    for name, pub, text in (
            ("a.txt", "Dawn", "China accounts for 69% of global rare earth mining, according to the USGS."),
            ("b.txt", "Reuters", "China accounts for 69 percent of global rare earth mining, according to the USGS."),
            ("c.txt", "Rare Earth Exchanges", "China accounts for 69% of global rare earth mining."),
            ("d.txt", "REEx", "China accounts for about 69% of global rare earth mining."),
            ("e.txt", "Mining.com", "China accounts for 69% of global rare earth mining, officials said."),
            ("f.txt", None, "China accounts for 69% of global rare earth mining, according to Mining Weekly. "
                            "That is, China accounts for 69% of global rare earth mining.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        list(ingest_paths(empty_store, [tmp_path / name], publisher=pub))
    df = ledger.grade(ledger.claims_frame(empty_store))
    assert df["subject"].nunique() == 1 and len(df) == 7
    # USGS (a, b), Rare Earth Exchanges (c, d), Mining.com ("officials" names no particular source) and f.txt,
    # whose two claims (one quoting Mining Weekly, one not) are one source, not two: 4.
    assert set(df["independent_sources"]) == {4}
    assert ledger.underlying_source("Dawn", "the USGS", "x") == ledger.underlying_source("Reuters", "USGS", "y")
    assert ledger.underlying_source("REEx", None, "x") == ledger.underlying_source("Rare Earth Exchanges", None, "y")
    assert ledger.underlying_source(None, "officials", "x") == "document:x"


def test_cli_name_table_comes_from_the_evidence_base(empty_store: Store) -> None:
    load_into(empty_store)
    names = names_from_store(empty_store)
    assert names.entities[("deal", "ussm-fwo-mou-2025")].evidence == (("deal", "ussm-fwo-2025"),)
    assert names.entities[("place", "bayan-obo")].evidence == (("facility", "bayan-obo-mine"),)
    (c,) = extract_claims("US Strategic Metals and the FWO signed a $500 million memorandum.", names)
    assert ("ev_deal", "ussm-fwo-2025") in c.entities and c.subject == "USSM-FWO MoU/value"
