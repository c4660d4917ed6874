"""CLI commands and the report section, on a store loaded with the shipped evidence base."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

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
    assert (cap["upper_bound_unknown_capacities_unlimited"] >= cap["independent_capacity"]).all()
    json.dumps(s.charts[0].option)
