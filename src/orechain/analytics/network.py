"""Mine-to-magnet tracing and independent-chain capacity over the facility network.

The network (:func:`build_network`) has the facilities of the chain stages (mining, beneficiation,
separation, metal, magnet) that are present, each with a capacity on one common basis (for rare earths,
tonnes of NdPr-oxide equivalent per year; the factors are data in ``analytics/data/chain_basis.csv``, each
with its source or stated assumption, and a ``basis_factor`` column on a facility overrides them).

Which facility may feed which:

* a facility with known offtakes (``links``) sends only along them, and a facility with known suppliers
  draws only from them;
* every other facility sends into the *open market* of its stage, from which every facility of the next
  stage present that has no known supplier draws;
* a stage marked ``bypass`` in ``analytics/data/chain_stages.csv`` (beneficiation for rare earths: mines
  report their output as concentrate) is optional for the open market: the market before it also reaches
  the stage after it;
* recyclers (stages in :data:`SECONDARY`) are sources beside the mines: they send only along their known
  links (Noveon's recycling line -> its magnet line), never into the open market.

National aggregates (``analytics/data/aggregate_facilities.csv``): where plant-level capacities cannot be
sourced a country's stage is one facility sourced from national figures (e.g. China's MIIT quotas). When such
an aggregate is in the frame, every other facility of its commodity hosted in its country at its stage is a
*member*: it is left out of the flows (so nothing is counted twice), listed in ``Network.aggregated``, and
its links become the aggregate's links.

Facilities without a recorded capacity are never silently taken as 0: they are listed
(``Network.missing_capacity``, ``TraceResult.missing_capacity``, ``CapacityResult.missing``); the flow
``value`` is a lower bound that gives them no capacity, and ``value_upper`` gives them unlimited capacity
(``inf`` when a path of such facilities alone joins the mines to the consumer).

Tracing (:func:`trace`) allocates the consumer's supply backwards: at the last stage across the
final-stage facilities (in proportion to capacity, or domestic facilities first when a demand is given),
then at each facility across its suppliers in proportion to their capacity (or a link's ``share``). It
reports, per stage, the share of the consumer's supply hosted and controlled by each country, the shares
of host-country paths (e.g. PAK mine -> CHN separation -> CHN magnet), and the bottleneck stage.

Independent-chain capacity (:func:`independent_capacity`) is the maximum flow from the mines to the
consumer through the facilities left after excluding those controlled (or hosted) by a set of countries;
each facility's capacity bounds the flow through it. It is solved with Dinic's algorithm on integer
capacities (scipy), after scaling to a stated resolution; :func:`independent_capacity_lp` solves the same
problem as a linear programme (HiGHS) and the tests check both agree. The minimum cut names the
bottleneck facilities and stage.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from orechain.analytics.errors import AnalyticsInputError

__all__ = [
    "CHAIN",
    "SECONDARY",
    "STAGE_BASES",
    "UNIT_FACTORS",
    "CapacityResult",
    "Network",
    "OutputShares",
    "StageCapacities",
    "TraceResult",
    "aggregate_facilities",
    "basis_factors",
    "build_network",
    "capacity_shares",
    "chain_stages",
    "facility_output",
    "independent_capacity",
    "independent_capacity_lp",
    "output_shares",
    "random_network",
    "stage_capacities",
    "stage_shares",
    "trace",
]

CHAIN: tuple[str, ...] = ("mining", "beneficiation", "separation", "metal", "magnet")
SECONDARY: tuple[str, ...] = ("recycling",)
"""Stages whose facilities are sources beside the mines (secondary supply), linked to what they feed."""


def _unit_key(unit: str) -> str:
    u = " ".join(str(unit).replace("\u00a0", " ").split()).lower()
    for suffix in ("/yr", "/y", "/year", " per year", " pa", "/a"):
        if u.endswith(suffix):
            u = u[: -len(suffix)].strip()
    return u


def _lookup_factors(f: pd.DataFrame, factors: pd.DataFrame) -> np.ndarray:
    """Each facility's factor to the common basis: its own ``basis_factor`` where given, else the factor of its
    stage and ``capacity_unit`` in ``factors``; NaN where there is neither."""
    own = pd.to_numeric(f["basis_factor"], errors="coerce").to_numpy(dtype=float) if "basis_factor" in f.columns \
        else np.full(len(f), np.nan)
    table = {(str(st), _unit_key(str(un))): float(fa) for st, un, fa in
             zip(factors["stage"], factors["capacity_unit"], factors["factor"], strict=True)}
    units = f["capacity_unit"] if "capacity_unit" in f.columns else pd.Series([None] * len(f), index=f.index)
    looked = np.array([table.get((str(st), _unit_key(un)), np.nan) if isinstance(un, str) else np.nan
                       for st, un in zip(f["stage"], units, strict=True)], dtype=float)
    return np.where(np.isnan(own), looked, own)


def _shipped_csv(name: str) -> pd.DataFrame:
    text = (resources.files("orechain.analytics") / "data" / name).read_text(encoding="utf-8")
    return pd.DataFrame(list(csv.DictReader(io.StringIO(text))))


def basis_factors(commodity: str | None = None) -> pd.DataFrame:
    """The shipped conversion factors to the common basis (commodity, stage, capacity_unit, factor, basis,
    kind, source, note)."""
    df = _shipped_csv("chain_basis.csv")
    df["factor"] = df["factor"].astype(float)
    if commodity is not None:
        df = df[df["commodity"] == commodity]
    return df.reset_index(drop=True)


def chain_stages(commodity: str | None = None) -> pd.DataFrame:
    """The shipped stage table (commodity, stage, bypass, kind, note): which stages the open market may skip."""
    df = _shipped_csv("chain_stages.csv")
    df["bypass"] = df["bypass"].str.lower().map({"true": True, "false": False}).astype(bool)
    if commodity is not None:
        df = df[df["commodity"] == commodity]
    return df.reset_index(drop=True)


def aggregate_facilities(commodity: str | None = None) -> pd.DataFrame:
    """The shipped national aggregates (aggregate, commodity, country, stage, note): each stands for every other
    facility of its commodity hosted in its country at its stage (see the module docstring)."""
    df = _shipped_csv("aggregate_facilities.csv")
    if commodity is not None:
        df = df[df["commodity"] == commodity]
    return df.reset_index(drop=True)


@dataclass(frozen=True)
class Network:
    """A layered facility network. ``facilities``: id, stage, level (index in ``stages``; recyclers 0), sub,
    secondary (a recycler), host, controller, capacity (common basis; 0 where unknown), capacity_known, factor,
    capacity_native, capacity_unit. ``links``: upstream, downstream, share (index positions ``u``, ``d`` into
    ``facilities``). ``bypass``: stages the open market may skip. ``aggregated``: plant rows left out because
    a national aggregate stands for them (id, stage, host, aggregate, capacity_native, capacity_unit)."""

    facilities: pd.DataFrame
    links: pd.DataFrame
    stages: tuple[str, ...]
    basis: str
    missing_capacity: tuple[str, ...] = ()
    bypass: tuple[str, ...] = ()
    aggregated: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["id", "stage", "host", "aggregate", "capacity_native", "capacity_unit"]))

    @property
    def size(self) -> int:
        return len(self.facilities)


def _aggregate(f: pd.DataFrame, aggregates: pd.DataFrame, problems: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the members of the aggregates present in ``f``; return (kept facilities, members with their aggregate)."""
    present = aggregates[aggregates["aggregate"].isin(set(f["id"]))]
    agg_ids = set(aggregates["aggregate"])
    by_id = f.set_index("id")
    member_rows = []
    for agg, country, stage in zip(present["aggregate"], present["country"], present["stage"], strict=True):
        row = by_id.loc[str(agg)]
        if (row["country"], row["stage"]) != (country, stage):
            problems.append(f"aggregate {agg}: facility is {row['country']}/{row['stage']}, the aggregate "
                            f"table says {country}/{stage}")
            continue
        m = f[(f["country"] == country) & (f["stage"] == stage) & ~f["id"].isin(agg_ids)]
        member_rows.append(m.assign(aggregate=str(agg)))
    cols = ["id", "stage", "country", "aggregate", "capacity", "capacity_unit"]
    members = pd.concat(member_rows, ignore_index=True) if member_rows else pd.DataFrame(columns=cols)
    for c in cols:
        if c not in members.columns:
            members[c] = None
    members = members[cols].rename(columns={"country": "host", "capacity": "capacity_native"})
    return f[~f["id"].isin(set(members["id"]))], members.reset_index(drop=True)


