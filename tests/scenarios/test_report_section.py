from __future__ import annotations

import datetime as dt
import json

import pytest

from orechain.evidence.store import Store
from orechain.report.section import ReportContext
from orechain.report.sections import scenarios


def test_section_builds(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenarios.run, "__defaults__", (2_000, 1_000))  # small run for speed
    sec = scenarios.build(store, ReportContext(as_of=dt.date(2026, 1, 15)))
    assert sec.id == "scenarios" and sec.title == "Scenarios"
    assert {c.id for c in sec.charts} >= {"scenarios-fan-flow", "scenarios-time-to-impact", "scenarios-fan-sourced"}
    json.dumps([c.option for c in sec.charts])  # ECharts options are JSON
    assert len(sec.charts[0].option["series"]) == 6
    assert sec.summary and "2,000 scenarios" in sec.summary[0]
    assert "scenarios_fan" in sec.tables and "scenarios_tornado" in sec.tables
    assert sec.source_ids


def test_section_says_what_is_missing(empty_store: Store) -> None:
    sec = scenarios.build(empty_store, ReportContext(as_of=dt.date(2026, 1, 15)))
    assert "cannot run on this evidence base" in sec.html
    assert "unknown facility" in sec.html and "fwo-ussm-polymetallic-refinery" in sec.html
    assert not sec.charts
