"""The editable assumptions of a scenario YAML, as form fields for the dashboard's scenario page.

:func:`scenario_fields` walks the YAML's nodes and returns one :class:`FormField` per number (and per project
status and policy date) that a run depends on: project capacities, gate durations and failure probabilities,
start years, hazards, policy probabilities and durations, demand, targets and thresholds. Each field carries what
the published JSON schema says of it (type, minimum and maximum, description), a label and a unit, the dotted
path the API's validation errors name (``projects[3].capacity.mode``), a stable reference for comparing two
versions of a scenario (list items by their id: ``projects[pk-ree-mine].capacity.mode``), and where its value
sits in the text (UTF-16 offsets, as JavaScript counts), so the page can change a value without rewriting the
rest of the YAML (comments, sources and notes stay as they are).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import yaml

__all__ = ["FormField", "scenario_fields"]

Path_ = tuple[str | int, ...]

_SKIP = {"sensitivity", "note", "source", "quality", "name", "title", "description", "id", "facility", "event",
         "region", "country", "controlled_by", "stage", "capacity_unit", "unit", "commodity", "consumer", "from",
         "to", "exclusions", "dist", "in_chain", "cost"}
_DATES = {"start", "end", "suspended_until"}
_NICE = {"p_fail": "failure probability", "p_resume": "probability the measures resume", "rate": "incident rate",
         "outage": "outage per incident", "earliest": "earliest start", "until": "no capacity after",
         "capacity_factor": "share of capacity kept while in force", "delay": "delay to plants being built",
         "suspended_until": "suspended until", "gate_scale": "gate duration multiplier",
         "p_fail_scale": "failure probability multiplier", "copies": "number of copies", "base": "base",
         "target": "target", "target_year": "target year", "base_year": "base year", "ramp_years": "ramp-up years",
         "threshold": "threshold", "value": "value", "year": "year", "horizon": "last simulated year",
         "share": "share of the downstream's capacity", "factor": "conversion factor", "growth": "growth",
         "status": "status now", "start": "start", "end": "end", "years": "ramp-up years", "ramp": ""}
_DIST_PART = {"min": "min", "mode": "mode", "max": "max", "mean": "mean", "sd": "standard deviation"}
_YEARS = {"duration", "outage", "delay", "years", "ramp_years"}
_SHARE = {"p_fail", "p_resume", "share", "capacity_factor", "curve"}


@dataclass(frozen=True)
class FormField:
    key: str  # the dotted path, as the API's validation errors name it
    ref: str  # list items by id: stable when items are added or moved
    group: str
    label: str
    unit: str | None
    kind: str  # number, integer, date, enum
    value: Any
    minimum: float | None
    maximum: float | None
    exclusive_minimum: float | None
    exclusive_maximum: float | None
    options: tuple[str, ...] | None
    help: str | None
    line: int
    start: int  # offsets of the value's text (with its quotes) in UTF-16 code units
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Schema:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, s: Mapping[str, Any]) -> Mapping[str, Any]:
        while "$ref" in s:
            extra = {k: v for k, v in s.items() if k != "$ref"}
            s = {**self.root["$defs"][s["$ref"].rsplit("/", 1)[-1]], **extra}
        return s

    def child(self, s: Mapping[str, Any] | None, key: str | int) -> Mapping[str, Any] | None:
        if s is None:
            return None
        s = self.resolve(s)
        for branch in s.get("oneOf", []) + s.get("anyOf", []):
            found = self.child(branch, key)
            if found is not None:
                return found
        if isinstance(key, int):
            items = s.get("items")
            return items if isinstance(items, Mapping) else None
        props = s.get("properties", {})
        return props.get(key) if isinstance(props, Mapping) else None

    def leaf(self, s: Mapping[str, Any] | None, value: Any) -> Mapping[str, Any]:
        """The branch of ``s`` that describes a scalar ``value`` (a number, not a distribution object)."""
        if s is None:
            return {}
        s = self.resolve(s)
        for branch in s.get("oneOf", []) + s.get("anyOf", []):
            b = self.resolve(branch)
            if isinstance(value, (int, float)) and b.get("type") in ("number", "integer"):
                return {**b, "description": s.get("description", b.get("description"))}
        return s


def _utf16(text: str) -> Any:
    if all(ord(c) <= 0xFFFF for c in text):
        return lambda i: i
    prefix = [0]
    for c in text:
        prefix.append(prefix[-1] + (2 if ord(c) > 0xFFFF else 1))
    return lambda i: prefix[i]


def _scalars(node: yaml.Node, path: Path_) -> Iterator[tuple[Path_, yaml.ScalarNode]]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value not in _SKIP:
                yield from _scalars(v, (*path, k.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _scalars(item, (*path, i))
    elif isinstance(node, yaml.ScalarNode):
        yield path, node


def _item_name(section: str, item: Any, i: int) -> str:
    if not isinstance(item, Mapping):
        return str(i)
    if section == "links":
        return f"{item.get('from')}->{item.get('to')}"
    for k in ("id", "region", "name", "unit"):
        if isinstance(item.get(k), str):
            return str(item[k])
    return str(i)


def _group(data: Mapping[str, Any], path: Path_) -> tuple[str, Path_]:
    """A heading for the field's part of the scenario, and the path with list items named by id."""
    head = path[0]
    if len(path) > 1 and isinstance(path[1], int) and isinstance(data.get(str(head)), list):
        item = data[str(head)][path[1]]
        name = _item_name(str(head), item, path[1])
        title = {"projects": "Project", "hazards": "Hazard", "policies": "Policy", "links": "Link",
                 "targets": "Target", "conversions": "Conversion"}.get(str(head), str(head))
        key: str | int = path[1] if head == "targets" or name == str(path[1]) else name
        shown = str(path[1] + 1) if head == "targets" else name
        if head == "projects" and isinstance(item, Mapping) and isinstance(item.get("name"), str):
            shown = f"{name} ({item['name']})"
        return f"{title} {shown}", (head, key, *path[2:])
    sections = {"demand": "Demand", "impact": "Time to impact", "benchmark": "Benchmark", "base": "Evidence base"}
    return sections.get(str(head), "Scenario"), path


