"""Tornado sensitivity: how far the result moves when one input is pinned low, then high.

One set of draws is made (common random numbers); for each input, a copy of the draws has that input
pinned at a low and a high setting while every other input keeps its random draws, and the output is
recomputed. The output is the mean supply/demand ratio (independent-chain capacity over demand) in the
sensitivity year (the scenario's ``sensitivity.year``, else 2030 or the horizon). The settings:

=====================  ===========================================  ==========================================
input                  low                                          high
=====================  ===========================================  ==========================================
project lead time      every gate at its P90 (slow)                 every gate at its P10 (fast)
project gates          the first gate fails                         every gate passes
project nameplate      P10 of its distribution                      P90
regional hazard        outage lengths doubled                       no incidents
policy resumption      the suspended measures resume                they do not
policy capacity factor P10 (tight)                                  P90
policy delay           P90                                          P10
demand target          P90 (more demand)                            P10
=====================  ===========================================  ==========================================

"low" and "high" are named for their effect on the output (low = the unfavourable setting).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from orechain.scenarios.engine import Draws, Model, draw, evaluate
from orechain.scenarios.sampling import block_generator

__all__ = ["sensitivity_year", "tornado"]

Tweak = Callable[[Draws], None]

TORNADO_BLOCK = 1_000_000  # the tornado's draws use a block index no run reaches


def sensitivity_year(m: Model) -> int:
    s = m.scenario
    if s.sensitivity_year is not None:
        return s.sensitivity_year
    return min(2030, s.horizon) if s.start_date.year <= 2030 else s.horizon


def _knobs(m: Model) -> list[tuple[str, Tweak, Tweak]]:
    s = m.scenario
    knobs: list[tuple[str, Tweak, Tweak]] = []

    def set_col(attr: str, j: int, value: float | np.ndarray) -> Tweak:
        def f(d: Draws) -> None:
            getattr(d, attr)[:, j] = value
        return f

    for j, p in enumerate(s.projects):
        if p.gates:
            slow = np.array([g.duration.ppf(0.9) for g in p.gates])
            fast = np.array([g.duration.ppf(0.1) for g in p.gates])

            def pin(values: np.ndarray, j: int = j) -> Tweak:
                def f(d: Draws) -> None:
                    d.gate_dur[j][:] = values
                return f

            knobs.append((f"{p.id} lead time", pin(slow), pin(fast)))
            if any(g.p_fail > 0 for g in p.gates):
                def fail(d: Draws, j: int = j) -> None:
                    d.gate_u[j][:, 0] = -1.0

                def succeed(d: Draws, j: int = j) -> None:
                    d.gate_u[j][:] = 2.0
                knobs.append((f"{p.id} gates pass", fail, succeed))
        if not p.capacity.degenerate:
            knobs.append((f"{p.id} nameplate", set_col("nameplate", j, p.capacity.ppf(0.1)),
                          set_col("nameplate", j, p.capacity.ppf(0.9))))
    for h in s.hazards:
        r = m.regions.index(h.region)

        def double(d: Draws, r: int = r) -> None:
            d.outage[:, r, :] *= 2

        def none(d: Draws, r: int = r) -> None:
            d.outage[:, r, :] = 0
        knobs.append((f"{h.region} security incidents", double, none))
    for k, pol in enumerate(s.policies):
        if pol.suspended_until is not None and 0 < pol.p_resume < 1:
            knobs.append((f"{pol.id} resumes", set_col("resume_u", k, -1.0), set_col("resume_u", k, 2.0)))
        if not pol.capacity_factor.degenerate:
            knobs.append((f"{pol.id} capacity factor", set_col("policy_cf", k, pol.capacity_factor.ppf(0.1)),
                          set_col("policy_cf", k, pol.capacity_factor.ppf(0.9))))
        if not pol.delay.degenerate:
            knobs.append((f"{pol.id} delay", set_col("policy_delay", k, pol.delay.ppf(0.9)),
                          set_col("policy_delay", k, pol.delay.ppf(0.1))))
    if not s.demand.target.degenerate:
        t = s.demand.target

        def dem(v: float) -> Tweak:
            def f(d: Draws) -> None:
                d.demand_target[:] = v
            return f
        knobs.append(("demand target", dem(t.ppf(0.9)), dem(t.ppf(0.1))))
    return knobs


def tornado(m: Model, seed: int, scenarios: int | None = None) -> pd.DataFrame:
    """One row per input: output with the input low, high, and as drawn; sorted by swing."""
    n = scenarios or m.scenario.sensitivity_scenarios
    year = sensitivity_year(m)
    yi = list(m.years).index(year)
    base_draws = draw(m, block_generator(seed, TORNADO_BLOCK), n)

    def output(d: Draws) -> float:
        return float(np.mean(evaluate(m, d).ratio[:, yi]))

    base = output(base_draws)
    rows = []
    metric = f"mean supply/demand ratio in {year}"
    for name, low, high in _knobs(m):
        values = []
        for tweak in (low, high):
            d = base_draws.copy()
            tweak(d)
            values.append(output(d))
        rows.append({"input": name, "metric": metric, "low": values[0], "high": values[1], "base": base,
                     "swing": abs(values[1] - values[0])})
    df = pd.DataFrame(rows, columns=["input", "metric", "low", "high", "base", "swing"])
    return df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
