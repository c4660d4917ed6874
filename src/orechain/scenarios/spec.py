"""Scenario files: YAML validated against the published JSON schema, turned into a typed :class:`Scenario`.

``scenario.schema.json`` (beside this module) is the published schema. Loading goes: YAML (every node's line
kept) -> JSON-schema validation -> semantic checks (triangular bounds in order, years in order, unknown
facilities, unknown stages, links that form a cycle, ...) -> typed records. Every problem found is reported
at once, each with file, line and field, and nothing is simulated until the file is clean.

With ``base: {commodity: ...}`` the scenario starts from the evidence base's network, built exactly as the
analytics build it (:func:`orechain.analytics.network.build_network`: the same stages, bypassable stages,
national aggregates standing for their member plants, controlling countries, conversion factors to the common
basis, known links and open markets, facilities without a capacity listed); every facility of it is a project
(pipeline facilities pass their calibrated gates), a ``projects:`` entry with ``facility:`` set to one of
them changes its parameters, and other projects (inline, or an evidence-base ``facility:`` outside the base,
e.g. a copper mine tracked beside the chain) are added on top. The analytics' present-day independent
capacity of the base is kept as :class:`PresentDay`. The evidence base arrives here as a plain
:class:`pandas.DataFrame` (see :mod:`orechain.scenarios.evidence`), so this module does no I/O beyond reading
the scenario file.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from orechain.evidence.errors import InputError, ProblemCollector
from orechain.scenarios.calibration import default_gates
from orechain.scenarios.evidence import links_of, unit_key
from orechain.scenarios.sampling import Dist

__all__ = [
    "DEFAULT_STAGES",
    "BaselineCapacity",
    "Benchmark",
    "Demand",
    "Gate",
    "Hazard",
    "Impact",
    "Link",
    "Policy",
    "PresentDay",
    "Project",
    "Scenario",
    "builtin_names",
    "builtin_path",
    "decimal_year",
    "load_scenario",
    "parse_scenario",
    "schema",
]

DEFAULT_STAGES = ("mining", "beneficiation", "separation", "metal", "magnet")
PRODUCING = ("commissioning", "operating")


# -- typed scenario ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    name: str
    duration: Dist
    p_fail: float


@dataclass(frozen=True)
class Project:
    """A facility or project in the scenario; ``capacity`` is in the scenario's unit."""

    id: str
    name: str
    stage: str
    country: str
    controlled_by: str
    region: str | None
    capacity: Dist
    status: str
    gates: tuple[Gate, ...]
    ramp: tuple[float, ...]
    earliest: float | None = None
    until: float | None = None
    in_chain: bool = True
    facility: str | None = None
    cost: str | None = None
    source: str | None = None
    quality: str | None = None
    unit: str = ""
    evidence: bool = False  # a facility of the evidence base's network (``base:``)
    capacity_known: bool = True  # False: the evidence base has no capacity and the scenario gives none (counts 0)
    requires: tuple[str, ...] = ()  # enabling projects: capacity x each one's online share of nameplate
    growth: Dist | None = None  # nameplate grows by this rate per year from the start year
    group: str | None = None  # the id written in the file, for projects expanded from ``copies:``

    @property
    def producing(self) -> bool:
        return self.status in PRODUCING

    @property
    def closed(self) -> bool:
        return self.status == "closed"

    def p_success(self) -> float:
        """Probability that every remaining gate passes."""
        return math.prod(1 - g.p_fail for g in self.gates)


@dataclass(frozen=True)
class Hazard:
    region: str
    rate: float
    outage: Dist
    name: str = ""


@dataclass(frozen=True)
class Policy:
    id: str
    name: str
    start: float
    end: float | None
    suspended_until: float | None
    p_resume: float
    stages: tuple[str, ...]
    projects: tuple[str, ...]
    exempt_controlled_by: tuple[str, ...]
    capacity_factor: Dist
    delay: Dist
    event: str | None = None


@dataclass(frozen=True)
class Demand:
    base_year: int
    base: float
    target_year: int
    target: Dist
    factor: float = 1.0


@dataclass(frozen=True)
class Impact:
    name: str
    projects: tuple[str, ...]
    threshold: float


@dataclass(frozen=True)
class Link:
    """A known link: ``upstream`` sends to ``downstream``. ``declared``: written in the scenario file (on top of
    the evidence base's links); ``share``: at most this share of the downstream's capacity comes through it;
    ``capacity``: at most this much per year goes through it."""

    upstream: str
    downstream: str
    share: float | None = None
    capacity: Dist | None = None
    declared: bool = True


