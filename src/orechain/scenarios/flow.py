"""Independent-chain capacity of a facility network, for many draws at once.

The network (:class:`FlowGraph`) is a directed acyclic graph of **capacitated nodes** (facilities, and
link-capacity nodes; their capacities are the columns of the capacity array) and **free nodes** (the open
markets of :mod:`orechain.analytics.network`, uncapacitated), with a source feeding the first-level
facilities and recyclers and a sink fed by the final-stage facilities. Edges are uncapacitated.

By max-flow/min-cut, the maximum flow equals the smallest total capacity of a set of capacitated nodes whose
removal disconnects the source from the sink (a vertex cut). The minimal cuts depend only on the topology, so
they are found ONCE, and the flow of every scenario and year is then a few vectorised sums and a minimum.
Finding them exactly is exponential in the number of capacitated nodes, so the graph is first **reduced**
by two exact rules, repeated until neither applies:

* *series*: a node whose only successor has it as its only predecessor carries the same flow as that
  successor, so the two become one node with capacity ``min(a, b)``;
* *parallel*: nodes with the same predecessors and the same successors become one node with capacity
  ``a + b`` (a free node among them makes the merged node free);

after removing nodes that no source-sink path visits and nodes whose capacity is 0 in every draw (e.g.
facilities controlled by an excluded country). Each reduced node's capacity is an expression of sums and
minima of the original columns (:attr:`FlowNetwork.ops`). The minimal vertex cuts of the reduced graph are
then enumerated exactly over all subsets of its capacitated nodes (reachability of the sink computed for
every subset at once with bit operations), up to :data:`MAX_CUT_NODES` reduced nodes; a network that does
not reduce below that is refused with that reason (no approximation is ever substituted).

:func:`networkx_max_flow` computes the same number with networkx's maximum flow on the node-split original
graph; the tests and ``benchmarks/bench_scenarios_flow.py`` check that both agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

__all__ = ["MAX_CUT_NODES", "SINK", "SOURCE", "FlowGraph", "FlowNetwork", "TooManyNodes", "compile_flow",
           "max_flow", "max_flow_columns", "networkx_max_flow"]

MAX_CUT_NODES = 20
"""Networks whose reduced graph keeps more capacitated nodes than this are refused (the exact cut
enumeration visits 2^nodes subsets)."""

SOURCE = -1
SINK = -2

Expr = int | tuple[str, tuple[Any, ...]] | None  # a column, ("sum"|"min", parts), or None = unbounded


class TooManyNodes(ValueError):
    pass


@dataclass(frozen=True)
class FlowGraph:
    """Nodes ``0..n-1`` are capacitated (column ``i`` of the capacity array), ``n..n+n_free-1`` are free
    (uncapacitated); ``edges`` join node ids, :data:`SOURCE` and :data:`SINK`."""

    n: int
    n_free: int
    edges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class FlowNetwork:
    """A :class:`FlowGraph` compiled for vectorised max-flow. ``ops[i]`` computes column ``n + i`` as the sum
    or minimum of earlier columns; ``reduced`` are the columns of the reduced capacitated nodes; ``cuts[j, k]``
    is 1 when reduced node ``j`` is in minimal cut ``k``."""

    graph: FlowGraph
    ops: tuple[tuple[str, tuple[int, ...]], ...]
    reduced: tuple[int, ...]
    cuts: npt.NDArray[np.float64]
    zero: frozenset[int] = frozenset()
    alive: frozenset[int] = frozenset()  # capacitated nodes whose capacity can change the flow


    @property
    def n(self) -> int:
        return self.graph.n

    @property
    def n_cuts(self) -> int:
        return int(self.cuts.shape[1])


# -- reduction -------------------------------------------------------------------------------------------
def _combine(kind: str, parts: Sequence[Expr]) -> Expr:
    if kind == "min":
        finite = [p for p in parts if p is not None]
        if not finite:
            return None
        parts = finite
    elif any(p is None for p in parts):
        return None  # a sum with an unbounded part is unbounded
    flat: list[Any] = []
    for p in parts:
        if isinstance(p, tuple) and p[0] == kind:
            flat.extend(p[1])
        else:
            flat.append(p)
    return flat[0] if len(flat) == 1 else (kind, tuple(flat))


def _reduce(g: FlowGraph, zero: frozenset[int]) -> tuple[dict[int, Expr], dict[int, set[int]], dict[int, set[int]]]:
    nodes = [v for v in range(g.n + g.n_free) if v not in zero]
    expr: dict[int, Expr] = {v: (v if v < g.n else None) for v in nodes}
    succ: dict[int, set[int]] = {v: set() for v in [*nodes, SOURCE, SINK]}
    pred: dict[int, set[int]] = {v: set() for v in [*nodes, SOURCE, SINK]}
    for a, b in g.edges:
        if a in succ and b in succ and a != b:
            succ[a].add(b)
            pred[b].add(a)

    def reach(start: int, nxt: dict[int, set[int]]) -> set[int]:
        seen, stack = {start}, [start]
        while stack:
            for w in nxt[stack.pop()]:
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return seen

    alive = reach(SOURCE, succ) & reach(SINK, pred)
    for v in list(succ):
        if v not in alive:
            for w in succ.pop(v):
                pred.get(w, set()).discard(v)
            for w in pred.pop(v):
                succ.get(w, set()).discard(v)
            expr.pop(v, None)

    def delete(v: int) -> None:
        for w in succ.pop(v):
            pred[w].discard(v)
        for w in pred.pop(v):
            succ[w].discard(v)
        expr.pop(v)

    changed = True
    while changed:
        changed = False
        for u in sorted(expr):
            if u not in expr or len(succ[u]) != 1:
                continue
            v = next(iter(succ[u]))
            if v in (SOURCE, SINK) or len(pred[v]) != 1:
                continue
            expr[u] = _combine("min", [expr[u], expr[v]])
            outs = set(succ[v])
            delete(v)
            for w in outs:
                succ[u].add(w)
                pred[w].add(u)
            changed = True
        groups: dict[tuple[frozenset[int], frozenset[int]], list[int]] = {}
        for u in sorted(expr):
            groups.setdefault((frozenset(pred[u]), frozenset(succ[u])), []).append(u)
        for members in groups.values():
            if len(members) > 1:
                keep = members[0]
                expr[keep] = _combine("sum", [expr[m] for m in members])
                for m in members[1:]:
                    delete(m)
                changed = True
    return expr, succ, pred


def _topological(succ: dict[int, set[int]], pred: dict[int, set[int]]) -> list[int]:
    indeg = {v: len(p) for v, p in pred.items()}
    order, ready = [], [v for v, d in indeg.items() if d == 0]
    while ready:
        v = ready.pop()
        order.append(v)
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    if len(order) != len(indeg):
        raise ValueError("the network has a cycle")
    return order


def _minimal_cuts(cap_nodes: list[int], succ: dict[int, set[int]], pred: dict[int, set[int]]) -> npt.NDArray[np.int64]:
    """Bit masks (over ``cap_nodes``) of every minimal set of capacitated nodes separating source and sink."""
    r = len(cap_nodes)
    bit = {v: i for i, v in enumerate(cap_nodes)}
    subsets = np.arange(1 << r, dtype=np.int64)
    reached: dict[int, npt.NDArray[np.bool_]] = {}
    for v in _topological(succ, pred):
        if v == SOURCE:
            reached[v] = np.ones(1 << r, dtype=bool)
            continue
        ps = [reached[p] for p in pred[v] if p in reached]
        here = reduce(np.logical_or, ps) if ps else np.zeros(1 << r, dtype=bool)
        if v in bit:
            here = here & ((subsets >> bit[v]) & 1 == 0)
        reached[v] = here
    is_cut = ~reached.get(SINK, np.zeros(1 << r, dtype=bool))
    if not is_cut.any():
        raise ValueError("a path of uncapacitated nodes joins the source to the sink: the flow is unbounded")
    minimal = is_cut.copy()
    for b in range(r):
        has = ((subsets >> b) & 1).astype(bool)
        minimal &= ~(has & is_cut[subsets ^ (1 << b)])
    out: npt.NDArray[np.int64] = subsets[minimal]
    return out


def compile_flow(g: FlowGraph, zero: Sequence[int] = ()) -> FlowNetwork:
    """Reduce ``g`` (capacitated nodes in ``zero`` have capacity 0 in every draw) and enumerate its minimal
    cuts; raises :class:`TooManyNodes` when more than :data:`MAX_CUT_NODES` capacitated nodes remain."""
    zset = frozenset(int(z) for z in zero)
    for a, b in g.edges:
        for v in (a, b):
            if v not in (SOURCE, SINK) and not 0 <= v < g.n + g.n_free:
                raise ValueError(f"edge ({a}, {b}) names an unknown node")
    expr, succ, pred = _reduce(g, zset)
    cap_nodes = sorted(v for v, e in expr.items() if e is not None)
    if len(cap_nodes) > MAX_CUT_NODES:
        raise TooManyNodes(
            f"{len(cap_nodes)} capacitated nodes remain after series-parallel reduction of {g.n} facilities; exact "
            f"cut enumeration is limited to {MAX_CUT_NODES}: use fewer projects with their own links, or fewer "
            "known links")
    ops: list[tuple[str, tuple[int, ...]]] = []
    memo: dict[Any, int] = {}

    def column(e: Expr) -> int:
        if isinstance(e, int):
            return e
        assert e is not None
        if e in memo:
            return memo[e]
        kind, parts = e
        ops.append((kind, tuple(column(p) for p in parts)))
        memo[e] = g.n + len(ops) - 1
        return memo[e]

    if SINK not in succ or not (set(pred[SINK]) and set(succ[SOURCE])):
        return FlowNetwork(g, (), (), np.zeros((0, 1)), zset)
    masks = _minimal_cuts(cap_nodes, succ, pred)
    reduced = tuple(column(expr[v]) for v in cap_nodes)
    cuts = np.zeros((len(cap_nodes), len(masks)))
    for i in range(len(cap_nodes)):
        cuts[i] = (masks >> i) & 1
    in_cut = [column(expr[v]) for i, v in enumerate(cap_nodes) if cuts[i].any()]
    alive: set[int] = set()
    stack = list(in_cut)
    while stack:
        c = stack.pop()
        if c < g.n:
            alive.add(c)
        else:
            stack.extend(ops[c - g.n][1])
    return FlowNetwork(g, tuple(ops), reduced, cuts, zset, frozenset(alive))


# -- evaluation ------------------------------------------------------------------------------------------
def max_flow_columns(column: Callable[[int], Any], net: FlowNetwork, xp: Any = np) -> Any:
    """Maximum flow from capacity columns: ``column(i)`` returns capacitated node ``i``'s capacity as any
    array broadcastable to the result (a per-year vector for a deterministic facility, (scenarios, years) for
    a random one). Returns the broadcast shape of the columns used."""
    cols: dict[int, Any] = {}

    def get(i: int) -> Any:
        if i not in cols:
            cols[i] = column(i)
        return cols[i]

    for k, (kind, parts) in enumerate(net.ops):
        arrays = [get(p) for p in parts]
        cols[net.n + k] = reduce(xp.add, arrays) if kind == "sum" else reduce(xp.minimum, arrays)
    if not net.reduced:
        return xp.asarray(0.0)
    flow: Any = None
    for k in range(net.n_cuts):
        members = [net.reduced[j] for j in np.flatnonzero(net.cuts[:, k])]
        total = reduce(xp.add, [get(c) for c in members]) if members else xp.asarray(0.0)
        flow = total if flow is None else xp.minimum(flow, total)
    return flow


def max_flow(capacity: Any, net: FlowNetwork, xp: Any = np) -> Any:
    """Maximum flow for every row of ``capacity`` (shape ``(..., n)``): the minimum over the minimal cuts of
    the cut's total capacity. Returns shape ``(...)``."""
    out = max_flow_columns(lambda i: capacity[..., i], net, xp)
    return out + xp.zeros(capacity.shape[:-1])


def networkx_graph(capacity: Sequence[float], g: FlowGraph) -> nx.DiGraph:
    """The node-split graph: ``in i -> out i`` carries capacitated node ``i``'s capacity; free nodes and
    edges are uncapacitated."""
    def tail(v: int) -> Any:
        return "source" if v == SOURCE else ("out", v) if v < g.n else ("free", v)

    def head(v: int) -> Any:
        return "sink" if v == SINK else ("in", v) if v < g.n else ("free", v)

    d = nx.DiGraph()
    d.add_nodes_from(["source", "sink"])
    for i in range(g.n):
        d.add_edge(("in", i), ("out", i), capacity=float(capacity[i]))
    for a, b in g.edges:
        d.add_edge(tail(a), head(b))
    return d


def networkx_max_flow(capacity: Sequence[float], g: FlowGraph) -> float:
    """The reference: networkx's maximum flow on the node-split graph (one draw)."""
    return float(nx.maximum_flow_value(networkx_graph(capacity, g), "source", "sink"))
