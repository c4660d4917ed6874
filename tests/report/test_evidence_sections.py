from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from orechain.evidence.store import Store
from orechain.report.section import ReportContext
from orechain.report.sections import evidence as ev

AS_OF = dt.date(2025, 11, 20)


def test_parse_date_reads_partial_dates_as_the_start_or_end_of_their_period() -> None:
    assert ev.parse_date("2026") == dt.date(2026, 1, 1)
    assert ev.parse_date("2026", end=True) == dt.date(2026, 12, 31)
    assert ev.parse_date("2024-02", end=True) == dt.date(2024, 2, 29)
    assert ev.parse_date("2025-09-08") == dt.date(2025, 9, 8)
    assert ev.parse_date(None) is None and ev.parse_date(float("nan")) is None and ev.parse_date("") is None
    with pytest.raises(ValueError, match="not a date"):
        ev.parse_date("soon")


def _prod(rows: list[tuple[str, str, int, float | None, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "commodity": c,
                "country": k,
                "year": y,
                "value": v,
                "value_text": None if v is None else str(v),
                "unit": u,
                "estimated": True,
                "quality": "primary",
                "source_id": s,
                "publisher": "p",
                "source_date": None,
                "note": None,
                "observation_id": f"{c}{k}{y}{s}",
            }
            for c, k, y, v, u, s in rows
        ]
    )


def test_share_table_divides_by_the_same_sources_world_total_and_keeps_vintages_apart() -> None:
    prod = _prod(
        [
            ("rare-earths", "CHN", 2023, 240000, "t REO", "mcs2024"),
            ("rare-earths", "WLD", 2023, 350000, "t REO", "mcs2024"),
            ("rare-earths", "CHN", 2023, 255000, "t REO", "mcs2025"),
            ("rare-earths", "WLD", 2023, 376000, "t REO", "mcs2025"),
            ("rare-earths", "CHN", 2021, 168000, "t REO", "mcs2022"),
            ("rare-earths", "WLD", 2021, 280000, "t REO", "mcs2022"),
            ("rare-earths", "CHN", 2024, 270000, "t REO", "mcs2025"),
            ("rare-earths", "WLD", 2024, 390000, "t REO", "mcs2025"),
        ]
    )
    t = ev.share_table(prod)
    assert sorted(t["year"].unique()) == [2023, 2024]  # the latest two years only
    chn = t[t["country"] == "CHN"].set_index(["year", "source_id"])["share_pct"]
    assert chn[(2023, "mcs2024")] == pytest.approx(68.6)
    assert chn[(2023, "mcs2025")] == pytest.approx(67.8)
    assert chn[(2024, "mcs2025")] == pytest.approx(69.2)
    assert set(t["basis"]) == {"world total"}
    assert (t[t["country"] == "WLD"]["share_pct"] == 100.0).all()


def test_share_table_falls_back_to_the_sum_of_rows_and_leaves_withheld_figures_without_share() -> None:
    prod = _prod(
        [
            ("tungsten", "CHN", 2023, 60, "t W", "s"),
            ("tungsten", "VNM", 2023, 40, "t W", "s"),
            ("tungsten", "USA", 2023, None, "t W", "s"),
        ]
    )
    t = ev.share_table(prod).set_index("country")
    assert t.loc["CHN", "share_pct"] == 60.0 and t.loc["CHN", "basis"] == "sum of rows"
    assert math.isnan(t.loc["USA", "share_pct"])
    assert len(t) == 3  # the withheld row is kept, not dropped


def test_share_table_gives_no_share_when_the_unit_differs_from_the_totals() -> None:
    prod = _prod(
        [
            ("antimony", "CHN", 2023, 40000, "t Sb", "s"),
            ("antimony", "WLD", 2023, 83000, "t Sb", "s"),
            ("antimony", "BOL", 2023, 3000, "t ore", "s"),
        ]
    )
    t = ev.share_table(prod).set_index("country")
    assert math.isnan(t.loc["BOL", "share_pct"]) and "unit differs" in t.loc["BOL", "basis"]
    assert t.loc["CHN", "share_pct"] == pytest.approx(48.2)


def test_facility_status_on_uses_the_latest_past_status_and_shows_a_later_one_as_next() -> None:
    facs = pd.DataFrame(
        [
            {
                "id": "rd",
                "name": "Reko Diq",
                "stage": "mining",
                "commodity": "copper",
                "region": None,
                "source_id": "s",
            },
            {"id": "x", "name": "X", "stage": "mining", "commodity": "gold", "region": None, "source_id": "s"},
        ]
    )
    hist = pd.DataFrame(
        [
            {"facility": "rd", "status": "fs", "date": "2022-12", "source_id": "a", "note": None},
            {"facility": "rd", "status": "construction", "date": "2024-06", "source_id": "b", "note": None},
            {"facility": "rd", "status": "operating", "date": "2028", "source_id": "c", "note": None},
        ]
    )
    t = ev.facility_status_on(facs, hist, AS_OF).set_index("facility")
    assert t.loc["rd", "status"] == "construction" and t.loc["rd", "since"] == "2024-06"
    assert t.loc["rd", "status_source_id"] == "b"
    assert t.loc["rd", "next_status"] == "operating" and t.loc["rd", "next_source_id"] == "c"
    assert t.loc["x", "status"] == "unknown"
    later = ev.facility_status_on(facs, hist, dt.date(2028, 6, 1)).set_index("facility")
    assert later.loc["rd", "status"] == "operating"