def _label(data: Mapping[str, Any], path: Path_) -> str:
    rest = list(path[2:] if len(path) > 1 and isinstance(path[1], int) else path[1:] if len(path) > 1 else path)
    words: list[str] = []
    i = 0
    while i < len(rest):
        part = rest[i]
        nxt = rest[i + 1] if i + 1 < len(rest) else None
        if part == "gates" and isinstance(nxt, int):
            gates = _get(data, path[: len(path) - len(rest) + i + 1])
            gate = gates[nxt] if isinstance(gates, list) and isinstance(gates[nxt], Mapping) else {}
            words.append(f"gate {nxt + 1} {gate.get('name', '')}".strip() + ":")
            i += 2
            continue
        if isinstance(part, int):
            words.append(f"year {part + 1}" if rest[i - 1:i] == ["curve"] else f"#{part + 1}")
        elif part in _DIST_PART and i == len(rest) - 1 and i > 0:
            words.append(f"({_DIST_PART[part]})")
        elif part != "curve" or i == len(rest) - 1:
            words.append(_NICE.get(str(part), str(part).replace("_", " ")))
        i += 1
    words = [w for w in words if w]
    return " ".join(words) if words else _NICE.get(str(path[-1]), str(path[-1]))


def _get(data: Any, path: Sequence[str | int]) -> Any:
    for p in path:
        data = data[p]
    return data


def _unit(data: Mapping[str, Any], path: Path_) -> str | None:
    names = [p for p in path if isinstance(p, str)]
    prop = names[-1]
    if prop in _DIST_PART and len(names) > 1:
        prop = names[-2]
    if prop in _YEARS or (prop == "years" and "ramp" in names):
        return "years"
    if prop in _SHARE or (path[0] == "benchmark" and prop == "threshold"):
        return "0-1"
    if prop in ("earliest", "until"):
        return "decimal year"
    if prop in ("year", "target_year", "base_year", "horizon"):
        return "year"
    if prop == "rate":
        return "per year"
    if prop == "growth":
        return "per year, 0.05 = 5%"
    if prop in ("gate_scale", "p_fail_scale", "factor"):
        return "x"
    if prop == "copies":
        return None
    if prop in ("capacity", "base", "target", "threshold", "value"):
        unit = data.get("unit")
        if path[0] == "projects" and isinstance(path[1], int):
            project = data["projects"][path[1]]
            unit = project.get("capacity_unit", unit) if isinstance(project, Mapping) else unit
        return str(unit) if unit else None
    return None


def scenario_fields(text: str, schema: Mapping[str, Any],
                    parsed: tuple[yaml.Node | None, Any] | None = None) -> list[FormField]:
    """The form fields of the scenario ``text`` (a YAML mapping; raises ``yaml.YAMLError`` when it is not YAML).
    ``parsed``: the text's node tree and the values built from it, when the caller has already parsed it (it is
    not changed)."""
    if parsed is None:
        parsed = yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    node, data = parsed
    if node is None or not isinstance(data, dict):
        return []
    sch = _Schema(schema)
    at16 = _utf16(text)
    out: list[FormField] = []
    for path, scalar in _scalars(node, ()):
        value = _get(data, path)
        s: Mapping[str, Any] | None = schema
        for p in path:
            s = sch.child(s, p)
        leaf = sch.leaf(s, value)
        prop = next((p for p in reversed(path) if isinstance(p, str)), "")
        if isinstance(value, bool) or leaf.get("type") == "boolean":
            continue
        if isinstance(value, (int, float)):
            kind = "integer" if leaf.get("type") == "integer" else "number"
        elif prop in _DATES and isinstance(value, str) and "pattern" in leaf:
            kind = "date"
        elif prop == "status" and "enum" in leaf:
            kind = "enum"
        else:
            continue
        group, ref = _group(data, path)
        out.append(FormField(
            key=_dotted(path), ref=_dotted(ref), group=group, label=_label(data, path), unit=_unit(data, path),
            kind=kind, value=value, minimum=leaf.get("minimum"), maximum=leaf.get("maximum"),
            exclusive_minimum=leaf.get("exclusiveMinimum"), exclusive_maximum=leaf.get("exclusiveMaximum"),
            options=tuple(leaf["enum"]) if kind == "enum" else None,
            help=(s or {}).get("description") or leaf.get("description"), line=scalar.start_mark.line + 1,
            start=at16(scalar.start_mark.index), end=at16(scalar.end_mark.index)))
    return out