def build_network(facilities: pd.DataFrame, links: pd.DataFrame | None = None, *,
                  control: pd.DataFrame | None = None, commodity: str | None = None,
                  factors: pd.DataFrame | None = None, stages: Sequence[str] = CHAIN,
                  basis: str = "t NdPr oxide eq", bypass: Sequence[str] | None = None,
                  aggregates: pd.DataFrame | None = None, secondary: Sequence[str] = SECONDARY) -> Network:
    """Build the network from a facility frame (id, stage, country, capacity, capacity_unit; optional
    controller, basis_factor, capacity_from) and known links (upstream, downstream, optional share).

    ``control`` (from :func:`~orechain.analytics.concentration.controlling_countries`) supplies the
    controller when the frame has none; without either the host country is used and said so. Capacities
    are converted with ``factors`` (default: the shipped ones for ``commodity``); an unknown unit, a link to
    an unknown facility or a link that runs against the chain order raises :class:`AnalyticsInputError`.
    ``bypass`` (default: the shipped stage table for ``commodity``, none without one) and ``aggregates``
    (default: the shipped national aggregates for ``commodity``) are explained in the module docstring.
    Recyclers (``secondary`` stages) are sources. A facility without a capacity stays in the network with
    ``capacity_known`` False and is listed in ``missing_capacity``.
    """
    problems: list[str] = []
    f = facilities[facilities["stage"].isin(stages) | facilities["stage"].isin(secondary)].copy()
    if aggregates is None:
        aggregates = aggregate_facilities(commodity) if commodity is not None else aggregate_facilities().iloc[:0]
    f, members = _aggregate(f, aggregates, problems)
    member_of = dict(zip(members["id"], members["aggregate"], strict=True))
    order = {s: i for i, s in enumerate(stages)} | {s: -1 for s in secondary}
    is_sec = f["stage"].isin(secondary)
    present = [s for s in stages if (f["stage"] == s).any()]
    if bypass is None:
        st = chain_stages(commodity) if commodity is not None else chain_stages().iloc[:0]
        bypass = list(st.loc[st["bypass"], "stage"])
    by = tuple(s for s in present if s in set(bypass))
    level = {s: i for i, s in enumerate(present)} | {s: 0 for s in secondary}
    f["level"] = f["stage"].map(level).astype(int)
    f["secondary"] = is_sec.to_numpy()
    f = f.sort_values(["level", "secondary", "id"], kind="stable").reset_index(drop=True)
    if "controller" not in f.columns:
        if control is not None:
            f["controller"] = f["id"].map(dict(zip(control["facility"], control["controller"], strict=True)))
        else:
            f["controller"] = None
    ctrl = f["controller"].astype(object)
    f["controller"] = ctrl.where(ctrl.notna(), f["country"].astype(object))
    if factors is None:
        factors = basis_factors(commodity)
    cap = pd.to_numeric(f["capacity"], errors="coerce")
    factor = _lookup_factors(f, factors)
    for i in np.flatnonzero(cap.notna().to_numpy() & np.isnan(factor)).tolist():
        unit = f["capacity_unit"].iat[i] if "capacity_unit" in f.columns else None
        problems.append(f"facility {f['id'].iat[i]}: no conversion of {unit!r} at stage "
                        f"{f['stage'].iat[i]} to {basis} (add it to chain_basis.csv or give a basis_factor)")
    if (cap < 0).any():
        problems += [f"facility {i}: negative capacity" for i in f.loc[cap < 0, "id"]]
    missing = tuple(f.loc[cap.isna(), "id"].astype(str))
    f["capacity_native"] = cap
    f["factor"] = factor
    f["capacity_known"] = cap.notna().to_numpy()
    f["capacity"] = (cap * factor).fillna(0.0)
    f = f.rename(columns={"country": "host"})
    idx = {fid: i for i, fid in enumerate(f["id"])}
    lk = pd.DataFrame(columns=["upstream", "downstream", "share", "u", "d"])
    if links is not None and len(links):
        all_ids = set(facilities["id"])
        for r in links.itertuples():
            if r.upstream not in all_ids or r.downstream not in all_ids:
                problems.append(f"link {r.upstream} -> {r.downstream}: unknown facility")
        lk = links[["upstream", "downstream"]].copy()
        lk["upstream"] = lk["upstream"].map(lambda x: member_of.get(x, x))
        lk["downstream"] = lk["downstream"].map(lambda x: member_of.get(x, x))
        lk["share"] = pd.to_numeric(links["share"], errors="coerce") if "share" in links.columns else np.nan
        lk = lk[lk["upstream"] != lk["downstream"]]
        lk = pd.DataFrame(lk.groupby(["upstream", "downstream"], sort=False, as_index=False)["share"].sum(min_count=1))
        known = lk["upstream"].isin(idx) & lk["downstream"].isin(idx)
        lk = lk[known].copy()
        lk["u"] = lk["upstream"].map(idx).astype(int)
        lk["d"] = lk["downstream"].map(idx).astype(int)
        stage_of = f["stage"].map(order).to_numpy()
        back = stage_of[lk["u"].to_numpy()] > stage_of[lk["d"].to_numpy()]
        back |= f["secondary"].to_numpy()[lk["d"].to_numpy()]
        problems += [f"link {r.upstream} -> {r.downstream} does not run down the chain" for r in lk[back].itertuples()]
    sub = np.zeros(len(f), dtype=int)
    if len(lk):
        lv = f["level"].to_numpy()
        same = lk[(lv[lk["u"].to_numpy()] == lv[lk["d"].to_numpy()]) & ~f["secondary"].to_numpy()[lk["u"].to_numpy()]]
        uu, dd = same["u"].to_numpy(dtype=int), same["d"].to_numpy(dtype=int)
        for _ in range(len(same) + 1):
            new = sub.copy()
            np.maximum.at(new, dd, sub[uu] + 1)
            if (new == sub).all():
                break
            sub = new
        else:
            problems.append("links within a stage form a cycle")
    f["sub"] = sub
    if problems:
        raise AnalyticsInputError("network", problems)
    cols = ["id", "stage", "level", "sub", "secondary", "host", "controller", "capacity", "capacity_known", "factor",
            "capacity_native"]
    cols += [c for c in ("capacity_unit", "capacity_from", "status", "name") if c in f.columns]
    return Network(f[cols], lk.reset_index(drop=True), tuple(present), basis, missing, by, members)


