"""Users, roles and API tokens.

A token is ``oc_<id>_<secret>``: ``id`` is 12 random hex digits (public, the row's key) and ``secret`` 32
random bytes (URL-safe base64). Only ``sha256(token)`` is stored, so a stolen database does not yield
working tokens; :func:`authenticate` finds the row by id and compares hashes in constant time
(:func:`hmac.compare_digest`), doing the same work when the id is unknown. A token is shown once, when
it is made. Users and tokens are managed with ``orechain users ...``; every change to them is written to
the audit log (not undoable: revoke or add instead).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd
from sqlalchemy import Connection, func, select, update

from orechain.access import tables
from orechain.access.audit import Actor, ChangeLog
from orechain.evidence.store import Store

__all__ = ["AccessError", "Principal", "Role", "add_user", "authenticate", "disable_user", "hash_token",
           "issue_token", "list_tokens", "list_users", "revoke_token", "set_role"]

TOKEN_PREFIX = "oc_"
_TOKEN_RE = re.compile(r"^oc_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,79}$")
_DUMMY_HASH = hashlib.sha256(b"orechain-no-such-token").hexdigest()


class AccessError(ValueError):
    """A user or token operation that cannot be done (unknown user, duplicate name, bad role)."""


class Role(StrEnum):
    """What a token may do. Each role may do everything the roles before it may."""

    VIEWER = "viewer"  # read (when reads need a token) and read the audit log
    EDITOR = "editor"  # + write: edit facilities, add observations and sources, ingest documents, undo own changes
    ADMIN = "admin"  # + undo anyone's change

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """The user a request acts as (after its token was checked)."""

    user: str
    role: Role
    token_id: str

    def actor(self) -> Actor:
        return Actor(name=self.user, token_id=self.token_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise AccessError(f"user name {name!r} must be 1-80 characters: lower-case letters, digits, . _ @ -, "
                          "starting with a letter or digit")


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccessError(f"unknown role {role!r}; use one of {', '.join(r.value for r in Role)}") from None


def _user_row(conn: Connection, name: str) -> dict[str, object] | None:
    row = conn.execute(select(tables.api_users).where(tables.api_users.c.name == name)).mappings().first()
    return dict(row) if row is not None else None


def add_user(store: Store, name: str, role: str | Role, actor: Actor, *, note: str | None = None) -> None:
    """Create a user with a role (no token yet: see :func:`issue_token`)."""
    _check_name(name)
    r = _role(role)
    with store.transaction() as conn:
        if _user_row(conn, name) is not None:
            raise AccessError(f"user {name!r} exists already (change its role with `orechain users role`)")
        row = {"name": name, "role": r.value, "created_at": _iso(_now()), "disabled_at": None, "note": note}
        conn.execute(tables.api_users.insert().values(**row))
        ChangeLog(conn, actor, note=f"add user {name} ({r.value})").insert("api_users", {"name": name}, row)


def set_role(store: Store, name: str, role: str | Role, actor: Actor) -> None:
    r = _role(role)
    with store.transaction() as conn:
        row = _user_row(conn, name)
        if row is None:
            raise AccessError(f"no user {name!r}")
        if row["role"] != r.value:
            conn.execute(update(tables.api_users).where(tables.api_users.c.name == name).values(role=r.value))
            ChangeLog(conn, actor, note=f"role of {name}").update("api_users", {"name": name}, "role", row["role"],
                                                                r.value)


def disable_user(store: Store, name: str, actor: Actor) -> int:
    """Disable a user and revoke all its tokens; returns how many tokens were revoked."""
    now = _iso(_now())
    with store.transaction() as conn:
        row = _user_row(conn, name)
        if row is None:
            raise AccessError(f"no user {name!r}")
        log = ChangeLog(conn, actor, note=f"disable user {name}")
        if row["disabled_at"] is None:
            conn.execute(update(tables.api_users).where(tables.api_users.c.name == name).values(disabled_at=now))
            log.update("api_users", {"name": name}, "disabled_at", None, now)
        t = tables.api_tokens
        live = [r[0] for r in conn.execute(select(t.c.id).where(t.c.user_name == name, t.c.revoked_at.is_(None)))]
        for tid in live:
            conn.execute(update(t).where(t.c.id == tid).values(revoked_at=now))
            log.update("api_tokens", {"id": tid}, "revoked_at", None, now)
        return len(live)


def issue_token(store: Store, name: str, actor: Actor, *, label: str | None = None,
                days: float | None = None) -> str:
    """A new token for user ``name`` (valid ``days`` days, or until revoked). The token is returned once."""
    if days is not None and not days > 0:
        raise AccessError("--days must be positive")
    with store.transaction() as conn:
        row = _user_row(conn, name)
        if row is None:
            raise AccessError(f"no user {name!r} (add it with `orechain users add {name} --role ...`)")
        if row["disabled_at"] is not None:
            raise AccessError(f"user {name!r} is disabled")
        t = tables.api_tokens
        while True:
            tid = secrets.token_hex(6)
            if conn.execute(select(t.c.id).where(t.c.id == tid)).first() is None:
                break
        token = f"{TOKEN_PREFIX}{tid}_{secrets.token_urlsafe(32)}"
        now = _now()
        rec = {"id": tid, "user_name": name, "token_hash": hash_token(token), "label": label,
               "created_at": _iso(now), "expires_at": _iso(now + dt.timedelta(days=days)) if days else None,
               "revoked_at": None}
        conn.execute(t.insert().values(**rec))
        shown = {k: v for k, v in rec.items() if k != "token_hash"}  # the hash never goes to the log
        ChangeLog(conn, actor, note=f"token for {name}").insert("api_tokens", {"id": tid}, shown)
    return token


def revoke_token(store: Store, token_id: str, actor: Actor) -> None:
    now = _iso(_now())
    t = tables.api_tokens
    with store.transaction() as conn:
        row = conn.execute(select(t.c.revoked_at).where(t.c.id == token_id)).first()
        if row is None:
            raise AccessError(f"no token with id {token_id!r} (the id is the 12 hex digits after 'oc_')")
        if row[0] is None:
            conn.execute(update(t).where(t.c.id == token_id).values(revoked_at=now))
            ChangeLog(conn, actor, note="revoke token").update("api_tokens", {"id": token_id}, "revoked_at", None,
                                                               now)


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal a token stands for, or None (malformed, unknown, wrong secret, revoked, expired, disabled)."""
    m = _TOKEN_RE.match(token)
    t, u = tables.api_tokens, tables.api_users
    row = None
    if m is not None:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(t.c.token_hash, t.c.expires_at, t.c.revoked_at, u.c.name, u.c.role, u.c.disabled_at)
                .join(u, u.c.name == t.c.user_name).where(t.c.id == m.group(1))
            ).first()
    ok = hmac.compare_digest(hash_token(token), row[0] if row is not None else _DUMMY_HASH)
    if row is None or not ok or m is None:
        return None
    _, expires_at, revoked_at, name, role, disabled_at = row
    if revoked_at is not None or disabled_at is not None:
        return None
    if expires_at is not None and dt.datetime.fromisoformat(expires_at) <= _now():
        return None
    return Principal(user=name, role=Role(role), token_id=m.group(1))


