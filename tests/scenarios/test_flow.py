"""The vectorised cut-based flow equals networkx max-flow on the same draws."""

from __future__ import annotations

import numpy as np
import pytest

from orechain.scenarios.flow import (
    MAX_CUT_NODES,
    TooManyNodes,
    complete_network,
    linked_network,
    max_flow,
    networkx_max_flow,
)


def _random_links(rng: np.random.Generator, stage_of: list[int], p: float) -> list[tuple[int, int]]:
    return [(a, b) for a in range(len(stage_of)) for b in range(len(stage_of))
            if stage_of[b] > stage_of[a] and rng.random() < (p if stage_of[b] == stage_of[a] + 1 else p / 4)]


@pytest.mark.parametrize("seed", range(8))
def test_complete_network_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_stages = int(rng.integers(2, 6))
    stage_of = list(rng.integers(0, n_stages, size=int(rng.integers(n_stages, 14))))
    net = complete_network(stage_of, n_stages)
    caps = rng.uniform(0, 100, size=(30, len(stage_of))) * (rng.random((30, len(stage_of))) > 0.2)
    fast = max_flow(caps, net)
    slow = [networkx_max_flow(c, net) for c in caps]
    assert np.allclose(fast, slow, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_linked_network_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_stages = int(rng.integers(2, 5))
    stage_of = [int(x) for x in rng.integers(0, n_stages, size=int(rng.integers(3, 12)))]
    net = linked_network(stage_of, n_stages, _random_links(rng, stage_of, 0.5))
    caps = rng.uniform(0, 100, size=(40, len(stage_of))) * (rng.random((40, len(stage_of))) > 0.15)
    fast = max_flow(caps, net)
    slow = [networkx_max_flow(c, net) for c in caps]
    assert np.allclose(fast, slow, rtol=1e-12, atol=1e-9)


def test_batched_shapes() -> None:
    net = complete_network([0, 0, 1, 2], 3)
    caps = np.ones((5, 7, 4))
    assert max_flow(caps, net).shape == (5, 7)
    assert np.all(max_flow(caps, net) == 1.0)


def test_empty_stage_means_no_flow() -> None:
    net = complete_network([0, 2], 3)
    assert max_flow(np.array([[5.0, 5.0]]), net)[0] == 0.0


def test_too_many_nodes_refused() -> None:
    n = MAX_CUT_NODES + 2
    stage_of = [i % 2 for i in range(n)]
    links = [(a, b) for a in range(n) for b in range(n) if stage_of[a] == 0 and stage_of[b] == 1]
    with pytest.raises(TooManyNodes, match="limited to"):
        linked_network(stage_of, 2, links)
