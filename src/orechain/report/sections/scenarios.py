"""The "Scenarios" section of the Pakistan-US report: the pakistan-us built-in scenario (today's whole
non-Chinese chain from the evidence base, with the deal's projects on top) run with the report's seed, as fan
charts (P5-P95 by year) of the independent-chain capacity for the US and of what the Pakistani projects could
deliver from their own sources, the time-to-impact distributions, the tornado and the summary."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd
from markupsafe import escape

from orechain.evidence.errors import InputError
from orechain.evidence.store import Store
from orechain.report.section import Chart, ReportContext, Section
from orechain.scenarios.evidence import facility_table
from orechain.scenarios.results import Result, simulate
from orechain.scenarios.spec import builtin_path, load_scenario

__all__ = ["REPORT_SCENARIOS", "build", "fan_chart", "impact_chart"]

REPORT_SCENARIOS = 20_000
REPORT_TORNADO_SCENARIOS = 5_000
_BAND_COLOUR = "#3b6ea8"


def fan_chart(fan: pd.DataFrame, *, title: str, unit: str) -> dict[str, Any]:
    """ECharts option for a fan chart: P5-P95 and P25-P75 bands stacked under a median line."""
    years = [str(y) for y in fan["year"]]

    def band(name: str, values: pd.Series, opacity: float, stack: str) -> dict[str, Any]:
        return {"name": name, "type": "line", "stack": stack, "symbol": "none", "lineStyle": {"opacity": 0},
                "areaStyle": {"color": _BAND_COLOUR, "opacity": opacity}, "data": [float(v) for v in values],
                "tooltip": {"show": False}}

    base = {"type": "line", "symbol": "none", "lineStyle": {"opacity": 0}, "stack": "outer",
            "data": [float(v) for v in fan["p5"]], "name": "P5", "tooltip": {"show": False}}
    inner_base = dict(base, stack="inner", data=[float(v) for v in fan["p25"]], name="P25")
    return {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "axis"},
        "legend": {"bottom": 0, "data": ["median (P50)", "mean"]},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "name": unit},
        "series": [
            base, band("P5-P95", fan["p95"] - fan["p5"], 0.18, "outer"),
            inner_base, band("P25-P75", fan["p75"] - fan["p25"], 0.35, "inner"),
            {"name": "median (P50)", "type": "line", "data": [float(v) for v in fan["p50"]],
             "lineStyle": {"color": _BAND_COLOUR, "width": 2}, "itemStyle": {"color": _BAND_COLOUR}},
            {"name": "mean", "type": "line", "data": [float(v) for v in fan["mean"]],
             "lineStyle": {"type": "dashed", "color": "#888"}, "itemStyle": {"color": "#888"}},
        ],
    }


def impact_chart(tti: pd.DataFrame, *, title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "left": "center"},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": list(tti["year"])},
        "yAxis": {"type": "value", "name": "probability", "max": 1},
        "series": [{"type": "bar", "name": "first year", "data": [float(v) for v in tti["probability"]],
                    "itemStyle": {"color": _BAND_COLOUR}}],
    }


def run(facilities: pd.DataFrame, ctx: ReportContext, scenarios: int = REPORT_SCENARIOS,
        tornado_scenarios: int | None = REPORT_TORNADO_SCENARIOS) -> Result:
    spec = load_scenario(builtin_path("pakistan-us"), facilities)
    if tornado_scenarios is not None:
        spec = replace(spec, sensitivity_scenarios=tornado_scenarios)
    return simulate(spec, scenarios, seed=ctx.seed, tornado=True)


def build(store: Store, ctx: ReportContext) -> Section:
    facilities = facility_table(store)
    try:
        r = run(facilities, ctx)
    except InputError as exc:
        # an evidence base without the facilities the scenario names: say so instead of inventing them
        lines = [str(p) for p in exc.problems]
        items = "".join(f"<li>{escape(line)}</li>" for line in lines)
        return Section(id="scenarios", title="Scenarios",
                       html=f"<p>The pakistan-us scenario cannot run on this evidence base:</p><ul>{items}</ul>",
                       summary=["Scenarios: not run (" + "; ".join(lines) + ")"])
    s = r.scenario
    flow = r.fan("flow")
    charts = [
        Chart("scenarios-fan-flow", fan_chart(flow, title="Independent-chain capacity for the United States",
                                              unit=s.unit),
              caption=f"The whole chain free of China, mine to magnet, with the deal's projects: P5-P95 (light) and "
                      f"P25-P75 (dark) bands by year, {r.agg.n:,} scenarios, seed {r.seed}."),
    ]
    if "sourced" in r.model.nets:
        charts.append(Chart(
            "scenarios-fan-sourced", fan_chart(r.fan("sourced_flow"), title="Deliverable from Pakistani sources alone",
                                               unit=s.unit),
            caption="The most Pakistani material could deliver to the US through the real chain if it displaced "
                    "other feed (non-Pakistani mines and recyclers removed)."))
    charts.append(Chart("scenarios-fan-impact", fan_chart(r.fan("impact_flow"), title="Added by the Pakistani projects",
                                                          unit=s.unit),
                        caption="Independent capacity with the Pakistani projects minus without them."))
    tti = r.time_to_impact()
    if len(tti):
        charts.append(Chart("scenarios-time-to-impact", impact_chart(tti, title="Time to impact (added)"),
                            caption="First year the Pakistani projects add the threshold to what reaches the US; the "
                                    "last bar is 'never' within the horizon."))
    if "sourced" in r.model.nets:
        charts.append(Chart("scenarios-time-to-impact-sourced",
                            impact_chart(r.time_to_impact("sourced"), title="Time to impact (own sources)"),
                            caption="First year Pakistani sources alone could deliver the threshold."))
    tables = {"scenarios_fan": r.fans(), "scenarios_time_to_impact": tti,
              "scenarios_time_to_impact_sourced": r.time_to_impact("sourced"), "scenarios_reach": r.reach(),
              "scenarios_projects": r.projects()}
    if r.tornado is not None:
        tables["scenarios_tornado"] = r.tornado
    summary = r.summary()
    items = "".join(f"<li>{escape(line)}</li>" for line in summary)
    assumptions = sorted({p.group or p.id for p in s.projects if p.quality == "assumption"})
    notes = "".join(f"<li>{escape(n)}</li>" for n in s.notes)
    html = (
        f"<p>{escape(s.description)}</p><ul>{items}</ul>"
        f"<p>Scenario file: <code>{escape(s.name)}</code> (run it with <code>orechain simulate {escape(s.name)}"
        f"</code>). The chain is the evidence base's network as <code>orechain trace</code> builds it; plants in the "
        f"pipeline pass gates calibrated from published lead times (S&amp;P Global 2023: 15.7 years discovery to "
        f"production, range 6-32). The capacities or parameters of {escape(', '.join(assumptions))} are "
        f"assumptions, as are failure probabilities, hazard rates and the policy effects: see docs/scenarios.md."
        f"</p><p>Notes:</p><ul>{notes}</ul>"
    )
    used = facilities[facilities["id"].isin([p.facility for p in s.projects if p.facility])]
    sources = {str(x) for col in ("source_id", "capacity_source_id") for x in used[col].dropna()}
    return Section(id="scenarios", title="Scenarios", html=html, tables=tables, charts=charts, summary=summary,
                   source_ids=sources)