def capacity_shares(net: Network) -> pd.DataFrame:
    """Each country's share of the network's capacity per stage (common basis), hosted and controlled: stage,
    country, hosted_capacity, hosted_share, controlled_capacity, controlled_share, and per stage the number of
    facilities without a capacity (``without_capacity``), which the shares leave out."""
    f = net.facilities
    rows = []
    for stage, g in f.groupby("stage", sort=False):
        tot = float(g["capacity"].sum())
        unknown = int((~g["capacity_known"]).sum())
        hosted = g.groupby("host")["capacity"].sum()
        ctrl = g.groupby("controller")["capacity"].sum()
        for c in sorted(set(hosted.index) | set(ctrl.index)):
            h, k = float(hosted.get(c, 0.0)), float(ctrl.get(c, 0.0))
            rows.append((stage, c, h, h / tot if tot > 0 else np.nan, k, k / tot if tot > 0 else np.nan, unknown))
    return pd.DataFrame(rows, columns=["stage", "country", "hosted_capacity", "hosted_share", "controlled_capacity",
                                       "controlled_share", "without_capacity"])


# --- stage-share bases -------------------------------------------------------------------------------------
STAGE_BASES: dict[str, str] = {
    "capacity": "capacity",
    "output": "output (capacity where no output is observed)",
    "feed": "feed (mine production, routed to the country that processes it)",
}
"""What a stage share measures, as every result names it in its ``stage_basis`` column (never switched
silently). The feed basis is :func:`orechain.analytics.concentration.feed_shares` (country level)."""


