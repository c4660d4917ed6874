"""The Monte Carlo engine: draws, vectorised evaluation, streaming aggregation.

A run is split into **blocks** of ``block_size`` scenarios. Block ``b`` draws from its own generator
(:func:`orechain.scenarios.sampling.block_generator`), is evaluated as arrays of shape
``(scenarios, projects, years)``, and is folded into an :class:`Aggregate` of fixed size (histograms,
counts, per-block sums), so memory stays flat however many scenarios run. Blocks can be evaluated in any
order, on any worker: the histogram counts, minima and maxima merge exactly, and the float sums are kept
per block and added in block order at the end, so the numpy, Dask and GPU paths give the same numbers for
the same seed, scenario count and block size.

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
from orechain.scenarios.flow import FlowNetwork, complete_network, linked_network, max_flow
from orechain.scenarios.sampling import FloatArray, block_generator
from orechain.scenarios.spec import Scenario

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
    "run_block",
    "run_blocks",
]

BLOCK_SIZE = 16_384
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
    chain: IntArray
    independent: FloatArray  # (Pc,) 1.0 for chain projects outside the excluded countries
    impact: FloatArray | None  # (Pc,) 1.0 for the impact chain's independent projects
    net: FlowNetwork
    region_of: IntArray  # (P,) index into scenario.hazards' regions, -1 for none
    regions: tuple[str, ...]
    ramp_x: tuple[FloatArray, ...]
    ramp_f: tuple[FloatArray, ...]
    affects: BoolArray  # (K, P) policy k affects project p
    force_frac: FloatArray  # (K, Y) share of each year a policy is in force once it takes force
    force_time: FloatArray  # (K,)
    cap_hi: FloatArray  # (P,) largest possible nameplate
    flow_hi: float
    demand_lo: FloatArray
    demand_hi: FloatArray
    bench_map: FloatArray | None = None  # (Pc, S*C)
    bench_base: FloatArray | None = None  # (Y, S*C) baseline capacity
    bench_third: BoolArray | None = None  # (C,) third country (not a member)
    bench_shape: tuple[int, int] = (0, 0)

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def n_projects(self) -> int:
        return len(self.scenario.projects)


def _ramp_knots(ramp: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    """Knots of F(a), the nameplate-years produced in the first ``a`` years of production."""
    x = np.arange(len(ramp) + 1, dtype=float)
    f = np.concatenate([[0.0], np.cumsum(ramp)])
    return np.append(x, x[-1] + _RAMP_TAIL), np.append(f, f[-1] + _RAMP_TAIL)


def _demand_bounds(s: Scenario, years: FloatArray) -> tuple[FloatArray, FloatArray]:
    d = s.demand
    lo_t, hi_t = d.target.support()
    span = d.target_year - d.base_year
    out = []
    for t in (lo_t, hi_t):
        g = math.log(t / d.base) / span
        out.append(d.factor * d.base * np.exp(g * (years - d.base_year)))
    return np.minimum(out[0], out[1]), np.maximum(out[0], out[1])


def compile_model(s: Scenario) -> Model:
    """Arrays for the engine; raises :class:`InputError` for what only shows once compiled."""
    years = np.asarray(s.years, dtype=float)
    stage_index = {st: i for i, st in enumerate(s.stages)}
    chain = np.array([i for i, p in enumerate(s.projects) if p.in_chain], dtype=np.int64)
    chain_projects = [s.projects[i] for i in chain]
    stage_of = [stage_index[p.stage] for p in chain_projects]
    if s.links is None:
        net = complete_network(stage_of, len(s.stages))
    else:
        pos = {p.id: i for i, p in enumerate(chain_projects)}
        try:
            net = linked_network(stage_of, len(s.stages), [(pos[a], pos[b]) for a, b in s.links])
        except ValueError as exc:
            raise InputError.one(s.file, None, "links", str(exc)) from exc
    independent = np.array([0.0 if p.controlled_by in s.excluded else 1.0 for p in chain_projects])
    impact = None
    if s.impact is not None:
        chosen = set(s.impact.projects)
        impact = np.array([1.0 if p.id in chosen else 0.0 for p in chain_projects]) * independent
    regions = tuple(dict.fromkeys(h.region for h in s.hazards))
    region_of = np.array([regions.index(p.region) if p.region in regions else -1 for p in s.projects],
                         dtype=np.int64)
    knots = [_ramp_knots(p.ramp) for p in s.projects]
    t0 = s.start
    affects = np.zeros((len(s.policies), len(s.projects)), dtype=bool)
    force_frac = np.zeros((len(s.policies), len(years)))
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
    cap_hi = np.array([p.capacity.support()[1] for p in s.projects])
    chain_hi = cap_hi[chain] * independent
    flow_hi = float(max_flow(chain_hi[None, :], net)[0]) if len(chain) else 0.0
    d_lo, d_hi = _demand_bounds(s, years)
    model = Model(
        scenario=s, years=years, t0=t0, chain=chain, independent=independent, impact=impact, net=net,
        region_of=region_of, regions=regions, ramp_x=tuple(k[0] for k in knots), ramp_f=tuple(k[1] for k in knots),
        affects=affects, force_frac=force_frac, force_time=force_time, cap_hi=cap_hi, flow_hi=flow_hi,
        demand_lo=d_lo, demand_hi=d_hi,
    )
    if s.benchmark is not None:
        model = _compile_benchmark(model)
    return model


def _compile_benchmark(m: Model) -> Model:
    s = m.scenario
    b = s.benchmark
    assert b is not None
    chain_projects = [s.projects[i] for i in m.chain]
    stages = list(s.stages)
    countries = sorted({p.controlled_by for p in chain_projects} | {c.country for c in b.baseline})
    n_s, n_c = len(stages), len(countries)
    cmap = np.zeros((len(chain_projects), n_s * n_c))
    for j, p in enumerate(chain_projects):
        cmap[j, stages.index(p.stage) * n_c + countries.index(p.controlled_by)] = 1.0
    base = np.zeros((len(m.years), n_s * n_c))
    problems = []
    for c in b.baseline:
        si = stages.index(c.stage)
        others = sum(p.capacity.mean() for p in chain_projects
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
    return replace(m, bench_map=cmap, bench_base=base, bench_third=third, bench_shape=(n_s, n_c))


# -- draws ---------------------------------------------------------------------------------------------
@dataclass
class Draws:
    """Every random number one block needs (numpy arrays on the host)."""

    n: int
    nameplate: FloatArray  # (n, P)
    gate_dur: list[FloatArray]  # per project (n, G_p)
    gate_u: list[FloatArray]  # per project (n, G_p) uniforms; a gate fails when u < p_fail
    outage: FloatArray  # (n, R, Y) outage-years started by incidents in each region and year
    resume_u: FloatArray  # (n, K)
    policy_cf: FloatArray  # (n, K)
    policy_delay: FloatArray  # (n, K)
    demand_target: FloatArray  # (n,)

    def copy(self) -> Draws:
        return Draws(self.n, self.nameplate.copy(), [a.copy() for a in self.gate_dur],
                     [a.copy() for a in self.gate_u], self.outage.copy(), self.resume_u.copy(),
                     self.policy_cf.copy(), self.policy_delay.copy(), self.demand_target.copy())


def draw(m: Model, rng: np.random.Generator, n: int) -> Draws:
    """All draws for ``n`` scenarios, in a fixed order."""
    s = m.scenario
    n_y = m.n_years
    nameplate = np.stack([p.capacity.sample(rng, n) for p in s.projects], axis=1) if s.projects else np.zeros((n, 0))
    gate_dur, gate_u = [], []
    for p in s.projects:
        if p.gates:
            gate_dur.append(np.stack([g.duration.sample(rng, n) for g in p.gates], axis=1))
            gate_u.append(rng.random((n, len(p.gates))))
        else:
            gate_dur.append(np.zeros((n, 0)))
            gate_u.append(np.zeros((n, 0)))
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
    return Draws(n, nameplate, gate_dur, gate_u, outage, resume_u, cf, delay, target)


# -- evaluation ----------------------------------------------------------------------------------------
@dataclass
class Metrics:
    """Per scenario (and year) results of one block, in the backend's array type."""

    capacity: Any  # (n, P, Y) capacity online by project
    flow: Any  # (n, Y) independent-chain capacity
    demand: Any  # (n, Y)
    ratio: Any  # (n, Y) supply/demand
    share_free: Any  # (n, Y) share of demand that chains free of the excluded countries can meet
    impact_year: Any | None  # (n,) index of the first year the impact chain reaches its threshold; Y = never
    impact_flow: Any | None  # (n, Y)
    bench_met: Any | None  # (n, Y) bool: no third country above the threshold at any stage
    bench_max_share: Any | None  # (n, Y) the largest third-country share over stages


