"""The ledger's read functions for documents and evidence links (used by the API)."""

from __future__ import annotations

from pathlib import Path

from orechain.claims import ledger
from orechain.claims.ingest import ingest_paths
from orechain.evidence.shipped import load_dataset, load_into
from orechain.evidence.store import Store

FAKE = Path(__file__).parents[1] / "api" / "fixtures"


def test_documents_and_evidence_links(empty_store: Store) -> None:
    load_into(empty_store, load_dataset(FAKE / "evidence"))
    results = list(ingest_paths(empty_store, [FAKE / "claims"]))
    assert sorted(r.status for r in results) == ["added", "added"]
    docs = ledger.documents_frame(empty_store)
    assert list(docs["name"]) == ["fake_daily.txt", "fake_weekly.txt"]
    assert list(docs["claims"]) == [2, 2]
    assert "repaired_text" not in docs.columns
    one = ledger.documents_frame(empty_store, str(docs["id"].iat[0]), text=True)
    assert len(one) == 1 and "US$6 trillion" in one["repaired_text"].iat[0]
    assert ledger.documents_frame(empty_store, "no-such-document").empty
    claims = ledger.claims_frame(empty_store)
    share = claims[claims["subject"] == "CHN/rare earth production/world share"]
    links = ledger.evidence_links(empty_store)
    assert list(links["claim"]) == list(share["id"])
    row = links.iloc[0]
    assert (row["relation"], row["source_id"], row["value"], row["unit"]) == ("agrees", "test-news", 69.0, "%")
    assert ledger.evidence_links(empty_store, "no-such-claim").empty
    # a claim's span points into the document's repaired text
    c = claims.iloc[0]
    text = ledger.documents_frame(empty_store, str(c["document"]), text=True)["repaired_text"].iat[0]
    assert text[int(c["start"]):int(c["end"])] == c["text"]
