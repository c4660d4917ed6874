from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from orechain.evidence.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture
def shared() -> Path:
    """The read-only ../shared folder beside the checkout (real USGS files, WGI, corpus)."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout (it is in CI and on developer machines)")
    return SHARED


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "test.db")
    yield store
    store.close()


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the shipped evidence base, built once per test session."""
    from orechain.evidence.shipped import load_into

    path = tmp_path_factory.mktemp("db") / "shipped.db"
    with Store.open(path) as store:
        load_into(store)
    return path


@pytest.fixture
def store(loaded_db: Path, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the shipped database, safe to write to."""
    import shutil

    target = tmp_path / "copy.db"
    shutil.copy(loaded_db, target)
    s = Store.open(target)
    yield s
    s.close()
