"""Scenarios on the evidence base's network (base:): the same network and the same independent capacity as
the analytics (orechain trace), projects added on top, and the Pakistani contribution as a difference."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from orechain.analytics.network import build_network, independent_capacity, random_network
from orechain.evidence.errors import InputError
from orechain.evidence.store import Store
from orechain.scenarios.engine import compile_model, draw, evaluate
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.flow import networkx_max_flow
from orechain.scenarios.results import simulate
from orechain.scenarios.sampling import block_generator
from orechain.scenarios.spec import builtin_path, load_scenario, parse_scenario

HEAD = textwrap.dedent("""\
    name: base-check
    start: "2026-01-01"
    horizon: 2030
    consumer: USA
    unit: t NdPr oxide eq/yr
    exclusions: {countries: [CHN]}
    demand: {base_year: 2023, base: 93000, target_year: 2030, target: 131000, quality: secondary}
""")
PRESENT = HEAD + "base: {commodity: rare-earths, ramp_years: 0, statuses: [operating, commissioning]}\n"


@pytest.fixture
def facilities(store: Store) -> pd.DataFrame:
    return facility_table(store)


def first_year_flow(text: str, facilities: pd.DataFrame, n: int = 3) -> np.ndarray:
    s = parse_scenario(text, "s.yaml", facilities)
    m = compile_model(s)
    return np.asarray(evaluate(m, draw(m, block_generator(1, 0), n)).flow)


def test_present_day_equals_the_analytics(facilities: pd.DataFrame, store: Store) -> None:
    """Facilities producing now at nameplate: the engine's flow is orechain trace's independent capacity."""
    from orechain.analytics import inputs
    from orechain.evidence import queries

    net = build_network(inputs.facility_frame(store, "rare-earths"), queries.links(store), commodity="rare-earths")
    expected = independent_capacity(net, ["CHN"])
    s = parse_scenario(PRESENT, "s.yaml", facilities)
    assert s.present is not None and s.present.value == pytest.approx(expected.value)
    assert s.present.upper == pytest.approx(expected.value_upper)
    assert s.present.bottleneck == expected.bottleneck_stage == "metal"
    flow = first_year_flow(PRESENT, facilities)
    assert np.allclose(flow, expected.value, rtol=1e-6)  # every year, every scenario: nothing is random here
    # and networkx on the scenario's own graph agrees at the same capacities
    m = compile_model(s)
    caps = [m.static[j] if j not in set(m.graph.project) or m.independent[j] else 0 * m.static[j]
            for j in range(m.n_projects)]
    node_caps = [float(caps[j][0]) if m.independent[j] else 0.0 for j in m.graph.project]
    assert networkx_max_flow(node_caps, m.graph.graph) == pytest.approx(float(flow[0, 0]), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_random_networks_equal_the_analytics(seed: int) -> None:
    """analytics.random_network (known links, open markets, the bypassable beneficiation stage): the scenario
    engine's flow equals independent_capacity for every exclusion."""
    fac, links = random_network(seed, 14, n_countries=4, link_frac=0.15)
    iso = {f"C{i:02d}": f"X{chr(65 + i)}X" for i in range(4)}  # scenario files name ISO3-like countries
    fac = fac.assign(country=fac["country"].map(iso), controller=fac["controller"].map(iso))
    units = {"mining": "t NdPr oxide", "beneficiation": "t NdPr oxide", "separation": "t NdPr oxide",
             "metal": "t NdPr metal", "magnet": "t NdFeB"}
    fac = fac.assign(commodity="rare-earths", status="operating", capacity_unit=fac["stage"].map(units), name=fac["id"],
                     region=None, capacity_source_id=None, source_id=None, capacity_from="test")
    fac["controlled_by"] = fac["controller"]
    fac.attrs["links"] = tuple((a, b, None) for a, b in zip(links["upstream"], links["downstream"], strict=True))
    for excluded in ([], ["XAX"], ["XBX", "XCX"]):
        text = HEAD.replace("exclusions: {countries: [CHN]}", f"exclusions: {{countries: {excluded}}}")
        text += "base: {commodity: rare-earths, ramp_years: 0}\n"
        net = build_network(fac.drop(columns=["controlled_by"]), links, commodity="rare-earths")
        expected = independent_capacity(net, excluded).value
        assert np.allclose(first_year_flow(text, fac), expected, rtol=1e-6, atol=1e-6), (seed, excluded)


def test_added_project_without_capacity_changes_nothing(facilities: pd.DataFrame) -> None:
    """A link written in the scenario never takes an evidence facility off its open market."""
    base = first_year_flow(PRESENT, facilities)
    text = PRESENT + textwrap.dedent("""\
        projects:
          - {id: pk-x, stage: mining, country: PAK, status: operating, capacity: 0}
        links:
          - {from: pk-x, to: energy-fuels-white-mesa}
    """)
    assert np.array_equal(first_year_flow(text, facilities), base)


