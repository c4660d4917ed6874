"""orechain: critical-mineral supply chains from mine to magnet.

The Python API in one screen::

    import orechain
    store = orechain.open_store("my.db")          # SQLite path or SQLAlchemy URL; loads the shipped data once
    from orechain.evidence import queries
    queries.production(store, commodity="rare-earths", year=2024)     # DataFrame, every source kept
    from orechain.analytics import concentration, network, geopolrisk
    from orechain.scenarios import engine
    from orechain.claims import ledger

Subpackages are imported on first use (``orechain.analytics`` etc.), so ``import orechain`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "analytics", "claims", "evidence", "open_store", "report", "scenarios", "units"]

if TYPE_CHECKING:
    from orechain.evidence.store import Store

_LAZY = {"analytics", "claims", "evidence", "report", "scenarios", "units", "interfaces"}


def open_store(db: str | None = None) -> Store:
    """Open the evidence store at ``db`` (default ``$ORECHAIN_DB`` or the per-user database).

    The schema is created or upgraded, and the shipped evidence base is loaded into a new database.
    """
    from orechain.evidence.shipped import load_shipped
    from orechain.evidence.store import Store

    store = Store.open(db)
    if store.counts().get("sources", 0) == 0:
        load_shipped(store)
    return store


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"orechain.{name}")
    raise AttributeError(f"module 'orechain' has no attribute {name!r}")
