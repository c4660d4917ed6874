"""CLI commands and the report section, on a store loaded with the shipped evidence base."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.interfaces.cli import app
from orechain.report.section import ReportContext


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("analytics") / "o.db"
    load_into(Store.open(path))
    return path


def test_risk_hhi_reproduces_usgs_china_share(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "-c", "rare-earths", "-y", "2023", "-y", "2024",
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = [x for x in json.loads(r.stdout) if x["source_id"] == "usgs-mcs-2025-ree"]
    share = {x["year"]: x["leader_share"] for x in rows}
    assert share[2023] == pytest.approx(0.68, abs=0.005)  # USGS MCS 2025: 68%
    assert share[2024] == pytest.approx(0.69, abs=0.005)  # USGS MCS 2025: 69%


def test_geopolrisk_without_trade_is_a_clear_error(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "geopolrisk", "--db", str(db), "-i", "USA", "-m", "rare-earths", "-y",
                                 "2023"])
    assert r.exit_code == 2
    assert "import BACI first" in r.output


def test_trace_csv(db: Path) -> None:
    r = CliRunner().invoke(app, ["trace", "--db", str(db), "--consumer", "USA", "-x", "CHN", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "stage,country,hosted,controlled"


def test_dependency_section(db: Path) -> None:
    from orechain.report.sections.dependency import build

    s = build(Store.open(db), ReportContext(as_of=dt.date(2025, 11, 1)))
    assert s.charts and s.charts[0].option["series"][0]["type"] == "sankey"
    assert "dependency_independent_capacity" in s.tables
    assert any("69%" in line for line in s.summary)
    # the section's HTML was escaped as a whole once a Markup was added to a str (tables showed as text)
    assert "<table" in s.html and "&lt;table" not in s.html and "&lt;p&gt;" not in s.html
    cap = s.tables["dependency_independent_capacity"]
    assert (cap["independent_capacity"] > 0).all()
    bases = s.tables["dependency_separation_bases"].set_index(["basis", "year"])["china_share"]
    assert bases[("capacity", "current")] < 0.8  # capacity is not output (docs/validation.md)
    assert 0.86 <= bases[("output, others at capacity", "2022-2024")] <= bases[("output, measured only",
                                                                                 "2022-2024")] <= 0.97
    assert bases[("feed", "2024")] == pytest.approx(372_430 / 393_950)
    assert "92% (2023, iea-gcmo-2024, secondary)" in s.tables["dependency_separation_bases"]["published"].iloc[0]
    assert {"mp-fy2024-results", "smm-2025-03-20-ree-imports", "iea-gcmo-2024"} <= s.source_ids
    assert (cap["upper_bound_unknown_capacities_unlimited"] >= cap["independent_capacity"]).all()
    json.dumps(s.charts[0].option)


def _capacity_shares(db: Path) -> pd.DataFrame:
    from orechain.analytics import inputs
    from orechain.analytics.network import build_network, capacity_shares
    from orechain.evidence import queries

    store = Store.open(db)
    net = build_network(inputs.facility_frame(store, "rare-earths"), queries.links(store), commodity="rare-earths")
    return capacity_shares(net).set_index(["stage", "country"])


def test_risk_hhi_by_controller_at_a_stage_uses_the_common_basis(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "controller", "--stage", "separation",
                                 "-c", "rare-earths", "--format", "json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["stage"] == "separation" and row["unit"] == "t NdPr oxide eq/yr" and row["leader"] == "CHN"
    net = _capacity_shares(db)
    assert row["leader_share"] == pytest.approx(net.loc[("separation", "CHN"), "controlled_share"])
    assert row["total"] == pytest.approx(69_800)  # docs/validation.md: 50,800 of 69,800 t NdPr eq
    # what is left out is said, with the reason: no capacity, no NdPr (factor 0), members of China's aggregate
    assert "no capacity recorded (1): shin-etsu-takefu-separation" in r.stderr
    assert "conversion factor 0 (1): lynas-kuantan-heavy" in r.stderr
    assert "cn-ree-separation-aggregate" in r.stderr and "cnre-baotou-separation" in r.stderr
    assert row["left_out"] == 2 and row["aggregated"] == 3


def test_risk_hhi_by_host_at_a_stage_and_every_stage_by_controller(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "host", "--stage", "magnet", "--format",
                                 "json"])
    assert r.exit_code == 0, r.output
    (row,) = json.loads(r.stdout)
    assert row["leader"] == "CHN"
    assert row["leader_share"] == pytest.approx(_capacity_shares(db).loc[("magnet", "CHN"), "hosted_share"])
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "controller", "--format", "csv"])
    assert r.exit_code == 0, r.output
    stages = [line.split(",")[1] for line in r.stdout.splitlines()[1:]]
    assert stages == ["mining", "beneficiation", "separation", "metal", "magnet", "recycling"]
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "controller", "--stage", "separation",
                                 "--show", "left-out", "--format", "csv"])
    left = pd.read_csv(io.StringIO(r.stdout)).set_index("id")["reason"]
    assert left["shin-etsu-takefu-separation"] == "no capacity recorded"
    assert left["crg-ganzhou-separation"] == "in aggregate cn-ree-separation-aggregate"


def test_risk_hhi_capacity_refuses_what_it_cannot_do(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "controller", "--stage", "smelting"])
    assert r.exit_code == 2 and "unknown stage 'smelting'" in r.output
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "--by", "controller", "-y", "2024"])
    assert r.exit_code == 2 and "--year applies to mine production" in r.output


def _json(db: Path, *args: str) -> list[dict[str, object]]:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    rows: list[dict[str, object]] = json.loads(r.stdout)
    return rows


def test_risk_hhi_output_basis_gives_both_bounds_and_says_its_basis(db: Path) -> None:
    (row,) = _json(db, "--stage", "separation", "--basis", "output")
    assert row["leader"] == "CHN" and row["stage_basis"] == "output (capacity where no output is observed)"
    assert 0.86 <= float(row["leader_share"]) <= float(row["leader_share_measured"]) <= 0.97  # type: ignore[arg-type]
    assert row["with_output"] == 3 and row["output_years"] == "2022-2024"
    cov = {r["id"]: r for r in _json(db, "--stage", "separation", "--basis", "output", "--show", "coverage")}
    assert cov["mp-mountain-pass-separation"]["counted_as"] == "output"
    assert cov["neo-silmet-separation"]["counted_as"] == "capacity (no output)"
    assert str(cov["shin-etsu-takefu-separation"]["counted_as"]).startswith("nothing")
    (cap,) = _json(db, "--stage", "separation")
    assert cap["stage_basis"] == "capacity" and float(cap["leader_share"]) < 0.8  # type: ignore[arg-type]


def test_risk_hhi_feed_basis_per_year_with_its_routes(db: Path) -> None:
    rows = {r["year"]: r for r in _json(db, "--stage", "separation", "--basis", "feed")}
    assert rows[2023]["leader_share"] == pytest.approx(332_210 / 376_090)
    assert rows[2024]["leader_share"] == pytest.approx(372_430 / 393_950)
    assert rows[2024]["mine_source_id"] == "usgs-mcs-2025-ree" and rows[2024]["unit"] == "t REO"
    routes = _json(db, "--stage", "separation", "--basis", "feed", "--year", "2024", "--show", "coverage")
    assert {r["exporter"] for r in routes} == {"MMR", "NGA", "THA", "MDG", "VNM", "MYS", "USA", "AUS"}
    assert all(r["source_ids"] and r["quality"] for r in routes)


def test_risk_hhi_basis_misuse_is_a_clear_error(db: Path) -> None:
    for args, msg in ((["--basis", "output"], "applies to facility stages"),
                      (["--stage", "magnet", "--basis", "feed"], "use --stage separation"),
                      (["--by", "controller", "--stage", "separation", "--basis", "feed"], "by host country only"),
                      (["--stage", "separation", "--basis", "feed", "-y", "2022"], "routes are held for 2023, 2024"),
                      (["--stage", "separation", "--show", "coverage"], "--show coverage applies to")):
        r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), *args])
        assert r.exit_code == 2 and msg in r.output, (args, r.output)


def test_trace_shares_on_an_output_basis(db: Path) -> None:
    r = CliRunner().invoke(app, ["trace", "--db", str(db), "--show", "shares", "--basis", "output", "--format", "csv"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(io.StringIO(r.stdout))
    chn = df[(df["stage"] == "separation") & (df["country"] == "CHN")].iloc[0]
    assert chn["hosted_share"] <= chn["hosted_share_measured"]
    assert set(df["stage_basis"]) == {"output (capacity where no output is observed)"}
    r = CliRunner().invoke(app, ["trace", "--db", str(db), "--show", "paths", "--basis", "output"])
    assert r.exit_code == 2 and "applies to --show shares" in r.output


def test_separation_bases_without_any_separation_output(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from orechain.analytics import inputs
    from orechain.analytics.network import build_network, facility_output
    from orechain.evidence import queries
    from orechain.report.sections import dependency

    # no output observation for any separation plant: the output rows are left out (min() of no years raised)
    monkeypatch.setattr(dependency, "facility_output", lambda obs: facility_output(obs.iloc[0:0]))
    store = Store.open(db)
    net = build_network(inputs.facility_frame(store, dependency.COMMODITY), queries.links(store),
                        commodity=dependency.COMMODITY)
    df, _ = dependency.separation_bases(store, net)
    assert not df["basis"].str.startswith("output").any()
    assert "capacity" in set(df["basis"]) and "feed" in set(df["basis"])