def stage_shares(net: Network, *, basis: Literal["capacity", "output"] = "capacity",
                 output: pd.DataFrame | None = None, commodity: str | None = None,
                 stages: Sequence[str] | None = None, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each country's share per stage on the ``basis`` asked, with a ``stage_basis`` column: ``"capacity"``
    (:func:`capacity_shares`) or ``"output"`` (:func:`output_shares` on ``output``, the frame of
    :func:`facility_output`; its ``coverage`` says how each facility is counted)."""
    if basis == "capacity":
        out = capacity_shares(net)
    elif basis == "output":
        if output is None:
            raise AnalyticsInputError("stage shares", ["basis 'output' needs the facilities' output: "
                                                       "facility_output(observations)"])
        out = output_shares(net, output, commodity=commodity, stages=stages, factors=factors).shares
    else:
        raise AnalyticsInputError("stage shares", [f"unknown basis {basis!r}; known: capacity, output (feed: "
                                                   "concentration.feed_shares)"])
    if stages is not None:
        out = out[out["stage"].isin(list(stages))]
    return out.assign(stage_basis=STAGE_BASES[basis]).reset_index(drop=True)


# --- output basis ------------------------------------------------------------------------------------------
_PERIODS_PER_YEAR = {"month": 12, "quarter": 4}
_FORM_UNIT = {"ndpr-oxide": "t NdPr oxide", "ndpr-metal": "t NdPr metal", "ndfeb-magnet": "t NdFeB"}
_QUALITY_RANK = {"primary": 0, "secondary": 1, "unconfirmed": 2}


def facility_output(observations: pd.DataFrame, *, year: int | None = None,
                    metrics: Sequence[str] = ("production", "mine_production")) -> pd.DataFrame:
    """Each facility's annual output from its sourced output observations (``observations``: facility, metric,
    year, period, value, unit, form, source_id, quality, as :func:`orechain.evidence.queries.observations`
    returns them).

    Per facility the latest year with output (at most ``year`` when given) is used, never a mix of years. An
    annual figure wins over sub-annual ones; otherwise monthly (``t/month``) or quarterly (``t/quarter``)
    figures, one per period (the best quality, then the first source, where two give the same period), are
    summed when the year is complete and annualised from their mean when it is not (``periods`` says which).
    A plain-tonne unit takes its product from the observation's ``form`` (``ndpr-oxide``: t NdPr oxide).
    Returns facility, year, output (per year, in ``unit``), unit, periods, annualised, source_ids, quality
    (the lowest of the figures used) and ``set_aside``: the sources of the same year not used
    (a disagreeing figure is reported, never averaged in)."""
    cols = ["facility", "year", "output", "unit", "periods", "annualised", "source_ids", "quality", "set_aside"]
    o = observations[observations["metric"].isin(list(metrics)) & observations["facility"].notna()
                     & observations["value"].notna() & observations["year"].notna()].copy()
    if year is not None:
        o = o[o["year"].astype(int) <= year]
    if not len(o):
        return pd.DataFrame(columns=cols)
    o["year"] = o["year"].astype(int)
    unit = o["unit"].astype(str).str.strip()
    per = unit.str.extract(r"/\s*(month|quarter)$")[0]
    o["per"] = per.fillna("year")
    base = unit.str.replace(r"\s*/\s*(month|quarter|yr|y|year|a)$", "", regex=True).str.strip()
    form = o["form"] if "form" in o.columns else pd.Series([None] * len(o), index=o.index)
    o["base_unit"] = np.where((base == "t") & form.isin(list(_FORM_UNIT)), form.map(_FORM_UNIT), base)
    o["period_key"] = np.where(o["per"] == "year", "year", o["period"].astype(str))
    o["qrank"] = o["quality"].map(_QUALITY_RANK).fillna(3)
    rows = []
    for fac, g in o.groupby("facility", sort=True):
        g = g[g["year"] == g["year"].max()]
        annual = g[g["per"] == "year"]
        use = annual if len(annual) else g[g["per"] == g["per"].iloc[0]]
        ranked = use.sort_values(["qrank", "source_id"], kind="stable")
        use = ranked.drop_duplicates("period_key")
        aside = sorted(set(g["source_id"].astype(str)) - set(use["source_id"].astype(str)))
        kind = str(use["per"].iloc[0])
        if len(set(use["base_unit"])) > 1:
            raise AnalyticsInputError("facility output", [f"facility {fac}: output in several units "
                                                          f"({', '.join(sorted(set(use['base_unit'])))}) in one year"])
        n = len(use)
        if kind == "year":
            value, periods, annualised = float(use["value"].iloc[0]), "annual", False
        else:
            full = _PERIODS_PER_YEAR[kind]
            annualised = n < full
            value = float(use["value"].sum()) if not annualised else float(use["value"].mean()) * full
            periods = f"{n} {kind}s" + (f", mean x {full}" if annualised else ", summed")
        rows.append((fac, int(g["year"].iloc[0]), value, str(use["base_unit"].iloc[0]), periods, annualised,
                     " ".join(sorted(set(use["source_id"].astype(str)))),
                     max(use["quality"].astype(str), key=lambda q: _QUALITY_RANK.get(q, 3)), " ".join(aside)))
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class OutputShares:
    """Stage shares on an output basis (see :func:`output_shares`).

    ``shares``: stage, country, hosted_output, controlled_output (common basis per year), hosted_share,
    controlled_share (facilities without output counted at their capacity), hosted_share_measured,
    controlled_share_measured (facilities with measured output only), measured_share (the part of the
    stage's total that is measured output). ``coverage``: one row per facility: id, stage, host, controller,
    counted_as (output, capacity or nothing), value (common basis per year), output_year, periods, source_ids,
    quality. ``basis``: the common basis."""

    shares: pd.DataFrame
    coverage: pd.DataFrame
    basis: str


def output_shares(net: Network, output: pd.DataFrame, *, factors: pd.DataFrame | None = None,
                  commodity: str | None = None, stages: Sequence[str] | None = None) -> OutputShares:
    """Each country's share of each stage's *output* (hosted and controlled), beside :func:`capacity_shares`.

    ``output`` is :func:`facility_output`'s frame. A facility of the network with output counts at its output,
    converted to the common basis with the same factors as the capacities (``factors``, default the shipped
    ones for ``commodity``). A facility without output is never silently dropped or switched: the shares
    come in two variants, one counting it at its capacity (``hosted_share``, its output can be no more, so
    the shares of the measured countries are lower bounds) and one leaving it out (``*_measured``), and
    ``coverage`` lists how each facility was counted. Output of a plant that a national aggregate stands for
    is not counted (the aggregate's own output is). An output unit without a factor raises."""
    if factors is None:
        factors = basis_factors(commodity)
    f = net.facilities
    if stages is not None:
        f = f[f["stage"].isin(list(stages))]
    out = output.set_index("facility") if len(output) else pd.DataFrame(
        columns=["year", "output", "unit", "periods", "source_ids", "quality"])
    has = f["id"].isin(out.index).to_numpy()
    look = pd.DataFrame({"stage": f["stage"].to_numpy(), "capacity_unit": f["id"].map(out["unit"]).to_numpy()})
    factor = _lookup_factors(look, factors)
    bad = has & np.isnan(factor)
    if bad.any():
        raise AnalyticsInputError("output shares", [
            f"facility {i}: no conversion of output in {u!r} at stage {st} to {net.basis}"
            for i, u, st in zip(f["id"][bad], look["capacity_unit"][bad], f["stage"][bad], strict=True)])
    measured = np.where(has, f["id"].map(out["output"]).to_numpy(dtype=float) * factor, np.nan)
    known_cap = f["capacity_known"].to_numpy(dtype=bool)
    counted_as = np.where(has, "output", np.where(known_cap, "capacity (no output)", "nothing (no output or capacity)"))
    value = np.where(has, measured, np.where(known_cap, f["capacity"].to_numpy(dtype=float), 0.0))
    cov = pd.DataFrame({"id": f["id"].to_numpy(), "stage": f["stage"].to_numpy(), "host": f["host"].to_numpy(),
                        "controller": f["controller"].to_numpy(), "counted_as": counted_as, "value": value,
                        "output_year": f["id"].map(out["year"]).to_numpy(),
                        "periods": f["id"].map(out["periods"]).to_numpy(),
                        "source_ids": f["id"].map(out["source_ids"]).to_numpy(),
                        "quality": f["id"].map(out["quality"]).to_numpy()})
    cov["measured"] = np.where(has, value, 0.0)
    rows = []
    for stage, g in cov.groupby("stage", sort=False):
        tot, tot_m = float(g["value"].sum()), float(g["measured"].sum())
        hosted, ctrl = g.groupby("host")["value"].sum(), g.groupby("controller")["value"].sum()
        hosted_m, ctrl_m = g.groupby("host")["measured"].sum(), g.groupby("controller")["measured"].sum()
        for c in sorted(set(hosted.index) | set(ctrl.index)):
            rows.append((stage, c, float(hosted.get(c, 0.0)), float(ctrl.get(c, 0.0)), _ratio(hosted.get(c, 0.0), tot),
                         _ratio(ctrl.get(c, 0.0), tot), _ratio(hosted_m.get(c, 0.0), tot_m),
                         _ratio(ctrl_m.get(c, 0.0), tot_m), _ratio(tot_m, tot)))
    shares = pd.DataFrame(rows, columns=["stage", "country", "hosted_output", "controlled_output", "hosted_share",
                                         "controlled_share",
                                         "hosted_share_measured", "controlled_share_measured", "measured_share"])
    return OutputShares(shares, cov.drop(columns=["measured"]), net.basis)


def _ratio(a: float, b: float) -> float:
    return float(a) / b if b > 0 else float("nan")


@dataclass(frozen=True)
class StageCapacities:
    """Facility capacities on one common basis, for concentration by host or controlling country.
    ``capacities``: id, stage, host, controller, capacity (basis per year), capacity_native, capacity_unit,
    factor. ``left_out``: the facilities not counted and why (id, stage, host, controller, capacity_native,
    capacity_unit, reason): no capacity recorded, no conversion factor for the unit, or a factor of 0 (the
    facility carries none of the basis). ``aggregated``: plants counted through a national aggregate, not on
    their own (same columns, the reason names the aggregate). ``basis``: the unit of ``capacity``, per year."""

    capacities: pd.DataFrame
    left_out: pd.DataFrame
    aggregated: pd.DataFrame
    basis: str


def stage_capacities(facilities: pd.DataFrame, *, commodity: str | None = None, stages: Sequence[str] | None = None,
                     factors: pd.DataFrame | None = None, aggregates: pd.DataFrame | None = None) -> StageCapacities:
    """Capacities of the facilities at ``stages`` (default: every stage of the chain and the recyclers) converted
    to the common basis of :func:`build_network` (``factors``, default the shipped ones for ``commodity``;
    a ``basis_factor`` column overrides them), with national aggregates standing for their members as in the
    network. Unlike :func:`build_network` a unit without a factor is not an error: the facility is listed in
    ``left_out`` with the reason, as are facilities without a capacity. A commodity with no factors at all
    whose capacities are all in one unit keeps that unit as its basis (factor 1, stated in ``basis``)."""
    if factors is None:
        factors = basis_factors(commodity)
    stages = list(stages) if stages is not None else [*CHAIN, *SECONDARY]
    f = facilities[facilities["stage"].isin(stages)].copy()
    if "controller" not in f.columns:
        f["controller"] = f["country"]
    if aggregates is None:
        aggregates = aggregate_facilities(commodity) if commodity is not None else aggregate_facilities().iloc[:0]
    problems: list[str] = []
    f, members = _aggregate(f, aggregates, problems)
    if problems:
        raise AnalyticsInputError("capacities", problems)
    cap = pd.to_numeric(f["capacity"], errors="coerce").to_numpy(dtype=float)
    if (cap < 0).any():
        raise AnalyticsInputError("capacities", [f"facility {i}: negative capacity" for i in f.loc[cap < 0, "id"]])
    units = f["capacity_unit"] if "capacity_unit" in f.columns else pd.Series([None] * len(f), index=f.index)
    known_units = sorted({_unit_key(u) for u, c in zip(units, cap, strict=True) if isinstance(u, str) and c == c})
    if len(factors):
        basis = str(factors["basis"].iloc[0]) if "basis" in factors.columns else "common basis"
        factor = _lookup_factors(f, factors)
    elif len(known_units) == 1:
        basis = f"{known_units[0]} (the one unit of these capacities; no conversion factors for {commodity})"
        factor = np.where(units.map(lambda u: isinstance(u, str) and _unit_key(u) == known_units[0]), 1.0, np.nan)
    else:
        basis = f"no common basis for {commodity}"
        factor = np.full(len(f), np.nan)
    reason = np.where(np.isnan(cap), "no capacity recorded",
                      np.where(np.isnan(factor), "no conversion factor: " + units.fillna("no unit").astype(str)
                               + " at stage " + f["stage"].astype(str) + " (chain_basis.csv)",
                               np.where(factor == 0, f"conversion factor 0: no {basis}", "")))
    keep = reason == ""
    base = pd.DataFrame({"id": f["id"].to_numpy(), "stage": f["stage"].to_numpy(), "host": f["country"].to_numpy(),
                         "controller": f["controller"].astype(object).where(f["controller"].notna(),
                                                                            f["country"]).to_numpy(),
                         "capacity_native": cap, "capacity_unit": units.to_numpy()})
    counted = base[keep].assign(capacity=cap[keep] * factor[keep], factor=factor[keep])
    left = base[~keep].assign(reason=reason[~keep])
    agg = members.assign(controller=None, reason="in aggregate " + members["aggregate"])
    cols = ["id", "stage", "host", "controller", "capacity", "capacity_native", "capacity_unit", "factor"]
    return StageCapacities(counted[cols].reset_index(drop=True), left.reset_index(drop=True),
                           agg[list(left.columns)].reset_index(drop=True), basis)


# --- the flow graph ----------------------------------------------------------------------------------------
@dataclass
class _Graph:
    n_nodes: int
    src: np.ndarray
    dst: np.ndarray
    cap: np.ndarray  # float; np.inf for unbounded edges
    source: int
    sink: int
    node_edge: np.ndarray  # edge index of each facility's in->out (capacity) edge
    final: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def _graph(net: Network, keep: np.ndarray, final_ok: np.ndarray, *, unknown_unbounded: bool = False) -> _Graph:
    """Node-split graph: facility i has nodes 2i (in) and 2i+1 (out); hubs after them; then source, sink.
    ``unknown_unbounded``: facilities without a capacity get an unbounded capacity edge (else 0)."""
    f = net.facilities
    n = len(f)
    levels = f["level"].to_numpy()
    secondary = f["secondary"].to_numpy(dtype=bool)
    nlev = len(net.stages)
    hub0 = 2 * n
    source, sink = hub0 + nlev, hub0 + nlev + 1
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    cap: list[np.ndarray] = []
    ids = np.arange(n)
    src.append(2 * ids)
    dst.append(2 * ids + 1)
    node_cap = f["capacity"].to_numpy(dtype=float)
    if unknown_unbounded:
        node_cap = np.where(f["capacity_known"].to_numpy(dtype=bool), node_cap, np.inf)
    cap.append(np.where(keep, node_cap, 0.0))
    node_edge = np.arange(n)
    has_out = np.zeros(n, dtype=bool)
    has_in = np.zeros(n, dtype=bool)
    if len(net.links):
        u, d = net.links["u"].to_numpy(dtype=int), net.links["d"].to_numpy(dtype=int)
        has_out[u] = True
        has_in[d] = True
        src.append(2 * u + 1)
        dst.append(2 * d)
        cap.append(np.full(len(u), np.inf))
    first = levels == 0
    src.append(np.full(int(first.sum()), source))
    dst.append(2 * ids[first])
    cap.append(np.full(int(first.sum()), np.inf))
    last = (levels == nlev - 1) & ~secondary
    fin = ids[last & final_ok]
    src.append(2 * fin + 1)
    dst.append(np.full(len(fin), sink))
    cap.append(np.full(len(fin), np.inf))
    open_out = ~has_out & ~last & ~secondary
    src.append(2 * ids[open_out] + 1)
    dst.append(hub0 + levels[open_out])
    cap.append(np.full(int(open_out.sum()), np.inf))
    open_in = ~has_in & ~first
    src.append(hub0 + levels[open_in] - 1)
    dst.append(2 * ids[open_in])
    cap.append(np.full(int(open_in.sum()), np.inf))
    skip = np.array([lv for lv, s in enumerate(net.stages) if s in net.bypass and 0 < lv < nlev - 1], dtype=int)
    src.append(hub0 + skip - 1)  # the market before a bypassed stage also feeds the market after it
    dst.append(hub0 + skip)
    cap.append(np.full(len(skip), np.inf))
    return _Graph(hub0 + nlev + 2, np.concatenate(src), np.concatenate(dst), np.concatenate(cap), source, sink,
                  node_edge, fin)


@dataclass(frozen=True)
class CapacityResult:
    """Maximum independent flow (``value``, common basis per year) with facilities of unknown capacity given
    none (a lower bound), its ``resolution`` (the scaled integer solve is exact to within this), the
    ``bottleneck_stage`` (the stage holding most of the minimum cut), ``cut`` (facilities in the minimum cut),
    ``stage_capacity`` (capacity left per stage after the exclusion, and facilities left without a capacity)
    and the facilities ``excluded``. ``value_upper``: the same flow with unknown capacities unlimited (``inf``
    when a path of them alone reaches the consumer; equal to ``value`` when none is missing). ``missing``: the
    facilities without a capacity (id, stage, host, controller, excluded)."""

    value: float
    resolution: float
    bottleneck_stage: str | None
    cut: pd.DataFrame
    stage_capacity: pd.DataFrame
    excluded: tuple[str, ...]
    flows: pd.Series
    value_upper: float = float("nan")
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["id", "stage", "host", "controller", "excluded"]))


