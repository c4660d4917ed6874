from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from orechain.claims import tables
from orechain.claims.ingest import IngestError, read_document, repair_text
from orechain.claims.ingest import ingest_paths as ingest
from orechain.evidence.store import Store

ARTICLE = ("Pakistan Signs Minerals Deal With US Firm\n"
           "Islamabad, Sept. 9, 2025 (Reuters) Pakistan signed a $500 million memorandum with US Strategic Metals "
           "and the Frontier Works Organisation on Monday. Officials say the country's mineral wealth is worth "
           "$6 trillion. The deal covers antimony, copper and rare earths.\n")


def test_thai_mojibake_is_repaired() -> None:
    broken = "of โrare earth minerals,โ by Pakistanโs Army. investorsโand communiquรฉs ยฉ it"
    fixed, n = repair_text(broken)
    assert fixed == "of “rare earth minerals,” by Pakistan’s Army. investors—and communiqués © it"
    assert n == 6


def test_real_thai_text_is_left_alone() -> None:
    thai = "ประเทศไทยมีแร่หายาก " * 5
    assert repair_text(thai)[0] == thai


def test_corpus_article_keeps_original_and_repairs(shared: Path) -> None:
    doc = read_document(shared / "corpus" / "000_c04030614284859c.txt")
    assert "โ" in doc.original_text and "โ" not in doc.text
    assert "Pakistan’s military-run Frontier Works" in doc.text
    assert doc.language == "en" and doc.repairs > 20


def test_html_markdown_and_metadata(tmp_path: Path) -> None:
    html = tmp_path / "a.html"
    html.write_text('<html><head><title>T</title><meta property="og:site_name" content="Dawn">'
                    '<meta property="article:published_time" content="2025-10-03T10:00:00Z"></head>'
                    '<body><h1>Pasni port plan</h1><script>var x = "$9 trillion";</script>'
                    '<p>The port could cost around $1.2 billion<div>unclosed <b>tags', encoding="utf-8")
    doc = read_document(html)
    assert (doc.title, doc.publisher, doc.date) == ("Pasni port plan", "Dawn", "2025-10-03")
    assert "$9 trillion" not in doc.text and "$1.2 billion" in doc.text
    md = tmp_path / "b.md"
    md.write_text("---\ntitle: Minerals\ndate: 2025-09-08\n---\n# Heading\n\nA **$500 million** [pact](http://x).\n",
                  encoding="utf-8")
    doc = read_document(md)
    assert (doc.title, doc.date) == ("Minerals", "2025-09-08")
    assert "A $500 million pact." in doc.text


@pytest.mark.parametrize(("content", "status"), [
    (b"", "empty"), (b"  \n ", "empty"), (b"%PDF-1.7 binary", "binary"), (b"\x00\x01\x02abc", "binary"),
])
def test_bad_files_are_clear_errors(tmp_path: Path, content: bytes, status: str) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(content)
    with pytest.raises(IngestError) as exc:
        read_document(p)
    assert exc.value.status == status and str(p) in str(exc.value)


def test_huge_file_has_a_limit(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    p.write_text("word " * 1000, encoding="utf-8")
    with pytest.raises(IngestError, match="limit"):
        read_document(p, max_bytes=1000)


def test_other_language_is_ingested_but_flagged(tmp_path: Path, empty_store: Store) -> None:
    p = tmp_path / "es.txt"
    p.write_text("El gobierno de Pakistán firmó un acuerdo de 500 millones de dólares con una empresa de los "
                 "Estados Unidos para exportar minerales y tierras raras desde la provincia.", encoding="utf-8")
    (r,) = list(ingest(empty_store, [p]))
    assert r.status == "unsupported_language" and r.claims == 0
    with empty_store.engine.connect() as conn:
        assert conn.execute(select(tables.documents.c.status)).scalar_one() == "unsupported_language"


def _count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_ingest_is_idempotent(tmp_path: Path, empty_store: Store) -> None:
    a = tmp_path / "a.txt"
    a.write_text(ARTICLE, encoding="utf-8")
    b = tmp_path / "copy.txt"
    b.write_text(ARTICLE.replace("\n", "\r\n"), encoding="utf-8")
    first = list(ingest(empty_store, [a]))
    assert first[0].status == "added" and first[0].claims == 2
    again = list(ingest(empty_store, [a, b]))
    assert [r.status for r in again] == ["duplicate", "duplicate"]
    assert _count(empty_store, tables.documents) == 1 and _count(empty_store, tables.claims) == 2


def test_folder_ingest_resumes_without_duplicates(tmp_path: Path, empty_store: Store) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(7):
        (folder / f"{i:03d}.txt").write_text(ARTICLE.replace("Monday", f"day {i}"), encoding="utf-8")
    (folder / "junk.bin").write_bytes(b"\x00\x01")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    run = ingest(empty_store, [folder], batch_size=3)
    seen = [next(run) for _ in range(3)]  # the first batch is committed; then the run is interrupted
    run.close()
    assert all(r.status == "added" for r in seen)
    assert _count(empty_store, tables.documents) == 3
    rest = list(ingest(empty_store, [folder], batch_size=3))
    statuses = [r.status for r in rest]
    assert statuses.count("resumed") == 3 and statuses.count("added") == 4
    assert statuses.count("skipped") == 1 and statuses.count("empty") == 1
    assert _count(empty_store, tables.documents) == 7 and _count(empty_store, tables.claims) == 14
    os.utime(folder / "000.txt", (1, 1))  # touched: read again, recognised as the same document
    assert [r.status for r in ingest(empty_store, [folder]) if r.status != "resumed"] == ["duplicate"]
    assert _count(empty_store, tables.documents) == 7
