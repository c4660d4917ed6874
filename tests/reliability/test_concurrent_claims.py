"""Several processes ingesting the same articles into one claims ledger at once: nothing twice, nothing lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from orechain.claims.tables import claims, documents
from orechain.evidence.store import Store


def _ingest(db: str, folder: Path) -> subprocess.Popen[str]:
    cli = Path(sys.executable).parent / "orechain"  # the installed console script
    return subprocess.Popen([str(cli), "claims", "ingest", str(folder), "--db", db],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _counts(db: str) -> tuple[int, int]:
    with Store.open(db) as s, s.engine.connect() as conn:
        n_docs = conn.execute(select(func.count()).select_from(documents)).scalar_one()
        n_claims = conn.execute(select(func.count()).select_from(claims)).scalar_one()
    return int(n_docs), int(n_claims)


def test_concurrent_ingest_of_the_same_folder(shared: Path, new_db: object) -> None:
    make = new_db  # a maker of fresh databases on the test's backend (SQLite or PostgreSQL)
    reference, racing = make(), make()  # type: ignore[operator]
    corpus = shared / "corpus"
    one = _ingest(reference, corpus)
    out, err = one.communicate(timeout=300)
    assert one.returncode == 0, f"stdout: {out}\nstderr: {err}"
    expected = _counts(reference)
    assert expected[0] == 3 and expected[1] > 0
    procs = [_ingest(racing, corpus) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"stdout: {out}\nstderr: {err}"
    assert _counts(racing) == expected