def _keep(net: Network, exclude: Iterable[str], by: Literal["controller", "host", "either"]) -> np.ndarray:
    ex = set(exclude)
    f = net.facilities
    ctrl = f["controller"].isin(ex).to_numpy()
    host = f["host"].isin(ex).to_numpy()
    drop = ctrl if by == "controller" else host if by == "host" else ctrl | host
    return np.asarray(~drop)


def _final_ok(net: Network, consumer_hosts: Iterable[str] | None) -> np.ndarray:
    if consumer_hosts is None:
        return np.ones(net.size, dtype=bool)
    return np.asarray(net.facilities["host"].isin(set(consumer_hosts)).to_numpy())


def _max_flow(g: _Graph, res: float, big: int) -> tuple[float, sp.csr_array, Any]:
    finite = np.isfinite(g.cap)
    icap = np.where(finite, np.floor(np.where(finite, g.cap, 0.0) / res), big).astype(np.int32)
    m = sp.csr_array((icap, (g.src, g.dst)), shape=(g.n_nodes, g.n_nodes))
    m.sum_duplicates()
    m = sp.csr_array(m.astype(np.int32))
    out = maximum_flow(m, g.source, g.sink, method="dinic")
    return float(out.flow_value) * res, m, out


def _unbounded_path(g: _Graph) -> bool:
    """Whether the source reaches the sink along unbounded edges alone."""
    inf = ~np.isfinite(g.cap)
    m = sp.csr_array((np.ones(int(inf.sum())), (g.src[inf], g.dst[inf])), shape=(g.n_nodes, g.n_nodes))
    return bool(np.isin(g.sink, breadth_first_order(m, g.source, directed=True, return_predecessors=False)))


