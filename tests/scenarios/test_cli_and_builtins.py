"""`orechain simulate` and the built-in scenarios against the shipped evidence base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orechain.evidence.store import Store
from orechain.interfaces.cli import app
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.spec import builtin_names, builtin_path, load_scenario

runner = CliRunner()


@pytest.mark.parametrize("name", ["pakistan-us", "us-magnets-2030", "eu-crma-2030"])
def test_builtin_loads_against_the_evidence_base(name: str, store: Store) -> None:
    s = load_scenario(builtin_path(name), facility_table(store))
    assert s.projects
    assert name in builtin_names()


def test_pakistan_us_has_the_deal(store: Store) -> None:
    s = load_scenario(builtin_path("pakistan-us"), facility_table(store))
    ids = {p.id for p in s.projects}
    assert {"pk-phase1-export", "pk-domestic-feed", "fwo-ussm-polymetallic-refinery", "reko-diq-mine",
            "pasni-port"} <= ids
    assert {f"pk-ree-mine-{k:02d}" for k in range(1, 11)} <= ids  # up to ten phase-3 mines
    assert s.project("reko-diq-mine").region == "Balochistan" and not s.project("reko-diq-mine").in_chain
    assert s.project("pasni-port").region == "Balochistan"
    assert s.project("fwo-ussm-polymetallic-refinery").requires == ("pasni-port",)  # Pasni gates its exports
    assert s.project("pk-phase1-export").until == 2027.0
    # the base: today's whole chain, as orechain trace builds it
    assert s.base and s.present is not None and s.present.bottleneck == "metal"
    assert {"lynas-kuantan-separation", "lcm-ellesmere-port-metal", "noveon-san-marcos-recycling",
            "cn-ree-metal-aggregate", "mp-10x-magnet"} <= ids
    phase1 = [lk for lk in s.links if lk.upstream == "pk-phase1-export"]
    assert [lk.downstream for lk in phase1] == ["energy-fuels-white-mesa"]


def test_us_magnets_has_every_non_chinese_facility(store: Store) -> None:
    from orechain.evidence import queries

    s = load_scenario(builtin_path("us-magnets-2030"), facility_table(store))
    f = queries.facilities(store)
    ree = f[(f["commodity"] == "rare-earths") & (f["status"] != "closed") & (f["country"] != "CHN")]
    ids = {p.id for p in s.projects}
    assert set(ree["id"]) <= ids  # every non-Chinese facility, announced and building ones too
    announced = [p for p in s.projects if p.status == "announced"]
    assert announced and all(p.gates for p in announced)  # with their calibrated gates


def test_simulate_json(loaded_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["simulate", "pakistan-us", "-n", "2000", "--seed", "3", "--no-tornado",
                              "--target", "100@2026", "--db", str(loaded_db), "--format", "json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["scenarios"] == 2000 and data["seed"] == 3
    assert any(r["value"] == 100 and r["by_year"] == 2026 for r in data["reach"])
    assert {f["metric"] for f in data["fan"]} >= {"flow", "ratio", "share_free", "demand"}


def test_simulate_csv_and_table(tmp_path: Path, small_text: str) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(small_text)
    res = runner.invoke(app, ["simulate", str(path), "-n", "1000", "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "section,metric,key,year,statistic,value"
    res = runner.invoke(app, ["simulate", str(path), "-n", "1000"])
    assert res.exit_code == 0 and "independent-chain capacity" in res.stdout and "tornado" in res.stdout


def test_simulate_bad_file_reports_line(tmp_path: Path, small_text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(small_text.replace("p_fail: 0.2", "p_fail: 1.5"))
    res = runner.invoke(app, ["simulate", str(path), "-n", "10"])
    assert res.exit_code == 2
    assert "bad.yaml, line" in res.output and "p_fail" in res.output


def test_simulate_unknown_name_and_backend(tmp_path: Path) -> None:
    res = runner.invoke(app, ["simulate", "no-such-scenario"])
    assert res.exit_code == 2 and "pakistan-us" in res.output
    path = tmp_path / "x.yaml"
    path.write_text("name: x\n")
    res = runner.invoke(app, ["simulate", str(path), "--backend", "cupy"])
    assert res.exit_code == 2
