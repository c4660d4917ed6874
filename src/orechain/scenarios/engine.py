"""The Monte Carlo engine: draws, vectorised evaluation, streaming aggregation.

A run is split into **blocks** of ``block_size`` scenarios. Block ``b`` draws from its own generator
(:func:`orechain.scenarios.sampling.block_generator`), is evaluated as arrays of shape ``(scenarios, years)``
per project, and is folded into an :class:`Aggregate` of fixed size (histograms, counts, per-block sums), so
memory stays flat however many scenarios run. Blocks can be evaluated in any order, on any worker: the
histogram counts, minima and maxima merge exactly, and the float sums are kept per block and added in block
order at the end, so the numpy, Dask and GPU paths give the same numbers for the same seed, scenario count
and block size.

Projects whose capacity is the same in every scenario (an operating plant with a fixed nameplate, no hazard,
policy, growth or enabling project acting on it) are **static**: their capacity by year is computed once, at
compile time, and enters the flow as a per-year vector. Only the others are drawn and evaluated per scenario.

Per scenario and year three maximum flows are computed on the chain (:mod:`orechain.scenarios.flow`):

* ``flow``: the independent-chain capacity of the whole chain for the consumer (every facility not
  controlled by an excluded country, evidence base and added projects);
* ``without``: the same with the impact projects (e.g. the Pakistani chain) removed; the impact projects'
  **contribution** is ``flow - without``, what they add to what reaches the consumer;
* ``sourced``: the flow when only the impact projects' sources (mines, recyclers) feed the chain: what their
  material could deliver through the real chain if it displaced other feed.

:func:`evaluate` is written against an array module ``xp`` (numpy by default; CuPy or JAX have the same
functions) and does no I/O; the draws always come from numpy generators on the host, so every backend sees
the same random numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from orechain.evidence.errors import InputError
from orechain.scenarios.flow import SOURCE, FlowNetwork, TooManyNodes, compile_flow, max_flow_columns
from orechain.scenarios.network import ChainGraph, chain_graph
from orechain.scenarios.sampling import FloatArray, block_generator
from orechain.scenarios.spec import Project, Scenario

__all__ = [
    "BLOCK_SIZE",
    "Aggregate",
    "Draws",
    "Hist",
    "Metrics",
    "Model",
    "blocks_for",
    "compile_model",
    "draw",
    "evaluate",
    "hist_arrays",
    "node_capacities",
    "run_block",
    "run_blocks",
    "tune_allocator",
]

BLOCK_SIZE = 8_192
HIST_BINS = 2_000
PROJECT_BINS = 200
_OPERATING_SINCE = 1.0e4  # years before the start: operating plants are past any ramp-up
_RAMP_TAIL = 1.0e6

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


# -- compiled model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Model:
    """A scenario compiled into arrays (pure data; picklable for Dask)."""

    scenario: Scenario
    years: FloatArray
    t0: float
    graph: ChainGraph
    nets: dict[str, FlowNetwork]  # "flow", and with an impact: "without", "sourced"
    dynamic: IntArray  # project indices evaluated per scenario
    static: FloatArray  # (P, Y) capacity of every project in the scenarios where it is static (0 for dynamic)
    is_dynamic: BoolArray  # (P,)
    independent: BoolArray  # (P,) chain project outside the excluded countries
    impact: BoolArray | None  # (P,) impact projects
    region_of: IntArray  # (P,) index into regions, -1 for none
    regions: tuple[str, ...]
    ramp: tuple[tuple[FloatArray, FloatArray], ...]  # per project, see _ramp_knots
    affects: BoolArray  # (K, P) policy k affects project p
    force_frac: FloatArray  # (K, Y) share of each year a policy is in force once it takes force
    force_time: FloatArray  # (K,)
    requires_order: tuple[int, ...]  # dynamic projects with enabling projects, enablers first
    cap_hi: FloatArray  # (P,) largest possible capacity in any year
    flow_hi: float
    demand_lo: FloatArray
    demand_hi: FloatArray
    link_draw: IntArray  # (L,) index into Draws.link_cap for capacitated links with a capacity, -1 for shares
    relevant: BoolArray  # (P,) a project whose capacity can move a flow or the benchmark (the tornado's inputs)
    bench_stages: tuple[str, ...] = ()
    bench_map: FloatArray | None = None  # (P, S*C) stage x controlling country of each chain project
    bench_base: FloatArray | None = None  # (Y, S*C) inline baseline capacity
    bench_third: BoolArray | None = None  # (C,) third country (not a member)
    bench_shape: tuple[int, int] = (0, 0)

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def n_projects(self) -> int:
        return len(self.scenario.projects)


def _ramp_knots(ramp: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    """Tables for :func:`_ramp_frac`: ``R[i + 2]`` is the share of nameplate in production year ``i + 1`` for
    ``i = -2 .. k`` (0 before production, the curve, then 1), and ``D[i + 2] = R[i + 3] - R[i + 2]``."""
    r = np.concatenate([[0.0, 0.0], np.asarray(ramp, dtype=float), [1.0]])
    return r, np.append(np.diff(r), 0.0)


def _demand_bounds(s: Scenario, years: FloatArray) -> tuple[FloatArray, FloatArray]:
    d = s.demand
    lo_t, hi_t = d.target.support()
    span = d.target_year - d.base_year
    out = []
    for t in (lo_t, hi_t):
        g = math.log(t / d.base) / span
        out.append(d.factor * d.base * np.exp(g * (years - d.base_year)))
    return np.minimum(out[0], out[1]), np.maximum(out[0], out[1])


def _window(p: Project, years: FloatArray) -> FloatArray:
    """Share of each year inside the project's [earliest, until] window (earliest only bounds producing ones)."""
    frac = np.ones(len(years))
    if p.until is not None:
        frac = frac * np.clip(p.until - years, 0.0, 1.0)
    if p.earliest is not None and p.producing:
        frac = frac * np.clip(years + 1 - p.earliest, 0.0, 1.0)
    return frac


