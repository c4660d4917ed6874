from __future__ import annotations

import textwrap

import pytest

SMALL = textwrap.dedent("""\
    name: small
    start: "2026-01-01"
    horizon: 2035
    consumer: USA
    unit: t/yr
    exclusions: {countries: [CHN]}
    stages: [mining, separation, magnet]
    demand:
      {base_year: 2023, base: 1000, target_year: 2030, quality: assumption,
       target: {dist: triangular, min: 1200, mode: 1300, max: 1500}}
    projects:
      - {id: mine-a, stage: mining, country: AUS, status: operating, capacity: 800, region: North}
      - {id: mine-b, stage: mining, country: USA, status: construction, region: North,
         capacity: {dist: uniform, min: 200, max: 600}}
      - {id: sep-a, stage: separation, country: MYS, status: operating, capacity: 500}
      - {id: sep-cn, stage: separation, country: CHN, status: operating, capacity: 5000}
      - id: sep-b
        stage: separation
        country: USA
        status: financed
        capacity: 700
        gates:
          - {name: build, duration: {dist: lognormal, mean: 2.0, sd: 0.8}, p_fail: 0.2}
          - {name: commission, duration: {dist: pert, min: 0.2, mode: 0.5, max: 1.5}, p_fail: 0.1}
        ramp: {curve: [0.3, 0.7]}
      - {id: mag-a, stage: magnet, country: USA, status: commissioning, capacity: 900, ramp: {years: 2}}
    hazards:
      - {region: North, rate: 0.4, outage: {dist: triangular, min: 0.1, mode: 0.3, max: 1.2}, quality: assumption}
    policies:
      - {id: pol, start: "2025-10-09", suspended_until: "2026-11-10", p_resume: 0.5, stages: [separation],
         exempt_controlled_by: [CHN], delay: {dist: uniform, min: 0, max: 1}, quality: assumption,
         capacity_factor: {dist: uniform, min: 0.5, max: 1}}
    impact: {name: US chain, countries: [USA], threshold: 300}
    targets:
      - {value: 900, year: 2030}
""")


@pytest.fixture
def small_text() -> str:
    return SMALL
