from __future__ import annotations

from pathlib import Path

import orechain


def test_open_store_loads_the_shipped_base_once(tmp_path: Path) -> None:
    store = orechain.open_store(str(tmp_path / "a.db"))
    n = store.counts()["observations"]
    assert n > 100
    store.close()
    again = orechain.open_store(str(tmp_path / "a.db"))
    assert again.counts()["observations"] == n
    again.close()


def test_subpackages_are_lazy_attributes() -> None:
    assert orechain.analytics.__name__ == "orechain.analytics"
    assert orechain.__version__