def _ramp_frac(t_prod: Any, years: FloatArray, knots: tuple[FloatArray, FloatArray], xp: Any) -> Any:
    """Share of nameplate produced in each calendar year by a project whose production starts at ``t_prod``
    (shape (n,) or scalar; ``inf`` for never), shape (n, Y).

    The ramp is the curve ``r`` of production years 1..k (then 1), constant within a production year. Calendar
    year ``y`` covers ages ``a .. a + 1`` with ``a = y - t_prod = I + phi`` (I integer, 0 <= phi < 1), i.e.
    the last ``1 - phi`` of production year ``I + 1`` and the first ``phi`` of year ``I + 2``, so its share is
    ``R[I] + phi * (R[I + 1] - R[I])``. Ages of one scenario differ by whole years, so ``phi`` is per
    scenario and ``I`` grows by one a year; ages below -1 (or above k) all give 0 (or 1), so ``a`` is clipped
    to keep ``I`` finite."""
    rt, dt_ = knots
    k = len(rt) - 3
    a0 = xp.clip(years[0] - xp.reshape(xp.asarray(t_prod, dtype=float), (-1,)), -(len(years) + 2.0), k + 1.0)
    k0 = xp.floor(a0)
    phi = a0 - k0
    idx = xp.clip((k0.astype(np.int64) + 2)[:, None] + xp.asarray(np.arange(len(years))), 0, k + 2)
    out = xp.take(xp.asarray(dt_), idx)
    out *= phi[:, None]
    out += xp.take(xp.asarray(rt), idx)
    return out


def _static_capacity(p: Project, years: FloatArray, t0: float, knots: tuple[FloatArray, FloatArray]) -> FloatArray:
    if p.closed or not p.producing:
        return np.zeros(len(years))
    t_prod = t0 - _OPERATING_SINCE if p.status == "operating" else t0
    frac = _ramp_frac(t_prod, years, knots, np)[0]
    out: FloatArray = p.capacity.mean() * frac * _window(p, years)
    return out


