"""Scenario files: YAML validated against the published JSON schema, turned into a typed :class:`Scenario`.

``scenario.schema.json`` (beside this module) is the published schema. Loading goes: YAML (every node's line
kept) -> JSON-schema validation -> semantic checks (triangular bounds in order, years in order, unknown
facilities, unknown stages, links that form a cycle, ...) -> typed records. Every problem found is reported
at once, each with file, line and field, and nothing is simulated until the file is clean.

Projects come inline, from the evidence base by ``facility:`` id (the facility's stage, capacity, status,
region and controlling country fill what the project does not say), or by ``select:`` rules over the
evidence base. The evidence base arrives here as a plain :class:`pandas.DataFrame` (see
:mod:`orechain.scenarios.evidence`), so this module does no I/O beyond reading the scenario file.
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
from orechain.scenarios.sampling import Dist

__all__ = [
    "DEFAULT_STAGES",
    "BaselineCapacity",
    "Benchmark",
    "Demand",
    "Gate",
    "Hazard",
    "Impact",
    "Policy",
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
    links: tuple[tuple[str, str], ...] | None
    demand: Demand
    projects: tuple[Project, ...]
    hazards: tuple[Hazard, ...] = ()
    policies: tuple[Policy, ...] = ()
    impact: Impact | None = None
    targets: tuple[tuple[float, int], ...] = ()
    benchmark: Benchmark | None = None
    sensitivity_year: int | None = None
    sensitivity_scenarios: int = 20_000
    file: str = "<scenario>"
    notes: tuple[str, ...] = field(default=())

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

    def line(self, path: Sequence[str | int]) -> int | None:
        p = tuple(path)
        while p not in self.lines and p:
            p = p[:-1]
        return self.lines.get(p)

    def add(self, path: Sequence[str | int], message: str) -> None:
        self.col.add(self.line(path), _dotted(path), message)


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
    it is needed only when the scenario names a ``facility:`` or has ``select:`` rules. Raises
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

    def build(self) -> Scenario | None:
        d, w = self.d, self.w
        start = _date(d["start"], w, ("start",))
        if d["horizon"] < start.year:
            w.add(("horizon",), f"horizon {d['horizon']} is before the start year {start.year}")
        stages = tuple(d.get("stages", DEFAULT_STAGES))
        conversions = {(c.get("stage"), c["unit"]): float(c["factor"]) for c in d.get("conversions", [])}
        self.notes: list[str] = []
        projects = list(self._inline_projects(stages, conversions, start))
        projects += list(self._selected_projects(stages, conversions, {p.id for p in projects}, start))
        ids = [p.id for p in projects]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            w.add(("projects",), f"project id {dup!r} appears more than once")
        links = self._links(projects, stages)
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
        benchmark = self._benchmark(stages, start.year) if "benchmark" in d else None
        sens = d.get("sensitivity", {})
        sens_year = sens.get("year")
        if sens_year is not None and not start.year <= sens_year <= d["horizon"]:
            w.add(("sensitivity", "year"), f"year {sens_year} is outside the simulated years")
        if not projects:
            w.add(("projects",), "the scenario has no projects (inline or selected)")
        if w.col.problems:
            return None
        return Scenario(
            name=d["name"], title=d.get("title", d["name"]), description=d.get("description", ""),
            start_date=start, horizon=int(d["horizon"]), consumer=d["consumer"], unit=d["unit"],
            excluded=tuple(d.get("exclusions", {}).get("countries", [])), stages=stages, links=links, demand=demand,
            projects=tuple(projects), hazards=hazards, policies=policies, impact=impact, targets=targets,
            benchmark=benchmark, sensitivity_year=sens_year, sensitivity_scenarios=int(sens.get("scenarios", 20_000)),
            file=self.file, notes=tuple(self.notes),
        )

    # -- projects ------------------------------------------------------------------------------------
    def _inline_projects(self, stages: tuple[str, ...], conv: Conversions,
                         start: dt.date) -> Iterator[Project]:
        for i, raw in enumerate(self.d.get("projects", [])):
            path: Path_ = ("projects", i)
            base: dict[str, Any] = {}
            if "facility" in raw:
                fid = raw["facility"]
                if fid not in self.fac_by_id:
                    hint = ("the evidence base has no facilities loaded" if not self.fac_by_id
                            else "see `orechain query facilities`")
                    self.w.add((*path, "facility"), f"unknown facility {fid!r} ({hint})")
                    continue
                base = self.fac_by_id[fid]
            project = self._project(raw, base, path, stages, conv, start)
            if project is not None:
                yield project

    def _project(self, raw: Mapping[str, Any], base: Mapping[str, Any], path: Path_, stages: tuple[str, ...],
                 conv: Conversions, start: dt.date, ramp_years: float = DEFAULT_RAMP_YEARS) -> Project | None:
        w = self.w

        def get(key: str, base_key: str | None = None) -> Any:
            if key in raw:
                return raw[key]
            v = base.get(base_key or key)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else v

        in_chain = bool(raw.get("in_chain", True))
        needed = ("stage", "capacity", "status", "country") if in_chain else ("stage", "status", "country")
        missing = [k for k in needed if get(k) is None]
        if missing:
            src = f"facility {base['id']!r} in the evidence base" if base else "the project"
            w.add(path, f"{src} gives no {', '.join(missing)}; add it to the project")
            return None
        stage = str(get("stage"))
        if in_chain and stage not in stages:
            w.add((*path, "stage"), f"stage {stage!r} is not one of the scenario's stages {list(stages)}")
        cap_raw = get("capacity")
        capacity = _dist(cap_raw, w, (*path, "capacity")) if cap_raw is not None else Dist.fixed(1.0)
        unit = raw.get("capacity_unit") if "capacity" in raw else base.get("capacity_unit")
        factor = 1.0
        if cap_raw is None:
            unit = "share of nameplate"
        elif not in_chain:
            unit = unit or self.d["unit"]
        elif unit is not None and unit != self.d["unit"]:
            key = (stage, unit) if (stage, unit) in conv else (None, unit)
            shared = "capacity" not in raw and base.get("basis_unit") == self.d["unit"]
            if key in conv:
                factor = conv[key]
            elif shared and not math.isnan(float(base.get("basis_factor", math.nan))):
                factor = float(base["basis_factor"])  # the analytics' shared factor (chain_basis.csv)
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
        return Project(
            id=str(raw.get("id", base.get("id"))), name=str(get("name") or raw.get("id") or base.get("id")),
            stage=stage, country=str(get("country")), controlled_by=str(controlled), region=get("region"),
            capacity=capacity.scaled(factor), status=status, gates=gates, ramp=ramp_curve(raw.get("ramp"), ramp_years),
            earliest=float(raw["earliest"]) if "earliest" in raw else None,
            until=float(raw["until"]) if "until" in raw else None, in_chain=in_chain,
            facility=base.get("id"), cost=f"{cost['value']:g} {cost['unit']}" if cost else None,
            source=raw.get("source") or base.get("source_id"), quality=raw.get("quality"),
            unit=str(unit) if not in_chain else self.d["unit"],
        )

    def _selected_projects(self, stages: tuple[str, ...], conv: Conversions, taken: set[str],
                           start: dt.date) -> Iterator[Project]:
        rules = self.d.get("select", [])
        if rules and self.fac is None:
            self.w.add(("select",), "select: rules need the evidence base (open a database)")
            return
        if not rules or self.fac is None:
            return
        seen = set(taken)
        for i, rule in enumerate(rules):
            df = self.fac
            if "stages" in rule:
                df = df[df["stage"].isin(rule["stages"])]
            if "commodity" in rule:
                df = df[df["commodity"] == rule["commodity"]]
            if "countries" in rule:
                df = df[df["country"].isin(rule["countries"])]
            if "exclude_controlled_by" in rule:
                df = df[~df["controlled_by"].isin(rule["exclude_controlled_by"])]
            if "statuses" in rule:
                df = df[df["status"].isin(rule["statuses"])]
            if df.empty:
                self.w.add(("select", i), "this rule selects no facility in the evidence base")
            no_cap = sorted(str(x) for x in df[df["capacity"].isna()]["id"] if x not in seen)
            if no_cap:
                self.notes.append(f"select rule {i + 1}: {len(no_cap)} selected facilities have no capacity in the "
                                  f"evidence base and are left out: {', '.join(no_cap)}")
            for row in df[df["capacity"].notna()].to_dict(orient="records"):
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
                p = self._project({"id": row["id"]}, {str(k): v for k, v in row.items()}, ("select", i), stages,
                                  conv, start,
                                  float(rule.get("ramp_years", DEFAULT_RAMP_YEARS)))
                if p is not None:
                    yield p

    # -- network -------------------------------------------------------------------------------------
    def _links(self, projects: Sequence[Project], stages: tuple[str, ...]) -> tuple[tuple[str, str], ...] | None:
        raw = self.d.get("links", "complete")
        if raw == "complete":
            return None
        known = {p.id: p for p in projects if p.in_chain}
        out: list[tuple[str, str]] = []
        for i, link in enumerate(raw):
            ok = True
            for end in ("from", "to"):
                if link[end] not in known:
                    self.w.add(("links", i, end), f"unknown project {link[end]!r} (not a chain project)")
                    ok = False
            if ok:
                out.append((link["from"], link["to"]))
        cycle = find_cycle(out)
        if cycle:
            self.w.add(("links",), "the allowed links form a cycle: " + " -> ".join(cycle))
        return tuple(out)

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
        ids = {p.id for p in projects if p.in_chain}
        chosen = [pid for pid in raw.get("projects", [])]
        for j, pid in enumerate(chosen):
            if pid not in ids:
                self.w.add(("impact", "projects", j), f"unknown chain project {pid!r}")
        countries = set(raw.get("countries", []))
        chosen += [p.id for p in projects if p.in_chain and p.country in countries and p.id not in chosen]
        if not chosen:
            self.w.add(("impact",), "impact names no chain project (give projects: or countries:)")
        return Impact(str(raw.get("name", "impact chain")), tuple(chosen), float(raw["threshold"]))

    def _benchmark(self, stages: tuple[str, ...], first_year: int) -> Benchmark:
        raw = self.d["benchmark"]
        base = []
        for i, b in enumerate(raw["baseline"]):
            if b["stage"] not in stages:
                self.w.add(("benchmark", "baseline", i, "stage"), f"stage {b['stage']!r} is not one of {list(stages)}")
            base.append(BaselineCapacity(b["stage"], b["country"], float(b["share"]), float(b.get("growth", 0.0))))
        if not first_year <= raw["year"] <= self.d["horizon"]:
            self.w.add(("benchmark", "year"), f"year {raw['year']} is outside the simulated years")
        return Benchmark(str(raw.get("name", "single-country share")), float(raw["threshold"]), int(raw["year"]),
                         tuple(raw["members"]), tuple(base))


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
