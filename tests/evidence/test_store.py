from __future__ import annotations

from pathlib import Path

import pytest

from orechain.evidence import schema
from orechain.evidence.shipped import load_dataset, load_into
from orechain.evidence.store import Store, StoreError, resolve_url


def test_resolve_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ORECHAIN_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_url() == f"sqlite:///{tmp_path}/orechain/orechain.db"
    monkeypatch.setenv("ORECHAIN_DB", "postgresql://u@localhost/db")
    assert resolve_url() == "postgresql://u@localhost/db"
    assert resolve_url("x.db") == "sqlite:///x.db"


def test_migrations_create_schema_and_are_idempotent(empty_store: Store) -> None:
    assert empty_store.revision() == empty_store.head()
    assert empty_store.migrate() is False


def test_shipped_load_is_idempotent(empty_store: Store) -> None:
    ds = load_dataset()
    first = load_into(empty_store, ds)
    assert first["sources"] == len(ds.sources) > 0
    assert first["observations"] == len(ds.observations) > 0
    second = load_into(empty_store, ds)
    assert sum(second.values()) == 0


def test_read_only_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    Store.open(path).close()
    # A read-only connection (file permissions do not stop root, who runs CI, so open it read-only).
    ro = Store.open(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreError, match="read-only"), ro.transaction() as conn:
        conn.execute(schema.sources.insert().values(id="x", publisher="p", title="t", kind="news"))
    ro.close()