def _require_facilities(net: Network, what: str) -> None:
    if net.facilities.empty or not net.stages:
        raise AnalyticsInputError(what, ["the network has no facilities (none of the commodity with a known stage)"])


def independent_capacity(net: Network, exclude: Iterable[str] = (), *,
                         by: Literal["controller", "host", "either"] = "controller",
                         consumer_hosts: Iterable[str] | None = None, resolution: float | None = None
                         ) -> CapacityResult:
    """Maximum flow from the mines to the consumer avoiding facilities controlled (``by="controller"``),
    hosted (``"host"``) or either by the ``exclude`` countries, at any stage.

    ``consumer_hosts``: only final-stage facilities hosted there deliver to the consumer (default: any
    final-stage facility that is left, i.e. the consumer may import finished products from any of them).
    ``resolution``: the capacity unit of the integer solve (default: the total capacity / 2^30, at most 1e-6).
    """
    _require_facilities(net, "independent capacity")
    keep = _keep(net, exclude, by)
    final_ok = _final_ok(net, consumer_hosts)
    g = _graph(net, keep, final_ok)
    total = float(net.facilities["capacity"].sum())
    res = resolution if resolution is not None else max(total / 2**30, 1e-6) if total > 0 else 1e-6
    big = int(min(2**31 - 1, np.ceil(total / res) + 1))
    value, m, out = _max_flow(g, res, big)
    flow = out.flow.tocsr() if hasattr(out.flow, "tocsr") else sp.csr_array(out.flow)
    f = net.facilities
    n = len(f)
    unknown = ~f["capacity_known"].to_numpy(dtype=bool)
    value_upper = value
    if (unknown & keep).any():
        gu = _graph(net, keep, final_ok, unknown_unbounded=True)
        value_upper = float("inf") if _unbounded_path(gu) else _max_flow(gu, res, big)[0]
    node_flow = np.asarray(flow[2 * np.arange(n), 2 * np.arange(n) + 1]).ravel() * res
    # minimum cut: nodes reachable from the source in the residual graph
    resid = sp.csr_array(m - flow)
    resid.data = np.where(resid.data > 0, resid.data, 0)
    resid.eliminate_zeros()
    reach = np.zeros(g.n_nodes, dtype=bool)
    reach[breadth_first_order(resid, g.source, directed=True, return_predecessors=False)] = True
    in_cut = reach[2 * np.arange(n)] & ~reach[2 * np.arange(n) + 1] & keep
    cut = f.loc[in_cut, ["id", "stage", "host", "controller", "capacity"]].reset_index(drop=True)
    stage_cap = pd.DataFrame({"stage": list(net.stages)})
    left = f.assign(kept=keep)
    stage_cap["capacity_all"] = stage_cap["stage"].map(f.groupby("stage")["capacity"].sum()).fillna(0.0)
    stage_cap["capacity_left"] = stage_cap["stage"].map(
        left[left["kept"]].groupby("stage")["capacity"].sum()).fillna(0.0)
    stage_cap["in_cut"] = stage_cap["stage"].map(cut.groupby("stage")["capacity"].sum()).fillna(0.0)
    stage_cap["without_capacity"] = stage_cap["stage"].map(
        left[left["kept"] & ~left["capacity_known"]].groupby("stage").size()).fillna(0).astype(int)
    stage_cap["bypass"] = stage_cap["stage"].isin(net.bypass)
    bottleneck = None
    if value <= res * (n + 1):
        zero = stage_cap[(stage_cap["capacity_left"] <= 0) & ~stage_cap["bypass"]]
        bottleneck = str(zero["stage"].iloc[0]) if len(zero) else (str(cut["stage"].iloc[0]) if len(cut) else None)
    elif len(cut):
        bottleneck = str(stage_cap.sort_values("in_cut", ascending=False)["stage"].iloc[0])
    missing = f.loc[unknown, ["id", "stage", "host", "controller"]].assign(excluded=~keep[unknown])
    return CapacityResult(value, res, bottleneck, cut, stage_cap, tuple(f.loc[~keep, "id"]),
                          pd.Series(node_flow, index=f["id"], name="flow"), value_upper,
                          missing.reset_index(drop=True))


