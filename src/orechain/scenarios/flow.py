"""Independent-chain capacity of a layered mine -> ... -> magnet network, for many draws at once.

The network: a source feeds every facility of the first stage; allowed links carry material from a
facility to facilities downstream (uncapacitated); every facility of the last stage delivers to the
consumer. Facilities carry the capacities (node capacities); an excluded facility has capacity 0.

By max-flow/min-cut, the maximum flow equals the smallest total capacity of a set of facilities whose
removal disconnects the source from the consumer (a vertex cut). The minimal vertex cuts depend only on the
topology, so they are enumerated ONCE, and the flow for every scenario and year is then one matrix product
and a minimum: ``flow = min_k (capacity @ cuts)[..., k]``.

* With stage-complete links (every facility of a stage may feed every facility of the next) the minimal
  cuts are exactly the stages, so the flow is the minimum over stages of the summed capacity.
* With restricted links the minimal cuts are the minimal hitting sets of the source-consumer paths,
  enumerated exactly over the facilities that lie on some path (up to :data:`MAX_CUT_NODES` of them).

:func:`networkx_max_flow` computes the same number with networkx's augmenting-path max-flow on the
node-split graph; the tests and ``benchmarks/bench_scenarios_flow.py`` check that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

__all__ = ["MAX_CUT_NODES", "FlowNetwork", "TooManyNodes", "complete_network", "linked_network", "max_flow",
           "networkx_max_flow"]

MAX_CUT_NODES = 22
"""Restricted-link networks with more facilities than this on source-consumer paths are refused (the
exact cut enumeration is exponential in it); stage-complete networks have no limit."""


class TooManyNodes(ValueError):
    pass


@dataclass(frozen=True)
class FlowNetwork:
    """A layered facility network and its minimal vertex cuts (``cuts[f, k] = 1`` when facility ``f`` is in
    cut ``k``). ``edges`` are index pairs; ``first``/``last`` mark facilities fed by the source / delivering
    to the consumer."""

    n: int
    edges: tuple[tuple[int, int], ...]
    first: tuple[bool, ...]
    last: tuple[bool, ...]
    cuts: npt.NDArray[np.float64]

    @property
    def n_cuts(self) -> int:
        return int(self.cuts.shape[1])


def complete_network(stage_of: Sequence[int], n_stages: int) -> FlowNetwork:
    """Every facility of stage ``s`` may feed every facility of stage ``s+1``: the minimal cuts are the stages
    (a stage with no facility is an empty cut, so the flow is 0)."""
    stage = np.asarray(stage_of, dtype=int)
    cuts = np.zeros((len(stage), n_stages))
    cuts[np.arange(len(stage)), stage] = 1.0
    edges = tuple((int(a), int(b)) for a in range(len(stage)) for b in range(len(stage)) if stage[b] == stage[a] + 1)
    return FlowNetwork(len(stage), edges, tuple(bool(s == 0) for s in stage),
                       tuple(bool(s == n_stages - 1) for s in stage), cuts)


def _paths(n: int, edges: Sequence[tuple[int, int]], first: Sequence[bool], last: Sequence[bool]) -> list[int]:
    """Every source-consumer path as a bit mask of facilities (the graph is acyclic)."""
    succ: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        succ[a].append(b)
    out: list[int] = []

    def walk(node: int, mask: int, depth: int) -> None:
        if depth > n:  # pragma: no cover - cycles are rejected before
            raise ValueError("the allowed links form a cycle")
        mask |= 1 << node
        if last[node]:
            out.append(mask)
        for nxt in succ[node]:
            walk(nxt, mask, depth + 1)

    for s in range(n):
        if first[s]:
            walk(s, 0, 0)
    return out


def linked_network(stage_of: Sequence[int], n_stages: int, edges: Sequence[tuple[int, int]]) -> FlowNetwork:
    """A network with only the given links; its minimal vertex cuts are enumerated exactly."""
    n = len(stage_of)
    first = tuple(s == 0 for s in stage_of)
    last = tuple(s == n_stages - 1 for s in stage_of)
    paths = _paths(n, edges, first, last)
    on_path = sorted({i for m in paths for i in range(n) if m >> i & 1})
    if not paths:
        return FlowNetwork(n, tuple(edges), first, last, np.zeros((n, 1)))
    if len(on_path) > MAX_CUT_NODES:
        raise TooManyNodes(f"{len(on_path)} facilities lie on source-consumer paths; exact cut enumeration is "
                           f"limited to {MAX_CUT_NODES}: use stage-complete links or fewer projects")
    r = len(on_path)
    # re-index the paths onto the on-path facilities
    pos = {f: i for i, f in enumerate(on_path)}
    small = np.array([sum(1 << pos[f] for f in on_path if m >> f & 1) for m in set(paths)], dtype=np.int64)
    subsets = np.arange(1 << r, dtype=np.int64)
    is_cut = np.ones(1 << r, dtype=bool)
    for p in small:
        is_cut &= (subsets & p) != 0
    minimal = is_cut.copy()
    for b in range(r):
        has = (subsets >> b & 1).astype(bool)
        minimal &= ~(has & is_cut[subsets ^ (1 << b)])
    chosen = subsets[minimal]
    cuts = np.zeros((n, len(chosen)))
    for i, f in enumerate(on_path):
        cuts[f] = (chosen >> i & 1).astype(float)
    return FlowNetwork(n, tuple(edges), first, last, cuts)


def max_flow(capacity: Any, net: FlowNetwork, xp: Any = np) -> Any:
    """Maximum flow for every row of ``capacity`` (shape ``(..., n)``, any array module ``xp``): the minimum
    over the network's cuts of the cut's total capacity. Returns shape ``(...)``."""
    if net.n == 0:
        return xp.zeros(capacity.shape[:-1])
    cuts = xp.asarray(net.cuts)
    if net.n_cuts > 64:
        return xp.min(capacity @ cuts, axis=-1)
    # few cuts: one matrix-vector product per cut and an elementwise minimum (faster than a strided reduce)
    flow = capacity @ cuts[:, 0]
    for k in range(1, net.n_cuts):
        flow = xp.minimum(flow, capacity @ cuts[:, k])
    return flow


def networkx_graph(capacity: Sequence[float], net: FlowNetwork) -> nx.DiGraph:
    """The node-split graph: ``f:in -> f:out`` carries facility ``f``'s capacity; links are uncapacitated."""
    g = nx.DiGraph()
    g.add_node("source")
    g.add_node("consumer")
    for f in range(net.n):
        g.add_edge(("in", f), ("out", f), capacity=float(capacity[f]))
        if net.first[f]:
            g.add_edge("source", ("in", f))
        if net.last[f]:
            g.add_edge(("out", f), "consumer")
    for a, b in net.edges:
        g.add_edge(("out", a), ("in", b))
    return g


def networkx_max_flow(capacity: Sequence[float], net: FlowNetwork) -> float:
    """The reference: networkx's maximum flow on the node-split graph (one draw)."""
    return float(nx.maximum_flow_value(networkx_graph(capacity, net), "source", "consumer"))
