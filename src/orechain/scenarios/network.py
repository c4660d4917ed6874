"""The scenario's chain as a flow graph, built by the analytics' network rules.

The chain projects of a scenario (the evidence base's facilities from ``base:``, plus the projects added on
top) are handed to :func:`orechain.analytics.network.build_network` and its node-split graph
(``orechain.analytics.network._graph``, the graph ``orechain trace`` solves), so a scenario's network follows
the same rules as the present-day analytics:

* a facility with known offtakes sends only along them; one with known suppliers draws only from them;
* every other facility sends into the open market of its stage, from which every facility of the next stage
  with no known supplier draws; a bypassable stage (beneficiation) may be skipped by the open market;
* recyclers are sources beside the mines and send only along their known links;
* national aggregates already stand for their member plants (done when the base was read).

Two additions for scenarios:

* **Links written in the scenario never take an evidence-base facility off its open market.** A link from a
  Pakistani mine to Energy Fuels' White Mesa mill adds a supplier; White Mesa keeps drawing from the open
  market as in the evidence base. (For projects added by the scenario, links are known links as above.) So
  a scenario whose added projects have no capacity has exactly the evidence base's flow.
* **Link capacities.** A link with ``capacity`` (per year) or ``share`` (at most this share of the
  downstream's capacity comes through it) becomes a capacitated node on the edge; evidence-base links with a
  ``share`` are treated the same way. Links without either are uncapacitated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orechain.scenarios.flow import SINK, SOURCE, FlowGraph
from orechain.scenarios.spec import Link, Scenario

__all__ = ["ChainGraph", "chain_graph"]


@dataclass(frozen=True)
class ChainGraph:
    """``graph``'s capacitated nodes are the chain projects (node ``i`` is project ``project[i]``, an index
    into ``scenario.projects``) followed by the capacitated links (``link[k]`` is the index into
    ``scenario.links`` of node ``len(project) + k``)."""

    graph: FlowGraph
    project: tuple[int, ...]
    link: tuple[int, ...]
    link_downstream: tuple[int, ...]  # for each capacitated link, the node of its downstream facility

    @property
    def n_facilities(self) -> int:
        return len(self.project)


def _frame(s: Scenario) -> tuple[pd.DataFrame, list[int]]:
    chain = [i for i, p in enumerate(s.projects) if p.in_chain]
    f = pd.DataFrame({
        "id": [s.projects[i].id for i in chain], "stage": [s.projects[i].stage for i in chain],
        "country": [s.projects[i].country for i in chain], "controller": [s.projects[i].controlled_by for i in chain],
        "capacity": 1.0, "capacity_unit": "t", "basis_factor": 1.0,  # capacities are simulated, not read here
    })
    return f, chain


def chain_graph(s: Scenario) -> ChainGraph:
    """The flow graph of the scenario's chain projects (see the module docstring). Raises
    :class:`~orechain.analytics.errors.AnalyticsInputError` for links that run against the chain or form a
    cycle within a stage."""
    from orechain.analytics.network import SECONDARY, UNIT_FACTORS, _graph, aggregate_facilities, build_network

    f, chain = _frame(s)
    links = pd.DataFrame({"upstream": [lk.upstream for lk in s.links], "downstream": [lk.downstream for lk in s.links],
                          "share": [lk.share if lk.share is not None else np.nan for lk in s.links]})
    net = build_network(f, links, stages=s.stages, factors=UNIT_FACTORS, basis=s.unit, bypass=s.bypass,
                        aggregates=aggregate_facilities().iloc[:0], secondary=SECONDARY)
    n = net.size
    pos = {pid: i for i, pid in enumerate(net.facilities["id"])}
    by_id = {s.projects[i].id: i for i in chain}
    project = tuple(by_id[pid] for pid in net.facilities["id"])
    levels = net.facilities["level"].to_numpy()
    secondary = net.facilities["secondary"].to_numpy(dtype=bool)
    g = _graph(net, np.ones(n, dtype=bool), np.ones(n, dtype=bool))
    hub0 = 2 * n

    def node(v: int, tail: bool) -> int:
        if v == g.source:
            return SOURCE
        if v == g.sink:
            return SINK
        if v >= hub0:
            return v - hub0 + n  # free nodes after the facilities (link nodes are appended later)
        return v // 2

    raw_edges = [(node(int(a), True), node(int(b), False)) for a, b in zip(g.src[n:], g.dst[n:], strict=True)]
    # links written in the scenario never take an evidence-base facility off its open market
    evidence = np.array([s.projects[project[i]].evidence for i in range(n)])
    has_in, has_out = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for lk in s.links:
        if not lk.declared and lk.upstream in pos and lk.downstream in pos:
            has_out[pos[lk.upstream]] = True
            has_in[pos[lk.downstream]] = True
    last = (levels == len(net.stages) - 1) & ~secondary
    for lk in s.links:
        if not lk.declared:
            continue
        u, d = pos[lk.upstream], pos[lk.downstream]
        if evidence[d] and not has_in[d] and levels[d] > 0:
            raw_edges.append((n + int(levels[d]) - 1, d))
        if evidence[u] and not has_out[u] and not last[u] and not secondary[u]:
            raw_edges.append((u, n + int(levels[u])))
    # capacitated links become nodes on their edge
    n_hubs = len(net.stages)
    cap_links = {(pos[lk.upstream], pos[lk.downstream]): k for k, lk in enumerate(s.links)
                 if lk.share is not None or lk.capacity is not None}
    link_nodes: list[int] = []
    link_down: list[int] = []
    edges: list[tuple[int, int]] = []
    shift = len(cap_links)  # free nodes move past the link nodes

    def moved(v: int) -> int:
        return v + shift if v >= n else v

    for a, b in dict.fromkeys(raw_edges):
        if 0 <= a < n and 0 <= b < n and (a, b) in cap_links:
            k = n + len(link_nodes)
            link_nodes.append(cap_links[(a, b)])
            link_down.append(b)
            edges += [(a, k), (k, b)]
        else:
            edges.append((moved(a), moved(b)))
    _check_links(s.links, link_nodes)
    return ChainGraph(FlowGraph(n + len(link_nodes), n_hubs, tuple(edges)), project, tuple(link_nodes),
                      tuple(link_down))


def _check_links(links: tuple[Link, ...], used: list[int]) -> None:
    missing = [links[k] for k, lk in enumerate(links) if (lk.share is not None or lk.capacity is not None)
               and k not in set(used)]
    if missing:  # pragma: no cover - every link is an edge of the analytics' graph
        raise ValueError("capacitated links not found in the graph: " + ", ".join(
            f"{lk.upstream} -> {lk.downstream}" for lk in missing))
