"""The Dask backend gives the same result as the local engine for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from orechain.evidence.store import Store
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.results import simulate
from orechain.scenarios.spec import builtin_path, load_scenario, parse_scenario


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_dask_local_cluster_equals_local(small_text: str) -> None:
    pytest.importorskip("distributed")
    s = parse_scenario(small_text, "small.yaml")
    local = simulate(s, 20_000, seed=4, block_size=2_000)
    dask = simulate(s, 20_000, seed=4, backend="dask", workers=2, block_size=2_000)
    assert dask.agg.n == local.agg.n
    for key in local.agg.hists:
        assert np.array_equal(local.agg.hists[key].counts, dask.agg.hists[key].counts)
        assert np.array_equal(local.agg.mean(key), dask.agg.mean(key))
    assert local.fans().equals(dask.fans())
    assert np.array_equal(local.agg.impact_counts, dask.agg.impact_counts)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dask_equals_local_on_the_evidence_network(store: Store) -> None:
    """The base-network model (chain graph, reduced flow networks, static projects) travels to the workers."""
    pytest.importorskip("distributed")
    s = load_scenario(builtin_path("pakistan-us"), facility_table(store))
    local = simulate(s, 4_000, seed=5, block_size=1_000)
    dask = simulate(s, 4_000, seed=5, backend="dask", workers=2, block_size=1_000)
    for key in local.agg.hists:
        assert np.array_equal(local.agg.hists[key].counts, dask.agg.hists[key].counts), key
        assert np.array_equal(local.agg.mean(key), dask.agg.mean(key)), key
    assert np.array_equal(local.agg.sourced_counts, dask.agg.sourced_counts)
    assert local.projects().equals(dask.projects())
