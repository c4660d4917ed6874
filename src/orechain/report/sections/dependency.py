"""The "Dependency" section of the Pakistan-US report: a mine-to-magnet Sankey of the consumer's rare-earth
supply coloured by controlling country, stage-share tables (hosted and controlled), the concentration of
mine production, and the consumer's independent-chain capacity excluding China, without and with the
announced Pakistani projects. Composition only: the numbers come from orechain.analytics."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
from markupsafe import escape

from orechain.analytics import inputs
from orechain.analytics.concentration import concentration
from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.network import (
    Network,
    build_network,
    capacity_shares,
    facility_output,
    independent_capacity,
    output_shares,
    trace,
)
from orechain.evidence import queries
from orechain.evidence.store import Store
from orechain.report.section import Chart, ReportContext, Section

__all__ = ["build", "sankey_option"]

COMMODITY = "rare-earths"
PALETTE = {"CHN": "#c0392b", "USA": "#2c7fb8", "PAK": "#1a9850", "AUS": "#fdae61", "JPN": "#984ea3",
           "MYS": "#ff7f00", "EST": "#a6cee3", "DEU": "#666666"}


def _colour(code: str) -> str:
    return PALETTE.get(code, "#999999")


def sankey_option(net: Network, shares: pd.DataFrame, links: pd.DataFrame) -> dict[str, Any]:
    """ECharts Sankey: one node per (stage, controlling country); link values are the consumer's share
    flowing between them, from the facility shares and the known links or the stage order."""
    fs = shares[shares["share"] > 0]
    nodes = {(r.stage, r.controller) for r in fs.itertuples()}
    data = [{"name": f"{s}: {c}", "itemStyle": {"color": _colour(str(c))}} for s, c in sorted(nodes)]
    flows: dict[tuple[str, str], float] = {}
    stages = list(net.stages)
    by_stage = {s: g.groupby("controller")["share"].sum() for s, g in fs.groupby("stage")}
    for a, b in itertools.pairwise(stages):
        if a not in by_stage or b not in by_stage:
            continue
        up, down = by_stage[a] / by_stage[a].sum(), by_stage[b]
        for dc, dv in down.items():  # proportional attribution between consecutive stages
            for uc, uv in up.items():
                key = (f"{a}: {uc}", f"{b}: {dc}")
                flows[key] = flows.get(key, 0.0) + float(dv * uv)
    del links
    return {"title": {"text": "Consumer's rare-earth supply by controlling country", "left": "center"},
            "tooltip": {"trigger": "item"},
            "series": [{"type": "sankey", "data": data, "emphasis": {"focus": "adjacency"},
                        "links": [{"source": s, "target": t, "value": round(v, 6)} for (s, t), v in flows.items()
                                  if v > 0],
                        "lineStyle": {"color": "gradient", "curveness": 0.5}}]}


def _table(df: pd.DataFrame) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0, classes="data")


PUBLISHED_UP_TO = 2025  # published shares up to this year (a 2030 projection is not a comparison)


def separation_bases(store: Store, net: Network) -> tuple[pd.DataFrame, set[str]]:
    """China's share of separation on the capacity, output and feed bases beside the published shares in the
    evidence base (docs/validation.md), and the source ids behind them. A basis the data cannot give is left
    out, never filled."""
    rows: list[tuple[str, str, float, str]] = []
    sources: set[str] = set()
    cap = capacity_shares(net)
    c = cap[(cap["stage"] == "separation") & (cap["country"] == "CHN")]
    if len(c):
        rows.append(("capacity", "current", float(c["hosted_share"].iloc[0]), "MIIT quota x 20% NdPr against "
                     "non-Chinese nameplate capacity"))
    obs = queries.observations(store, metric=["production", "mine_production"], commodity=COMMODITY)
    try:
        out = output_shares(net, facility_output(obs), commodity=COMMODITY, stages=["separation"])
    except AnalyticsInputError:
        out = None
    cov = out.coverage[out.coverage["counted_as"] == "output"] if out is not None else None
    # without any separation output there is no output basis (its "others at capacity" row would be capacity)
    if out is not None and cov is not None and len(cov) and "CHN" in set(out.shares["country"]):
        chn = out.shares[out.shares["country"] == "CHN"]
        o = {k: float(chn[k].iloc[0]) for k in ("hosted_share", "hosted_share_measured", "measured_share")}
        years = "-".join(sorted({str(int(min(cov["output_year"]))), str(int(max(cov["output_year"])))}))
        sources |= {x for v in cov["source_ids"] for x in str(v).split()}
        rows.append(("output, others at capacity", years, o["hosted_share"], "lower bound for China"))
        rows.append(("output, measured only", years, o["hosted_share_measured"],
                     f"measured output is {o['measured_share']:.0%} of the stage"))
    try:
        fs, routes, _unit = inputs.separation_feed(store, COMMODITY)
    except AnalyticsInputError:
        pass
    else:
        sources |= set(routes["mine_source_id"]) | {x for v in routes["source_ids"] for x in str(v).split()}
        for y, v in fs.loc[fs["country"] == "CHN", ["year", "share"]].itertuples(index=False):
            rows.append(("feed", str(y), float(v), "mine production routed to its separator (t REO)"))
    pub = queries.observations(store, metric="stage_share", commodity=COMMODITY, country="CHN", stage="separation")
    pub = pub[pub["value"].notna() & (pub["year"] <= PUBLISHED_UP_TO)]
    published = "; ".join(f"{v:g}% ({y}, {s}, {q})" for v, y, s, q in
                          zip(pub["value"], pub["year"], pub["source_id"], pub["quality"], strict=True))
    sources |= set(pub["source_id"])
    df = pd.DataFrame(rows, columns=["basis", "year", "china_share", "note"]).assign(published=published)
    return df, sources


def build(store: Store, ctx: ReportContext) -> Section:
    consumer = [ctx.consumer]
    sources: set[str] = set()
    prod = inputs.production_frame(store, COMMODITY)
    conc = concentration(prod[prod["year"] >= 2020], by=["commodity", "stage", "source_id", "year"])
    sources |= set(conc["source_id"])
    base = inputs.facility_frame(store, COMMODITY)
    pak = queries.facilities(store, commodity=COMMODITY, country="PAK")
    pak_ids = [str(i) for i in pak["id"] if str(i) not in set(base["id"])]
    links = queries.links(store)
    net = build_network(base, links, commodity=COMMODITY)
    if net.facilities.empty or not net.stages:
        return Section(id="dependency", title="Dependency: who controls each stage",
                       html="<p>The evidence base holds no rare-earth facility with a known stage and capacity, so "
                            "the mine-to-magnet chain cannot be traced. Add facilities (docs/data.md) and re-run.</p>",
                       summary=["Dependency: no rare-earth facility network in the evidence base; not traced"])
    tr = trace(net, consumer)
    cap_without = independent_capacity(net, ["CHN"])
    with_pak = inputs.facility_frame(store, COMMODITY, extra=pak_ids)
    net_pak = build_network(with_pak, links, commodity=COMMODITY)
    cap_with = independent_capacity(net_pak, ["CHN"])
    missing = list(net.missing_capacity)
    capacity = pd.DataFrame({
        "case": ["operating and commissioning facilities", "plus announced Pakistani projects"],
        "independent_capacity": [cap_without.value, cap_with.value],
        "upper_bound_unknown_capacities_unlimited": [cap_without.value_upper, cap_with.value_upper],
        "basis": [net.basis, net.basis],
        "bottleneck_stage": [cap_without.bottleneck_stage, cap_with.bottleneck_stage],
        "pakistani_projects_added": [0, len(pak_ids)],
        "pakistani_projects_with_capacity": [0, int(with_pak[with_pak["id"].isin(pak_ids)]["capacity"].notna().sum())],
    })
    sources |= set(base["source_id"].dropna())
    stage_tab = tr.stage_shares
    sep_bases, sep_sources = separation_bases(store, net)
    sources |= sep_sources
    chart = Chart("dependency-sankey", sankey_option(net, tr.facility_shares, links), height=480,
                  caption="Flows allocated in proportion to capacity between consecutive stages; colour = "
                          "controlling country.")
    html = (
        "<p>China's share of world rare-earth mine production, per source (WLD row as denominator where "
        "published):</p>" + _table(conc[["source_id", "year", "leader", "leader_share", "hhi", "top3_share"]])
        + f"<p>Tracing of the {escape(ctx.consumer)} supply over {net.size} facilities (operating or "
        f"commissioning); capacities converted to {escape(net.basis)} with the factors in "
        "analytics/data/chain_basis.csv. "
        f"<strong>{len(missing)} facilities have no recorded capacity and carry no flow</strong>: "
        + str(escape(", ".join(missing))) + ". Stage shares below therefore describe the facilities with a "
        f"recorded capacity only; {len(net.aggregated)} Chinese plant rows are counted through national aggregates "
        "(MIIT quotas, SMM, Argus; docs/analytics.md).</p>" + _table(stage_tab)
        + "<p>China's share of separation on three bases, beside the published shares (capacity answers who "
        "could separate; output and feed compare with the IEA's output share; docs/validation.md):</p>"
        + _table(sep_bases)
        + "<p>Independent-chain capacity excluding facilities controlled from China (maximum flow; "
        "docs/analytics.md):</p>" + _table(capacity)
    )
    chn = conc[conc["leader"] == "CHN"].sort_values("year").tail(2)
    summary = [f"China's share of world REE mine production {y} ({s}): {v:.0%}"
               for y, s, v in zip(chn["year"], chn["source_id"], chn["leader_share"], strict=True)]
    summary.append(f"{ctx.consumer} independent-chain capacity excluding China: {cap_without.value:,.0f} "
                   f"{net.basis}/yr; with announced Pakistani projects: {cap_with.value:,.0f} "
                   f"({len(missing)} facilities lack a capacity)")
    return Section(id="dependency", title="Dependency: who controls each stage", html=html,
                   tables={"dependency_concentration": conc, "dependency_stage_shares": stage_tab,
                           "dependency_separation_bases": sep_bases,
                           "dependency_paths": tr.path_shares, "dependency_independent_capacity": capacity},
                   charts=[chart], summary=summary, source_ids={str(s) for s in sources})
