from __future__ import annotations

import datetime as dt
from pathlib import Path

from orechain.claims.ingest import ingest_paths
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.report.section import ReportContext
from orechain.report.sections import claims as section

CTX = ReportContext(as_of=dt.date(2026, 1, 20))


def test_empty_ledger_says_so(empty_store: Store) -> None:
    s = section.build(empty_store, CTX)
    assert "empty" in str(s.html) and s.summary == ["claims ledger: empty"]


def test_section_lists_conflicts_and_evidence_checks(empty_store: Store, shared: Path) -> None:
    load_into(empty_store)
    list(ingest_paths(empty_store, [shared / "corpus"]))
    s = section.build(empty_store, CTX)
    assert "Claims checked against the evidence base" in str(s.html)
    checked = s.tables["checked"]
    deal = checked[checked["subject"] == "USSM-FWO MoU/value"].set_index("doc")["plausibility"]
    assert deal["001_71f90dfcd79863ad.txt"] == "same_source"  # the evidence base's figure comes from 001
    assert set(deal.drop("001_71f90dfcd79863ad.txt")) == {"consistent"}
    share = checked[checked["subject"] == "CHN/NdFeB magnet production/world share"].iloc[0]
    assert share["evidence_same_source"] == 1 and share["evidence_agrees"] == 1
    assert "PAK/total mineral wealth/value" in set(s.tables["conflicts"]["subject"])
