"""The dashboard: HTML pages served by the API app, drawing with the vendored ECharts (no CDN).

Pages are thin HTML shells (Jinja2, autoescaped) that read the API under ``/api/v1`` from the same
origin. Vendored libraries are served from ``/vendor/`` under their versioned file names; the
dashboard's own JavaScript and CSS from ``/static/``. Nothing is fetched from outside the server.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from orechain.claims import ledger
from orechain.evidence import queries
from orechain.interfaces.api.common import read

__all__ = ["PAGES", "mount_dashboard"]

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


def _render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(nav=PAGES, **ctx)
    return HTMLResponse(html, status_code=status)


def _exists(request: Request, kind: str, ident: str) -> bool:
    if kind == "document":
        return not read(request, ledger.documents_frame, ident).empty
    frame = read(request, {"facility": queries.facilities, "deal": queries.deals, "source": queries.sources}[kind])
    return bool((frame["id"] == ident).any())


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.mount("/vendor", StaticFiles(directory=_VENDOR), name="vendor")

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
        if len(ident) > 200 or not _exists(request, kind, ident):
            return _render("missing.html", status=404, title=f"Unknown {kind}", kind=kind, ident=ident, current="")
        template = "document.html" if kind == "document" else "pages.html"  # pages.js draws the others
        return _render(template, title=kind.capitalize(), ident=ident, current="", page=kind)
    return item