def test_phase_position_against_the_as_of_date() -> None:
    assert ev.phase_position("2025-09", "2026", AS_OF) == "within planned window (13 months left, to 2026)"
    assert ev.phase_position("2026", "2028", AS_OF).startswith("not yet due: window opens 2026 (in 2 months)")
    assert ev.phase_position("2020", "2024", AS_OF) == "planned window ended 2024"
    assert ev.phase_position("2028", None, AS_OF).startswith("not yet due")
    assert ev.phase_position("2024", None, AS_OF) == "within planned window (from 2024, no end stated)"
    assert ev.phase_position(None, None, AS_OF) == "no planned dates stated"


def test_deal_state_reads_the_signing_date_against_the_as_of_date() -> None:
    assert ev.deal_state("mou", "2025-09-08", AS_OF) == "mou since 2025-09-08"
    assert ev.deal_state("mou", "2025-09-08", dt.date(2025, 1, 1)).startswith("not yet signed")
    assert ev.deal_state("announced", None, AS_OF) == "announced (no signing date stated)"


def _events() -> pd.DataFrame:
    cols = {
        "kind": "export_control",
        "issuer": "CHN",
        "announced": None,
        "end": None,
        "suspends": None,
        "commodities": "",
        "elements": "",
        "forms": "",
        "destinations": "",
        "source_id": "s",
        "notes": None,
    }
    return pd.DataFrame(
        [
            {**cols, "id": "sb", "name": "Antimony", "start": "2024-09-15", "commodities": "antimony"},
            {**cols, "id": "oct", "name": "October", "start": "2025-10-09", "elements": "Ho|Er", "destinations": "USA"},
            {
                **cols,
                "id": "n70",
                "name": "No. 70",
                "kind": "suspension",
                "start": "2025-11-07",
                "end": "2026-11-10",
                "suspends": "oct",
            },
            {**cols, "id": "old", "name": "Old", "start": "2020-01-01", "end": "2021-06"},
            {**cols, "id": "new", "name": "New", "start": "2030"},
        ]
    )


def test_controls_on_tells_in_force_suspended_ended_and_future_apart() -> None:
    t = ev.controls_on(_events(), AS_OF).set_index("id")
    assert t.loc["sb", "state"] == "in force"
    assert t.loc["oct", "state"] == "suspended" and t.loc["oct", "suspended_by"] == "n70"
    assert t.loc["oct", "suspended_until"] == "2026-11-10"
    assert t.loc["oct", "scope"] == "Ho, Er" and t.loc["oct", "destinations"] == "USA"
    assert t.loc["n70", "state"].startswith("suspension in effect")
    assert t.loc["old", "state"] == "ended 2021-06"
    assert t.loc["new", "state"].startswith("not yet in force")
    # after the suspension window the October measures are back in force
    assert ev.controls_on(_events(), dt.date(2026, 12, 1)).set_index("id").loc["oct", "state"] == "in force"


def test_event_segments_cut_a_suspension_out_of_the_in_force_window() -> None:
    segs = [s for s in ev.event_segments(_events(), AS_OF, horizon=dt.date(2027, 1, 1)) if s.row == "oct"]
    assert [(s.start, s.end, s.kind) for s in segs] == [
        ("2025-10-09", "2025-11-07", "in force"),
        ("2025-11-07", "2026-11-10", "suspended measure"),
        ("2026-11-10", "2027-01-01", "in force"),
    ]


def test_sections_on_the_fixture_base(report_store: Store) -> None:
    ctx = ReportContext(as_of=AS_OF)
    prod = ev.production_shares(report_store, ctx)
    assert {"test-fixture", "test-fixture-2"} <= prod.source_ids
    assert any("China 69.2%" in line for line in prod.summary)
    assert any("Pakistan 80 t Sb in 2023" in line for line in prod.summary)
    assert 'href="#src-test-fixture-2"' in prod.html
    assert 999 not in set(prod.tables["shares"]["value"])  # the facility-level row is not a country row
    life = ev.lifecycle(report_store, ctx)
    assert "Reko Diq: construction since 2024-06; next stated operating 2028" in life.summary
    assert "Saindak: operating since 2003" in life.summary
    assert any(line.startswith("USSM-FWO MoU phase 2: not yet due") for line in life.summary)
    assert set(life.tables) == {"facilities", "deal-phases", "deals", "milestones"}
    controls = ev.export_controls(report_store, ctx)
    assert controls.summary == ["China export controls on 2025-11-20: 1 in force, 1 suspended"]
    assert "Not China" not in controls.html
    facts = ev.pakistan_facts(report_store, ctx)
    # production 80 t, reserves 26,000 t, and Saindak's facility-level 999 t
    assert sorted(facts.tables["observations"]["value"]) == [80, 999, 26000]
    assert "1 secondary" in facts.summary[0]


def test_sections_on_an_empty_base_say_what_is_missing(empty_store: Store) -> None:
    ctx = ReportContext(as_of=AS_OF)
    prod = ev.production_shares(empty_store, ctx)
    assert "no mine production figures" in prod.html and prod.charts == []
    life = ev.lifecycle(empty_store, ctx)
    assert "no facility in Pakistan" in life.html
    assert ev.export_controls(empty_store, ctx).tables["events"].empty