def independent_capacity_lp(net: Network, exclude: Iterable[str] = (), *,
                            by: Literal["controller", "host", "either"] = "controller",
                            consumer_hosts: Iterable[str] | None = None) -> float:
    """The same maximum flow as a linear programme solved by HiGHS (scipy.optimize.linprog): maximise the
    flow into the sink subject to conservation at every inner node and 0 <= flow <= capacity."""
    keep = _keep(net, exclude, by)
    g = _graph(net, keep, _final_ok(net, consumer_hosts))
    ne = len(g.src)
    c = np.zeros(ne)
    c[g.dst == g.sink] = -1.0
    inner = np.setdiff1d(np.arange(g.n_nodes), [g.source, g.sink])
    row = {v: i for i, v in enumerate(inner)}
    rows, cols, vals = [], [], []
    for e, (a, b) in enumerate(zip(g.src, g.dst, strict=True)):
        if b in row:
            rows.append(row[b])
            cols.append(e)
            vals.append(1.0)
        if a in row:
            rows.append(row[a])
            cols.append(e)
            vals.append(-1.0)
    a_eq = sp.csr_array((vals, (rows, cols)), shape=(len(inner), ne))
    bounds = [(0.0, None if np.isinf(cp) else float(cp)) for cp in g.cap]
    res = linprog(c, A_eq=a_eq, b_eq=np.zeros(len(inner)), bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return float(-res.fun)


# --- tracing ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TraceResult:
    """``facility_shares``: each facility's share of the consumer's supply at its stage.
    ``stage_shares``: per stage and country, the share ``hosted`` and ``controlled``.
    ``path_shares``: host-country paths mine -> ... -> final stage and their shares (every path kept).
    ``bottleneck_stage``: the stage with the least capacity (common basis); ``stage_capacity`` lists them.
    ``unsupplied``: per stage, the share of the consumer's supply whose inputs cannot be traced further
    (a facility with no possible supplier, or whose known suppliers all lack a capacity).
    ``missing_capacity``: the facilities without a capacity (id, stage, host, controller): they take no share,
    so the shares describe the facilities with a capacity only. ``aggregated``: plant rows a national
    aggregate stands for (see :class:`Network`)."""

    facility_shares: pd.DataFrame
    stage_shares: pd.DataFrame
    path_shares: pd.DataFrame
    bottleneck_stage: str
    stage_capacity: pd.DataFrame
    unsupplied: pd.Series
    missing_capacity: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["id", "stage", "host", "controller"]))
    aggregated: pd.DataFrame = field(default_factory=pd.DataFrame)


def _final_split(net: Network, consumer: Sequence[str], demand: float | None) -> np.ndarray:
    f = net.facilities
    last = ((f["level"] == len(net.stages) - 1) & ~f["secondary"]).to_numpy()
    cap = f["capacity"].to_numpy(dtype=float) * last
    if cap.sum() <= 0:
        raise AnalyticsInputError("trace", [f"no capacity at the final stage {net.stages[-1]}"])
    if demand is None:
        return np.asarray(cap / cap.sum())
    if demand <= 0:
        raise AnalyticsInputError("trace", ["demand must be positive"])
    dom = cap * f["host"].isin(set(consumer)).to_numpy()
    take_dom = min(demand, dom.sum())
    rest = demand - take_dom
    other = cap - dom
    x = np.zeros(len(f))
    if dom.sum() > 0:
        x += dom / dom.sum() * take_dom
    if rest > 0:
        if other.sum() <= 0:
            raise AnalyticsInputError("trace", ["demand exceeds the final-stage capacity available"])
        x += other / other.sum() * rest
    return x / demand


