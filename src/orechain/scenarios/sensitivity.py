"""Tornado sensitivity: how far the result moves when one input is pinned low, then high.

One set of draws is made (common random numbers); for each input, a copy of the draws has that input
pinned at a low and a high setting while every other input keeps its random draws, and the output is
recomputed. The outputs are means in the sensitivity year (the scenario's ``sensitivity.year``, else 2030 or
the horizon) of the ``sensitivity.metrics`` (default: the supply/demand ratio; also the independent-chain
capacity, what the impact projects add, the impact-sourced capacity). Projects expanded from ``copies:`` move
together (one input); projects whose capacity can move no flow (not on any path to the consumer, or excluded)
and no benchmark share are not inputs. The settings:

=====================  ===========================================  ==========================================
input                  low                                          high
=====================  ===========================================  ==========================================
project lead time      every gate at its P90 (slow)                 every gate at its P10 (fast)
project gates          the first gate fails                         every gate passes
project nameplate      P10 of its distribution                      P90
project growth         P10                                          P90
link capacity          P10                                          P90
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

from orechain.scenarios.engine import Draws, Metrics, Model, draw, evaluate
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

    def set_col(attr: str, cols: list[int], value: float | np.ndarray) -> Tweak:
        def f(d: Draws) -> None:
            getattr(d, attr)[:, cols] = value
        return f

    groups: dict[str, list[int]] = {}  # projects expanded from copies: move together
    for c, j in enumerate(m.dynamic):
        p = s.projects[int(j)]
        if m.relevant[j]:  # a project that can move no output is no input
            groups.setdefault(p.group or p.id, []).append(c)
    for name, cols in groups.items():
        p = s.projects[int(m.dynamic[cols[0]])]
        label = f"{name} (x{len(cols)})" if len(cols) > 1 else name
        if p.gates:
            slow = np.array([g.duration.ppf(0.9) for g in p.gates])
            fast = np.array([g.duration.ppf(0.1) for g in p.gates])

            def pin(values: np.ndarray, cols: list[int] = cols) -> Tweak:
                def f(d: Draws) -> None:
                    for c in cols:
                        d.gate_dur[c][:] = values
                return f

            knobs.append((f"{label} lead time", pin(slow), pin(fast)))
            if any(g.p_fail > 0 for g in p.gates):
                def fail(d: Draws, cols: list[int] = cols) -> None:
                    for c in cols:
                        d.gate_u[c][:, 0] = -1.0

                def succeed(d: Draws, cols: list[int] = cols) -> None:
                    for c in cols:
                        d.gate_u[c][:] = 2.0
                knobs.append((f"{label} gates pass", fail, succeed))
        if not p.capacity.degenerate:
            knobs.append((f"{label} nameplate", set_col("nameplate", cols, p.capacity.ppf(0.1)),
                          set_col("nameplate", cols, p.capacity.ppf(0.9))))
        if p.growth is not None and not p.growth.degenerate:
            knobs.append((f"{label} growth", set_col("growth", cols, p.growth.ppf(0.1)),
                          set_col("growth", cols, p.growth.ppf(0.9))))
    for k, li in enumerate(m.graph.link):
        cap = s.links[li].capacity
        if cap is not None and not cap.degenerate:
            c = int(m.link_draw[k])
            knobs.append((f"link {s.links[li].upstream} -> {s.links[li].downstream} capacity",
                          set_col("link_cap", [c], cap.ppf(0.1)), set_col("link_cap", [c], cap.ppf(0.9))))
    for h in s.hazards:
        r = m.regions.index(h.region)

        def double(d: Draws, r: int = r) -> None:
            d.outage[:, r, :] *= 2

        def none(d: Draws, r: int = r) -> None:
            d.outage[:, r, :] = 0
        knobs.append((f"{h.region} security incidents", double, none))
    for k, pol in enumerate(s.policies):
        if pol.suspended_until is not None and 0 < pol.p_resume < 1:
            knobs.append((f"{pol.id} resumes", set_col("resume_u", [k], -1.0), set_col("resume_u", [k], 2.0)))
        if not pol.capacity_factor.degenerate:
            knobs.append((f"{pol.id} capacity factor", set_col("policy_cf", [k], pol.capacity_factor.ppf(0.1)),
                          set_col("policy_cf", [k], pol.capacity_factor.ppf(0.9))))
        if not pol.delay.degenerate:
            knobs.append((f"{pol.id} delay", set_col("policy_delay", [k], pol.delay.ppf(0.9)),
                          set_col("policy_delay", [k], pol.delay.ppf(0.1))))
    if not s.demand.target.degenerate:
        t = s.demand.target

        def dem(v: float) -> Tweak:
            def f(d: Draws) -> None:
                d.demand_target[:] = v
            return f
        knobs.append(("demand target", dem(t.ppf(0.9)), dem(t.ppf(0.1))))
    return knobs


METRIC_LABELS = {"ratio": "mean supply/demand ratio", "flow": "mean independent-chain capacity",
                 "impact": "mean capacity the impact projects add", "impact_sourced": "mean impact-sourced capacity",
                 "benchmark": "mean largest third-country share (worst stage)"}


def _outputs(met: Metrics, yi: int, metrics: tuple[str, ...]) -> list[float]:
    arrays = {"ratio": met.ratio, "flow": met.flow, "impact": met.impact_flow, "impact_sourced": met.sourced_flow,
              "benchmark": met.bench_max_share}
    out = []
    for k in metrics:
        a = arrays[k]
        out.append(float(np.mean(a[:, yi])) if a is not None else float("nan"))
    return out


def tornado(m: Model, seed: int, scenarios: int | None = None) -> pd.DataFrame:
    """One row per input and output metric: the output with the input low, high, and as drawn; sorted by
    metric (in the scenario's ``sensitivity.metrics`` order), then by swing."""
    n = scenarios or m.scenario.sensitivity_scenarios
    year = sensitivity_year(m)
    yi = list(m.years).index(year)
    metrics = m.scenario.sensitivity_metrics
    base_draws = draw(m, block_generator(seed, TORNADO_BLOCK), n)
    base = _outputs(evaluate(m, base_draws), yi, metrics)
    rows = []
    for name, low, high in _knobs(m):
        values = []
        for tweak in (low, high):
            d = base_draws.copy()
            tweak(d)
            values.append(_outputs(evaluate(m, d), yi, metrics))
        for i, k in enumerate(metrics):
            rows.append({"input": name, "metric": f"{METRIC_LABELS[k]} in {year}", "low": values[0][i],
                         "high": values[1][i], "base": base[i], "swing": abs(values[1][i] - values[0][i]),
                         "order": i})
    df = pd.DataFrame(rows, columns=["input", "metric", "low", "high", "base", "swing", "order"])
    df = df.sort_values(["order", "swing"], ascending=[True, False], kind="stable").reset_index(drop=True)
    return df.drop(columns=["order"])