def evaluate(m: Model, d: Draws, xp: Any = np) -> Metrics:
    """Vectorised evaluation of one block of draws with array module ``xp``."""
    s = m.scenario
    n, n_y = d.n, m.n_years
    years = xp.asarray(m.years)
    t0 = m.t0
    # 1. first output and failure, per project
    t_cols, ok_cols = [], []
    for j, p in enumerate(s.projects):
        if p.closed:
            t_cols.append(xp.full((n,), math.inf))
            ok_cols.append(xp.zeros((n,)))
        elif p.producing:
            t_cols.append(xp.full((n,), t0 - _OPERATING_SINCE if p.status == "operating" else t0))
            ok_cols.append(xp.ones((n,)))
        else:
            begin = max(t0, p.earliest) if p.earliest is not None else t0
            dur = xp.asarray(d.gate_dur[j])
            u = xp.asarray(d.gate_u[j])
            pf = xp.asarray(np.array([g.p_fail for g in p.gates]))
            t_cols.append(begin + xp.sum(dur, axis=1))
            ok_cols.append(xp.all(u >= pf, axis=1) * 1.0)
    t_prod = xp.stack(t_cols, axis=1)  # (n, P)
    ok = xp.stack(ok_cols, axis=1)
    # 2. policies: delays for projects still in development when a measure takes force, capacity factors
    k_pol = len(s.policies)
    pmult = xp.ones((n, len(s.projects), n_y))
    if k_pol:
        resume_u = xp.asarray(d.resume_u)
        for k, pol in enumerate(s.policies):
            in_force = (resume_u[:, k] < pol.p_resume) * 1.0 if pol.suspended_until is not None else xp.ones((n,))
            aff = xp.asarray(m.affects[k] * 1.0)  # (P,)
            late = (t_prod > m.force_time[k]) * 1.0
            t_prod = t_prod + late * aff[None, :] * (in_force * xp.asarray(d.policy_delay[:, k]))[:, None]
            cf = xp.asarray(d.policy_cf[:, k])
            cut = in_force[:, None] * xp.asarray(m.force_frac[k])[None, :] * (1 - cf)[:, None]
            pmult = pmult * (1 - aff[None, :, None] * cut[:, None, :])
    # 3. regional outages, correlated within a region, carried into the next year when longer than a year
    region_down: Any = None
    if m.regions:
        out = xp.asarray(d.outage)
        carry = xp.zeros((n, len(m.regions)))
        downs = []
        for y in range(n_y):
            total = carry + out[:, :, y]
            down = xp.minimum(total, 1.0)
            carry = total - down
            downs.append(down)
        region_down = xp.stack(downs, axis=2)  # (n, R, Y)
    # 4. capacity online by project and year
    nameplate = xp.asarray(d.nameplate)
    caps = []
    for j in range(len(s.projects)):
        kx, kf = xp.asarray(m.ramp_x[j]), xp.asarray(m.ramp_f[j])
        age = years[None, :] - t_prod[:, j, None]
        frac = xp.interp(age + 1, kx, kf, left=0.0) - xp.interp(age, kx, kf, left=0.0)
        frac = xp.clip(frac, 0.0, 1.0)
        until = s.projects[j].until
        if until is not None:
            frac = frac * xp.asarray(np.clip(until - m.years, 0.0, 1.0))[None, :]
        avail = 1.0 - region_down[:, int(m.region_of[j]), :] if m.region_of[j] >= 0 else 1.0
        caps.append(nameplate[:, j, None] * ok[:, j, None] * frac * avail * pmult[:, j, :])
    capacity = xp.stack(caps, axis=1) if caps else xp.zeros((n, 0, n_y))
    # 5. independent-chain capacity, demand, ratios
    chain_cap = xp.transpose(capacity[:, xp.asarray(m.chain), :], (0, 2, 1))  # (n, Y, Pc)
    flow = max_flow(chain_cap * xp.asarray(m.independent), m.net, xp)
    dem = s.demand
    g = xp.log(xp.asarray(d.demand_target) / dem.base) / (dem.target_year - dem.base_year)
    demand = dem.factor * dem.base * xp.exp(g[:, None] * (years[None, :] - dem.base_year))
    ratio = flow / demand
    share_free = xp.minimum(flow, demand) / demand
    impact_year = impact_flow = None
    if m.impact is not None and s.impact is not None:
        impact_flow = max_flow(chain_cap * xp.asarray(m.impact), m.net, xp)
        hit = impact_flow >= s.impact.threshold
        impact_year = xp.where(xp.any(hit, axis=1), xp.argmax(hit, axis=1), n_y)
    bench_met = bench_max = None
    if m.bench_map is not None and m.bench_base is not None and m.bench_third is not None:
        n_s, n_c = m.bench_shape
        sc = (chain_cap @ xp.asarray(m.bench_map) + xp.asarray(m.bench_base)[None, :, :]).reshape(n, n_y, n_s, n_c)
        total = xp.sum(sc, axis=3)
        share = sc / xp.where(total > 0, total, 1.0)[..., None]
        third_share = xp.max(share * xp.asarray(m.bench_third * 1.0), axis=3)  # (n, Y, S)
        bench_max = xp.max(third_share, axis=2)
        assert s.benchmark is not None
        bench_met = bench_max <= s.benchmark.threshold
    return Metrics(capacity, flow, demand, ratio, share_free, impact_year, impact_flow, bench_met, bench_max)


