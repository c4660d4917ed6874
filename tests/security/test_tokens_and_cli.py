"""Users and tokens: hashed at rest, checked in constant time, revocable; the `orechain users` commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from orechain.access import tables, users
from orechain.access.audit import Actor, ChangeError, changes, undo
from orechain.access.users import AccessError, Role
from orechain.evidence.store import Store
from orechain.interfaces.cli import app

ME = Actor("tester")


def test_tokens_are_stored_only_as_hashes(empty_store: Store) -> None:
    users.add_user(empty_store, "alice", Role.EDITOR, ME)
    token = users.issue_token(empty_store, "alice", ME, label="laptop")
    assert token.startswith("oc_") and len(token) == 3 + 12 + 1 + 43
    with empty_store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(tables.api_tokens)).mappings()]
        log = [dict(r) for r in conn.execute(select(tables.audit_log)).mappings()]
    assert rows[0]["token_hash"] == users.hash_token(token)
    dumped = json.dumps(rows) + json.dumps(log)
    assert token not in dumped and token.split("_", 2)[2] not in dumped
    assert users.hash_token(token) not in json.dumps(log)  # the log never carries the hash either
    assert "token_hash" not in users.list_tokens(empty_store).columns


def test_authenticate(empty_store: Store) -> None:
    users.add_user(empty_store, "bob", "viewer", ME)
    token = users.issue_token(empty_store, "bob", ME)
    p = users.authenticate(empty_store, token)
    assert p is not None and (p.user, p.role, p.token_id) == ("bob", Role.VIEWER, token[3:15])
    wrong_secret = token[:-1] + ("A" if token[-1] != "A" else "B")
    unknown_id = "oc_" + "0" * 12 + token[15:]
    for bad in (wrong_secret, unknown_id, "", "oc_", token + "x", token.upper(), "Bearer " + token):
        assert users.authenticate(empty_store, bad) is None, bad
    users.set_role(empty_store, "bob", "admin", ME)
    p = users.authenticate(empty_store, token)
    assert p is not None and p.role is Role.ADMIN and p.role.allows(Role.EDITOR)


def test_expired_revoked_and_disabled(empty_store: Store) -> None:
    users.add_user(empty_store, "carol", "editor", ME)
    short = users.issue_token(empty_store, "carol", ME, days=1)
    other = users.issue_token(empty_store, "carol", ME)
    assert users.authenticate(empty_store, short) is not None
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    with empty_store.transaction() as conn:
        conn.execute(update(tables.api_tokens).where(tables.api_tokens.c.id == short[3:15]).values(expires_at=past))
    assert users.authenticate(empty_store, short) is None
    users.revoke_token(empty_store, other[3:15], ME)
    assert users.authenticate(empty_store, other) is None
    third = users.issue_token(empty_store, "carol", ME)
    assert users.disable_user(empty_store, "carol", ME) == 2  # the expired one is not revoked, only expired
    assert users.authenticate(empty_store, third) is None
    with pytest.raises(AccessError, match="disabled"):
        users.issue_token(empty_store, "carol", ME)


@pytest.mark.parametrize("name", ["Alice", "a b", "", "x" * 81, "../etc", "-lead"])
def test_bad_user_names_and_roles(empty_store: Store, name: str) -> None:
    with pytest.raises(AccessError):
        users.add_user(empty_store, name, "viewer", ME)
    with pytest.raises(AccessError, match="unknown role"):
        users.add_user(empty_store, "dave", "root", ME)


def test_user_changes_are_audited_but_not_undone(empty_store: Store) -> None:
    users.add_user(empty_store, "erin", "viewer", ME)
    users.set_role(empty_store, "erin", "editor", ME)
    log = changes(empty_store, actor="tester")
    assert list(log["table_name"]) == ["api_users", "api_users"]
    role_row = log.iloc[0]
    assert (role_row["field"], json.loads(role_row["old_value"]), json.loads(role_row["new_value"])) == (
        "role", "viewer", "editor")
    with pytest.raises(ChangeError, match="not undone"):
        undo(empty_store, role_row["change_id"], ME, any_actor=True)


def test_cli_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "team.db")
    run = CliRunner().invoke
    r = run(app, ["users", "add", "alice", "--role", "admin", "--db", db])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    with Store.open(db) as store:
        p = users.authenticate(store, token)
        assert p is not None and p.role is Role.ADMIN
    r = run(app, ["users", "add", "bob", "--role", "viewer", "--no-token", "--db", db])
    assert r.exit_code == 0 and "oc_" not in r.stdout
    r = run(app, ["users", "token", "bob", "--label", "ci", "--days", "30", "--db", db])
    bob = r.stdout.strip()
    assert r.exit_code == 0 and bob.startswith("oc_")
    r = run(app, ["users", "list", "--format", "json", "--db", db])
    listed = {u["name"]: u for u in json.loads(r.stdout)}
    assert listed["alice"]["role"] == "admin" and listed["bob"]["live_tokens"] == 1
    r = run(app, ["users", "list", "--tokens", "--format", "json", "--db", db])
    assert token not in r.stdout and {t["label"] for t in json.loads(r.stdout)} == {None, "ci"}
    assert run(app, ["users", "role", "bob", "editor", "--db", db]).exit_code == 0
    assert run(app, ["users", "revoke", "--token", bob[3:15], "--db", db]).exit_code == 0
    with Store.open(db) as store:
        assert users.authenticate(store, bob) is None
    assert run(app, ["users", "revoke", "bob", "--db", db]).exit_code == 0
    r = run(app, ["users", "revoke", "--db", db])
    assert r.exit_code == 2
    r = run(app, ["users", "add", "alice", "--role", "viewer", "--db", db])
    assert r.exit_code == 2 and "exists already" in r.output
    r = run(app, ["users", "log", "--format", "json", "--db", db])
    log = json.loads(r.stdout)
    assert {row["actor"] for row in log} == {log[0]["actor"]} and log[0]["actor"].startswith("cli:")
    assert r.exit_code == 0 and len(log) >= 6


def test_cli_undo(store: Store) -> None:
    from orechain.access.edits import SourceIn, add_source

    res = add_source(store, SourceIn(id="cli-undo-test", publisher="P", title="T", kind="news"), ME)
    assert res.change_id is not None
    r = CliRunner().invoke(app, ["users", "undo", res.change_id, "--note", "test", "--db", store.url])
    assert r.exit_code == 0, r.output
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sources WHERE id = :i"), {"i": "cli-undo-test"}).scalar() == 0
    r = CliRunner().invoke(app, ["users", "undo", res.change_id, "--db", store.url])
    assert r.exit_code == 2 and "already undone" in r.output
