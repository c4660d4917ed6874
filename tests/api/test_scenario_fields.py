"""The scenario form's fields: what the schema says of each value, and where the value sits in the text."""

from __future__ import annotations

import yaml

from orechain.interfaces.api.routers.scenarios import _parse_yaml
from orechain.interfaces.api.scenario_fields import scenario_fields
from orechain.scenarios.spec import schema

TEXT = """# 🪨 a comment outside the Basic Multilingual Plane moves JavaScript's offsets
name: test
start: "2026-01-01"
horizon: 2040
consumer: USA
unit: t/yr
demand: {base_year: 2024, base: 100, target_year: 2030, target: 150, quality: assumption}
projects:
  - id: mine-a  # ⛏️
    stage: mining
    status: fs
    capacity: {dist: pert, min: 1, mode: 5, max: 9}
    gates:
      - {name: fs->financed, duration: {dist: lognormal, mean: 2, sd: 1}, p_fail: 0.2}
      - {name: financed->construction, duration: 1.5}
    ramp: {curve: [0.5, 0.9]}
    in_chain: true
policies:
  - {id: ban, start: "2026-06-01", p_resume: 0.3, capacity_factor: 0.5, quality: assumption}
"""


def test_fields_carry_the_schema_and_point_at_their_value_in_utf16() -> None:
    fields = {f.key: f for f in scenario_fields(TEXT, schema())}
    utf16 = TEXT.encode("utf-16-le")
    for f in fields.values():  # JavaScript's string offsets are UTF-16 code units
        assert utf16[2 * f.start:2 * f.end].decode("utf-16-le").strip('"') == str(f.value), f.key
    assert "projects[0].in_chain" not in fields and "name" not in fields  # booleans and names are not assumptions
    status = fields["projects[0].status"]
    assert status.kind == "enum" and status.options is not None and "operating" in status.options
    mode = fields["projects[0].capacity.mode"]
    assert (mode.label, mode.unit, mode.minimum) == ("capacity (mode)", "t/yr", 0)
    sd = fields["projects[0].gates[0].duration.sd"]
    assert (sd.label, sd.unit, sd.minimum) == ("gate 1 fs->financed: duration (standard deviation)", "years", 0)
    assert fields["projects[0].gates[0].duration.mean"].exclusive_minimum == 0
    dur = fields["projects[0].gates[1].duration"]
    assert dur.label == "gate 2 financed->construction: duration" and dur.unit == "years" and dur.minimum == 0
    p_fail = fields["projects[0].gates[0].p_fail"]
    assert (p_fail.minimum, p_fail.maximum, p_fail.ref) == (0, 1, "projects.mine-a.gates[0].p_fail")
    curve = fields["projects[0].ramp.curve[1]"]
    assert (curve.unit, curve.maximum) == ("0-1", 1) and "year 2" in curve.label
    horizon = fields["horizon"]
    assert horizon.kind == "integer" and (horizon.minimum, horizon.maximum) == (2000, 2100)
    assert fields["policies[0].start"].kind == "date" and fields["policies[0].start"].group == "Policy ban"
    assert fields["demand.target"].unit == "t/yr" and fields["demand.base"].exclusive_minimum == 0
    assert fields["projects[0].capacity.mode"].line == 12


def test_not_a_mapping_has_no_fields() -> None:
    assert scenario_fields("- a\n- b\n", schema()) == []
    assert scenario_fields("", schema()) == []


def test_a_tree_parsed_by_the_caller_gives_the_same_fields() -> None:
    node, data = _parse_yaml(TEXT)
    assert data == yaml.safe_load(TEXT)
    assert scenario_fields(TEXT, schema(), (node, data)) == scenario_fields(TEXT, schema())
