"""The dashboard: HTML pages served by the API app, drawing with the vendored ECharts (no CDN).

Pages are thin HTML shells (Jinja2, autoescaped) that read the API under ``/api/v1`` from the same
origin. Vendored libraries are served from ``/vendor/`` under their versioned file names; the
dashboard's own JavaScript and CSS from ``/static/``. Nothing is fetched from outside the server.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from orechain.evidence import queries
from orechain.interfaces.api.common import context

__all__ = ["PAGES", "mount_dashboard"]

_HERE = Path(str(resources.files("orechain.interfaces.web")))
_VENDOR = Path(str(resources.files("orechain.assets") / "vendor"))
_env = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]))

# (path, navigation label, template); pages with an id are reached from the others
PAGES: list[tuple[str, str, str]] = [
    ("/map", "Corridor map", "map.html"),
    ("/deals", "Deals", "deals.html"),
    ("/sources", "Sources", "sources.html"),
]


def _render(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = _env.get_template(name).render(nav=PAGES, **ctx)
    return HTMLResponse(html, status_code=status)


def _exists(request: Request, kind: str, ident: str) -> bool:
    store = context(request).store
    frame = {"facility": queries.facilities, "deal": queries.deals, "source": queries.sources}[kind](store)
    return bool((frame["id"] == ident).any())


def mount_dashboard(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.mount("/vendor", StaticFiles(directory=_VENDOR), name="vendor")

    @app.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/map", status_code=307)

    for path, label, template in PAGES:
        def page(template: str = template, label: str = label, path: str = path) -> HTMLResponse:
            return _render(template, title=label, current=path)
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False, response_class=HTMLResponse)

    for kind, label in (("facility", "Facility"), ("deal", "Deal"), ("source", "Source")):
        def item(request: Request, ident: str, kind: str = kind, label: str = label) -> HTMLResponse:
            if len(ident) > 200 or not _exists(request, kind, ident):
                return _render("missing.html", status=404, title=f"Unknown {kind}", kind=kind, ident=ident,
                               current="")
            return _render(f"{kind}.html", title=label, ident=ident, current="")
        app.add_api_route(f"/{kind}s/{{ident}}", item, methods=["GET"], include_in_schema=False,
                          response_class=HTMLResponse)
