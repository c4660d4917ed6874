"""What every router shares: the app's context, and cached list and detail responses."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from orechain.evidence.store import Store
from orechain.interfaces.api.cache import MARK, Reads, ResponseCache, request_version
from orechain.interfaces.api.paging import Fmt, Page, json_bytes, negotiate, render_list, render_page
from orechain.interfaces.api.readmodel import ListEndpoint, ReadModel, View, ensure_tables, list_page

__all__ = ["MARK", "ApiContext", "context", "detail", "listing", "model_detail", "model_listing", "page_response",
           "read"]


@dataclass
class ApiContext:
    """The state an app holds: its store (fixed at creation, never chosen by a request), its cache and its
    read model (the evidence tables in memory, :mod:`orechain.interfaces.api.readmodel`)."""

    store: Store
    cache: ResponseCache
    model: ReadModel
    extras: dict[str, Any] = field(default_factory=dict)


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.orechain
    return ctx


def read(request: Request, fn: Callable[..., pd.DataFrame], *args: Any, **kwargs: Any) -> pd.DataFrame:
    """``fn(store, *args, **kwargs)`` (a read function returning a frame), kept in the app's cache until the
    data changes, so the whole-table reads most answers start from are not repeated for every request."""
    ctx = context(request)
    try:
        key = (fn.__module__, fn.__qualname__, args, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:  # an unhashable argument: read it directly
        return fn(ctx.store, *args, **kwargs)
    return ctx.cache.frame(key, lambda: fn(ctx.store, *args, **kwargs))


async def model_listing(request: Request, page: Page, endpoint: ListEndpoint, args: dict[str, Any]) -> Response:
    """One page of a list served from the read model (what :class:`~orechain.interfaces.api.readmodel.
    ListMiddleware` answers before routing; the route gives the same bytes, and the errors)."""
    ctx = context(request)
    body, media, headers = await list_page(ctx.model, ctx.cache, endpoint, page, args, request)
    Reads.declare()
    return Response(body, media_type=media, headers={**headers, **MARK})


async def listing(request: Request, page: Page, build: Callable[[], pd.DataFrame]) -> Response:
    """One page of the frame ``build`` returns, as JSON or CSV (cached by the middleware until the data changes)."""
    fmt = negotiate(request)
    df = await run_in_threadpool(build)
    body, media, headers = render_list(request, df, page, fmt)
    return Response(body, media_type=media, headers={**headers, **MARK})


async def model_detail(request: Request, tables: Sequence[str], build: Callable[[View], dict[str, Any]]) -> Response:
    """One JSON object built from the read model's ``tables`` (read first, off the event loop, if needed; the
    build itself is a few dictionary look-ups and runs inline)."""
    negotiate(request, allowed=(Fmt.JSON,))
    ctx = context(request)
    version = request_version(request.scope, ctx.cache)
    await ensure_tables(ctx.model, tables, version)
    body = json_bytes(build(View(ctx.model, version)))
    Reads.declare()
    return Response(body, media_type="application/json", headers=MARK)


async def detail(request: Request, build: Callable[[], dict[str, Any]]) -> Response:
    """One JSON object (a record with its parts and the sources it cites)."""
    negotiate(request, allowed=(Fmt.JSON,))
    obj = await run_in_threadpool(build)
    return Response(json_bytes(obj), media_type="application/json", headers=MARK)


Shape = Callable[[pd.DataFrame, pd.DataFrame, Fmt], tuple[pd.DataFrame | None, list[dict[str, Any]]]]


async def page_response(request: Request, page: Page, fmt: Fmt, build: Callable[[], tuple[pd.DataFrame, pd.DataFrame]],
                        shape: Shape) -> Response:
    """A list paged over groups: ``build`` gives (groups, parts); ``shape`` turns one page of groups (with the
    parts) into the CSV rows or the JSON items. Totals and links count groups."""
    groups, parts = await run_in_threadpool(build)
    chunk = groups.iloc[page.offset: page.offset + page.limit]
    csv_rows, items = shape(chunk, parts, fmt)
    body, media, headers = render_page(request, page, fmt, len(groups), csv_rows, items)
    return Response(body, media_type=media, headers={**headers, **MARK})