def compile_model(s: Scenario) -> Model:
    """Arrays for the engine; raises :class:`InputError` for what only shows once compiled."""
    years = np.asarray(s.years, dtype=float)
    t0 = s.start
    n_p, n_y = len(s.projects), len(years)
    pos = {p.id: j for j, p in enumerate(s.projects)}
    regions = tuple(dict.fromkeys(h.region for h in s.hazards))
    region_of = np.array([regions.index(p.region) if p.region in regions else -1 for p in s.projects],
                         dtype=np.int64)
    knots = [_ramp_knots(p.ramp) for p in s.projects]
    affects = np.zeros((len(s.policies), n_p), dtype=bool)
    force_frac = np.zeros((len(s.policies), n_y))
    force_time = np.zeros(len(s.policies))
    for k, pol in enumerate(s.policies):
        for j, p in enumerate(s.projects):
            by_stage = not pol.stages or p.stage in pol.stages
            by_id = not pol.projects or p.id in pol.projects
            affects[k, j] = by_stage and by_id and p.controlled_by not in pol.exempt_controlled_by
        force = pol.suspended_until if pol.suspended_until is not None else max(pol.start, t0)
        end = pol.end if pol.end is not None else math.inf
        force_time[k] = force
        force_frac[k] = np.clip(np.minimum(years + 1, end) - np.maximum(years, force), 0.0, 1.0)
    # static or dynamic
    is_dynamic = np.zeros(n_p, dtype=bool)
    for j, p in enumerate(s.projects):
        never = p.closed or p.capacity.support()[1] <= 0  # e.g. a facility without a capacity: 0 every year
        fixed = p.producing and p.capacity.degenerate
        # a measure changes a producing project only through a capacity factor below 1 (delays hit projects
        # still in development)
        cut = any(affects[k, j] and pol.capacity_factor.support()[0] < 1 for k, pol in enumerate(s.policies))
        acted_on = region_of[j] >= 0 or cut or p.growth is not None or bool(p.requires)
        is_dynamic[j] = not never and (not fixed or acted_on)
    static = np.stack([np.zeros(n_y) if is_dynamic[j] else _static_capacity(p, years, t0, knots[j])
                       for j, p in enumerate(s.projects)]) if n_p else np.zeros((0, n_y))
    dynamic = np.flatnonzero(is_dynamic).astype(np.int64)
    # enabling projects, enablers first
    order: list[int] = []
    done: set[int] = set()

    def visit(j: int) -> None:
        if j in done:
            return
        done.add(j)
        for r in s.projects[j].requires:
            visit(pos[r])
        order.append(j)

    for j, p in enumerate(s.projects):
        if p.requires:
            visit(j)
    requires_order = tuple(j for j in order if s.projects[j].requires)
    # capacity bounds
    span = max(n_y - 1, 0)
    cap_hi = np.array([0.0 if p.closed else p.capacity.support()[1] * (1 + (p.growth.support()[1] if p.growth else 0.0))
                       ** span for p in s.projects])
    independent = np.array([p.in_chain and p.controlled_by not in s.excluded for p in s.projects])
    impact = None
    if s.impact is not None:
        chosen = set(s.impact.projects)
        impact = np.array([p.id in chosen for p in s.projects])
    # the chain and its flow networks
    try:
        graph = chain_graph(s)
    except ValueError as exc:
        raise InputError.one(s.file, None, "links", str(exc)) from exc
    link_draw = np.full(len(graph.link), -1, dtype=np.int64)
    k_draw = 0
    for k, li in enumerate(graph.link):
        if s.links[li].capacity is not None:
            link_draw[k] = k_draw
            k_draw += 1
    zero = [i for i, j in enumerate(graph.project)
            if not independent[j] or (not is_dynamic[j] and not static[j].any())]
    sources = {b for a, b in graph.graph.edges if a == SOURCE}
    try:
        nets = {"flow": compile_flow(graph.graph, zero)}
        if impact is not None:
            mine = [i for i, j in enumerate(graph.project) if impact[j]]
            nets["without"] = compile_flow(graph.graph, [*zero, *mine])
            others = [i for i in sources if i < graph.n_facilities and not impact[graph.project[i]]]
            sourced = compile_flow(graph.graph, [*zero, *others])
            if sourced.reduced:  # the impact projects have sources of their own with a path to the consumer
                nets["sourced"] = sourced
    except TooManyNodes as exc:
        raise InputError.one(s.file, None, "links", str(exc)) from exc

    def hi_column(i: int) -> Any:
        if i < graph.n_facilities:
            return cap_hi[graph.project[i]]
        lk = s.links[graph.link[i - graph.n_facilities]]
        if lk.capacity is not None:
            return lk.capacity.support()[1]
        return (lk.share or 0.0) * hi_column(graph.link_downstream[i - graph.n_facilities])

    relevant = np.zeros(n_p, dtype=bool)
    for net in nets.values():
        for i in net.alive:
            if i < graph.n_facilities:
                relevant[graph.project[i]] = True
            else:
                relevant[graph.project[graph.link_downstream[i - graph.n_facilities]]] = True
    for j in reversed(order):  # enablers of relevant projects, enablers first in ``order``
        if relevant[j]:
            for r in s.projects[j].requires:
                relevant[pos[r]] = True
    if s.benchmark is not None:
        relevant |= np.array([p.in_chain for p in s.projects])
    flow_hi = float(max_flow_columns(hi_column, nets["flow"]))
    if not math.isfinite(flow_hi):
        raise InputError.one(s.file, None, "projects", "a capacity without an upper bound (lognormal) reaches the "
                             "consumer: give chain capacities a bounded distribution")
    d_lo, d_hi = _demand_bounds(s, years)
    model = Model(
        scenario=s, years=years, t0=t0, graph=graph, nets=nets, dynamic=dynamic, static=static,
        is_dynamic=is_dynamic, independent=independent, impact=impact, region_of=region_of, regions=regions,
        ramp=tuple(knots), affects=affects,
        force_frac=force_frac, force_time=force_time, requires_order=requires_order, cap_hi=cap_hi,
        flow_hi=flow_hi, demand_lo=d_lo, demand_hi=d_hi, link_draw=link_draw, relevant=relevant,
    )
    if s.benchmark is not None:
        model = _compile_benchmark(model)
    return model


def _compile_benchmark(m: Model) -> Model:
    s = m.scenario
    b = s.benchmark
    assert b is not None
    covered = b.stages or s.stages
    chain = [(j, p) for j, p in enumerate(s.projects) if p.in_chain and p.stage in covered]
    stages = [st for st in covered if any(p.stage == st for _, p in chain)]
    countries = sorted({p.controlled_by for _, p in chain} | {c.country for c in b.baseline})
    n_s, n_c = len(stages), len(countries)
    cmap = np.zeros((m.n_projects, n_s * n_c))
    for j, p in chain:
        if p.stage in stages:
            cmap[j, stages.index(p.stage) * n_c + countries.index(p.controlled_by)] = 1.0
    base = np.zeros((len(m.years), n_s * n_c))
    problems = []
    for c in b.baseline:
        if c.stage not in stages:
            problems.append(f"baseline {c.country} at {c.stage}: no project at that stage")
            continue
        si = stages.index(c.stage)
        others = sum(p.capacity.mean() for _, p in chain
                     if p.stage == c.stage and p.producing and p.controlled_by != c.country)
        if others <= 0:
            problems.append(f"baseline {c.country} at {c.stage}: no producing capacity of other countries at that "
                            "stage to scale the share from")
            continue
        start_cap = c.share / (1 - c.share) * others
        base[:, si * n_c + countries.index(c.country)] += start_cap * (1 + c.growth) ** (m.years - m.years[0])
    if problems:
        raise InputError.one(s.file, None, "benchmark.baseline", "; ".join(problems))
    third = np.array([c not in b.members for c in countries])
    return replace(m, bench_stages=tuple(stages), bench_map=cmap, bench_base=base, bench_third=third,
                   bench_shape=(n_s, n_c))


