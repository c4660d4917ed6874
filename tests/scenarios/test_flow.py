"""The vectorised cut-based flow (after series-parallel reduction) equals networkx max-flow on the same draws."""

from __future__ import annotations

import numpy as np
import pytest

from orechain.scenarios.flow import (
    MAX_CUT_NODES,
    SINK,
    SOURCE,
    FlowGraph,
    TooManyNodes,
    compile_flow,
    max_flow,
    networkx_max_flow,
)


def random_graph(rng: np.random.Generator, n_levels: int, per_level: int, p_link: float,
                 markets: bool = True) -> FlowGraph:
    """A layered graph like the analytics' network: facilities by level, a free market node after each level
    that open facilities feed and open facilities of the next level draw from, and some known links."""
    levels = [list(range(i * per_level, (i + 1) * per_level)) for i in range(n_levels)]
    n = n_levels * per_level
    hub = [n + i for i in range(n_levels - 1)]
    edges: list[tuple[int, int]] = []
    has_in, has_out = set(), set()
    for lv in range(n_levels - 1):
        for a in levels[lv]:
            for b in levels[lv + 1]:
                if rng.random() < p_link:
                    edges.append((a, b))
                    has_out.add(a)
                    has_in.add(b)
    for a in levels[0]:
        edges.append((SOURCE, a))
    for b in levels[-1]:
        edges.append((b, SINK))
    if markets:
        for lv in range(n_levels - 1):
            edges += [(a, hub[lv]) for a in levels[lv] if a not in has_out]
            edges += [(hub[lv], b) for b in levels[lv + 1] if b not in has_in]
        if n_levels > 2 and rng.random() < 0.5:  # a bypassed stage: market to market
            edges.append((hub[0], hub[1]))
    return FlowGraph(n, len(hub) if markets else 0, tuple(edges))


@pytest.mark.parametrize("seed", range(16))
def test_market_network_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = random_graph(rng, int(rng.integers(2, 6)), int(rng.integers(1, 5)), float(rng.uniform(0.05, 0.5)))
    net = compile_flow(g)
    caps = rng.uniform(0, 100, size=(25, g.n)) * (rng.random((25, g.n)) > 0.2)
    fast = max_flow(caps, net)
    slow = [networkx_max_flow(c, g) for c in caps]
    assert np.allclose(fast, slow, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_linked_only_network_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    g = random_graph(rng, int(rng.integers(2, 5)), int(rng.integers(2, 4)), 0.45, markets=False)
    net = compile_flow(g)
    caps = rng.uniform(0, 100, size=(30, g.n))
    assert np.allclose(max_flow(caps, net), [networkx_max_flow(c, g) for c in caps], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_zero_nodes_removed_change_nothing(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    g = random_graph(rng, 4, 3, 0.3)
    zero = [int(i) for i in rng.choice(g.n, size=3, replace=False)]
    caps = rng.uniform(0, 100, size=(20, g.n))
    caps[:, zero] = 0.0
    assert np.allclose(max_flow(caps, compile_flow(g, zero)), max_flow(caps, compile_flow(g)), atol=1e-9)


def test_reduction_shrinks_stage_complete_network_to_one_node() -> None:
    # stage-complete: every facility through one market per stage -> series of parallel groups -> one node
    rng = np.random.default_rng(0)
    full = random_graph(rng, 5, 6, 0.0)
    g = FlowGraph(full.n, full.n_free, tuple(e for e in full.edges if not (e[0] >= full.n and e[1] >= full.n)))
    net = compile_flow(g)
    assert len(net.reduced) == 1 and net.n_cuts == 1
    caps = rng.uniform(0, 10, size=(50, g.n))
    stage_sums = caps.reshape(50, 5, 6).sum(axis=2)
    assert np.allclose(max_flow(caps, net), stage_sums.min(axis=1))


def test_broadcast_columns_and_shapes() -> None:
    g = random_graph(np.random.default_rng(1), 3, 2, 0.3)
    net = compile_flow(g)
    caps = np.ones((5, 7, g.n))
    assert max_flow(caps, net).shape == (5, 7)


def test_no_path_means_no_flow() -> None:
    g = FlowGraph(2, 0, ((SOURCE, 0), (1, SINK)))
    assert max_flow(np.array([[5.0, 5.0]]), compile_flow(g))[0] == 0.0


def test_unbounded_path_refused() -> None:
    g = FlowGraph(1, 1, ((SOURCE, 1), (1, SINK), (SOURCE, 0), (0, SINK)))
    with pytest.raises(ValueError, match="unbounded"):
        compile_flow(g)


def test_too_many_nodes_refused() -> None:
    # a bipartite graph with every link known (no markets) does not reduce
    n = MAX_CUT_NODES + 4
    half = n // 2
    rng = np.random.default_rng(3)
    edges = [(a, b) for a in range(half) for b in range(half, n) if rng.random() < 0.5]
    edges += [(SOURCE, a) for a in range(half)] + [(b, SINK) for b in range(half, n)]
    with pytest.raises(TooManyNodes, match="limited to"):
        compile_flow(FlowGraph(n, 0, tuple(edges)))
