"""A real uvicorn server on a free loopback port and real headless Chromium (the Debian package at
/usr/bin/chromium, driven by Playwright; no browser is ever downloaded). Screenshots are kept under
tests/browser/artifacts/ (git-ignored)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chromium_launch import ARGS, CHROMIUM  # noqa: F401 - re-exported for the browser tests
from orechain.evidence.shipped import load_dataset, load_into
from orechain.evidence.store import Store

FAKE = Path(__file__).parents[1] / "api" / "fixtures" / "evidence"
ARTIFACTS = Path(__file__).parent / "artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(db: Path, **app_options: Any) -> Iterator[str]:
    import uvicorn

    from orechain.interfaces.api import create_app

    app = create_app(db=db, load_shipped=False, **app_options)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
        app.state.orechain.store.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a uvicorn server serving the fake evidence folder and the two fake articles."""
    from orechain.claims.ingest import ingest_paths

    db = tmp_path_factory.mktemp("browser") / "fake.db"
    with Store.open(db) as store:
        load_into(store, load_dataset(FAKE))
        assert [r.status for r in ingest_paths(store, [FAKE.parent / "claims"])] == ["added", "added"]
    with _serve(db) as url:
        yield url


@pytest.fixture(scope="session")
def shipped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with the shipped evidence base."""
    db = tmp_path_factory.mktemp("browser") / "shipped.db"
    with Store.open(db) as store:
        load_into(store)
    with _serve(db) as url:
        yield url


@pytest.fixture(scope="session")
def serve_app() -> Callable[..., AbstractContextManager[str]]:
    """``_serve`` for test modules that need a server of their own (a module cannot import this conftest by name:
    every test folder's conftest is a module called ``conftest``, so ``sys.modules`` holds only the last one)."""
    return _serve


@pytest.fixture(scope="session")
def read_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server of the fake evidence folder that answers no API read without a token, and a viewer's token."""
    from orechain.access.audit import Actor
    from orechain.access.users import add_user, issue_token
    from orechain.interfaces.api.auth import AccessConfig

    db = tmp_path_factory.mktemp("browser") / "tokens.db"
    with Store.open(db) as store:
        load_into(store, load_dataset(FAKE))
        add_user(store, "reader", "viewer", Actor("cli:test"))
        token = issue_token(store, "reader", Actor("cli:test"))
    with _serve(db, access=AccessConfig(read_token_required=True)) as url:
        yield url, token


@dataclass
class Recorded:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh 1366x768 (laptop) page that records every request and console error; screenshot at the end.
    It talks to the fake-data server, or to the shipped-data one for tests that ask for ``shipped_server``."""
    base = request.getfixturevalue("shipped_server" if "shipped_server" in request.fixturenames else "server")
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=base)
    pg = ctx.new_page()
    rec = Recorded()
    pg.on("request", lambda r: rec.requests.append(r.url))
    pg.on("console", lambda m: rec.console_errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: rec.console_errors.append(str(e)))
    pg.recorded = rec
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    ctx.close()