# -- draws ---------------------------------------------------------------------------------------------
@dataclass
class Draws:
    """Every random number one block needs (numpy arrays on the host); project columns follow
    ``Model.dynamic``."""

    n: int
    nameplate: FloatArray  # (n, D)
    gate_dur: list[FloatArray]  # per dynamic project (n, G_p)
    gate_u: list[FloatArray]  # per dynamic project (n, G_p) uniforms; a gate fails when u < p_fail
    growth: FloatArray  # (n, D) yearly growth rate (0 without growth)
    outage: FloatArray  # (n, R, Y) outage-years started by incidents in each region and year
    resume_u: FloatArray  # (n, K)
    policy_cf: FloatArray  # (n, K)
    policy_delay: FloatArray  # (n, K)
    demand_target: FloatArray  # (n,)
    link_cap: FloatArray  # (n, L) capacities of links with a capacity

    def copy(self) -> Draws:
        return Draws(self.n, self.nameplate.copy(), [a.copy() for a in self.gate_dur],
                     [a.copy() for a in self.gate_u], self.growth.copy(), self.outage.copy(), self.resume_u.copy(),
                     self.policy_cf.copy(), self.policy_delay.copy(), self.demand_target.copy(), self.link_cap.copy())


def draw(m: Model, rng: np.random.Generator, n: int) -> Draws:
    """All draws for ``n`` scenarios, in a fixed order."""
    s = m.scenario
    n_y = m.n_years
    dyn = [s.projects[j] for j in m.dynamic]
    nameplate = np.stack([p.capacity.sample(rng, n) for p in dyn], axis=1) if dyn else np.zeros((n, 0))
    gate_dur, gate_u = [], []
    for p in dyn:
        if p.gates:
            gate_dur.append(np.stack([g.duration.sample(rng, n) for g in p.gates], axis=1))
            gate_u.append(rng.random((n, len(p.gates))))
        else:
            gate_dur.append(np.zeros((n, 0)))
            gate_u.append(np.zeros((n, 0)))
    growth = np.stack([p.growth.sample(rng, n) if p.growth is not None else np.zeros(n) for p in dyn], axis=1) \
        if dyn else np.zeros((n, 0))
    outage = np.zeros((n, len(m.regions), n_y))
    for h in s.hazards:
        r = m.regions.index(h.region)
        counts = rng.poisson(h.rate, size=(n, n_y))
        total = int(counts.sum())
        lengths = h.outage.sample(rng, total)
        cell = np.repeat(np.arange(n * n_y), counts.ravel())
        outage[:, r, :] += np.bincount(cell, weights=lengths, minlength=n * n_y).reshape(n, n_y)
    k = len(s.policies)
    resume_u = rng.random((n, k)) if k else np.zeros((n, 0))
    cf = np.stack([p.capacity_factor.sample(rng, n) for p in s.policies], axis=1) if k else np.zeros((n, 0))
    delay = np.stack([p.delay.sample(rng, n) for p in s.policies], axis=1) if k else np.zeros((n, 0))
    target = s.demand.target.sample(rng, n)
    caps = [s.links[li].capacity for li in m.graph.link]
    link_cap = np.stack([c.sample(rng, n) for c in caps if c is not None], axis=1) \
        if any(c is not None for c in caps) else np.zeros((n, 0))
    return Draws(n, nameplate, gate_dur, gate_u, growth, outage, resume_u, cf, delay, target, link_cap)


# -- evaluation ----------------------------------------------------------------------------------------
@dataclass
class Metrics:
    """Per scenario (and year) results of one block, in the backend's array type."""

    capacity: list[Any]  # per dynamic project (Model.dynamic), (n, Y) capacity online (static ones: Model.static)
    flow: Any  # (n, Y) independent-chain capacity
    demand: Any  # (n, Y)
    ratio: Any  # (n, Y) supply/demand
    share_free: Any  # (n, Y) share of demand that chains free of the excluded countries can meet
    impact_flow: Any | None = None  # (n, Y) what the impact projects add (flow - flow without them)
    impact_year: Any | None = None  # (n,) first year impact_flow reaches the threshold; Y = never
    sourced_flow: Any | None = None  # (n, Y) flow when only the impact projects' sources feed the chain
    sourced_year: Any | None = None  # (n,)
    bench_met: Any | None = None  # (n, Y) bool: no third country above the threshold at any stage
    bench_max_share: Any | None = None  # (n, Y) the largest third-country share over stages
    bench_stage_share: Any | None = None  # (n, Y, S) the largest third-country share at each stage


def _columns(m: Model, d: Draws, caps: dict[int, Any], xp: Any) -> Callable[[int], Any]:
    """The capacity of each node of the chain graph: a facility's capacity online (a per-year vector for a
    static one), a link's drawn capacity, or its share of its downstream facility's capacity."""
    g, s = m.graph, m.scenario

    def facility(i: int) -> Any:
        j = g.project[i]
        return caps[j] if j in caps else xp.asarray(m.static[j])

    def column(i: int) -> Any:  # not recursive: a closure cycle would keep the block's arrays until a gc pass
        if i < g.n_facilities:
            return facility(i)
        k = i - g.n_facilities
        if m.link_draw[k] >= 0:
            return xp.asarray(d.link_cap[:, int(m.link_draw[k])])[:, None]
        return (s.links[g.link[k]].share or 0.0) * facility(g.link_downstream[k])

    return column


