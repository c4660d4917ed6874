"""schemathesis against the OpenAPI description: generated requests to every operation, zero 5xx.

The app runs in-process (ASGI) on a private copy of the shipped database (SQLite; the PostgreSQL paths of
the same endpoints are covered by tests/security), with an admin token on every request so the write
endpoints are exercised past authentication. The fast run is deterministic (derandomised) with a bounded
number of examples per operation; ``-m slow`` runs a deeper, random one.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from orechain.access import users
from orechain.access.audit import Actor
from orechain.evidence.shipped import load_into
from orechain.evidence.store import Store
from orechain.interfaces.api import create_app
from orechain.interfaces.api.auth import AccessConfig

FAST_EXAMPLES = 12
DEEP_EXAMPLES = 150
_COMMON = {"deadline": None, "database": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    base = tmp_path_factory.mktemp("fuzz")
    shipped = base / "shipped.db"
    with Store.open(shipped) as s:
        load_into(s)
    db = base / "fuzz.db"
    shutil.copy(shipped, db)
    store = Store.open(Path(db))
    users.add_user(store, "fuzzer", "admin", Actor("test"))
    token = users.issue_token(store, "fuzzer", Actor("test"))
    app = create_app(db=store, load_shipped=False, dashboard=False, job_workers=1, job_queue=64,
                     access=AccessConfig(max_upload_bytes=50_000))
    yield app, token
    app.state.orechain.extras["jobs"].shutdown()
    store.close()


def _run_all(app: Any, token: str, **hyp: Any) -> int:
    """Every operation of the spec, ``max_examples`` generated requests each; returns the operations run."""
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    ran, failures, statuses = 0, [], Counter[int]()
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(**_COMMON, **hyp)
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses[response.status_code] += 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}\n"
                f"reproduce: {case.as_curl_command()}")

        try:
            check()
        except AssertionError as exc:
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
        ran += 1
    print(f"schemathesis: {ran} operations, {sum(statuses.values())} requests, "
          f"statuses {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    return ran


def test_no_server_errors(fuzz_app: tuple[Any, str]) -> None:
    ran = _run_all(*fuzz_app, max_examples=FAST_EXAMPLES, derandomize=True)
    assert ran >= 30  # every operation of the spec was reached (reads, writes, audit, jobs)


@pytest.mark.slow
def test_no_server_errors_deep(fuzz_app: tuple[Any, str]) -> None:
    _run_all(*fuzz_app, max_examples=DEEP_EXAMPLES)
