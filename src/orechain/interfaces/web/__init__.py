"""The dashboard: HTML pages served by the API app, drawing with the vendored ECharts (no CDN).

Pages are thin HTML shells (Jinja2, autoescaped) that read the API under ``/api/v1`` from the same
origin. Vendored libraries are served from ``/vendor/`` under their versioned file names; the
dashboard's own JavaScript and CSS from ``/static/``. Nothing is fetched from outside the server.

Both are served gzip-compressed to browsers that accept it (compressed once per file and process, then
kept in memory: ECharts goes from 1.1 MB to about 370 kB) with caching headers: the vendored files never
change under a given name, so they are cached for a year (``immutable``); the dashboard's own files are
revalidated on each load (``no-cache`` with an ETag, answered 304 when unchanged).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import Headers
from starlette.responses import FileResponse
from starlette.types import Scope

from orechain.claims import ledger
from orechain.evidence import queries
from orechain.interfaces.api.common import read

__all__ = ["PAGES", "Assets", "mount_dashboard", "reads_need_token", "well_formed"]

_HERE = Path(str(resources.files("orechain.interfaces.web")))
_VENDOR = Path(str(resources.files("orechain.assets") / "vendor"))
_env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))

# (path, navigation label, template); pages with an id are reached from the others
PAGES: list[tuple[str, str, str]] = [
    ("/map", "Corridor map", "map.html"),
    ("/sankey", "Mine to magnet", "sankey.html"),
    ("/scenarios", "Scenarios", "scenarios.html"),
    ("/claims", "Claims ledger", "claims.html"),
    ("/deals", "Deals", "pages.html"),
    ("/sources", "Sources", "pages.html"),
]


_COMPRESSIBLE = (".js", ".css", ".json", ".svg", ".txt", ".html")


class Assets(StaticFiles):
    """Static files with a ``Cache-Control`` header, gzip-compressed for clients that accept it.

    The compressed bytes are made once per file and kept in memory, one version per file (made again when
    its size or modification time changes); the compressed answer carries the file's ETag as a weak one
    (same content, another encoding) and ``Vary: Accept-Encoding``, so revalidation answers 304 for either
    encoding."""

    def __init__(self, *, directory: Path, cache_control: str) -> None:
        super().__init__(directory=directory)
        self.cache_control = cache_control
        self._gz: dict[str, tuple[int, int, bytes]] = {}  # path -> (size, mtime_ns, gzip bytes)

    async def _compressed(self, path: str, st: os.stat_result) -> bytes:
        cached = self._gz.get(path)
        if cached is not None and cached[:2] == (st.st_size, st.st_mtime_ns):
            return cached[2]
        body = await anyio.to_thread.run_sync(lambda: gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0))
        self._gz[path] = (st.st_size, st.st_mtime_ns, body)
        return body

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = self.cache_control
        response.headers["Vary"] = "Accept-Encoding"
        request = Headers(scope=scope)
        if not (isinstance(response, FileResponse) and response.status_code == 200 and scope["method"] == "GET"
                and "range" not in request
                and str(response.path).endswith(_COMPRESSIBLE) and "gzip" in request.get("accept-encoding", "")):
            return response  # HEAD and range requests are answered from the file as it is
        # StaticFiles already stat'ed the file (in a worker thread); a cached body is served without leaving the loop
        st = response.stat_result
        if st is None:
            st = await anyio.to_thread.run_sync(os.stat, response.path)
        body = await self._compressed(str(response.path), st)
        headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "etag", "accept-ranges")}
        headers["content-encoding"] = "gzip"
        headers["etag"] = "W/" + response.headers["etag"]
        return Response(body, status_code=200, headers=headers, media_type=response.media_type)


def _render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(nav=PAGES, **ctx)
    return HTMLResponse(html, status_code=status)


def reads_need_token(app: Any) -> bool:
    """Whether ``app`` answers no API read without a token (its access middleware's setting; open without one).

    Read from the app's middleware list at request time, so it holds whatever the app was created with
    (``create_app(access=...)`` or the environment)."""
    from orechain.interfaces.api.auth import AccessMiddleware

    for m in getattr(app, "user_middleware", []):
        if m.cls is AccessMiddleware:
            return bool(m.kwargs["config"].read_token_required)
    return False


def well_formed(ident: str) -> bool:
    """An id an item page can be asked for: 1 to 200 printable characters (the API's own limit on ids)."""
    return 0 < len(ident) <= 200 and ident.isprintable()


def _exists(request: Request, kind: str, ident: str) -> bool:
    if kind == "document":
        return not read(request, ledger.documents_frame, ident).empty
    frame = read(request, {"facility": queries.facilities, "deal": queries.deals, "source": queries.sources}[kind])
    return bool((frame["id"] == ident).any())


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/static", Assets(directory=_HERE / "static", cache_control="no-cache"), name="static")
    app.mount("/vendor", Assets(directory=_VENDOR, cache_control="public, max-age=31536000, immutable"),
              name="vendor")

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/map", status_code=307)

    for path, label, template in PAGES:
        app.add_api_route(path, _list_page(template, label, path), methods=["GET"], include_in_schema=False,
                          response_class=HTMLResponse)
    for kind, plural in (("facility", "facilities"), ("deal", "deals"), ("source", "sources"),
                         ("document", "documents")):
        app.add_api_route(f"/{plural}/{{ident}}", _item_page(kind), methods=["GET"], include_in_schema=False,
                          response_class=HTMLResponse)


def _list_page(template: str, label: str, path: str) -> Callable[[], HTMLResponse]:
    def page() -> HTMLResponse:
        return _render(template, title=label, current=path, page=path.strip("/"))
    return page


def _item_page(kind: str) -> Callable[[Request, str], HTMLResponse]:
    def item(request: Request, ident: str) -> HTMLResponse:
        # When reads need a token, the page (asked for by a browser, which sends none) must not tell whether the
        # id exists: every well-formed id gets the same shell, and its data comes from the API calls the page
        # makes with the tab's token, which answer 401, 403 or 404 as the token allows. Open servers say 404.
        hidden = reads_need_token(request.app)
        if not well_formed(ident) or (not hidden and not _exists(request, kind, ident)):
            return _render("missing.html", status=404, title=f"Unknown {kind}", kind=kind, ident=ident, current="")
        template = "document.html" if kind == "document" else "pages.html"  # pages.js draws the others
        return _render(template, title=kind.capitalize(), ident=ident, current="", page=kind)
    return item
