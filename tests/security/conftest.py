"""An API app on a private copy of the shipped database (SQLite and PostgreSQL), with a token per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from access_helpers import Api, make_api

from orechain.evidence.store import Store
from orechain.interfaces.api.auth import AccessConfig


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    """Reads public (the default), writes need tokens."""
    yield from make_api(store, AccessConfig(max_upload_bytes=20_000))


@pytest.fixture
def facility(api: Api) -> dict[str, object]:
    """One shipped facility with a status (as the API lists it)."""
    rows = api.client.get("/api/v1/facilities", params={"status": "operating", "limit": 1}).json()["data"]
    return dict(rows[0])