def _supplier_weights(net: Network) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Explicit supplier weights (d, u, w; rows of each d sum to 1), and for facilities that draw from the
    open market the previous level's open suppliers' weights."""
    f = net.facilities
    n = len(f)
    cap = f["capacity"].to_numpy(dtype=float)
    has_in = np.zeros(n, dtype=bool)
    has_out = np.zeros(n, dtype=bool)
    w = pd.DataFrame({"d": pd.Series(dtype=int), "u": pd.Series(dtype=int), "w": pd.Series(dtype=float)})
    if len(net.links):
        lk = net.links
        u, d = lk["u"].to_numpy(dtype=int), lk["d"].to_numpy(dtype=int)
        has_in[d] = True
        has_out[u] = True
        share = lk["share"].to_numpy(dtype=float)
        raw = np.where(np.isnan(share), cap[u], share * np.bincount(d, weights=cap[u], minlength=n)[d])
        tot = np.bincount(d, weights=raw, minlength=n)[d]
        w = pd.DataFrame({"d": d, "u": u, "w": np.where(tot > 0, raw / np.where(tot > 0, tot, 1), 0.0)})
    levels = f["level"].to_numpy()
    open_sup = ~has_out & (levels < len(net.stages) - 1) & ~f["secondary"].to_numpy(dtype=bool)
    return w, has_in, open_sup


def _market_pool(net: Network, open_sup: np.ndarray, lev: int) -> np.ndarray:
    """The open suppliers a market user at level ``lev`` may draw from: those one level up, and past each
    bypassed stage those one level further up."""
    levels = net.facilities["level"].to_numpy()
    pool = np.zeros(len(levels), dtype=bool)
    up = lev - 1
    while up >= 0:
        pool |= open_sup & (levels == up)
        if up == 0 or net.stages[up] not in net.bypass:
            break
        up -= 1
    return pool


def trace(net: Network, consumer: Sequence[str], *, demand: float | None = None, paths: bool = True,
          max_path_rows: int = 2_000_000) -> TraceResult:
    """Trace the consumer's supply back from the final stage to the mines (see the module docstring).

    Path shares are exact and every path is kept, so their bookkeeping grows with (paths x facilities);
    past ``max_path_rows`` intermediate rows it raises :class:`AnalyticsInputError` rather than cut paths
    (use ``paths=False`` for the stage shares alone on very large networks)."""
    _require_facilities(net, "trace")
    f = net.facilities
    n = len(f)
    cap = f["capacity"].to_numpy(dtype=float)
    levels = f["level"].to_numpy()
    x = _final_split(net, consumer, demand)
    w, has_in, open_sup = _supplier_weights(net)
    unsupplied = pd.Series(0.0, index=list(net.stages))
    hosts = f["host"].astype(str).to_numpy()
    nz = np.flatnonzero(x)
    cur = pd.DataFrame({"path": [(hosts[i],) for i in nz], "fac": nz, "share": x[nz]})
    ended: list[pd.DataFrame] = []
    subs = f["sub"].to_numpy()
    order = levels * (int(subs.max()) + 1) + subs
    groups = sorted({(int(a), int(b)) for a, b in zip(levels, subs, strict=True) if a > 0 or b > 0}, reverse=True)
    for lev, sb in groups:
        key = lev * (int(subs.max()) + 1) + sb
        at = order == key
        ew = w[at[w["d"].to_numpy()]] if len(w) else w
        d_idx, u_idx, wt = ew["d"].to_numpy(dtype=int), ew["u"].to_numpy(dtype=int), ew["w"].to_numpy(dtype=float)
        contrib = np.zeros(n)
        np.add.at(contrib, u_idx, x[d_idx] * wt)
        covered = np.bincount(d_idx, weights=wt, minlength=n)
        lost = at & has_in & (covered <= 0)
        market_users = at & ~has_in
        sup = _market_pool(net, open_sup, lev)
        demand_mkt = float(x[market_users].sum())
        sup_cap = float(cap[sup].sum())
        mkt_w = np.where(sup, cap / sup_cap, 0.0) if sup_cap > 0 else np.zeros(n)
        if sup_cap > 0:
            contrib += mkt_w * demand_mkt
        else:
            lost |= market_users
        unsupplied[net.stages[lev]] += float(x[lost].sum())
        x = x + contrib
        if not paths:
            continue
        fac = cur["fac"].to_numpy()
        here, stay = cur[order[fac] == key], cur[order[fac] < key]
        parts = [stay]
        if len(ew):
            e = here.merge(ew.rename(columns={"d": "fac"}), on="fac")
            parts.append(pd.DataFrame({"path": [(*p, hosts[u]) for p, u in zip(e["path"], e["u"], strict=True)],
                                       "fac": e["u"], "share": e["share"] * e["w"]}))
        mk = here[market_users[here["fac"].to_numpy()]]
        if len(mk) and sup_cap > 0:
            agg = mk.groupby("path", sort=False)["share"].sum()
            sup_idx = np.flatnonzero(sup)
            if len(agg) * len(sup_idx) > max_path_rows:
                raise AnalyticsInputError("trace", [
                    f"path shares need {len(agg) * len(sup_idx):,} rows (> {max_path_rows:,}) at stage "
                    f"{net.stages[lev - 1]}; use paths=False (stage shares only) or raise max_path_rows"])
            parts.append(pd.DataFrame({
                "path": [(*p, hosts[u]) for p in agg.index for u in sup_idx],
                "fac": np.tile(sup_idx, len(agg)),
                "share": np.repeat(agg.to_numpy(), len(sup_idx)) * np.tile(mkt_w[sup_idx], len(agg))}))
        ended.append(here[lost[here["fac"].to_numpy()]].assign(path=lambda d: [(*p, "?") for p in d["path"]]))
        nxt = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else cur.iloc[:0]
        cur = nxt.groupby(["path", "fac"], sort=False)["share"].sum().reset_index()
        if len(cur) > max_path_rows:
            raise AnalyticsInputError("trace", [
                f"path shares need more than {max_path_rows:,} intermediate rows at stage {net.stages[lev - 1]}; "
                "use paths=False (stage shares only) or raise max_path_rows"])
    fs = f[["id", "stage", "host", "controller", "capacity", "capacity_known"]].assign(share=x)
    rows = []
    for stage, g in fs.groupby("stage", sort=False):
        tot = g["share"].sum()
        if tot <= 0:
            continue
        hosted = g.groupby("host")["share"].sum() / tot
        ctrl = g.groupby("controller")["share"].sum() / tot
        for c in sorted(set(hosted.index) | set(ctrl.index)):
            rows.append((stage, c, float(hosted.get(c, 0.0)), float(ctrl.get(c, 0.0))))
    stage_shares = pd.DataFrame(rows, columns=["stage", "country", "hosted", "controlled"])
    cats = [*sorted(set(fs["stage"]) - set(net.stages)), *net.stages]  # recyclers first
    stage_shares["stage"] = pd.Categorical(stage_shares["stage"], categories=cats, ordered=True)
    stage_shares = stage_shares.sort_values(["stage", "controlled"], ascending=[True, False]).reset_index(drop=True)
    stage_shares["stage"] = stage_shares["stage"].astype(str)
    if paths:
        allp = pd.concat([cur, *[e for e in ended if len(e)]], ignore_index=True)
        p = allp.groupby("path", sort=False)["share"].sum().sort_values(ascending=False, kind="stable")
        path_shares = pd.DataFrame({"route": [" -> ".join(reversed(k)) for k in p.index], "share": p.to_numpy()})
    else:
        path_shares = pd.DataFrame(columns=["route", "share"])
    stage_cap = fs.groupby("stage", sort=False)["capacity"].sum().reindex(list(net.stages)).fillna(0.0)
    stage_capacity = stage_cap.rename("capacity").reset_index()
    stage_capacity["facilities"] = stage_capacity["stage"].map(f.groupby("stage").size()).fillna(0).astype(int)
    stage_capacity["without_capacity"] = stage_capacity["stage"].map(
        f[~f["capacity_known"]].groupby("stage").size()).fillna(0).astype(int)
    stage_capacity["bypass"] = stage_capacity["stage"].isin(net.bypass)
    required = stage_cap[[s not in net.bypass for s in stage_cap.index]]
    missing = f.loc[~f["capacity_known"], ["id", "stage", "host", "controller"]].reset_index(drop=True)
    return TraceResult(fs, stage_shares, path_shares, str(required.idxmin()), stage_capacity, unsupplied, missing,
                       net.aggregated)


def stage_summary(result: TraceResult, countries: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Stage shares as a wide table: one row per stage, hosted and controlled share of each country."""
    s = result.stage_shares
    hosted = s.pivot_table(index="stage", columns="country", values="hosted", aggfunc="sum", fill_value=0.0)
    ctrl = s.pivot_table(index="stage", columns="country", values="controlled", aggfunc="sum", fill_value=0.0)
    out = pd.concat({"hosted": hosted, "controlled": ctrl}, axis=1)
    if countries:
        out = out.rename(columns=countries, level=1)
    return out


def random_network(seed: int, n: int, *, n_countries: int = 6, link_frac: float = 0.2
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded random layered network for tests and benchmarks: ``n`` facilities over the five chain
    stages (each stage present), capacities uniform in 0-100 t, random host and controlling countries
    ``C00``.., and known links from a ``link_frac`` of facilities to one or two of the next stage."""
    rng = np.random.default_rng(seed)
    st_idx = np.sort(rng.integers(0, len(CHAIN), n))
    st_idx[: len(CHAIN)] = np.arange(len(CHAIN))
    st_idx = np.sort(st_idx)
    countries = np.array([f"C{i:02d}" for i in range(n_countries)])
    fac = pd.DataFrame({"id": [f"f{i}" for i in range(n)], "stage": [CHAIN[s] for s in st_idx],
                        "country": rng.choice(countries, n), "controller": rng.choice(countries, n),
                        "capacity": rng.uniform(0, 100, n).round(3), "capacity_unit": "t"})
    by_stage = [np.flatnonzero(st_idx == s) for s in range(len(CHAIN))]
    ups: list[str] = []
    downs: list[str] = []
    pick = np.flatnonzero((st_idx < len(CHAIN) - 1) & (rng.random(n) < link_frac))
    for i in pick:
        cand = by_stage[st_idx[i] + 1]
        for j in rng.choice(cand, size=min(len(cand), int(rng.integers(1, 3))), replace=False):
            ups.append(f"f{i}")
            downs.append(f"f{j}")
    return fac, pd.DataFrame({"upstream": ups, "downstream": downs})


UNIT_FACTORS = pd.DataFrame({"stage": list(CHAIN), "capacity_unit": ["t"] * len(CHAIN), "factor": [1.0] * len(CHAIN)})
"""Factor 1 at every stage for capacities already on a common basis in plain tonnes (tests, benchmarks)."""
