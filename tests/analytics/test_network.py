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
    build_network,
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
    net = build_network(fac, links, factors=ALL_FACTORS)
    exclude = [f"C{i:02d}" for i in range(k)]
    for by in ("controller", "either"):
        mf = independent_capacity(net, exclude, by=by)  # type: ignore[arg-type]
        lp = independent_capacity_lp(net, exclude, by=by)  # type: ignore[arg-type]
        assert mf.value == pytest.approx(lp, abs=mf.resolution * (n + 2) + 1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trace_shares_sum_to_one_on_random_networks(seed: int) -> None:
    fac, links = random_network(seed, 200)
    net = build_network(fac, links, factors=ALL_FACTORS)
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