def node_capacities(m: Model, d: Draws, met: Metrics) -> FloatArray:
    """(n, Y, nodes) capacity of every node of the chain graph in each scenario and year, excluded facilities
    at 0: what the flow networks see (for the networkx comparison in tests and benchmarks; numpy only)."""
    caps = {int(j): np.asarray(met.capacity[c]) for c, j in enumerate(m.dynamic)}
    column = _columns(m, d, caps, np)
    shape = met.flow.shape
    out = np.zeros((*shape, m.graph.graph.n))
    for i in range(m.graph.graph.n):
        keep = i >= m.graph.n_facilities or m.independent[m.graph.project[i]]
        out[:, :, i] = np.broadcast_to(column(i), shape) if keep else 0.0
    return out


def _first_year(values: Any, threshold: float, n_y: int, xp: Any) -> Any:
    hit = values >= threshold - 1e-9 * max(1.0, threshold)
    return xp.where(xp.any(hit, axis=1), xp.argmax(hit, axis=1), n_y)


def evaluate(m: Model, d: Draws, xp: Any = np) -> Metrics:
    """Vectorised evaluation of one block of draws with array module ``xp``."""
    s = m.scenario
    n, n_y = d.n, m.n_years
    years = xp.asarray(m.years)
    t0 = m.t0
    dyn = [int(j) for j in m.dynamic]
    # 1. first output and failure, per dynamic project (None: producing, same in every scenario)
    t_cols: list[Any] = []
    ok_cols: list[Any] = []
    for c, j in enumerate(dyn):
        p = s.projects[j]
        if p.closed:
            t_cols.append(None)
            ok_cols.append(0.0)
        elif p.producing:
            t_cols.append(None)
            ok_cols.append(1.0)
        else:
            begin = max(t0, p.earliest) if p.earliest is not None else t0
            ones = xp.ones(len(p.gates))
            dur = xp.asarray(d.gate_dur[c])
            passed = (xp.asarray(d.gate_u[c]) >= xp.asarray(np.array([g.p_fail for g in p.gates]))) * 1.0
            t_cols.append(begin + dur @ ones)  # matrix products: faster than reductions over a short axis
            ok_cols.append((passed @ ones >= len(p.gates)) * 1.0)
    # 2. policies: delays for projects still in development when a measure takes force, capacity factors
    pmult: dict[int, Any] = {}
    if s.policies and dyn:
        resume_u = xp.asarray(d.resume_u)
        for k, pol in enumerate(s.policies):
            in_force = (resume_u[:, k] < pol.p_resume) * 1.0 if pol.suspended_until is not None else xp.ones((n,))
            delay = in_force * xp.asarray(d.policy_delay[:, k])
            cf = xp.asarray(d.policy_cf[:, k])
            cut = in_force[:, None] * xp.asarray(m.force_frac[k])[None, :] * (1 - cf)[:, None]
            for c, j in enumerate(dyn):
                if m.affects[k, j]:
                    if t_cols[c] is not None:  # producing projects started before any measure takes force
                        t_cols[c] = t_cols[c] + (t_cols[c] > m.force_time[k]) * delay
                    pmult[j] = (1 - cut) if j not in pmult else pmult[j] * (1 - cut)
    # 3. regional outages, correlated within a region, carried into the next year when longer than a year
    region_up: Any = None
    if m.regions:
        out = xp.asarray(d.outage)
        carry = xp.zeros((n, len(m.regions)))
        ups = []
        for y in range(n_y):
            total = carry + out[:, :, y]
            down = xp.minimum(total, 1.0)
            carry = total - down
            ups.append(1.0 - down)
        region_up = xp.stack(ups, axis=2)  # (n, R, Y)
    # 4. capacity online by dynamic project and year, then enabling projects
    nameplate = xp.asarray(d.nameplate)
    growth = xp.asarray(d.growth)
    share: dict[int, Any] = {}  # online share of nameplate, per dynamic project
    for c, j in enumerate(dyn):
        p = s.projects[j]
        # ``frac *= x`` multiplies in place once ``frac`` is a fresh (n, Y) array (fewer allocations)
        if t_cols[c] is None:  # producing (or closed): the ramp is the same in every scenario
            start = t0 - _OPERATING_SINCE if p.status == "operating" else t0
            frac = xp.asarray(_ramp_frac(start, m.years, m.ramp[j], np) * _window(p, m.years) * ok_cols[c])
        else:
            frac = _ramp_frac(t_cols[c], m.years, m.ramp[j], xp)
            frac *= ok_cols[c][:, None]
            if p.until is not None:
                frac *= xp.asarray(_window(p, m.years))[None, :]
        for factor in ([region_up[:, int(m.region_of[j]), :]] if m.region_of[j] >= 0 else []) + \
                ([pmult[j]] if j in pmult else []) + \
                ([(1 + growth[:, c, None]) ** (years[None, :] - m.years[0])] if p.growth is not None else []):
            if frac.shape == (n, n_y):
                frac *= factor
            else:
                frac = frac * factor
        share[j] = frac
    pos = {q.id: j for j, q in enumerate(s.projects)}
    for j in m.requires_order:
        for r in s.projects[j].requires:
            rj = pos[r]
            enabler = share[rj] if rj in share else xp.asarray(m.static[rj] / max(m.cap_hi[rj], 1e-300))[None, :]
            share[j] = share[j] * xp.clip(enabler, 0.0, 1.0)
    caps: dict[int, Any] = {}
    for c, j in enumerate(dyn):
        sh = share.pop(j)
        if sh.shape == (n, n_y):
            sh *= nameplate[:, c, None]
            caps[j] = sh
        else:
            caps[j] = nameplate[:, c, None] * sh + xp.zeros((n, n_y))
    capacity = [caps[j] for j in dyn]
    # 5. flows on the chain
    column = _columns(m, d, caps, xp)

    def flow_of(key: str) -> Any:
        return max_flow_columns(column, m.nets[key], xp) + xp.zeros((n, n_y))

    flow = flow_of("flow")
    dem = s.demand
    gr = xp.log(xp.asarray(d.demand_target) / dem.base) / (dem.target_year - dem.base_year)
    demand = dem.factor * dem.base * xp.exp(gr[:, None] * (years[None, :] - dem.base_year))
    met = Metrics(capacity, flow, demand, flow / demand, xp.minimum(flow, demand) / demand)
    if m.impact is not None and s.impact is not None:
        met.impact_flow = xp.maximum(flow - flow_of("without"), 0.0)
        met.impact_year = _first_year(met.impact_flow, s.impact.threshold, n_y, xp)
        met.sourced_flow = flow_of("sourced") if "sourced" in m.nets else xp.zeros((n, n_y))
        met.sourced_year = _first_year(met.sourced_flow, s.impact.threshold, n_y, xp)
    if m.bench_map is not None and m.bench_base is not None and m.bench_third is not None:
        n_s, n_c = m.bench_shape
        stat = xp.asarray(m.static.T @ m.bench_map + m.bench_base)  # (Y, S*C)
        cells: dict[int, Any] = {}
        for j in dyn:
            for cell in np.flatnonzero(m.bench_map[j]):
                cells[int(cell)] = caps[j] if int(cell) not in cells else cells[int(cell)] + caps[j]
        sc = xp.stack([stat[None, :, i] + cells[i] if i in cells else xp.broadcast_to(stat[None, :, i], (n, n_y))
                       for i in range(n_s * n_c)], axis=2).reshape(n, n_y, n_s, n_c)
        total = xp.sum(sc, axis=3)
        frac_c = sc / xp.where(total > 0, total, 1.0)[..., None]
        met.bench_stage_share = xp.max(frac_c * xp.asarray(m.bench_third * 1.0), axis=3)  # (n, Y, S)
        met.bench_max_share = xp.max(met.bench_stage_share, axis=2)
        assert s.benchmark is not None
        met.bench_met = met.bench_max_share <= s.benchmark.threshold
    return met


