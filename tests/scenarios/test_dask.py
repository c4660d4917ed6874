"""The Dask backend gives the same result as the local engine for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from orechain.scenarios.results import simulate
from orechain.scenarios.spec import parse_scenario


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