@dataclass(frozen=True)
class PresentDay:
    """The analytics' present-day independent capacity on the base network (``orechain trace --show
    capacity``): facilities producing at the start, unknown capacities as 0 (``value``) and unlimited
    (``upper``)."""

    value: float
    upper: float
    bottleneck: str | None
    missing: tuple[str, ...]
    aggregated: int


@dataclass(frozen=True)
class BaselineCapacity:
    stage: str
    country: str
    share: float
    growth: float


@dataclass(frozen=True)
class Benchmark:
    name: str
    threshold: float
    year: int
    members: tuple[str, ...]
    baseline: tuple[BaselineCapacity, ...]
    stages: tuple[str, ...] = ()  # empty: every stage that is not bypassable


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    start_date: dt.date
    horizon: int
    consumer: str
    unit: str
    excluded: tuple[str, ...]
    stages: tuple[str, ...]
    links: tuple[Link, ...]
    demand: Demand
    projects: tuple[Project, ...]
    hazards: tuple[Hazard, ...] = ()
    policies: tuple[Policy, ...] = ()
    impact: Impact | None = None
    targets: tuple[tuple[float, int], ...] = ()
    benchmark: Benchmark | None = None
    sensitivity_year: int | None = None
    sensitivity_scenarios: int = 5_000
    file: str = "<scenario>"
    notes: tuple[str, ...] = field(default=())
    bypass: tuple[str, ...] = ()
    commodity: str | None = None
    base: bool = False
    present: PresentDay | None = None
    sensitivity_metrics: tuple[str, ...] = ("ratio",)

    @property
    def start(self) -> float:
        return decimal_year(self.start_date)

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.start_date.year, self.horizon + 1))

    def project(self, pid: str) -> Project:
        for p in self.projects:
            if p.id == pid:
                return p
        raise KeyError(pid)


def decimal_year(d: dt.date) -> float:
    start = dt.date(d.year, 1, 1)
    length = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / length


# -- schema and builtins -------------------------------------------------------------------------------
@cache
def schema() -> dict[str, Any]:
    """The published JSON schema (``scenario.schema.json``)."""
    text = (resources.files("orechain.scenarios") / "scenario.schema.json").read_text(encoding="utf-8")
    out: dict[str, Any] = json.loads(text)
    return out


def builtin_names() -> list[str]:
    base = resources.files("orechain.scenarios") / "builtin"
    return sorted(p.name.removesuffix(".yaml") for p in base.iterdir() if p.name.endswith(".yaml"))


def builtin_path(name: str) -> Path:
    base = resources.files("orechain.scenarios") / "builtin"
    return Path(str(base / f"{name}.yaml"))


# -- YAML with line numbers ----------------------------------------------------------------------------
Path_ = tuple[str | int, ...]
Conversions = dict[tuple[str | None, str], float]


