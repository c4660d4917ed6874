"""What every router shares: the app's context, and cached list and detail responses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from orechain.evidence.store import Store
from orechain.interfaces.api.cache import CachedResponse, ResponseCache
from orechain.interfaces.api.paging import Fmt, Page, json_bytes, negotiate, render_list

__all__ = ["ApiContext", "context", "detail", "listing"]


@dataclass
class ApiContext:
    """The state an app holds: its store (fixed at creation, never chosen by a request) and its cache."""

    store: Store
    cache: ResponseCache
    extras: dict[str, Any] = field(default_factory=dict)


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.orechain
    return ctx


def _key(request: Request, fmt: Fmt) -> tuple[str, tuple[tuple[str, str], ...], str]:
    return request.url.path, tuple(sorted(request.query_params.multi_items())), fmt.value


def _send(item: CachedResponse) -> Response:
    return Response(item.body, media_type=item.media_type, headers=dict(item.headers))


async def listing(request: Request, page: Page, build: Callable[[], pd.DataFrame]) -> Response:
    """One page of the frame ``build`` returns, as JSON or CSV, cached until the data changes."""
    ctx = context(request)
    fmt = negotiate(request)
    key = _key(request, fmt)
    hit = ctx.cache.get(key)
    if hit is not None:
        return _send(hit)
    token = ctx.cache.token()
    df = await run_in_threadpool(build)
    body, media, headers = render_list(request, df, page, fmt)
    item = CachedResponse(body, media, tuple(headers.items()))
    ctx.cache.put(key, item, token)
    return _send(item)


async def detail(request: Request, build: Callable[[], dict[str, Any]]) -> Response:
    """One JSON object (a record with its parts and the sources it cites), cached until the data changes."""
    ctx = context(request)
    negotiate(request, allowed=(Fmt.JSON,))
    key = _key(request, Fmt.JSON)
    hit = ctx.cache.get(key)
    if hit is not None:
        return _send(hit)
    token = ctx.cache.token()
    obj = await run_in_threadpool(build)
    item = CachedResponse(json_bytes(obj), "application/json", ())
    ctx.cache.put(key, item, token)
    return _send(item)
