"""``orechain serve``: the REST API and the dashboard, with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from orechain.evidence.errors import InputError
from orechain.evidence.store import StoreError
from orechain.interfaces.api.serving import UVICORN, prepare
from orechain.interfaces.cli import DbOpt, fail


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on. The default is loopback only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes sharing the port (each keeps its "
                                         "own copy of the read model; see docs/api.md, Performance).")] = 1,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log one line per request (off by default).")]
    = False,
    db: DbOpt = None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /openapi.json) and the dashboard (/) with uvicorn.

    It listens on 127.0.0.1 unless --host says otherwise; the database is the one given by --db
    (or $ORECHAIN_DB), loaded with the shipped evidence base the first time. The evidence tables are read
    into memory before the first request is taken.

    Example: orechain serve --port 8080 --db ./team.db   (then open http://127.0.0.1:8080/)
    """
    import uvicorn

    from orechain.interfaces.api import create_app

    try:
        app = create_app(db)
    except (StoreError, InputError) as exc:
        raise fail(exc) from exc
    store = app.state.orechain.store
    typer.echo(f"serving {store.display_url} at http://{host}:{port}/ (API: /api/v1)"
               + (f" with {workers} worker processes" if workers > 1 else ""), err=True)
    options = {**UVICORN, "access_log": access_log, "log_level": "info" if access_log else UVICORN["log_level"]}
    if workers == 1:
        prepare(app)
        uvicorn.run(app, host=host, port=port, **options)
        return
    # Each worker builds its own app on the same database (already migrated and loaded here).
    os.environ["ORECHAIN_DB"] = store.url
    app.state.orechain.extras["jobs"].shutdown()
    store.close()
    uvicorn.run("orechain.interfaces.api.serving:worker_app", factory=True, workers=workers, host=host, port=port,
                **options)
