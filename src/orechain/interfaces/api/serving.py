"""How orechain runs the API under uvicorn (``orechain serve`` and the benchmark use the same settings)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["UVICORN", "prepare", "settle_heap", "worker_app"]

# uvloop and httptools (uvicorn[standard]); no per-request access-log line (formatting and writing it is paid on
# every request; errors are still logged at warning level); a listen backlog above any client count we test.
UVICORN: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "log_level": "warning", "access_log": False,
                           "backlog": 2048}


def settle_heap() -> None:
    """Collect once, then move every object alive now (modules, the app, the shipped tables) out of the cyclic
    garbage collector's view (``gc.freeze``). Call it once, after the app is built, in a process that only serves.

    Without it a full (generation-2) collection walks the ~270,000 objects a loaded server holds: measured
    in-process at 130-170 ms, during which every request in flight waits (the p99 of a single client was
    about 110 ms against a p50 of 1.4 ms). Frozen, a full collection walks what requests left behind (23 ms).
    """
    gc.collect()
    gc.freeze()


def prepare(app: FastAPI) -> None:
    """What a serving process does once its app is built, before it takes requests: read every table of the read
    model (so the first request of each list endpoint costs what any other does; a cold start otherwise pays
    about 50-150 ms per table on the first request that needs it), then :func:`settle_heap`."""
    app.state.orechain.model.warm()
    settle_heap()


def worker_app() -> FastAPI:
    """The app of one uvicorn worker process (``orechain serve --workers N``, uvicorn's ``factory=True``): the
    database named by ``$ORECHAIN_DB`` (``orechain serve`` sets it), prepared. The parent process has already
    opened, migrated and loaded that database once, so the workers do not race to."""
    from orechain.interfaces.api import create_app

    app = create_app(None, load_shipped=False)
    prepare(app)
    return app
