"""Pagination and content negotiation for list endpoints.

Every list is paged with ``limit``/``offset``; the body (or, for CSV, the headers) carries the total and
the link to the next page, so a client always knows when it has not seen everything. A ``limit`` above
:data:`MAX_LIMIT` is refused with a 422, never silently cut down.

The format comes from the ``Accept`` header (``application/json`` or ``text/csv``, with q-values); a
``format=json|csv`` query parameter overrides it, for links a browser follows.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote_plus

import numpy as np
import pandas as pd
from fastapi import Query, Request
from pydantic import BaseModel

from orechain.interfaces.api.errors import ApiError
from orechain.interfaces.output import _clean

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Fmt", "ListBody", "Page", "json_bytes", "negotiate", "page_links",
           "page_params", "records",
           "render_list", "render_page"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class Fmt(StrEnum):
    JSON = "json"
    CSV = "csv"


_MEDIA = {"application/json": Fmt.JSON, "text/csv": Fmt.CSV}


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page (1-{MAX_LIMIT})")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


def negotiate(request: Request, *, allowed: tuple[Fmt, ...] = (Fmt.JSON, Fmt.CSV)) -> Fmt:
    """The response format: ``format`` query parameter, else the best match of the Accept header."""
    explicit = request.query_params.get("format")
    if explicit is not None:
        try:
            fmt = Fmt(explicit.lower())
        except ValueError:
            raise ApiError(422, f"unknown format {explicit!r}", details={"allowed": [f.value for f in allowed]}) \
                from None
        if fmt not in allowed:
            raise ApiError(406, f"this endpoint does not offer {fmt.value}",
                           details={"allowed": [f.value for f in allowed]})
        return fmt
    accept = _accept(request.scope).strip()
    if not accept:
        return allowed[0]
    candidates: list[tuple[float, int, int, Fmt]] = []
    for order, part in enumerate(accept.split(",")):
        fields = [p.strip() for p in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media in ("*/*", "application/*"):
            cand: Fmt | None = allowed[0]
        elif media == "text/*":
            cand = Fmt.CSV
        else:
            cand = _MEDIA.get(media)
        if q > 0 and cand is not None and cand in allowed:
            # higher q first, then an exact media type over a wildcard, then the client's order
            candidates.append((q, 0 if "*" in media else 1, -order, cand))
    if not candidates:
        raise ApiError(406, f"cannot produce any of: {accept}",
                       details={"offered": [k for k, v in _MEDIA.items() if v in allowed]})
    return max(candidates, key=lambda c: c[:3])[3]


class PageMeta(BaseModel):
    total: int
    count: int
    limit: int
    offset: int


class PageLinks(BaseModel):
    self: str
    next: str | None
    prev: str | None


class ListBody(BaseModel):
    """A page of rows. ``meta.total`` counts every row that matched; ``links.next`` is null on the last page."""

    data: list[dict[str, Any]]
    meta: PageMeta
    links: PageLinks


def _page_url(request: Request, offset: int, limit: int) -> str:
    """The request's URL with ``offset`` and ``limit`` set (every other parameter kept, a repeated one once, with
    its last value): what starlette's ``URL.include_query_params`` gives, built directly when the URL is plain
    printable ASCII (a test compares the two), through starlette otherwise."""
    params = dict(request.query_params)
    params["offset"] = str(offset)
    params["limit"] = str(limit)
    url = str(request.url)
    base, _, query = url.partition("?")
    if _PLAIN.fullmatch(url) and query == request.scope.get("query_string", b"").decode("ascii", "replace"):
        return f"{base}?{'&'.join(f'{_quote(k)}={_quote(v)}' for k, v in params.items())}"
    return str(request.url.include_query_params(**params))


_PLAIN = re.compile(r"https?://[!-\"$-~]+")  # printable ASCII without space, '#' or a control character
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what quote_plus leaves as it is


def _quote(text: str) -> str:
    """``urllib.parse.quote_plus(text)`` (as ``urlencode`` applies it), without the call for plain text."""
    return text if _UNRESERVED.fullmatch(text) else quote_plus(text)


def _accept(scope: Any) -> str:
    """The first Accept header, as ``request.headers.get("accept", "")`` reads it."""
    for name, value in scope["headers"]:
        if name == b"accept":
            return str(value.decode("latin-1"))
    return ""


def page_links(request: Request, page: Page, total: int) -> tuple[dict[str, str], str | None, str | None]:
    """The headers of a page of ``total`` rows (``X-Total-Count``, ``Link``) and its next and previous URLs."""
    nxt = _page_url(request, page.offset + page.limit, page.limit) if page.offset + page.limit < total else None
    prev = _page_url(request, max(page.offset - page.limit, 0), page.limit) if page.offset > 0 else None
    headers = {"X-Total-Count": str(total)}
    link = [f'<{u}>; rel="{rel}"' for u, rel in ((nxt, "next"), (prev, "prev")) if u]
    if link:
        headers["Link"] = ", ".join(link)
    return headers, nxt, prev


def render_list(request: Request, df: pd.DataFrame, page: Page, fmt: Fmt) -> tuple[bytes, str, dict[str, str]]:
    """The body, media type and headers of one page of ``df``."""
    chunk = df.iloc[page.offset: page.offset + page.limit]
    return render_page(request, page, fmt, len(df), chunk if fmt is Fmt.CSV else None,
                       records(chunk) if fmt is Fmt.JSON else [])


def render_page(request: Request, page: Page, fmt: Fmt, total: int, csv_rows: pd.DataFrame | None,
                json_rows: list[dict[str, Any]]) -> tuple[bytes, str, dict[str, str]]:
    """One page of ``total`` items: ``csv_rows`` as CSV, or ``json_rows`` (the page's items) in the JSON body."""
    headers, nxt, prev = page_links(request, page, total)
    if fmt is Fmt.CSV:
        buf = io.StringIO()
        (csv_rows if csv_rows is not None else pd.DataFrame()).to_csv(buf, index=False, lineterminator="\n")
        return buf.getvalue().encode(), "text/csv; charset=utf-8", headers
    body = {"data": json_rows,
            "meta": {"total": total, "count": len(json_rows), "limit": page.limit, "offset": page.offset},
            "links": {"self": str(request.url), "next": nxt, "prev": prev}}
    return json_bytes(body), "application/json", headers


def _column(values: pd.Series) -> list[Any]:
    """One column as plain Python values, as ``output.records`` gives them (NaN -> None, numpy scalars unboxed)."""
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else "?"
    if kind in ("i", "u", "b"):
        out: list[Any] = values.to_numpy().tolist()
        return out
    if kind == "f":
        return [None if math.isnan(v) else v for v in values.to_numpy().tolist()]
    if kind == "?":  # extension dtypes (str, Int64, boolean): their missing value comes back as None
        objs = values.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[call-overload]  # stubs omit None
        return objs if isinstance(values.dtype, pd.StringDtype) else [_clean(v) for v in objs]
    return [_clean(v) for v in values.to_numpy(dtype=object)]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as JSON-ready dicts: the same values as ``orechain.interfaces.output.records`` (which
    goes through ``DataFrame.to_dict``, row by row), built a column at a time, several times faster."""
    names = [str(c) for c in df.columns]
    cols = [_column(values) for _, values in df.items()]
    if not cols:
        return [{} for _ in range(len(df))]
    return [dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True)]


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False).encode()
