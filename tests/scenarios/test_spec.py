"""Scenario files: schema, typed scenario, and bad input rejected before any simulation with file/line/field."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from orechain.evidence.errors import InputError
from orechain.scenarios.spec import builtin_names, find_cycle, load_scenario, parse_scenario, ramp_curve, schema


def problems(text: str, facilities: pd.DataFrame | None = None) -> list[str]:
    with pytest.raises(InputError) as exc:
        parse_scenario(text, "bad.yaml", facilities)
    return [str(p) for p in exc.value.problems]


def test_small_scenario_parses(small_text: str) -> None:
    s = parse_scenario(small_text, "small.yaml")
    assert s.years == tuple(range(2026, 2036))
    assert [p.id for p in s.projects] == ["mine-a", "mine-b", "sep-a", "sep-cn", "sep-b", "mag-a"]
    sep_b = s.project("sep-b")
    assert sep_b.p_success() == pytest.approx(0.8 * 0.9)
    assert sep_b.ramp == (0.3, 0.7)
    # a construction-stage mine gets the calibrated default gate (construction -> commissioning)
    assert [g.name for g in s.project("mine-b").gates] == ["construction->commissioning"]
    assert s.policies[0].p_resume == 0.5


def test_published_schema_is_valid_json_schema() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    path = Path(__file__).resolve().parents[2] / "src/orechain/scenarios/scenario.schema.json"
    assert json.loads(path.read_text()) == schema()


def test_negative_duration_rejected_with_line(small_text: str) -> None:
    bad = small_text.replace("{dist: lognormal, mean: 2.0, sd: 0.8}", "-1.5")
    (msg,) = problems(bad)
    line = bad.splitlines().index(next(x for x in bad.splitlines() if "-1.5" in x)) + 1
    assert msg.startswith(f"bad.yaml, line {line}, field 'projects[4].gates[0].duration'")
    assert "-1.5" in msg


def test_probability_above_one_rejected(small_text: str) -> None:
    bad = small_text.replace("p_fail: 0.2", "p_fail: 1.4").replace("p_resume: 0.5", "p_resume: 2")
    msgs = problems(bad)
    assert any("projects[4].gates[0].p_fail" in m and "1.4" in m for m in msgs)
    assert any("policies[0].p_resume" in m for m in msgs)


def test_unknown_facility_rejected(small_text: str) -> None:
    bad = small_text.replace("  - {id: sep-a,", "  - {id: x, facility: no-such-plant}\n  - {id: sep-a,")
    facilities = pd.DataFrame([{"id": "real-plant", "stage": "magnet", "capacity": 1.0, "status": "operating",
                                "country": "USA", "controlled_by": "USA"}])
    (msg,) = problems(bad, facilities)
    assert "field 'projects[2].facility'" in msg and "unknown facility 'no-such-plant'" in msg


def test_facility_fills_the_project(small_text: str) -> None:
    text = small_text.replace("  - {id: sep-a,", "  - {id: x, facility: real-plant}\n  - {id: sep-a,")
    facilities = pd.DataFrame([{"id": "real-plant", "name": "Real", "stage": "magnet", "capacity": 100.0,
                                "capacity_unit": "t/yr", "status": "operating", "country": "DEU",
                                "controlled_by": "DEU", "region": None}])
    s = parse_scenario(text, "ok.yaml", facilities)
    p = s.project("x")
    assert (p.stage, p.capacity.mean(), p.status, p.controlled_by, p.facility) == ("magnet", 100.0, "operating",
                                                                                   "DEU", "real-plant")


def test_cycle_in_links_rejected(small_text: str) -> None:
    links = ("links:\n  - {from: mine-a, to: sep-a}\n  - {from: sep-a, to: mag-a}\n"
             "  - {from: mag-a, to: mine-a}\n")
    (msg,) = problems(small_text + links)
    assert "cycle" in msg and "mag-a -> mine-a -> sep-a -> mag-a" in msg
    assert msg.startswith("bad.yaml, line")


def test_all_problems_reported_together(small_text: str) -> None:
    bad = (small_text.replace("min: 1200, mode: 1300", "min: 1400, mode: 1300")
           .replace("horizon: 2035", "horizon: 2020").replace("unit: t/yr", "unit: t/yr\nspeed: 3"))
    msgs = problems(bad)
    assert any("unknown field" in m and "speed" in m for m in msgs), msgs


def test_semantic_problems_together(small_text: str) -> None:
    bad = small_text.replace("min: 1200, mode: 1300", "min: 1400, mode: 1300").replace("horizon: 2035",
                                                                                      "horizon: 2020")
    msgs = problems(bad)
    assert any("horizon 2020 is before the start year 2026" in m for m in msgs)
    assert any("demand.target" in m and "min <= mode <= max" in m for m in msgs)


def test_yaml_syntax_error_has_line() -> None:
    (msg,) = problems("name: x\nstart: [\n")
    assert msg.startswith("bad.yaml, line") and "not valid YAML" in msg


def test_unknown_stage_and_region(small_text: str) -> None:
    bad = small_text.replace("{id: mag-a, stage: magnet", "{id: mag-a, stage: alloy").replace("region: North}",
                                                                                              "region: South}")
    msgs = problems(bad)
    assert any("stage 'alloy' is not one of the scenario's stages" in m for m in msgs)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_scenario(tmp_path / "none.yaml")


def test_builtins_present() -> None:
    assert {"pakistan-us", "us-magnets-2030", "eu-crma-2030"} <= set(builtin_names())


def test_ramp_curve_linear_is_yearly_average() -> None:
    assert ramp_curve({"years": 2}, 3) == pytest.approx((0.25, 0.75))
    assert ramp_curve({"years": 0}, 3) == (1.0,)
    assert sum(ramp_curve(None, 3)) == pytest.approx(1.5)


def test_find_cycle() -> None:
    assert find_cycle([("a", "b"), ("b", "c")]) == []
    assert find_cycle([("a", "b"), ("b", "a")]) == ["a", "b", "a"]
