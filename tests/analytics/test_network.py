"""Mine-to-magnet network: conversion to a common basis, tracing, and independent capacity = LP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.network import (
    UNIT_FACTORS,
    basis_factors,
    build_network,
    capacity_shares,
    independent_capacity,
    independent_capacity_lp,
    random_network,
    trace,
)

FACTORS = pd.DataFrame({"stage": ["mining", "separation", "magnet"], "capacity_unit": ["t", "t", "t"],
                        "factor": [1.0, 1.0, 1.0]})


def _fac(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"id": i, "stage": s, "country": h, "controller": c, "capacity": cap, "capacity_unit": "t"}
                         for i, s, h, c, cap in rows])


TOY = _fac([
    ("m_pak", "mining", "PAK", "PAK", 10.0),
    ("m_chn", "mining", "CHN", "CHN", 60.0),
    ("m_usa", "mining", "USA", "USA", 30.0),
    ("s_chn", "separation", "CHN", "CHN", 80.0),
    ("s_mys", "separation", "MYS", "AUS", 20.0),
    ("g_chn", "magnet", "CHN", "CHN", 90.0),
    ("g_usa", "magnet", "USA", "USA", 10.0),
])
TOY_LINKS = pd.DataFrame({"upstream": ["m_usa"], "downstream": ["s_mys"]})


def test_trace_stage_and_path_shares() -> None:
    net = build_network(TOY, TOY_LINKS, factors=FACTORS)
    r = trace(net, ["USA"])
    shares = r.stage_shares.set_index(["stage", "country"])
    assert shares.loc[("magnet", "CHN"), "hosted"] == pytest.approx(0.9)
    # separation: s_mys has a known supplier (m_usa); s_chn draws from the open market (PAK, CHN mines)
    assert shares.loc[("separation", "CHN"), "hosted"] == pytest.approx(0.8)
    assert shares.loc[("separation", "AUS"), "controlled"] == pytest.approx(0.2)
    assert shares.loc[("separation", "MYS"), "hosted"] == pytest.approx(0.2)
    mining = r.stage_shares[r.stage_shares["stage"] == "mining"].set_index("country")["hosted"]
    assert mining["USA"] == pytest.approx(0.2)
    assert mining["PAK"] == pytest.approx(0.8 * 10 / 70)
    paths = r.path_shares.set_index("route")["share"]
    assert paths["PAK -> CHN -> CHN"] == pytest.approx(0.8 * 10 / 70 * 80 / 100 * 0.9 / 0.8)
    assert paths.sum() == pytest.approx(1.0)
    assert r.bottleneck_stage in ("mining", "separation", "magnet")
    assert r.unsupplied.sum() == 0


def test_independent_capacity_excluding_china() -> None:
    net = build_network(TOY, TOY_LINKS, factors=FACTORS)
    full = independent_capacity(net)
    assert full.value == pytest.approx(90.0, abs=1e-4)  # s_mys takes only m_usa and holds 20 of its 30
    noc = independent_capacity(net, exclude=["CHN"])
    # PAK's mine feeds the open market; the only non-Chinese separation (s_mys) takes m_usa only;
    # the magnet stage without China is g_usa (10)
    assert noc.value == pytest.approx(10.0, abs=1e-4)
    assert noc.bottleneck_stage == "magnet"
    assert "g_usa" in set(noc.cut["id"])
    assert set(noc.excluded) == {"m_chn", "s_chn", "g_chn"}
    assert noc.value == pytest.approx(independent_capacity_lp(net, exclude=["CHN"]), abs=1e-4)


def test_units_are_converted_and_unknown_units_rejected() -> None:
    fac = pd.DataFrame([
        {"id": "mine", "stage": "mining", "country": "USA", "capacity": 1000.0, "capacity_unit": "t REO/yr"},
        {"id": "sep", "stage": "separation", "country": "USA", "capacity": 150.0, "capacity_unit": "t NdPr oxide/yr"},
        {"id": "mag", "stage": "magnet", "country": "USA", "capacity": 1000.0, "capacity_unit": "t/yr"},
    ])
    net = build_network(fac, commodity="rare-earths")
    caps = net.facilities.set_index("id")["capacity"]
    assert caps["mine"] == pytest.approx(200.0)
    assert caps["sep"] == pytest.approx(150.0)
    assert caps["mag"] == pytest.approx(353.0)
    assert independent_capacity(net).value == pytest.approx(150.0, abs=1e-3)
    bad = fac.assign(capacity_unit=["t REO", "bananas", "t"])
    with pytest.raises(AnalyticsInputError, match="bananas"):
        build_network(bad, commodity="rare-earths")


def test_bad_links_are_errors() -> None:
    with pytest.raises(AnalyticsInputError, match="unknown facility"):
        build_network(TOY, pd.DataFrame({"upstream": ["m_usa"], "downstream": ["nowhere"]}), factors=FACTORS)
    with pytest.raises(AnalyticsInputError, match="does not run down the chain"):
        build_network(TOY, pd.DataFrame({"upstream": ["g_usa"], "downstream": ["m_usa"]}), factors=FACTORS)


def test_missing_capacity_is_listed() -> None:
    fac = TOY.copy()
    fac.loc[0, "capacity"] = np.nan
    net = build_network(fac, factors=FACTORS)
    assert net.missing_capacity == ("m_pak",)


ALL_FACTORS = UNIT_FACTORS


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(5, 60), k=st.integers(0, 3))
def test_max_flow_equals_highs_lp_on_random_networks(seed: int, n: int, k: int) -> None:
    fac, links = random_network(seed, n)
    exclude = [f"C{i:02d}" for i in range(k)]
    for bypass in ((), ("beneficiation", "metal")):
        net = build_network(fac, links, factors=ALL_FACTORS, bypass=bypass)
        for by in ("controller", "either"):
            mf = independent_capacity(net, exclude, by=by)  # type: ignore[arg-type]
            lp = independent_capacity_lp(net, exclude, by=by)  # type: ignore[arg-type]
            assert mf.value == pytest.approx(lp, abs=mf.resolution * (n + 2) + 1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trace_shares_sum_to_one_on_random_networks(seed: int) -> None:
    fac, links = random_network(seed, 200)
    net = build_network(fac, links, factors=ALL_FACTORS, bypass=["beneficiation"] if seed == 3 else ())
    r = trace(net, ["C00"])
    for stage, g in r.stage_shares.groupby("stage"):
        unsup = r.unsupplied.loc[net.stages[net.stages.index(str(stage)) + 1]] if str(stage) != net.stages[-1] else 0
        assert g["hosted"].sum() == pytest.approx(1.0)
        assert g["controlled"].sum() == pytest.approx(1.0)
        del unsup
    assert r.path_shares["share"].sum() == pytest.approx(1.0)


def test_links_within_a_stage_are_followed() -> None:
    fac = _fac([("mine", "mining", "AUS", "AUS", 100.0), ("conc", "separation", "AUS", "AUS", 50.0),
                ("crack", "separation", "MYS", "AUS", 40.0), ("mag", "magnet", "JPN", "JPN", 100.0)])
    links = pd.DataFrame({"upstream": ["mine", "conc"], "downstream": ["conc", "crack"]})
    net = build_network(fac, links, factors=FACTORS)
    assert independent_capacity(net).value == pytest.approx(40.0, abs=1e-4)
    r = trace(net, ["JPN"])
    assert r.path_shares.iloc[0]["route"] == "AUS -> AUS -> MYS -> JPN"
    assert r.path_shares["share"].sum() == pytest.approx(1.0)
    with pytest.raises(AnalyticsInputError, match="cycle"):
        build_network(fac, pd.DataFrame({"upstream": ["conc", "crack"], "downstream": ["crack", "conc"]}),
                      factors=FACTORS)


# --- fixes found on the shipped data (2026-11): bypass, recyclers, national aggregates, unknown capacity ---
FACTORS5 = pd.DataFrame({"stage": ["mining", "beneficiation", "separation", "metal", "magnet", "recycling"],
                         "capacity_unit": ["t"] * 6, "factor": [1.0] * 6})


def test_an_optional_stage_is_bypassed_by_the_open_market() -> None:
    # a concentrator linked to one mine used to cut every other mine off from separation (capacity 0)
    fac = _fac([("m_aus", "mining", "AUS", "AUS", 50.0), ("m_usa", "mining", "USA", "USA", 30.0),
                ("conc", "beneficiation", "AUS", "AUS", 40.0), ("sep", "separation", "USA", "USA", 100.0),
                ("mag", "magnet", "USA", "USA", 100.0)])
    links = pd.DataFrame({"upstream": ["m_aus"], "downstream": ["conc"]})
    strict = build_network(fac, links, factors=FACTORS5, bypass=())
    assert independent_capacity(strict).value == pytest.approx(40.0, abs=1e-4)  # m_usa has nowhere to go
    net = build_network(fac, links, factors=FACTORS5, bypass=["beneficiation"])
    assert net.bypass == ("beneficiation",)
    cap = independent_capacity(net)
    assert cap.value == pytest.approx(70.0, abs=1e-4)  # conc 40 + m_usa 30 straight to separation
    assert cap.value == pytest.approx(independent_capacity_lp(net), abs=1e-4)
    r = trace(net, ["USA"])
    mining = r.stage_shares[r.stage_shares["stage"] == "mining"].set_index("country")["hosted"]
    assert mining["USA"] == pytest.approx(30 / 70)
    assert r.bottleneck_stage != "beneficiation"
    assert r.path_shares["share"].sum() == pytest.approx(1.0)


def test_the_shipped_stage_table_bypasses_beneficiation_only() -> None:
    from orechain.analytics.network import chain_stages

    st = chain_stages("rare-earths").set_index("stage")["bypass"]
    assert list(st[st].index) == ["beneficiation"]


def test_a_recycler_is_a_source_feeding_only_its_links() -> None:
    fac = _fac([("mine", "mining", "AUS", "AUS", 100.0), ("sep", "separation", "MYS", "AUS", 10.0),
                ("metal", "metal", "GBR", "GBR", 10.0), ("mag_a", "magnet", "DEU", "DEU", 50.0),
                ("rec", "recycling", "USA", "USA", 20.0), ("mag_r", "magnet", "USA", "USA", 15.0)])
    links = pd.DataFrame({"upstream": ["rec"], "downstream": ["mag_r"]})
    net = build_network(fac, links, factors=FACTORS5)
    cap = independent_capacity(net)
    assert cap.value == pytest.approx(10.0 + 15.0, abs=1e-4)  # primary chain 10 (sep/metal) + recycled 15
    assert cap.value == pytest.approx(independent_capacity_lp(net), abs=1e-4)
    r = trace(net, ["USA"])
    assert r.facility_shares.set_index("id").loc["rec", "share"] == pytest.approx(15 / 65)
    assert "USA -> USA" in set(r.path_shares["route"])
    # an unlinked recycler does not enter the mining market
    alone = build_network(fac, None, factors=FACTORS5)
    assert independent_capacity(alone).value == pytest.approx(10.0, abs=1e-4)
    with pytest.raises(AnalyticsInputError, match="does not run down the chain"):
        build_network(fac, pd.DataFrame({"upstream": ["mine"], "downstream": ["rec"]}), factors=FACTORS5)


AGG = pd.DataFrame({"aggregate": ["cn_sep"], "commodity": ["x"], "country": ["CHN"], "stage": ["separation"]})


def test_a_national_aggregate_replaces_its_member_plants_and_takes_their_links() -> None:
    fac = _fac([("m_chn", "mining", "CHN", "CHN", 100.0), ("m_usa", "mining", "USA", "USA", 30.0),
                ("cn_sep", "separation", "CHN", "CHN", 80.0), ("plant_a", "separation", "CHN", "CHN", 25.0),
                ("plant_b", "separation", "CHN", "CHN", np.nan), ("s_mys", "separation", "MYS", "AUS", 20.0),
                ("g", "magnet", "JPN", "JPN", 200.0)])
    links = pd.DataFrame({"upstream": ["m_usa"], "downstream": ["plant_a"]})
    net = build_network(fac, links, factors=FACTORS, aggregates=AGG)
    assert set(net.aggregated["id"]) == {"plant_a", "plant_b"}
    assert set(net.aggregated["aggregate"]) == {"cn_sep"}
    assert not {"plant_a", "plant_b"} & set(net.facilities["id"])
    assert net.missing_capacity == ()  # plant_b is aggregated, not missing
    assert list(zip(net.links["upstream"], net.links["downstream"], strict=True)) == [("m_usa", "cn_sep")]
    # the aggregate now draws only from m_usa (30), s_mys from the open market (20)
    assert independent_capacity(net).value == pytest.approx(50.0, abs=1e-4)
    # capacity counted once: the aggregate's 80 + s_mys 20, never plant_a's 25 on top
    unlinked = build_network(fac, None, factors=FACTORS, aggregates=AGG)
    assert independent_capacity(unlinked).value == pytest.approx(100.0, abs=1e-4)
    shares = capacity_shares(net).set_index(["stage", "country"])
    assert shares.loc[("separation", "CHN"), "hosted_share"] == pytest.approx(0.8)
    # without the aggregate row, nothing is aggregated
    plain = build_network(fac[fac["id"] != "cn_sep"], links, factors=FACTORS, aggregates=AGG)
    assert plain.aggregated.empty and "plant_a" in set(plain.facilities["id"])
    bad = AGG.assign(country=["USA"])
    with pytest.raises(AnalyticsInputError, match="aggregate cn_sep"):
        build_network(fac, links, factors=FACTORS, aggregates=bad)


def test_unknown_capacity_is_reported_with_a_lower_and_an_upper_bound() -> None:
    fac = TOY.copy()
    fac.loc[fac["id"] == "s_mys", "capacity"] = np.nan
    net = build_network(fac, TOY_LINKS, factors=FACTORS)
    assert net.missing_capacity == ("s_mys",)
    cap = independent_capacity(net, exclude=["CHN"])
    assert cap.value == pytest.approx(0.0, abs=1e-4)  # s_mys given nothing: a lower bound
    assert cap.value_upper == pytest.approx(10.0, abs=1e-4)  # s_mys unlimited: g_usa's 10 binds
    assert list(cap.missing["id"]) == ["s_mys"] and not cap.missing["excluded"].any()
    sc = cap.stage_capacity.set_index("stage")
    assert sc.loc["separation", "without_capacity"] == 1
    r = trace(net, ["USA"])
    assert list(r.missing_capacity["id"]) == ["s_mys"]
    assert r.stage_capacity.set_index("stage").loc["separation", "without_capacity"] == 1
    # a whole path of unknown capacities: the upper bound is unbounded
    allnan = TOY.assign(capacity=np.nan)
    assert independent_capacity(build_network(allnan, factors=FACTORS)).value_upper == float("inf")
    full = independent_capacity(build_network(TOY, TOY_LINKS, factors=FACTORS))
    assert full.value_upper == full.value and full.missing.empty


def test_stage_capacities_converts_and_lists_what_it_leaves_out() -> None:
    from orechain.analytics.network import stage_capacities

    f = pd.DataFrame([
        {"id": "a", "stage": "separation", "country": "CHN", "controller": "CHN", "capacity": 100.0,
         "capacity_unit": "t REO/yr"},
        {"id": "b", "stage": "separation", "country": "MYS", "controller": "AUS", "capacity": 10.0,
         "capacity_unit": "t NdPr oxide/yr"},
        {"id": "c", "stage": "separation", "country": "JPN", "controller": "JPN", "capacity": None,
         "capacity_unit": None},
        {"id": "d", "stage": "separation", "country": "FRA", "controller": "BEL", "capacity": 5.0,
         "capacity_unit": "t bananas/yr"},
        {"id": "e", "stage": "separation", "country": "MYS", "controller": "AUS", "capacity": 3.0,
         "capacity_unit": "t SEGH oxide/yr"},
        {"id": "agg", "stage": "separation", "country": "CHN", "controller": "CHN", "capacity": 50.0,
         "capacity_unit": "t NdPr oxide/yr"},
        {"id": "m", "stage": "mining", "country": "USA", "controller": "USA", "capacity": 1.0, "capacity_unit": "t"},
    ])
    aggregates = pd.DataFrame({"aggregate": ["agg"], "commodity": ["rare-earths"], "country": ["CHN"],
                               "stage": ["separation"]})
    r = stage_capacities(f, commodity="rare-earths", stages=["separation"], aggregates=aggregates)
    assert r.basis == "t NdPr oxide eq"
    got = r.capacities.set_index("id")["capacity"].to_dict()
    assert got == {"agg": pytest.approx(50.0), "b": pytest.approx(10.0)}  # a is a member of agg: not twice
    left = r.left_out.set_index("id")["reason"].to_dict()
    assert left["c"] == "no capacity recorded"
    assert left["d"].startswith("no conversion factor: t bananas/yr at stage separation")
    assert left["e"].startswith("conversion factor 0")
    assert set(left) == {"c", "d", "e"}
    assert r.aggregated["id"].tolist() == ["a"] and "agg" in r.aggregated["reason"].iat[0]
    # without any factor for the commodity, one shared unit is kept as the basis, and said so
    same = f[f["id"].isin(["b", "agg"])].assign(stage="mining", capacity_unit="t/yr")
    r2 = stage_capacities(same, commodity="tungsten", factors=basis_factors("tungsten"))
    assert r2.capacities["capacity"].sum() == pytest.approx(60.0) and r2.basis.startswith("t (the one unit")


def test_an_empty_network_is_a_clear_error_not_a_crash() -> None:
    import pandas as pd

    from orechain.analytics.errors import AnalyticsInputError
    from orechain.analytics.network import Network, independent_capacity, trace

    empty = Network(facilities=pd.DataFrame(columns=["id", "stage", "capacity", "capacity_known"]),
                    links=pd.DataFrame(columns=["upstream", "downstream", "share"]), stages=(), basis="t")
    with pytest.raises(AnalyticsInputError, match="no facilities"):
        independent_capacity(empty, ["CHN"])
    with pytest.raises(AnalyticsInputError, match="no facilities"):
        trace(empty, ["USA"])
