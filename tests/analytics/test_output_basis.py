"""Output-basis stage shares (network.facility_output, network.output_shares) and feed-based processing shares
(concentration.feed_shares) on small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orechain.analytics.concentration import feed_routes, feed_shares
from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.network import UNIT_FACTORS, Network, build_network, facility_output, output_shares


def _obs(rows: list[tuple[str, int, str, float, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["facility", "year", "period", "value", "unit", "source_id", "quality"]).assign(
        metric="production", form=None)


def test_quarters_are_summed_months_annualised_and_the_latest_year_is_used() -> None:
    o = _obs([("a", 2024, "2024-Q1", 10, "t/quarter", "s1", "secondary"),
              ("a", 2024, "2024-Q2", 20, "t/quarter", "s2", "secondary"),
              ("a", 2024, "2024-Q3", 30, "t/quarter", "s2", "secondary"),
              ("a", 2024, "2024-Q4", 40, "t/quarter", "s3", "primary"),
              ("a", 2023, "", 999, "t", "s4", "primary"),
              ("b", 2022, "2022-06", 5, "t/month", "s5", "secondary"),
              ("b", 2022, "2022-07", 7, "t/month", "s5", "secondary"),
              ("c", 2024, "", 50, "t/yr", "s6", "primary"),
              ("c", 2024, "2024-Q1", 1, "t/quarter", "s7", "secondary")])
    out = facility_output(o).set_index("facility")
    assert out.loc["a", "output"] == 100 and out.loc["a", "year"] == 2024 and not out.loc["a", "annualised"]
    assert out.loc["a", "quality"] == "secondary"  # the lowest of the figures used
    assert out.loc["a", "source_ids"] == "s1 s2 s3"
    assert out.loc["b", "output"] == pytest.approx(6 * 12) and out.loc["b", "annualised"]
    assert out.loc["b", "periods"] == "2 months, mean x 12"
    assert out.loc["c", "output"] == 50 and out.loc["c", "periods"] == "annual"  # an annual figure wins
    assert out.loc["c", "set_aside"] == "s7"
    assert facility_output(o, year=2023).set_index("facility").loc["a", "output"] == 999


def test_a_period_given_twice_counts_once_best_quality_first() -> None:
    o = _obs([("a", 2024, "2024-Q1", 10, "t/quarter", "z", "primary"),
              ("a", 2024, "2024-Q1", 12, "t/quarter", "a", "secondary")])
    out = facility_output(o)
    assert out["output"].iloc[0] == pytest.approx(10 * 4)
    assert out["set_aside"].iloc[0] == "a"  # the disagreeing figure is named, not averaged in


def test_mixed_units_in_one_year_are_an_error() -> None:
    o = _obs([("a", 2024, "2024-Q1", 10, "t/quarter", "s", "primary"),
              ("a", 2024, "2024-Q2", 2, "t REO/quarter", "s2", "primary")])
    with pytest.raises(AnalyticsInputError, match="several units"):
        facility_output(o)


def _net() -> Network:
    fac = pd.DataFrame({"id": ["m1", "s_cn", "s_x", "s_y", "g1"], "stage": ["mining", "separation", "separation",
                                                                          "separation", "magnet"],
                        "country": ["AUS", "CHN", "USA", "MYS", "JPN"],
                        "controller": ["AUS", "CHN", "USA", "AUS", "JPN"],
                        "capacity": [100, 50, 40, np.nan, 10], "capacity_unit": "t"})
    return build_network(fac, factors=UNIT_FACTORS)


def test_output_shares_bracket_with_and_without_the_capacity_fallback() -> None:
    net = _net()
    out = pd.DataFrame({"facility": ["s_cn"], "year": [2024], "output": [90.0], "unit": ["t"], "periods": ["annual"],
                        "annualised": [False], "source_ids": ["s"], "quality": ["primary"]})
    res = output_shares(net, out, factors=UNIT_FACTORS)
    sep = res.shares[res.shares["stage"] == "separation"].set_index("country")
    assert sep.loc["CHN", "hosted_share"] == pytest.approx(90 / 130)  # s_x at its capacity 40, s_y unknown: 0
    assert sep.loc["CHN", "hosted_share_measured"] == pytest.approx(1.0)
    assert sep.loc["CHN", "measured_share"] == pytest.approx(90 / 130)
    assert sep.loc["AUS", "controlled_share"] == 0 and sep.loc["MYS", "hosted_output"] == 0
    cov = res.coverage.set_index("id")
    assert cov.loc["s_cn", "counted_as"] == "output"
    assert cov.loc["s_x", "counted_as"] == "capacity (no output)"
    assert cov.loc["s_y", "counted_as"].startswith("nothing")
    assert len(res.coverage) == 5  # every facility is listed with how it was counted


def test_an_output_unit_without_a_factor_is_an_error() -> None:
    out = pd.DataFrame({"facility": ["s_cn"], "year": [2024], "output": [9.0], "unit": ["t REO"], "periods": ["annual"],
                        "annualised": [False], "source_ids": ["s"], "quality": ["primary"]})
    with pytest.raises(AnalyticsInputError, match="no conversion of output"):
        output_shares(_net(), out, factors=UNIT_FACTORS)


def test_feed_shares_move_routed_production_to_the_processor() -> None:
    mine = pd.DataFrame({"year": 2024, "country": ["CHN", "MMR", "USA", "AUS", "OTH", "WLD"],
                         "value": [200.0, 30.0, 40.0, 10.0, 5.0, 290.0]})
    routes = pd.DataFrame({"year": 2024, "exporter": ["MMR", "USA", "AUS"], "processor": ["CHN", "CHN", "MYS"],
                           "quantity": [np.nan, 35.0, np.nan]})
    out = feed_shares(mine, routes).set_index("country")
    total = 285.0  # the countries, not the WLD row
    assert out.loc["CHN", "feed"] == 265 and out.loc["CHN", "share"] == pytest.approx(265 / total)
    assert out.loc["USA", "own"] == 5 and out.loc["USA", "sent"] == 35
    assert out.loc["MYS", "received"] == 10 and out.loc["AUS", "feed"] == 0
    assert out["share"].sum() == pytest.approx(1.0)
    assert out.loc["CHN", "routes_used"] == "MMR USA"


def test_feed_routes_that_do_not_add_up_are_errors() -> None:
    mine = pd.DataFrame({"year": 2024, "country": ["CHN", "USA"], "value": [10.0, 5.0]})
    bad = pd.DataFrame({"year": 2024, "exporter": ["USA", "NGA"], "processor": ["CHN", "CHN"],
                        "quantity": [6.0, np.nan]})
    with pytest.raises(AnalyticsInputError) as exc:
        feed_shares(mine, bad)
    assert any("no mine production of NGA" in p for p in exc.value.problems)
    assert any("more than its production" in p for p in exc.value.problems)


def test_every_shipped_route_carries_a_source_and_quality() -> None:
    r = feed_routes("rare-earths")
    assert len(r) and r["source_ids"].str.len().gt(0).all()
    assert set(r["quality"]) <= {"primary", "secondary", "unconfirmed"}
    assert r["basis"].str.len().gt(20).all()


def test_stage_shares_names_its_basis_and_needs_output_for_the_output_basis() -> None:
    from orechain.analytics.network import STAGE_BASES, stage_shares

    net = _net()
    cap = stage_shares(net, stages=["separation"])
    assert set(cap["stage_basis"]) == {STAGE_BASES["capacity"]} and set(cap["stage"]) == {"separation"}
    with pytest.raises(AnalyticsInputError, match="needs the facilities' output"):
        stage_shares(net, basis="output")
    out = pd.DataFrame({"facility": ["s_cn"], "year": [2024], "output": [90.0], "unit": ["t"], "periods": ["annual"],
                        "annualised": [False], "source_ids": ["s"], "quality": ["primary"]})
    res = stage_shares(net, basis="output", output=out, factors=UNIT_FACTORS, stages=["separation"])
    assert set(res["stage_basis"]) == {STAGE_BASES["output"]}
    assert res.set_index("country").loc["CHN", "hosted_share"] == pytest.approx(90 / 130)


def test_feed_routes_in_a_year_without_production_are_errors() -> None:
    mine = pd.DataFrame({"year": 2023, "country": ["CHN"], "value": [10.0]})
    routes = pd.DataFrame({"year": 2024, "exporter": ["MMR"], "processor": ["CHN"], "quantity": [np.nan]})
    with pytest.raises(AnalyticsInputError, match="no mine production of MMR"):
        feed_shares(mine, routes)