def _node_lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _node_lines(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _node_lines(item, (*path, i), out)


def _read_yaml(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise InputError.one(file, line, None, f"not valid YAML: {exc.problem or exc}") from exc
    lines: dict[Path_, int] = {}
    if node is not None:
        _node_lines(node, (), lines)
    return data, lines


class _Where:
    """Maps a path in the document to its line, for error messages."""

    def __init__(self, lines: Mapping[Path_, int], col: ProblemCollector) -> None:
        self.lines = lines
        self.col = col
        self.seen: set[tuple[int | None, str | None, str]] = set()  # a project with copies: reported once

    def line(self, path: Sequence[str | int]) -> int | None:
        p = tuple(path)
        while p not in self.lines and p:
            p = p[:-1]
        return self.lines.get(p)

    def add(self, path: Sequence[str | int], message: str) -> None:
        key = (self.line(path), _dotted(path), message)
        if key not in self.seen:
            self.seen.add(key)
            self.col.add(*key)


def _dotted(path: Sequence[str | int]) -> str | None:
    if not path:
        return None
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_message(err: jsonschema.ValidationError) -> str:
    if err.validator == "oneOf" and err.context:
        # the most relevant branch error: the deepest one
        best = max(err.context, key=lambda e: len(e.absolute_path))
        if best.absolute_path != err.absolute_path or best.validator != "type":
            return _schema_message(best)
    if err.validator == "additionalProperties":
        return f"unknown field: {err.message.split('(')[-1].rstrip(')')}"
    return err.message


# -- loading -------------------------------------------------------------------------------------------
def load_scenario(path: str | Path, facilities: pd.DataFrame | None = None) -> Scenario:
    """Read, validate and type a scenario file (see :func:`parse_scenario`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError.one(p, None, None, f"cannot read the scenario file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError.one(p, None, None, f"not UTF-8 text: {exc}") from exc
    return parse_scenario(text, str(p), facilities)


def parse_scenario(text: str, file: str = "<scenario>", facilities: pd.DataFrame | None = None) -> Scenario:
    """Validate ``text`` against the schema and build the typed scenario.

    ``facilities`` is the evidence base's facility table (:func:`orechain.scenarios.evidence.facility_table`);
    it is needed only when the scenario has ``base:`` or names a ``facility:``. Raises
    :class:`InputError` listing every problem.
    """
    data, lines = _read_yaml(text, file)
    col = ProblemCollector(file)
    where = _Where(lines, col)
    if not isinstance(data, dict):
        raise InputError.one(file, 1, None, "a scenario file is a YAML mapping (name:, start:, horizon:, ...)")
    validator = jsonschema.Draft202012Validator(schema())
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(x) for x in e.absolute_path]):
        where.add(list(err.absolute_path), _schema_message(err))
    col.raise_if_any()
    scenario = _Builder(data, where, file, facilities).build()
    col.raise_if_any()
    assert scenario is not None
    return scenario


def _date(value: str, where: _Where, path: Path_) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        where.add(path, f"not a date: {value!r}")
        return dt.date(2000, 1, 1)


def _dist(raw: Any, where: _Where, path: Path_, *, upper: float | None = None) -> Dist:
    """A Dist from a validated schema value, checking what the schema cannot (order of bounds)."""
    if isinstance(raw, (int, float)):
        d = Dist.fixed(float(raw))
    elif raw["dist"] == "lognormal":
        d = Dist.lognormal_mean_sd(float(raw["mean"]), float(raw["sd"]))
    elif raw["dist"] == "uniform":
        if raw["min"] > raw["max"]:
            where.add(path, f"min {raw['min']} is above max {raw['max']}")
            return Dist.fixed(float(raw["min"]))
        d = Dist.uniform(float(raw["min"]), float(raw["max"]))
    else:
        lo, mode, hi = float(raw["min"]), float(raw["mode"]), float(raw["max"])
        if not lo <= mode <= hi:
            where.add(path, f"need min <= mode <= max, got {lo:g}, {mode:g}, {hi:g}")
            return Dist.fixed(lo)
        d = Dist.triangular(lo, mode, hi) if raw["dist"] == "triangular" else Dist.pert(lo, mode, hi)
    if upper is not None and d.support()[1] > upper:
        where.add(path, f"values above {upper:g} are impossible here, but this distribution reaches "
                        f"{d.support()[1]:g}")
    return d


def ramp_curve(raw: Mapping[str, Any] | None, default_years: float) -> tuple[float, ...]:
    """Share of nameplate in production years 1, 2, ... A linear ramp over ``L`` years becomes its yearly
    averages (year k: the mean of min(1, a/L) over a in (k-1, k])."""
    if raw is not None and "curve" in raw:
        return tuple(float(x) for x in raw["curve"])
    years = float(raw["years"]) if raw is not None else default_years
    if years <= 0:
        return (1.0,)
    out = []
    for k in range(1, math.ceil(years) + 1):
        lo, hi = k - 1.0, float(k)
        # integral of min(1, a/L) over [lo, hi]
        mid = min(hi, years)
        part = (mid * mid - lo * lo) / (2 * years) + max(0.0, hi - max(lo, years))
        out.append(part)
    return tuple(out)


DEFAULT_RAMP_YEARS = 3.0


@dataclass
class _Base:
    """The evidence base's network for ``base:`` (built by :func:`orechain.analytics.network.build_network`)."""

    stages: tuple[str, ...]
    bypass: tuple[str, ...]
    rows: dict[str, dict[str, Any]]  # facility id -> what a project takes from it (capacity on the basis)
    links: pd.DataFrame  # upstream, downstream, share (aggregate members mapped to their aggregate)
    aggregated: dict[str, str]  # member id -> aggregate id
    ramp_years: float


ALL_BUT_CLOSED = ("announced", "mou", "exploration", "pea", "pfs", "fs", "financed", "construction", "commissioning",
                  "operating", "suspended")


class _Builder:
    def __init__(self, data: dict[str, Any], where: _Where, file: str, facilities: pd.DataFrame | None) -> None:
        self.d = data
        self.w = where
        self.file = file
        self.fac = facilities
        self.fac_by_id: dict[str, dict[str, Any]] = {}
        if facilities is not None and len(facilities):
            self.fac_by_id = {str(r["id"]): {str(k): v for k, v in r.items()}
                              for r in facilities.to_dict(orient="records")}
        self.notes: list[str] = []
        self.present: PresentDay | None = None
        self.commodity: str | None = data.get("base", {}).get("commodity") or data.get("commodity")
        self.factors: dict[tuple[str, str], float] = {}
        if self.commodity:
            from orechain.analytics.network import basis_factors

            bf = basis_factors(self.commodity)
            self.factors = {(str(st), unit_key(str(u))): float(f)
                            for st, u, f in zip(bf["stage"], bf["capacity_unit"], bf["factor"], strict=True)}

    def build(self) -> Scenario | None:
        d, w = self.d, self.w
        start = _date(d["start"], w, ("start",))
        if d["horizon"] < start.year:
            w.add(("horizon",), f"horizon {d['horizon']} is before the start year {start.year}")
        conversions = {(c.get("stage"), c["unit"]): float(c["factor"]) for c in d.get("conversions", [])}
        excluded = tuple(d.get("exclusions", {}).get("countries", []))
        base = self._base(excluded) if "base" in d else None
        if base is not None:
            stages = base.stages
            if "stages" in d and tuple(d["stages"]) != stages:
                w.add(("stages",), f"with base: the stages are the evidence network's {list(stages)}; leave stages: "
                                   "out")
        else:
            stages = tuple(d.get("stages", DEFAULT_STAGES))
        projects = self._projects(stages, conversions, start, base)
        ids = [p.id for p in projects]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            w.add(("projects",), f"project id {dup!r} appears more than once")
        links = self._links(projects, base)
        self._requires(projects)
        demand = self._demand()
        hazards = tuple(Hazard(str(h["region"]), float(h["rate"]), _dist(h["outage"], w, ("hazards", i, "outage")),
                               str(h.get("name", "")))
                        for i, h in enumerate(d.get("hazards", [])))
        regions = {p.region for p in projects if p.region}
        for i, h in enumerate(hazards):
            if h.region not in regions:
                w.add(("hazards", i, "region"), f"no project is in region {h.region!r}; known: {sorted(regions)}")
        policies = tuple(self._policies(set(ids), stages))
        impact = None
        if "impact" in d:
            impact = self._impact(projects)
        targets = tuple((float(t["value"]), int(t["year"])) for t in d.get("targets", []))
        for i, (_, year) in enumerate(targets):
            if not start.year <= year <= d["horizon"]:
                w.add(("targets", i, "year"), f"year {year} is outside the simulated years {start.year}-{d['horizon']}")
        bypass = base.bypass if base is not None else tuple(d.get("bypass", []))
        benchmark = self._benchmark(stages, bypass, start.year) if "benchmark" in d else None
        sens = d.get("sensitivity", {})
        sens_year = sens.get("year")
        if sens_year is not None and not start.year <= sens_year <= d["horizon"]:
            w.add(("sensitivity", "year"), f"year {sens_year} is outside the simulated years")
        metrics = tuple(sens.get("metrics", ["ratio"]))
        if any(m.startswith("impact") for m in metrics) and impact is None:
            w.add(("sensitivity", "metrics"), "impact metrics need an impact: section")
        if "benchmark" in metrics and "benchmark" not in d:
            w.add(("sensitivity", "metrics"), "the benchmark metric needs a benchmark: section")
        if not any(p.in_chain for p in projects):
            w.add(("projects",), "the scenario has no chain projects (inline, or from base:)")
        if w.col.problems:
            return None
        scenario = Scenario(
            name=d["name"], title=d.get("title", d["name"]), description=d.get("description", ""),
            start_date=start, horizon=int(d["horizon"]), consumer=d["consumer"], unit=d["unit"],
            excluded=excluded, stages=stages, links=links, demand=demand,
            projects=tuple(projects), hazards=hazards, policies=policies, impact=impact, targets=targets,
            benchmark=benchmark, sensitivity_year=sens_year, sensitivity_scenarios=int(sens.get("scenarios", 5_000)),
            file=self.file, notes=tuple(self.notes), bypass=bypass, commodity=self.commodity, base=base is not None,
            present=self.present,
            sensitivity_metrics=metrics,
        )
        self._check_network(scenario)
        return scenario

    # -- the evidence base's network -----------------------------------------------------------------
    def _base(self, excluded: tuple[str, ...]) -> _Base | None:
        from orechain.analytics.errors import AnalyticsInputError
        from orechain.analytics.network import build_network, independent_capacity

        raw, w = self.d["base"], self.w
        if self.fac is None or self.fac.empty:
            w.add(("base",), "base: needs the evidence base (open a database); it has no facilities")
            return None
        commodity = str(raw["commodity"])
        f = self.fac[self.fac["commodity"] == commodity]
        if f.empty:
            w.add(("base", "commodity"), f"the evidence base has no {commodity!r} facility")
            return None
        statuses = tuple(raw.get("statuses", ALL_BUT_CLOSED))
        f = f[f["status"].isin(statuses)].drop(columns=["basis_factor"], errors="ignore")
        links = links_of(self.fac)
        ids = set(f["id"])

        def linked(frame_ids: set[str]) -> pd.DataFrame:
            if links.empty:
                return links
            return links[links["upstream"].isin(frame_ids) & links["downstream"].isin(frame_ids)]

        try:
            net = build_network(f, linked(ids), commodity=commodity)
            producing = f[f["status"].isin(PRODUCING)]
            now = build_network(producing, linked(set(producing["id"])), commodity=commodity)
            cap = independent_capacity(now, excluded) if now.size else None  # nothing producing: no check
        except AnalyticsInputError as exc:
            for problem in exc.problems:
                w.add(("base",), f"the evidence base's network: {problem}")
            return None
        if unit_key(self.d["unit"]) != unit_key(net.basis):
            w.add(("unit",), f"with base: the unit is the analytics basis {net.basis + '/yr'!r}, "
                             f"not {self.d['unit']!r}")
        if cap is not None:
            self.present = PresentDay(float(cap.value), float(cap.value_upper), cap.bottleneck_stage,
                                      tuple(str(x) for x in cap.missing["id"]), len(now.aggregated))
        rows: dict[str, dict[str, Any]] = {}
        for r in net.facilities.to_dict(orient="records"):
            src = self.fac_by_id[str(r["id"])]
            rows[str(r["id"])] = {
                "id": r["id"], "name": src.get("name"), "stage": r["stage"], "country": r["host"],
                "controlled_by": r["controller"], "region": src.get("region"),
                "capacity": float(r["capacity"]) if r["capacity_known"] else None, "capacity_unit": self.d["unit"],
                "status": src.get("status"), "source_id": src.get("capacity_source_id") or src.get("source_id"),
                "capacity_from": src.get("capacity_from"),
            }
        agg = dict(zip(net.aggregated["id"], net.aggregated["aggregate"], strict=True))
        if agg:
            self.notes.append(f"{len(agg)} plant rows are counted through national aggregates, not on their own: "
                              + ", ".join(f"{a} ({n})" for a, n in pd.Series(agg).value_counts().sort_index().items()))
        return _Base(net.stages, net.bypass, rows, net.links[["upstream", "downstream", "share"]], agg,
                     float(raw.get("ramp_years", DEFAULT_RAMP_YEARS)))

    # -- projects ------------------------------------------------------------------------------------
    def _projects(self, stages: tuple[str, ...], conv: Conversions, start: dt.date,
                  base: _Base | None) -> list[Project]:
        w = self.w
        overrides: dict[str, tuple[Mapping[str, Any], Path_]] = {}
        rest: list[tuple[Mapping[str, Any], Path_, dict[str, Any]]] = []
        for i, raw in enumerate(self.d.get("projects", [])):
            path: Path_ = ("projects", i)
            fid = raw.get("facility")
            if fid is not None and base is not None and fid in base.aggregated:
                w.add((*path, "facility"), f"facility {fid!r} is counted through the national aggregate "
                                           f"{base.aggregated[fid]!r}; refer to the aggregate")
            elif fid is not None and base is not None and fid in base.rows:
                if raw["id"] != fid:
                    w.add((*path, "id"), f"a project that sets a base facility's parameters keeps its id: id: {fid}")
                overrides[fid] = (raw, path)
            elif fid is not None:
                if fid not in self.fac_by_id:
                    hint = ("the evidence base has no facilities loaded" if not self.fac_by_id
                            else "see `orechain query facilities`")
                    w.add((*path, "facility"), f"unknown facility {fid!r} ({hint})")
                    continue
                rest.append((raw, path, self.fac_by_id[fid]))
            else:
                rest.append((raw, path, {}))
        out: list[Project] = []
        if base is not None:
            for fid, row in base.rows.items():
                raw, path = overrides.get(fid, ({"id": fid}, ("base",)))
                p = self._project(raw, row, path, stages, conv, start, base.ramp_years, evidence=True)
                if p is not None:
                    out.append(p)
            missing = sorted(p.id for p in out if not p.capacity_known)
            if missing:
                self.notes.append(f"{len(missing)} facilities of the base network have no capacity in the evidence "
                                  "base nor in the scenario and count 0 (the lower bound, as in `orechain trace`): "
                                  + ", ".join(missing))
        for raw, path, row in rest:
            copies = int(raw.get("copies", 1))
            for k in range(1, copies + 1):
                one = dict(raw)
                if copies > 1:
                    one["id"] = f"{raw['id']}-{k:02d}"
                    one["name"] = f"{raw.get('name', raw['id'])} #{k}"
                p = self._project(one, row, path, stages, conv, start, DEFAULT_RAMP_YEARS,
                                  group=str(raw["id"]) if copies > 1 else None)
                if p is not None:
                    out.append(p)
        return out

    def _project(self, raw: Mapping[str, Any], base: Mapping[str, Any], path: Path_, stages: tuple[str, ...],
                 conv: Conversions, start: dt.date, ramp_years: float = DEFAULT_RAMP_YEARS, *,
                 evidence: bool = False, group: str | None = None) -> Project | None:
        w = self.w

        def get(key: str, base_key: str | None = None) -> Any:
            if key in raw:
                return raw[key]
            v = base.get(base_key or key)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        in_chain = bool(raw.get("in_chain", True))
        needed = ["stage", "status", "country"] + (["capacity"] if in_chain and not evidence else [])
        missing = [k for k in needed if get(k) is None]
        if missing:
            src = f"facility {base['id']!r} in the evidence base" if base else "the project"
            w.add(path, f"{src} gives no {', '.join(missing)}; add it to the project")
            return None
        stage = str(get("stage"))
        if in_chain and stage not in stages and stage != "recycling":
            w.add((*path, "stage"), f"stage {stage!r} is not one of the scenario's stages {list(stages)}")
        cap_raw = get("capacity")
        known = cap_raw is not None
        capacity = _dist(cap_raw, w, (*path, "capacity")) if known else Dist.fixed(0.0 if in_chain else 1.0)
        unit = raw.get("capacity_unit") if "capacity" in raw else base.get("capacity_unit")
        factor = 1.0
        if not in_chain:
            unit = (unit or self.d["unit"]) if known else "share of nameplate"
        elif known and unit is not None and unit != self.d["unit"]:
            key = (stage, unit) if (stage, unit) in conv else (None, unit)
            shared = base.get("basis_unit") == self.d["unit"] and "capacity" not in raw
            if key in conv:
                factor = conv[key]
            elif (stage, unit_key(unit)) in self.factors:
                factor = self.factors[(stage, unit_key(unit))]  # the analytics' shared factor (chain_basis.csv)
            elif shared and not math.isnan(float(base.get("basis_factor", math.nan))):
                factor = float(base["basis_factor"])
            else:
                w.add((*path, "capacity_unit"), f"capacity unit {unit!r} at stage {stage!r} has no entry under "
                                                f"conversions: add its factor to {self.d['unit']!r}")
        status = str(get("status"))
        scale = float(raw.get("gate_scale", 1.0))
        pscale = float(raw.get("p_fail_scale", 1.0))
        if "gates" in raw:
            gates = tuple(Gate(str(g["name"]), _dist(g["duration"], w, (*path, "gates", j, "duration")),
                               float(g.get("p_fail", 0.0))) for j, g in enumerate(raw["gates"]))
        elif status in PRODUCING or status == "closed":
            gates = ()
        else:
            gate_status = "financed" if status == "suspended" else status
            route = "mine" if stage == "mining" else "plant"
            gates = tuple(Gate(g.name, g.duration.scaled(scale), g.p_fail * pscale)
                          for g in default_gates(route, gate_status))
        for g in gates:
            if g.p_fail > 1:
                w.add((*path, "p_fail_scale"), f"gate {g.name!r}: failure probability {g.p_fail:g} is above 1")
        controlled = get("controlled_by") or get("country")
        cost = raw.get("cost")
        growth = _dist(raw["growth"], w, (*path, "growth")) if "growth" in raw else None
        return Project(
            id=str(raw.get("id", base.get("id"))), name=str(get("name") or raw.get("id") or base.get("id")),
            stage=stage, country=str(get("country")), controlled_by=str(controlled), region=get("region"),
            capacity=capacity.scaled(factor), status=status, gates=gates, ramp=ramp_curve(raw.get("ramp"), ramp_years),
            earliest=float(raw["earliest"]) if "earliest" in raw else None,
            until=float(raw["until"]) if "until" in raw else None, in_chain=in_chain,
            facility=base.get("id"), cost=f"{cost['value']:g} {cost['unit']}" if cost else None,
            source=raw.get("source") or base.get("source_id"),
            quality=raw.get("quality") or ("assumption" if not known and in_chain else None),
            unit=str(unit) if not in_chain else self.d["unit"], evidence=evidence, capacity_known=known,
            requires=tuple(raw.get("requires", [])), growth=growth, group=group,
        )

    # -- network -------------------------------------------------------------------------------------
    def _links(self, projects: Sequence[Project], base: _Base | None) -> tuple[Link, ...]:
        known = {p.id for p in projects if p.in_chain}
        groups: dict[str, list[str]] = {}
        for p in projects:
            if p.group is not None and p.in_chain:
                groups.setdefault(p.group, []).append(p.id)
        out: list[Link] = []
        if base is not None:
            shares = pd.to_numeric(base.links["share"], errors="coerce")
            for a, b, sh in zip(base.links["upstream"], base.links["downstream"], shares, strict=True):
                out.append(Link(str(a), str(b), None if math.isnan(sh) else float(sh), None, declared=False))
        raw = self.d.get("links", [])
        if raw == "complete":
            raw = []  # no known link: every facility uses the open markets, i.e. stage-complete
        for i, link in enumerate(raw):
            ends: list[list[str]] = []
            for end in ("from", "to"):
                names = groups.get(link[end]) or ([link[end]] if link[end] in known else [])
                if not names:
                    self.w.add(("links", i, end), f"unknown project {link[end]!r} (not a chain project)")
                ends.append(names)
            cap = _dist(link["capacity"], self.w, ("links", i, "capacity")) if "capacity" in link else None
            for a in ends[0]:
                for b in ends[1]:
                    out.append(Link(a, b, float(link["share"]) if "share" in link else None, cap, declared=True))
        cycle = find_cycle([(lk.upstream, lk.downstream) for lk in out])
        if cycle:
            self.w.add(("links",), "the allowed links form a cycle: " + " -> ".join(cycle))
        return tuple(out)

    def _requires(self, projects: Sequence[Project]) -> None:
        ids = {p.id for p in projects}
        edges = []
        for p in projects:
            for r in p.requires:
                if r not in ids:
                    self.w.add(("projects",), f"project {p.id!r} requires unknown project {r!r}")
                edges.append((r, p.id))
        cycle = find_cycle(edges)
        if cycle:
            self.w.add(("projects",), "requires: forms a cycle: " + " -> ".join(cycle))

    def _check_network(self, s: Scenario) -> None:
        """Build the flow network once, so a network that cannot be simulated is refused here, with reasons."""
        from orechain.analytics.errors import AnalyticsInputError
        from orechain.scenarios.network import chain_graph

        try:
            chain_graph(s)
        except AnalyticsInputError as exc:
            for problem in exc.problems:
                self.w.add(("links",), problem)
        except ValueError as exc:
            self.w.add(("links",), str(exc))

    # -- demand, policy, impact, benchmark -----------------------------------------------------------
    def _demand(self) -> Demand:
        raw = self.d["demand"]
        if raw["target_year"] <= raw["base_year"]:
            self.w.add(("demand", "target_year"), "target_year must be after base_year")
        target = _dist(raw["target"], self.w, ("demand", "target"))
        if target.support()[0] <= 0:
            self.w.add(("demand", "target"), "the demand target must be above 0")
        return Demand(int(raw["base_year"]), float(raw["base"]), int(raw["target_year"]), target,
                      float(raw.get("factor", 1.0)))

    def _policies(self, ids: set[str], stages: tuple[str, ...]) -> Iterator[Policy]:
        for i, raw in enumerate(self.d.get("policies", [])):
            path: Path_ = ("policies", i)
            start = _date(raw["start"], self.w, (*path, "start"))
            end = _date(raw["end"], self.w, (*path, "end")) if "end" in raw else None
            susp = (_date(raw["suspended_until"], self.w, (*path, "suspended_until"))
                    if "suspended_until" in raw else None)
            if end is not None and end <= start:
                self.w.add((*path, "end"), "end is not after start")
            if susp is not None and susp <= start:
                self.w.add((*path, "suspended_until"), "suspended_until is not after start")
            if ("p_resume" in raw) != (susp is not None):
                self.w.add(path, "p_resume and suspended_until go together")
            for j, pid in enumerate(raw.get("projects", [])):
                if pid not in ids:
                    self.w.add((*path, "projects", j), f"unknown project {pid!r}")
            for j, st in enumerate(raw.get("stages", [])):
                if st not in stages:
                    self.w.add((*path, "stages", j), f"stage {st!r} is not one of {list(stages)}")
            cf = _dist(raw.get("capacity_factor", 1.0), self.w, (*path, "capacity_factor"), upper=1.0)
            yield Policy(
                id=raw["id"], name=raw.get("name", raw["id"]), start=decimal_year(start),
                end=decimal_year(end) if end else None, suspended_until=decimal_year(susp) if susp else None,
                p_resume=float(raw.get("p_resume", 1.0)), stages=tuple(raw.get("stages", [])),
                projects=tuple(raw.get("projects", [])),
                exempt_controlled_by=tuple(raw.get("exempt_controlled_by", [])),
                capacity_factor=cf, delay=_dist(raw.get("delay", 0.0), self.w, (*path, "delay")),
                event=raw.get("event"),
            )

    def _impact(self, projects: Sequence[Project]) -> Impact:
        raw = self.d["impact"]
        chain = [p for p in projects if p.in_chain]
        ids = {p.id for p in chain}
        groups = {p.group for p in chain if p.group}
        chosen: list[str] = []
        for j, pid in enumerate(raw.get("projects", [])):
            if pid in groups:
                chosen += [p.id for p in chain if p.group == pid]
            elif pid in ids:
                chosen.append(pid)
            else:
                self.w.add(("impact", "projects", j), f"unknown chain project {pid!r}")
        countries, statuses = raw.get("countries"), raw.get("statuses")
        if countries is not None or statuses is not None:
            chosen += [p.id for p in chain if (countries is None or p.country in countries)
                       and (statuses is None or p.status in statuses) and p.id not in chosen]
        if not chosen:
            self.w.add(("impact",), "impact names no chain project (give projects:, countries: or statuses:)")
        return Impact(str(raw.get("name", "impact chain")), tuple(chosen), float(raw["threshold"]))

    def _benchmark(self, stages: tuple[str, ...], bypass: tuple[str, ...], first_year: int) -> Benchmark:
        raw = self.d["benchmark"]
        covered = tuple(raw.get("stages", [st for st in stages if st not in bypass]))
        for i, st in enumerate(covered):
            if st not in stages:
                self.w.add(("benchmark", "stages", i), f"stage {st!r} is not one of {list(stages)}")
        base = []
        for i, b in enumerate(raw.get("baseline", [])):
            if b["stage"] not in stages:
                self.w.add(("benchmark", "baseline", i, "stage"), f"stage {b['stage']!r} is not one of {list(stages)}")
            base.append(BaselineCapacity(b["stage"], b["country"], float(b["share"]), float(b.get("growth", 0.0))))
        if not first_year <= raw["year"] <= self.d["horizon"]:
            self.w.add(("benchmark", "year"), f"year {raw['year']} is outside the simulated years")
        return Benchmark(str(raw.get("name", "single-country share")), float(raw["threshold"]), int(raw["year"]),
                         tuple(raw["members"]), tuple(base), covered)


def find_cycle(edges: Sequence[tuple[str, str]]) -> list[str]:
    """A cycle in the directed graph ``edges`` as a closed list of nodes, or [] when it has none."""
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    colour = dict.fromkeys(graph, 0)
    stack_path: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = 1
        stack_path.append(node)
        for nxt in graph[node]:
            if colour[nxt] == 1:
                return [*stack_path[stack_path.index(nxt):], nxt]
            if colour[nxt] == 0:
                found = visit(nxt)
                if found:
                    return found
        stack_path.pop()
        colour[node] = 2
        return []

    for n in sorted(graph):
        if colour[n] == 0:
            found = visit(n)
            if found:
                return found
    return []
