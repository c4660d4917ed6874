from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orechain.evidence.shipped import load_dataset, load_into
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app

FAKE = Path(__file__).parent / "fixtures" / "evidence"
CLAIMS = Path(__file__).parent / "fixtures" / "claims"


@pytest.fixture(scope="session")
def fake_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the tiny fake evidence folder (invented names and numbers) and two fake articles."""
    from orechain.claims.ingest import ingest_paths

    path = tmp_path_factory.mktemp("api") / "fake.db"
    with Store.open(path) as store:
        load_into(store, load_dataset(FAKE))
        assert [r.status for r in ingest_paths(store, [CLAIMS])] == ["added", "added"]
    return path


@pytest.fixture(scope="session")
def client(fake_db: Path) -> Iterator[TestClient]:
    app = create_app(db=fake_db, load_shipped=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.orechain.store.close()
