"""The FastAPI application factory.

The database is fixed when the app is created (``create_app(db=...)``: a path or SQLAlchemy URL, or an
open :class:`~orechain.evidence.store.Store`); no request can name a database or a file. The API lives
under ``/api/v1`` with its OpenAPI 3 description at ``/openapi.json``; the dashboard is served by the
same app at ``/``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request

from orechain.evidence.store import Store
from orechain.interfaces.api.auth import AccessConfig, install_access
from orechain.interfaces.api.cache import CacheMiddleware, ResponseCache, data_version_probe
from orechain.interfaces.api.common import ApiContext, context
from orechain.interfaces.api.errors import install_error_handlers
from orechain.interfaces.api.jobs import JobManager
from orechain.interfaces.api.limits import BodyLimitMiddleware
from orechain.interfaces.api.paging import DEFAULT_LIMIT, MAX_LIMIT
from orechain.interfaces.api.readmodel import ListMiddleware, ReadModel
from orechain.interfaces.api.routers import analytics, claims, evidence, scenarios

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"


def create_app(db: str | os.PathLike[str] | Store | None = None, *, load_shipped: bool = True,
               cache_entries: int = 2048, frame_entries: int = 256, dashboard: bool = True, job_workers: int = 2,
               job_queue: int = 8, job_timeout_s: float = 120.0, access: AccessConfig | None = None,
               fast_lists: bool = True) -> FastAPI:
    """An app serving the store at ``db`` (default: ``$ORECHAIN_DB`` or the per-user database).

    A new, empty database gets the shipped evidence base when ``load_shipped`` is true, as the CLI does.
    ``cache_entries`` rendered responses and ``frame_entries`` frames read from the store are kept until the data
    changes (0 turns either off). The list endpoints answer from the read model (the evidence tables in memory,
    each re-read after a write to a store table it reads); ``fast_lists`` lets them do so before routing (off:
    through their FastAPI routes, same bytes, about 0.3 ms more a request). Scenario jobs run in a pool of
    ``job_workers`` threads with at most ``job_queue`` waiting, and stop after ``job_timeout_s`` seconds.
    ``access`` (default: from the environment) sets tokens, CORS and uploads.
    """
    from importlib.metadata import version

    __version__ = version("orechain")
    store = db if isinstance(db, Store) else Store.open(db)
    if load_shipped and store.counts().get("sources", 0) == 0:
        from orechain.evidence.shipped import load_shipped as load_shipped_data

        load_shipped_data(store)
    app = FastAPI(title="orechain API", version=__version__, openapi_url="/openapi.json", docs_url="/api/docs",
                  redoc_url=None,
                  description="Critical-mineral supply chains, mine to magnet: the evidence base, with every "
                              "number's source. Lists are paged (limit/offset, total and next link) and come as "
                              "JSON or CSV by the Accept header. Every error has the body "
                              '`{"error": {"status", "code", "message", "details"}}`.')
    cache = ResponseCache(data_version_probe(store.url, store.engine), cache_entries, frame_entries)
    jobs = JobManager(store, workers=job_workers, max_queued=job_queue, timeout_s=job_timeout_s)
    model = ReadModel(store, cache.token, extra={**evidence.TABLES, **claims.TABLES})
    app.state.orechain = ApiContext(store=store, cache=cache, model=model, extras={"jobs": jobs})
    if fast_lists:  # inside the response cache: a repeated request is still answered by the cache first
        app.add_middleware(ListMiddleware, model=model, cache=cache, max_limit=MAX_LIMIT,
                           default_limit=DEFAULT_LIMIT,
                           endpoints={API_PREFIX + path: ep
                                      for path, ep in {**evidence.LIST_ENDPOINTS, **claims.LIST_ENDPOINTS}.items()})
    app.add_middleware(CacheMiddleware, cache=cache, prefix=API_PREFIX + "/")
    access = access or AccessConfig.from_settings()
    app.add_middleware(BodyLimitMiddleware, max_bytes=2 * scenarios.MAX_YAML_BYTES + 4096,
                       paths={API_PREFIX + "/claims/documents": access.max_body_bytes})
    install_error_handlers(app)
    app.include_router(evidence.router, prefix=API_PREFIX, tags=["evidence"])
    app.include_router(analytics.router, prefix=API_PREFIX, tags=["analytics"])
    app.include_router(scenarios.router, prefix=API_PREFIX, tags=["scenarios"])
    install_access(app, store, access, API_PREFIX)  # writes, tokens, CORS: after the cache so tokens are checked first
    app.include_router(claims.router, prefix=API_PREFIX, tags=["claims"])

    @app.get(API_PREFIX, tags=["meta"], summary="What this API offers")
    async def api_index(request: Request) -> dict[str, Any]:
        paths = sorted(p for p in app.openapi()["paths"] if p.startswith(API_PREFIX + "/"))
        return {"version": __version__, "openapi": "/openapi.json", "endpoints": paths}

    @app.get(API_PREFIX + "/health", tags=["meta"], summary="Liveness and the database's schema revision")
    async def health(request: Request) -> dict[str, Any]:
        store = context(request).store
        return {"status": "ok", "database": store.display_url, "schema": store.revision()}

    if dashboard:
        from orechain.interfaces.web import mount_dashboard

        mount_dashboard(app)
    return app