# -- streaming aggregation -----------------------------------------------------------------------------
@dataclass
class Hist:
    """Fixed-bin histograms of ``k`` columns at once, with each bin's smallest and largest value. The two
    ends (values equal to ``lo`` or ``hi``, such as 0 or full nameplate) get their own bins, so point masses
    there are exact; a quantile inside a bin lies between the bin's smallest and largest value, within one
    bin width (``(hi - lo) / bins``) of the exact order statistic."""

    lo: FloatArray  # (k,)
    hi: FloatArray  # (k,)
    bins: int
    counts: IntArray = field(init=False)
    bmin: FloatArray = field(init=False)
    bmax: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        k = len(self.lo)
        self.counts = np.zeros(k * self.slots, dtype=np.int64)
        self.bmin = np.full(k * self.slots, np.inf)
        self.bmax = np.full(k * self.slots, -np.inf)

    @property
    def slots(self) -> int:
        return self.bins + 2

    @property
    def width(self) -> FloatArray:
        return (self.hi - self.lo) / self.bins

    def add(self, values: FloatArray) -> None:
        """Fold ``values`` of shape (n, k) in."""
        v = np.asarray(values, dtype=float)
        k = len(self.lo)
        tol = 1e-9 * np.maximum(1.0, np.abs(self.hi))
        if v.size and (np.any(v < self.lo - tol) or np.any(v > self.hi + tol) or np.isnan(v).any()):
            bad = np.argwhere((v < self.lo - tol) | (v > self.hi + tol) | np.isnan(v))[0]
            raise RuntimeError(f"value {v[tuple(bad)]!r} outside the histogram range "
                               f"[{self.lo[bad[1]]}, {self.hi[bad[1]]}] of column {bad[1]}")
        span = np.where(self.hi > self.lo, self.hi - self.lo, 1.0)
        idx = 1 + np.clip(((v - self.lo) / span * self.bins).astype(np.int64), 0, self.bins - 1)
        idx = np.where(v <= self.lo, 0, np.where(v >= self.hi, self.bins + 1, idx))
        flat = (idx + np.arange(k) * self.slots).ravel()
        vals = v.ravel()
        self.counts += np.bincount(flat, minlength=k * self.slots)
        np.minimum.at(self.bmin, flat, vals)
        np.maximum.at(self.bmax, flat, vals)

    def merge(self, other: Hist) -> None:
        self.counts += other.counts
        np.minimum(self.bmin, other.bmin, out=self.bmin)
        np.maximum(self.bmax, other.bmax, out=self.bmax)

    def quantiles(self, qs: Sequence[float]) -> FloatArray:
        """(len(qs), k) quantiles (numpy's 'linear' definition, within a bin by rank between its extremes)."""
        k = len(self.lo)
        counts = self.counts.reshape(k, self.slots)
        bmin, bmax = self.bmin.reshape(k, self.slots), self.bmax.reshape(k, self.slots)
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
                frac = (rank - before) / (within - 1) if within > 1 else 0.0
                out[i, c] = bmin[c, b] + frac * (bmax[c, b] - bmin[c, b])
        return out