def list_users(store: Store) -> pd.DataFrame:
    u, t = tables.api_users, tables.api_tokens
    live = (select(t.c.user_name, func.count().label("tokens")).where(t.c.revoked_at.is_(None))
            .group_by(t.c.user_name).subquery())
    stmt = (select(u.c.name, u.c.role, u.c.created_at, u.c.disabled_at, func.coalesce(live.c.tokens, 0)
                   .label("live_tokens"), u.c.note)
            .outerjoin(live, live.c.user_name == u.c.name).order_by(u.c.name))
    with store.engine.connect() as conn:
        return pd.DataFrame([dict(r) for r in conn.execute(stmt).mappings()],
                            columns=["name", "role", "created_at", "disabled_at", "live_tokens", "note"])


def list_tokens(store: Store, name: str | None = None) -> pd.DataFrame:
    """Tokens (never their hashes): id, user, label, created, expires, revoked."""
    t = tables.api_tokens
    stmt = select(t.c.id, t.c.user_name, t.c.label, t.c.created_at, t.c.expires_at, t.c.revoked_at).order_by(
        t.c.user_name, t.c.created_at)
    if name is not None:
        stmt = stmt.where(t.c.user_name == name)
    with store.engine.connect() as conn:
        return pd.DataFrame([dict(r) for r in conn.execute(stmt).mappings()],
                            columns=["id", "user_name", "label", "created_at", "expires_at", "revoked_at"])
