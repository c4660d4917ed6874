"""Validation on the shipped evidence base (docs/validation.md): China's stage shares from the facility
capacities against the published figures, and the US independent chain excluding China."""

from __future__ import annotations

from pathlib import Path

import pytest

from orechain.analytics import inputs
from orechain.analytics.network import Network, build_network, capacity_shares, independent_capacity
from orechain.evidence import queries
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store

TOLERANCE = 0.05  # percentage points around the published range (docs/validation.md says why)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path: Path = tmp_path_factory.mktemp("shipped") / "o.db"
    s = Store.open(path)
    load_into(s)
    return s


@pytest.fixture(scope="module")
def net(store: Store) -> Network:
    return build_network(inputs.facility_frame(store, "rare-earths"), queries.links(store), commodity="rare-earths")


def _china(net: Network, stage: str) -> float:
    s = capacity_shares(net)
    return float(s[(s["stage"] == stage) & (s["country"] == "CHN")]["hosted_share"].iloc[0])


def test_mining_share_within_the_published_range(net: Network) -> None:
    # IEA GCMO 2024: 62% (2023); USGS MCS 2025: 68% (2023), 69% (2024)
    assert 0.62 - TOLERANCE <= _china(net, "mining") <= 0.69 + TOLERANCE


def test_magnet_share_within_the_published_range(net: Network) -> None:
    # ~90% (commentary, 2025) to 94% (IEA commentary, 2024/25); VAC Hanau and Proterial lack a capacity
    assert 0.90 - TOLERANCE <= _china(net, "magnet") <= 0.94 + TOLERANCE


@pytest.mark.xfail(strict=True, reason="known gap (docs/validation.md): the MIIT quota x 20% NdPr gives China "
                   "50,800 t NdPr eq against non-Chinese capacities that run far below nameplate (MP 6,000 t line, "
                   "1,294 t made in 2024), so capacity shares put China at ~73%, not the IEA's 91-92% of output")
def test_separation_share_within_the_published_range(net: Network) -> None:
    assert 0.91 - TOLERANCE <= _china(net, "separation") <= 0.92 + TOLERANCE


def test_separation_share_as_measured(net: Network) -> None:
    f = net.facilities.set_index("id")
    china = f.loc["cn-ree-separation-aggregate", "capacity"]
    total = f.loc[f["stage"] == "separation", "capacity"].sum()
    assert china == pytest.approx(254_000 * 0.20)
    assert _china(net, "separation") == pytest.approx(china / total)
    assert 0.70 < _china(net, "separation") < 0.76


def _cap(net: Network, fid: str) -> float:
    return float(net.facilities.set_index("id").loc[fid, "capacity"])


def test_us_independent_capacity_excluding_china_is_explained_by_its_parts(net: Network) -> None:
    cap = independent_capacity(net, ["CHN"])
    # recycled feed: Noveon's magnet line; primary: every non-Chinese open-market magnet plant needs metal, and
    # the only non-Chinese metal with a capacity is LCM's; MP's own chain waits on Independence's metal capacity
    noveon = min(_cap(net, "noveon-san-marcos-recycling"), _cap(net, "noveon-san-marcos-magnet"))
    lcm = _cap(net, "lcm-ellesmere-port-metal")
    assert cap.value == pytest.approx(noveon + lcm, abs=1e-3)
    assert cap.bottleneck_stage == "metal"
    assert "mp-independence-metal" in set(cap.missing["id"])
    assert cap.value_upper == pytest.approx(noveon + lcm + _cap(net, "mp-independence-magnet"), abs=1e-3)
    domestic = independent_capacity(net, ["CHN"], consumer_hosts=["USA"])
    assert domestic.value == pytest.approx(cap.value, abs=1e-3)  # LCM's metal can reach eVAC in the US


def test_announced_pakistani_projects_add_nothing_today(store: Store, net: Network) -> None:
    pak = queries.facilities(store, commodity="rare-earths", country="PAK")
    with_pak = inputs.facility_frame(store, "rare-earths", extra=list(pak["id"]))
    net_pak = build_network(with_pak, queries.links(store), commodity="rare-earths")
    base, plus = independent_capacity(net, ["CHN"]), independent_capacity(net_pak, ["CHN"])
    assert plus.value == pytest.approx(base.value, abs=1e-3)
    # the refinery has no published capacity; even unlimited it sits upstream of the metal bottleneck
    assert "fwo-ussm-polymetallic-refinery" in set(plus.missing["id"])
    assert plus.value_upper == pytest.approx(base.value_upper, abs=1e-3)