@dataclass
class Aggregate:
    """Everything a run keeps: fixed-size, whatever the number of scenarios."""

    n: int
    hists: dict[str, Hist]
    project_hist: Hist
    producing: IntArray  # (P, Y) scenarios with capacity > 0
    reach: IntArray  # (T, Y) scenarios whose independent capacity reached target t at or before year y
    impact_counts: IntArray  # (Y + 1,) first year the impact threshold is met; last = never
    bench_counts: IntArray  # (Y,)
    block_sums: dict[int, dict[str, FloatArray]]  # per block, summed in block order at the end

    @classmethod
    def empty(cls, m: Model) -> Aggregate:
        n_y, n_p = m.n_years, m.n_projects
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
        if m.bench_map is not None:
            hists["bench_max_share"] = Hist(np.zeros(n_y), np.ones(n_y), HIST_BINS)
        cap_hi = np.repeat(np.where(m.cap_hi > 0, m.cap_hi, 1.0), n_y)
        return cls(
            n=0, hists=hists, project_hist=Hist(np.zeros(n_p * n_y), cap_hi, PROJECT_BINS),
            producing=np.zeros((n_p, n_y), dtype=np.int64),
            reach=np.zeros((len(m.scenario.targets), n_y), dtype=np.int64),
            impact_counts=np.zeros(n_y + 1, dtype=np.int64), bench_counts=np.zeros(n_y, dtype=np.int64),
            block_sums={},
        )

    def add(self, block: int, m: Model, met: Metrics, to_numpy: Callable[[Any], Any] = np.asarray) -> None:
        cap = np.asarray(to_numpy(met.capacity), dtype=float)
        n = cap.shape[0]
        self.n += n
        arrays = {"flow": met.flow, "demand": met.demand, "ratio": met.ratio, "share_free": met.share_free}
        if met.impact_flow is not None:
            arrays["impact_flow"] = met.impact_flow
        if met.bench_max_share is not None:
            arrays["bench_max_share"] = met.bench_max_share
        host = {k: np.asarray(to_numpy(v), dtype=float) for k, v in arrays.items()}
        for k, v in host.items():
            self.hists[k].add(v)
        self.project_hist.add(cap.reshape(n, -1))
        self.producing += (cap > 0).sum(axis=0)
        flow = host["flow"]
        running = np.maximum.accumulate(flow, axis=1)
        for t, (value, _year) in enumerate(m.scenario.targets):
            self.reach[t] += (running >= value).sum(axis=0)
        if met.impact_year is not None:
            self.impact_counts += np.bincount(np.asarray(to_numpy(met.impact_year), dtype=np.int64),
                                              minlength=m.n_years + 1)
        if met.bench_met is not None:
            self.bench_counts += np.asarray(to_numpy(met.bench_met)).sum(axis=0)
        sums = {k: v.sum(axis=0) for k, v in host.items()}
        sums["capacity"] = cap.sum(axis=0)
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
        self.bench_counts += other.bench_counts
        self.block_sums.update(other.block_sums)

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


def run_block(m: Model, seed: int, block: int, n: int, xp: Any = np,
              to_numpy: Callable[[Any], Any] = np.asarray) -> Aggregate:
    """Draw, evaluate and aggregate one block."""
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

