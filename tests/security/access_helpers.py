"""Helpers of the security tests: an API app with one token per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fastapi.testclient import TestClient

from orechain.access import users
from orechain.access.audit import Actor
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app
from orechain.interfaces.api.auth import AccessConfig

SETUP = Actor("test-setup")



@dataclass
class Api:
    client: TestClient
    store: Store
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_api(store: Store, config: AccessConfig) -> Iterator[Api]:
    tokens = {}
    for name, role in (("ada", "admin"), ("eve", "editor"), ("ed2", "editor"), ("vic", "viewer")):
        users.add_user(store, name, role, SETUP)
        tokens[name] = users.issue_token(store, name, SETUP)
    app = create_app(db=store, load_shipped=False, dashboard=False, access=config, job_workers=1)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, store, tokens)