# -- streaming aggregation -----------------------------------------------------------------------------
def hist_arrays(m: Model, met: Metrics) -> dict[str, Any]:
    """The (n, Y) arrays of one block that :class:`Aggregate` keeps a histogram of, by histogram key, in the
    backend's array type (the GPU backends fold them on the device)."""
    arrays = {"flow": met.flow, "demand": met.demand, "ratio": met.ratio, "share_free": met.share_free}
    if met.impact_flow is not None:
        arrays["impact_flow"] = met.impact_flow
        arrays["sourced_flow"] = met.sourced_flow
    if met.bench_max_share is not None and met.bench_stage_share is not None:
        arrays["bench_max_share"] = met.bench_max_share
        for i, st in enumerate(m.bench_stages):
            arrays[f"bench_share_{st}"] = met.bench_stage_share[:, :, i]
    return arrays


@dataclass
class Hist:
    """Fixed-bin histograms of ``k`` columns at once. The two ends (values equal to ``lo`` or ``hi``, such as 0
    or full nameplate) get their own bins, so point masses there are exact. With ``extremes`` each bin also
    keeps its smallest and largest value and a quantile inside a bin is interpolated by rank between them;
    without, between the bin's edges. Either way it lies within one bin width (``(hi - lo) / bins``) of the
    exact order statistic."""

    lo: FloatArray  # (k,)
    hi: FloatArray  # (k,)
    bins: int
    extremes: bool = True
    counts: IntArray = field(init=False)
    bmin: FloatArray = field(init=False)
    bmax: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        k = len(self.lo)
        self.counts = np.zeros(k * self.slots, dtype=np.int64)
        size = k * self.slots if self.extremes else 0
        self.bmin = np.full(size, np.inf)
        self.bmax = np.full(size, -np.inf)

    @property
    def slots(self) -> int:
        return self.bins + 2

    @property
    def width(self) -> FloatArray:
        return (self.hi - self.lo) / self.bins

    def add(self, values: FloatArray, col0: int = 0) -> None:
        """Fold ``values`` of shape (n, kk) into columns ``col0 .. col0 + kk - 1``. Bin ``b`` (1..bins) holds
        values in (lo + (b-1) w, lo + b w]; values equal to ``lo`` or ``hi`` have their own bins 0 and bins+1."""
        v = np.asarray(values, dtype=float)
        if v.size == 0:
            return
        kk = v.shape[1]
        lo, hi = self.lo[col0:col0 + kk], self.hi[col0:col0 + kk]
        scale = self.bins / np.where(hi > lo, hi - lo, 1.0)
        z = (v - lo) * scale  # position in bins
        tol = 1e-9 * np.maximum(1.0, np.abs(hi)) * scale
        zmin, zmax = float(z.min()), float(z.max())
        if not (zmin >= -float(tol.min()) and zmax <= self.bins + float(tol.min())):  # nan fails both
            bad_mask = (z < -tol) | (z > self.bins + tol) | np.isnan(z)
            if bad_mask.any():
                bad = np.argwhere(bad_mask)[0]
                raise RuntimeError(f"value {v[tuple(bad)]!r} outside the histogram range "
                                   f"[{lo[bad[1]]}, {hi[bad[1]]}] of column {col0 + bad[1]}")
        idx = np.clip(np.ceil(z), 0, self.bins).astype(np.int64)
        idx += z >= self.bins
        idx += (np.arange(kk) + col0) * self.slots
        flat = idx.ravel()
        self.counts += np.bincount(flat, minlength=len(self.counts))
        if self.extremes:
            vals = v.ravel()
            np.minimum.at(self.bmin, flat, vals)
            np.maximum.at(self.bmax, flat, vals)

    def merge(self, other: Hist) -> None:
        self.counts += other.counts
        np.minimum(self.bmin, other.bmin, out=self.bmin)
        np.maximum(self.bmax, other.bmax, out=self.bmax)

    def quantiles(self, qs: Sequence[float]) -> FloatArray:
        """(len(qs), k) quantiles (numpy's 'linear' definition, within a bin by rank)."""
        k = len(self.lo)
        counts = self.counts.reshape(k, self.slots)
        w = self.width
        out = np.full((len(qs), k), np.nan)
        for c in range(k):
            cum = np.cumsum(counts[c])
            total = cum[-1]
            if total == 0:
                continue
            for i, q in enumerate(qs):
                rank = q * (total - 1)
                b = int(np.searchsorted(cum, rank, side="right"))
                before = cum[b] - counts[c, b]
                within = counts[c, b]
                if b == 0 or b == self.bins + 1:
                    out[i, c] = self.lo[c] if b == 0 else self.hi[c]
                elif self.extremes:
                    frac = (rank - before) / (within - 1) if within > 1 else 0.0
                    lo_v, hi_v = self.bmin[c * self.slots + b], self.bmax[c * self.slots + b]
                    out[i, c] = lo_v + frac * (hi_v - lo_v)
                else:
                    frac = (rank - before + 0.5) / within
                    out[i, c] = self.lo[c] + (b - 1 + frac) * w[c]
        return out


