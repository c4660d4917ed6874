"""The engine: closed forms, deterministic cases, conservation, reproducibility, streaming quantiles."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import pytest

from orechain.scenarios.backends import BackendUnavailable, array_module, execute
from orechain.scenarios.engine import Hist, compile_model, draw, evaluate, run_blocks
from orechain.scenarios.results import simulate
from orechain.scenarios.sampling import block_generator
from orechain.scenarios.spec import parse_scenario

DETERMINISTIC = textwrap.dedent("""\
    name: det
    start: "2026-01-01"
    horizon: 2032
    consumer: USA
    unit: t/yr
    stages: [mining, separation]
    demand: {base_year: 2026, base: 1000, target_year: 2030, target: 1000, quality: assumption}
    projects:
      - {id: mine, stage: mining, country: AUS, status: operating, capacity: 600}
      - id: sep
        stage: separation
        country: USA
        status: financed
        capacity: 1000
        gates: [{name: a, duration: 1.5}, {name: b, duration: 1.0}]
        ramp: {curve: [0.5]}
    impact: {name: sep, projects: [sep], threshold: 300}
    targets: [{value: 600, year: 2030}]
""")


def capacity_of(m: Any, met: Any, pid: str) -> np.ndarray:
    """Capacity online of one project, (n, Y), dynamic or static."""
    j = [p.id for p in m.scenario.projects].index(pid)
    if m.is_dynamic[j]:
        return np.asarray(met.capacity[list(m.dynamic).index(j)])
    return np.broadcast_to(m.static[j], met.flow.shape)


def test_deterministic_timeline() -> None:
    s = parse_scenario(DETERMINISTIC, "det.yaml")
    m = compile_model(s)
    met = evaluate(m, draw(m, block_generator(0, 0), 5))
    # first output at 2026 + 2.5 = 2028.5; production year 1 at 50%, then 100%
    # 2028: half a year at 50% = 0.25; 2029: half a year at 50% + half a year at 100% = 0.75
    expected_sep = np.array([0, 0, 0.25, 0.75, 1, 1, 1]) * 1000
    assert np.allclose(capacity_of(m, met, "sep"), expected_sep)
    assert np.allclose(capacity_of(m, met, "mine"), 600)
    assert np.allclose(met.flow, np.minimum(600, expected_sep))
    assert np.allclose(met.demand, 1000)
    assert np.allclose(met.share_free, np.minimum(600, expected_sep) / 1000)
    # the impact project (sep) adds what the mine lets through: the flow itself, as without sep it is 0
    assert np.allclose(met.impact_flow, np.minimum(600, expected_sep))
    assert np.all(met.impact_year == 3)  # 2029: 600 >= 300 (2028 gives 250)


def test_all_gates_pass_probability_is_product(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    m = compile_model(s)
    d = draw(m, block_generator(3, 0), 200_000)
    j = [p.id for p in s.projects].index("sep-b")
    c = list(m.dynamic).index(j)
    passed = np.all(d.gate_u[c] >= np.array([g.p_fail for g in s.projects[j].gates]), axis=1)
    p = s.projects[j].p_success()
    assert p == pytest.approx(0.72)
    assert abs(passed.mean() - p) < 4 * math.sqrt(p * (1 - p) / 200_000)


def test_sum_of_lognormal_gates_matches_exact_moments(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    m = compile_model(s)
    n = 400_000
    d = draw(m, block_generator(5, 0), n)
    j = [p.id for p in s.projects].index("sep-b")
    total = d.gate_dur[list(m.dynamic).index(j)].sum(axis=1)
    gates = s.projects[j].gates
    mean = sum(g.duration.mean() for g in gates)
    var = sum(g.duration.var() for g in gates)
    assert abs(total.mean() - mean) < 4 * math.sqrt(var / n)
    assert total.var() == pytest.approx(var, rel=0.02)


def test_conservation(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    m = compile_model(s)
    d = draw(m, block_generator(11, 0), 20_000)
    met = evaluate(m, d)
    for c in range(len(m.dynamic)):
        cap = np.asarray(met.capacity[c])
        assert np.all(cap >= 0)
        assert np.all(cap <= d.nameplate[:, c, None] + 1e-9)  # never above nameplate
    for j, p in enumerate(s.projects):
        if not m.is_dynamic[j]:
            assert np.all(m.static[j] <= p.capacity.support()[1] + 1e-9)
    for st in s.stages:  # flow never above the independent capacity of any stage
        stage_cap = sum(capacity_of(m, met, p.id) for p in s.projects
                        if p.stage == st and p.controlled_by not in s.excluded)
        assert np.all(met.flow <= stage_cap + 1e-9)
    assert np.all(met.share_free <= 1.0)
    assert np.all(met.impact_flow <= met.flow + 1e-9) and np.all(met.impact_flow >= 0)


def test_excluded_country_never_counts(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    m = compile_model(s)
    met = evaluate(m, draw(m, block_generator(2, 0), 2_000))
    assert capacity_of(m, met, "sep-cn").min() > 0  # it produces...
    no_cn = s.project("sep-cn").capacity.mean()
    assert met.flow.max() < no_cn  # ...but its 5000 t never reach the independent chain


def test_seed_reproducible_and_blocking_invariant(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    a = simulate(s, 5_000, seed=9, block_size=1_000)
    b = simulate(s, 5_000, seed=9, block_size=1_000)
    c = simulate(s, 5_000, seed=10, block_size=1_000)
    assert a.fans().equals(b.fans())
    assert not a.fans().equals(c.fans())
    # grouping the same blocks differently (as Dask partitions do) changes nothing
    m = compile_model(s)
    blocks = [(0, 1000), (1, 1000), (2, 1000), (3, 1000), (4, 1000)]
    one = run_blocks(m, 9, blocks)
    two = run_blocks(m, 9, blocks[3:])
    two.merge(run_blocks(m, 9, blocks[:3]))
    assert np.array_equal(one.hists["flow"].counts, two.hists["flow"].counts)
    assert np.array_equal(one.mean("flow"), two.mean("flow"))
    assert np.array_equal(one.mean("flow"), a.agg.mean("flow"))


def test_histogram_quantiles_within_a_bin() -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([np.zeros((3000, 2)), rng.uniform(0, 10, (7000, 2)), np.full((500, 2), 10.0)])
    h = Hist(np.zeros(2), np.full(2, 10.0), 100)
    for chunk in np.array_split(values, 7):
        h.add(chunk)
    qs = [0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
    got = h.quantiles(qs)
    exact = np.quantile(values, qs, axis=0)
    assert np.all(np.abs(got - exact) <= h.width + 1e-12)
    assert got[0, 0] == 0.0 and got[-1, 0] == 10.0  # point masses at the ends are exact
    with pytest.raises(RuntimeError, match="outside the histogram range"):
        h.add(np.array([[11.0, 1.0]]))


def test_reach_and_time_to_impact_consistent(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    r = simulate(s, 4_000, seed=1, block_size=1_000)
    assert r.agg.n == 4_000
    tti = r.time_to_impact()
    assert tti["probability"].sum() == pytest.approx(1.0)
    reach = r.reach()
    assert 0 <= reach["probability"].iloc[0] <= 1
    assert len(r.summary()) >= 4


def test_tornado_orders_by_swing(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    r = simulate(s, 1_000, seed=1, tornado=True)
    t = r.tornado
    assert t is not None and len(t) >= 5
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    assert "demand target" in set(t["input"])
    demand = t.set_index("input").loc["demand target"]
    assert demand["low"] <= demand["base"] <= demand["high"]


@pytest.mark.parametrize("backend", ["cupy", "jax"])
def test_missing_gpu_backend_is_a_clear_error(backend: str) -> None:
    pytest.importorskip("numpy")
    try:
        __import__(backend)
    except ImportError:
        with pytest.raises(BackendUnavailable, match="pip install"):
            array_module(backend)
    else:  # pragma: no cover - only where the package is installed
        pytest.skip(f"{backend} is installed here; the missing-package error cannot be shown")


def test_execute_rejects_zero(small_text: str) -> None:
    m = compile_model(parse_scenario(small_text, "small.yaml"))
    with pytest.raises(ValueError, match="at least 1"):
        execute(m, 0, 1)


ENABLED = textwrap.dedent("""\
    name: enabled
    start: "2026-01-01"
    horizon: 2031
    consumer: USA
    unit: t/yr
    stages: [mining, separation]
    demand: {base_year: 2026, base: 1000, target_year: 2030, target: 1000, quality: assumption}
    projects:
      - {id: mine, stage: mining, country: AUS, status: operating, capacity: 500, copies: 3,
         growth: 0.1}
      - {id: sep, stage: separation, country: USA, status: operating, capacity: 1000, requires: [port]}
      - id: port
        stage: export
        in_chain: false
        country: USA
        status: financed
        gates: [{name: build, duration: 2.5}]
        ramp: {curve: [1.0]}
    links:
      - {from: mine, to: sep}
""")


def test_copies_requires_and_growth() -> None:
    s = parse_scenario(ENABLED, "enabled.yaml")
    assert [p.id for p in s.projects][:3] == ["mine-01", "mine-02", "mine-03"]
    assert {(lk.upstream, lk.downstream) for lk in s.links} == {(f"mine-0{k}", "sep") for k in (1, 2, 3)}
    m = compile_model(s)
    met = evaluate(m, draw(m, block_generator(0, 0), 3))
    mines = 3 * 500 * 1.1 ** np.arange(6)  # each copy grows 10% a year from the start year
    port = np.array([0, 0, 0.5, 1, 1, 1])  # built at 2028.5, then fully online
    assert np.allclose(capacity_of(m, met, "mine-02"), 500 * 1.1 ** np.arange(6))
    assert np.allclose(capacity_of(m, met, "sep"), 1000 * port)  # the enabling project's online share
    assert np.allclose(met.flow, np.minimum(mines, 1000 * port))
