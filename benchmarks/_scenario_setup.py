"""Shared by the scenario benchmarks: the built-in scenario compiled against the shipped evidence base."""

from __future__ import annotations

import tempfile
from pathlib import Path

from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.spec import Scenario, builtin_path, load_scenario


def builtin(name: str = "pakistan-us") -> Scenario:
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        load_into(store)
        return load_scenario(builtin_path(name), facility_table(store))