@dataclass
class Aggregate:
    """Everything a run keeps: fixed-size, whatever the number of scenarios."""

    n: int
    hists: dict[str, Hist]
    project_hist: Hist  # dynamic projects x years
    producing: IntArray  # (P, Y) scenarios with capacity > 0, static projects (dynamic: see producing_counts)
    reach: IntArray  # (T, Y) scenarios whose independent capacity reached target t at or before year y
    impact_counts: IntArray  # (Y + 1,) first year the impact contribution reaches the threshold; last = never
    sourced_counts: IntArray  # (Y + 1,) the same for the impact-sourced flow
    bench_counts: IntArray  # (Y,)
    block_sums: dict[int, dict[str, FloatArray]]  # per block, summed in block order at the end

    @classmethod
    def empty(cls, m: Model) -> Aggregate:
        n_y, n_d = m.n_years, len(m.dynamic)
        flow_hi = np.full(n_y, max(m.flow_hi, 1e-12))
        ratio_hi = np.full(n_y, max(m.flow_hi, 1e-12)) / m.demand_lo
        hists = {
            "flow": Hist(np.zeros(n_y), flow_hi, HIST_BINS),
            "demand": Hist(m.demand_lo.copy(), np.maximum(m.demand_hi, m.demand_lo + 1e-9), HIST_BINS),
            "ratio": Hist(np.zeros(n_y), ratio_hi, HIST_BINS),
            "share_free": Hist(np.zeros(n_y), np.ones(n_y), HIST_BINS),
        }
        if m.impact is not None:
            hists["impact_flow"] = Hist(np.zeros(n_y), flow_hi, HIST_BINS)
            hists["sourced_flow"] = Hist(np.zeros(n_y), flow_hi, HIST_BINS)
        if m.bench_map is not None:
            hists["bench_max_share"] = Hist(np.zeros(n_y), np.ones(n_y), HIST_BINS)
            for st in m.bench_stages:
                hists[f"bench_share_{st}"] = Hist(np.zeros(n_y), np.ones(n_y), HIST_BINS)
        cap_hi = np.repeat(np.where(m.cap_hi[m.dynamic] > 0, m.cap_hi[m.dynamic], 1.0), n_y)
        return cls(
            n=0, hists=hists, project_hist=Hist(np.zeros(n_d * n_y), cap_hi, PROJECT_BINS, extremes=False),
            producing=np.zeros((m.n_projects, n_y), dtype=np.int64),
            reach=np.zeros((len(m.scenario.targets), n_y), dtype=np.int64),
            impact_counts=np.zeros(n_y + 1, dtype=np.int64), sourced_counts=np.zeros(n_y + 1, dtype=np.int64),
            bench_counts=np.zeros(n_y, dtype=np.int64), block_sums={},
        )

    def add(self, block: int, m: Model, met: Metrics, to_numpy: Callable[[Any], Any] = np.asarray) -> None:
        flow = np.asarray(to_numpy(met.flow), dtype=float)
        n, n_y = flow.shape
        self.n += n
        host = {k: np.asarray(to_numpy(v), dtype=float) for k, v in hist_arrays(m, met).items()}
        for k, v in host.items():
            self.hists[k].add(v)
        cap_sums = np.zeros((len(m.dynamic), n_y))
        ones = np.ones(n)
        for c in range(len(m.dynamic)):
            cap = np.asarray(to_numpy(met.capacity[c]), dtype=float)
            self.project_hist.add(cap, c * n_y)  # its bin 0 counts the scenarios with no capacity
            cap_sums[c] = ones @ cap
        self.producing[~m.is_dynamic] += n * (m.static[~m.is_dynamic] > 0)
        running = np.maximum.accumulate(flow, axis=1)
        for t, (value, _year) in enumerate(m.scenario.targets):
            self.reach[t] += (running >= value).sum(axis=0)
        if met.impact_year is not None:
            self.impact_counts += np.bincount(np.asarray(to_numpy(met.impact_year), dtype=np.int64),
                                              minlength=m.n_years + 1)
            self.sourced_counts += np.bincount(np.asarray(to_numpy(met.sourced_year), dtype=np.int64),
                                               minlength=m.n_years + 1)
        if met.bench_met is not None:
            self.bench_counts += np.asarray(to_numpy(met.bench_met)).sum(axis=0)
        sums = {k: ones @ v for k, v in host.items()}
        sums["capacity"] = cap_sums
        self.block_sums[block] = sums

    def merge(self, other: Aggregate) -> None:
        overlap = set(self.block_sums) & set(other.block_sums)
        if overlap:
            raise ValueError(f"blocks {sorted(overlap)[:5]} were aggregated twice")
        self.n += other.n
        for k, h in self.hists.items():
            h.merge(other.hists[k])
        self.project_hist.merge(other.project_hist)
        self.producing += other.producing
        self.reach += other.reach
        self.impact_counts += other.impact_counts
        self.sourced_counts += other.sourced_counts
        self.bench_counts += other.bench_counts
        self.block_sums.update(other.block_sums)

    def producing_counts(self, m: Model) -> IntArray:
        """(P, Y) scenarios with capacity > 0, every project (dynamic ones from their histogram's bin 0)."""
        out = self.producing.copy()
        n_y = m.n_years
        zero = self.project_hist.counts.reshape(-1, self.project_hist.slots)[:, 0].reshape(len(m.dynamic), n_y)
        out[m.dynamic] = self.n - zero
        return out

    def mean(self, key: str) -> FloatArray:
        """The mean over every scenario, summing block sums in block order (identical on every backend)."""
        total: FloatArray | None = None
        for b in sorted(self.block_sums):
            v = self.block_sums[b][key]
            total = v.copy() if total is None else total + v
        assert total is not None
        out: FloatArray = total / self.n
        return out