WHAT_IF = PRESENT + textwrap.dedent("""\
    projects:
      - {id: pk-mine, stage: mining, country: PAK, status: operating, capacity: 3000}
      - {id: pk-refinery, stage: separation, country: PAK, status: operating, capacity: 2000}
      - {id: xx-metal, stage: metal, country: USA, status: operating, capacity: METAL}
      - {id: xx-magnet, stage: magnet, country: USA, status: operating, capacity: 40000}
    links:
      - {from: pk-mine, to: pk-refinery}
    impact: {name: Pakistan, countries: [PAK], threshold: 100}
""")


def test_pakistani_contribution_is_zero_while_metal_binds(facilities: pd.DataFrame) -> None:
    s = parse_scenario(WHAT_IF.replace("METAL", "0"), "s.yaml", facilities)
    m = compile_model(s)
    met = evaluate(m, draw(m, block_generator(1, 0), 4))
    assert np.all(met.impact_flow == 0)  # non-Chinese oxide already exceeds metal making
    assert np.allclose(met.sourced_flow, 129.47, atol=0.01)  # alone it would fill LCM's metal line


def test_pakistani_contribution_when_metal_is_built(facilities: pd.DataFrame) -> None:
    """With far more non-Chinese metal capacity than non-Chinese oxide, the chain becomes short of oxide and
    the Pakistani refinery's 2,000 t add exactly 2,000 t (flow with minus flow without)."""
    s = parse_scenario(WHAT_IF.replace("METAL", "60000"), "s.yaml", facilities)
    m = compile_model(s)
    met = evaluate(m, draw(m, block_generator(1, 0), 4))
    assert np.allclose(met.impact_flow, 2000.0)
    without = parse_scenario(WHAT_IF.replace("METAL", "60000").replace("capacity: 2000", "capacity: 0"), "s.yaml",
                             facilities)
    m0 = compile_model(without)
    flow0 = evaluate(m0, draw(m0, block_generator(1, 0), 4)).flow
    assert np.allclose(met.flow - flow0, 2000.0)
    assert np.all(met.impact_year == 0)


def test_link_capacity_and_share_bound_the_flow(facilities: pd.DataFrame) -> None:
    text = WHAT_IF.replace("METAL", "60000").replace("  - {from: pk-mine, to: pk-refinery}",
                                                       "  - {from: pk-mine, to: pk-refinery, capacity: 700}")
    met_cap = first_year_flow(text, facilities)
    full = first_year_flow(WHAT_IF.replace("METAL", "60000"), facilities)
    assert np.allclose(full - met_cap, 2000 - 700)
    shared = WHAT_IF.replace("METAL", "60000").replace("  - {from: pk-mine, to: pk-refinery}",
                                                         "  - {from: pk-mine, to: pk-refinery, share: 0.25}")
    assert np.allclose(full - first_year_flow(shared, facilities), 2000 - 500)  # 25% of the refinery's 2,000


def test_aggregate_member_and_renamed_base_facility_refused(facilities: pd.DataFrame) -> None:
    text = PRESENT + textwrap.dedent("""\
        projects:
          - {id: cnre-baotou-separation, facility: cnre-baotou-separation, capacity: 10}
          - {id: other-name, facility: lcm-ellesmere-port-metal, capacity: 200}
    """)
    with pytest.raises(InputError) as exc:
        parse_scenario(text, "s.yaml", facilities)
    msgs = [str(p) for p in exc.value.problems]
    assert any("national aggregate 'cn-ree-separation-aggregate'" in m for m in msgs)
    assert any("keeps its id: id: lcm-ellesmere-port-metal" in m for m in msgs)


def test_base_needs_the_evidence_base() -> None:
    with pytest.raises(InputError, match="base: needs the evidence base"):
        parse_scenario(PRESENT, "s.yaml", None)


def test_missing_capacities_are_listed(facilities: pd.DataFrame) -> None:
    s = parse_scenario(PRESENT, "s.yaml", facilities)
    note = next(n for n in s.notes if "have no capacity" in n)
    assert "mp-independence-metal" in note and "count 0" in note
    assert not s.project("mp-independence-metal").capacity_known


@pytest.mark.slow
def test_builtins_are_not_degenerate(facilities: pd.DataFrame) -> None:
    r = simulate(load_scenario(builtin_path("pakistan-us"), facilities), 4_000, seed=2)
    fan = r.fan("flow").set_index("year")
    assert fan.loc[2030, "p5"] < fan.loc[2030, "p50"] < fan.loc[2030, "p95"]  # a spread, not a point
    assert fan.loc[2026, "p50"] > 0 and fan.loc[2045, "p50"] >= fan.loc[2026, "p50"]
    sourced = r.fan("sourced_flow").set_index("year")
    assert sourced.loc[2026, "p50"] > 0 and sourced.loc[2045, "p95"] > 0
    eu = simulate(load_scenario(builtin_path("eu-crma-2030"), facilities), 2_000, seed=2)
    shares = eu.benchmark().set_index("year")
    assert 0.6 < shares.loc[2026, "mining_p50"] < 0.7 and shares.loc[2030, "metal_p50"] > 0.9