def blocks_for(n: int, block_size: int = BLOCK_SIZE) -> list[tuple[int, int]]:
    """(block index, scenarios in block) for a run of ``n`` scenarios."""
    full, rest = divmod(n, block_size)
    out = [(b, block_size) for b in range(full)]
    if rest:
        out.append((full, rest))
    return out


_ALLOCATOR_TUNED = False
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


def tune_allocator() -> bool:
    """Ask glibc (Linux) to keep freed memory for reuse: ``mallopt(M_MMAP_THRESHOLD, 64 MB)`` and
    ``mallopt(M_TRIM_THRESHOLD, 256 MB)``. Every block allocates and frees the same few hundred MB of arrays;
    with glibc's defaults they go back to the operating system and are faulted in again on the next block, which
    measured 40-45% of the engine's CPU time. Done once per process (the first run, or the first block on a
    Dask worker); afterwards the process keeps up to 256 MB of freed heap. Returns whether it was applied
    (False where the C library is not glibc: nothing changes there)."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        ok = bool(libc.mallopt(-3, MMAP_THRESHOLD)) and bool(libc.mallopt(-1, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
    _ALLOCATOR_TUNED = ok
    return ok


def run_block(m: Model, seed: int, block: int, n: int, xp: Any = np,
              to_numpy: Callable[[Any], Any] = np.asarray) -> Aggregate:
    """Draw, evaluate and aggregate one block."""
    tune_allocator()
    d = draw(m, block_generator(seed, block), n)
    agg = Aggregate.empty(m)
    agg.add(block, m, evaluate(m, d, xp), to_numpy)
    return agg


def run_blocks(m: Model, seed: int, blocks: Iterable[tuple[int, int]], xp: Any = np,
               to_numpy: Callable[[Any], Any] = np.asarray) -> Aggregate:
    """Aggregate several blocks in one process (a Dask task runs this on its share of the blocks)."""
    agg = Aggregate.empty(m)
    for b, n in blocks:
        agg.merge(run_block(m, seed, b, n, xp, to_numpy))
    return agg

