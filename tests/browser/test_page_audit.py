"""Issue 6's dashboard audit, as tests that walk every page in real headless Chromium (the scenario page on the
shipped evidence base, after a run, since its built-in scenarios name shipped facilities): every figure reaches its
source in one hop (or, for a model result, its run's record, which reaches the run's sourced inputs), every chart
has a label and a sourced table of its figures, every control is labelled and reached by Tab with a visible focus
ring, and no page scrolls sideways on a 1366x768 or 1280x720 laptop screen. The checker is
tests/browser/page_audit.js (an in-test DOM walk; no axe-core, nothing downloaded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_dashboard import assert_local_only, wait_ready

pytestmark = pytest.mark.browser

AUDIT = (Path(__file__).parent / "page_audit.js").read_text(encoding="utf-8")
ARTIFACTS = Path(__file__).parent / "artifacts"

# records, in the page, every element that receives focus and whether a focus ring is drawn on it
FOCUS_LOG = """() => {
  window.__focus = [];
  document.addEventListener("focusin", ev => {
    const el = ev.target, cs = getComputedStyle(el);
    const ring = (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== "none";
    window.__focus.push({ el: el.outerHTML.slice(0, 120), ring, key: el.dataset.auditKey || null });
  });
  const sel = 'a[href], button:not([disabled]), select, input:not([type=hidden]), textarea, details > summary, ' +
              '[tabindex]:not([tabindex="-1"])';
  const all = [...document.querySelectorAll(sel)].filter(e => e.checkVisibility({ visibilityProperty: true }));
  all.forEach((e, i) => { e.dataset.auditKey = String(i); });
  return all.length;
}"""


def _select_2019(page: Any) -> None:
    page.select_option("#f-year", "2019")
    page.wait_for_function("document.body.dataset.sankeyKey.includes('year=2019')")


def _open_first_details(page: Any) -> None:
    page.locator("#facility-table button").first.press("Enter")
    page.wait_for_selector("#details-name")


def _nothing(page: Any) -> None:
    return None


# (path, what to do once it is drawn so that its figures are on screen)
FAKE_PAGES: list[tuple[str, Callable[[Any], None]]] = [
    ("/map", _open_first_details), ("/sankey", _select_2019), ("/claims", _nothing),
    ("/facilities/fac-pak-mine", _nothing), ("/deals", _nothing), ("/deals/deal-test-mou", _nothing),
    ("/sources", _nothing), ("/sources/test-stats", _nothing), ("/documents/{doc}", _nothing),
]


def _run_scenario(page: Any) -> None:
    """A small run of the built-in scenario, so that its results (fan, table, summary, run record) are drawn."""
    page.fill("#s-n", "500")
    page.get_by_role("button", name="Rerun").click()
    page.wait_for_function("['done', 'error'].includes(document.body.dataset.run)", timeout=90000)
    assert page.evaluate("document.body.dataset.run") == "done", page.locator("#s-state").inner_text()


# pages walked on the shipped evidence base only (the built-in scenarios name shipped facilities)
SHIPPED_PAGES: list[tuple[str, Callable[[Any], None]]] = [("/scenarios", _run_scenario)]

# pages the audit does not walk, and why (none now)
NOT_AUDITED: dict[str, str] = {}


def test_the_audit_walks_every_page_the_dashboard_serves() -> None:
    """A new page in the navigation, or a new kind of item page, must be added to the walk (or say why not)."""
    from orechain.interfaces.web import PAGES

    walked = {p for p, _ in FAKE_PAGES + SHIPPED_PAGES}
    assert sorted(p for p, _label, _t in PAGES if p not in walked and p not in NOT_AUDITED) == []
    item_routes = {r.path for r in _app_routes() if "{ident}" in r.path}
    kinds = {p.split("/")[1] for p in walked if p.count("/") == 2}
    assert sorted(r for r in item_routes if r.split("/")[1] not in kinds) == []


def _app_routes() -> list[Any]:
    from fastapi import FastAPI

    from orechain.interfaces.web import mount_dashboard

    app = FastAPI()
    mount_dashboard(app)
    return list(app.routes)


def _open(page: Any, path: str) -> str:
    if "{doc}" in path:
        page.goto("/claims")
        doc = page.evaluate("fetch('/api/v1/documents').then(r => r.json()).then(b => b.data[0].id)")
        path = path.format(doc=doc)
    page.goto(path)
    wait_ready(page)
    return path


def _problems(found: dict[str, Any]) -> dict[str, list[str]]:
    """What the checker found wrong: figures with no source one hop away, charts, labels, text under 12 px."""
    return {k: found[k] for k in ("unsourced", "charts", "labels", "small") if found[k]}


def _audit(page: Any) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(AUDIT)
    return result


@pytest.mark.parametrize(("path", "action"), FAKE_PAGES, ids=[p for p, _ in FAKE_PAGES])
def test_every_figure_links_to_its_source_and_everything_is_labelled(page: Any, server: str, path: str,
                                                                    action: Callable[[Any], None]) -> None:
    _open(page, path)
    action(page)
    found = _audit(page)
    assert found["figures"] > 0, "the page shows no figure at all: the check would pass vacuously"
    assert _problems(found) == {}
    assert_local_only(page, server)


@pytest.mark.parametrize("path", ["/map", "/sankey", "/deals/ussm-fwo-2025", "/sources", "/deals"])
def test_shipped_pages_link_every_figure_to_its_source(page: Any, shipped_server: str, path: str) -> None:
    _open(page, path)
    found = _audit(page)
    assert found["figures"] > 0
    assert _problems(found) == {}
    assert_local_only(page, shipped_server)


def test_shipped_facility_and_source_pages_link_every_figure(page: Any, shipped_server: str) -> None:
    """Ten facilities and every source with observations: the real data's variety (missing capacities, notes)."""
    page.goto("/sources")
    wait_ready(page)
    facs = page.evaluate("fetch('/api/v1/facilities?limit=1000').then(r => r.json()).then(b => b.data.map(d => d.id))")
    srcs = page.evaluate("fetch('/api/v1/sources?limit=1000').then(r => r.json())"
                         ".then(b => b.data.filter(s => s.observations > 0).map(s => s.id))")
    problems: dict[str, dict[str, list[str]]] = {}
    for path in [f"/facilities/{f}" for f in facs[:10]] + [f"/sources/{s}" for s in srcs[:10]]:
        _open(page, path)
        found = _audit(page)
        wrong = _problems(found)
        if wrong:
            problems[path] = wrong
    assert problems == {}


@pytest.mark.parametrize(("path", "action"), FAKE_PAGES, ids=[p for p, _ in FAKE_PAGES])
def test_tab_reaches_every_control_with_a_visible_focus_ring(page: Any, server: str, path: str,
                                                             action: Callable[[Any], None]) -> None:
    _open(page, path)
    action(page)
    _tab_walk(page)


def _tab_walk(page: Any, rounds: int = 1) -> None:
    """Tab ``rounds`` times round the page; more than one where a click left the starting point mid-page (a clicked
    button stays the starting point of sequential focus after a blur, so the walk wraps round to the top)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.evaluate("window.scrollTo(0, 0)")
    n = page.evaluate(FOCUS_LOG)
    assert n > 3
    page.locator("body").focus()
    for _ in range((n + 5) * rounds):
        page.keyboard.press("Tab")
    log = page.evaluate("window.__focus")
    reached = {f["key"] for f in log if f["key"] is not None}
    missed = page.evaluate("""reached => [...document.querySelectorAll('[data-audit-key]')]
        .filter(e => !reached.includes(e.dataset.auditKey)).map(e => e.outerHTML.slice(0, 120))""", sorted(reached))
    assert missed == [], "controls Tab never reaches"
    assert [f["el"] for f in log if not f["ring"]] == [], "focused without a visible focus ring"


def test_scenario_page_every_figure_reaches_its_source_or_its_run(page: Any, shipped_server: str) -> None:
    """The scenario page after a run: the fan's table, the summary and the run record are model results naming
    their run, whose record reaches the inputs table; each input cites the source and quality its YAML gives it;
    every form field is described by its input's citation; the user's own changes are marked as theirs."""
    _open(page, "/scenarios")
    _run_scenario(page)
    found = _audit(page)
    assert found["figures"] > 20, "the run's figures are not on the page"
    assert _problems(found) == {}
    # the fan chart names its table, which holds the run's figures
    assert page.locator("#fan").get_attribute("aria-details") == "s-table"
    assert page.locator("#s-table").get_attribute("data-run") == page.locator("#s-run-record").get_attribute(
        "data-run-record")
    # every prefilled field is described by its source; the run settings say they are the user's
    described = page.evaluate("""() => [...document.querySelectorAll('#s-fields input, #s-fields select')].map(el => {
        const c = el.getAttribute('aria-describedby').split(' ').map(i => document.getElementById(i))
                    .find(e => e && e.matches('cite[data-quality]'));
        return c ? [c.dataset.quality, c.textContent.length > 0] : null; })""")
    assert len(described) > 20 and None not in described
    assert {q for q, _ in described} <= {"primary", "secondary", "unconfirmed", "assumption", "setting"}
    assert all(ok for _, ok in described)
    assert page.locator("#s-n").get_attribute("data-user-input") and page.locator("#s-seed").get_attribute(
        "data-user-input")
    # the demand figure cites the IEA outlook (secondary), as its YAML does
    row = page.locator("#s-inputs tr[data-ref='demand.target.mode']")
    assert "IEA" in row.text_content() and "secondary" in row.text_content()  # in the closed <details>
    # a changed value is the user's input; a rerun's record lists it; the audit still passes
    page.locator("#s-fields [data-ref='projects.mp-independence-metal.capacity.mode']").fill("400")
    assert "your input" in page.locator("#s-inputs tr[data-ref='projects.mp-independence-metal.capacity.mode']") \
        .text_content()
    _run_scenario(page)
    assert "353 → 400" in page.locator("#s-run-record").inner_text()
    assert _problems(_audit(page)) == {}
    # a change's [source] link opens the inputs table at its row
    page.locator("#s-changes a", has_text="[source]").first.click()
    assert page.locator("#s-inputs-box").get_attribute("open") is not None
    assert_local_only(page, shipped_server)


@pytest.mark.parametrize("name", ["eu-crma-2030", "us-magnets-2030"])
def test_the_other_built_in_scenarios_pass_the_audit(page: Any, shipped_server: str, name: str) -> None:
    """Their YAMLs record sources differently (demand and projects sourced, settings without): each still passes."""
    _open(page, "/scenarios")
    page.select_option("#s-builtin", name)
    page.wait_for_function(f"document.getElementById('s-yaml').value.includes('name: {name}')")
    _run_scenario(page)
    found = _audit(page)
    assert found["figures"] > 20
    assert _problems(found) == {}
    qualities = page.evaluate("[...document.querySelectorAll('#s-inputs cite')].map(c => c.dataset.quality)")
    assert "secondary" in qualities and "assumption" in qualities


def test_scenario_page_tab_reaches_every_control_with_a_visible_focus_ring(page: Any, shipped_server: str) -> None:
    _open(page, "/scenarios")
    _run_scenario(page)  # Rerun was clicked: the walk starts there and wraps round
    _tab_walk(page, rounds=2)


LAPTOPS = [(1366, 768), (1280, 720)]


@pytest.mark.parametrize(("width", "height"), LAPTOPS, ids=[f"{w}x{h}" for w, h in LAPTOPS])
def test_no_page_scrolls_sideways_on_a_laptop_screen(browser: Any, shipped_server: str, server: str, width: int,
                                                     height: int) -> None:
    """Each page at laptop size, on the shipped data (its long names and tables) and the fake articles
    (the claims pages); a screenshot of each is kept under tests/browser/artifacts/."""
    wide: dict[str, int] = {}
    for base, paths in ((shipped_server, ["/map", "/sankey", "/deals", "/deals/ussm-fwo-2025", "/sources",
                                          "/sources/usgs-mcs-2025", "/scenarios"]),
                        (server, ["/claims", "/facilities/fac-pak-mine", "/documents/{doc}"])):
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=base)
        page = ctx.new_page()
        try:
            for path in paths:
                real = _open(page, path)
                dict(SHIPPED_PAGES).get(path, _nothing)(page)  # the scenario page with a run's results drawn
                sw, iw = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
                ARTIFACTS.mkdir(exist_ok=True)
                name = real.strip("/").replace("/", "_") or "home"
                page.screenshot(path=str(ARTIFACTS / f"laptop_{width}x{height}_{name}.png"))
                if sw > iw:
                    wide[real] = sw
        finally:
            ctx.close()
    assert wide == {}, f"pages wider than the {width}px screen (scrollWidth)"


BAD_PAGE = """
<table><tbody><tr><td>1,200 t</td><td>plain words</td></tr>
  <tr><td><a href="/sources/test-stats">5 t</a></td><td>2024</td></tr></tbody></table>
<dl><dt>Coordinates</dt><dd>29, 66</dd></dl>
<p class="legend-note">Shares over 50% are highlighted.</p>
<p><a href="#inputs">62%</a> rests on</p><div id="inputs"><a href="/sources/test-stats">[test-stats]</a></div>
<p><a href="#nowhere">7%</a></p>
<p><a href="/facilities/fac-pak-mine">Mine 3</a></p>
<div class="chart" role="img" aria-label="a chart"></div>
<div class="chart" aria-details="no-such-table"></div>
<div class="chart" role="img" aria-label="This is a chart. The data is NaN" aria-details="inputs"></div>
<label for="labelled">Year <select id="labelled"><option>1</option></select></label>
<label>Only wrapped <select id="wrapped"><option>1</option></select></label>
<select id="unlabelled"><option>2</option></select>
<button type="button"></button>
<p style="font-size: 10px">fine print</p>
<p data-run="r1">median 812</p>
<div data-run-record="r2"><a href="#inputs">run r2, 500 draws</a></div><p data-run="r2">median 900</p>
<table><tbody><tr><td>42 t</td><td><cite data-quality="made-up">a blog</cite></td></tr>
  <tr><td>43 t</td><td><cite data-quality="secondary">IEA outlook</cite></td></tr>
  <tr><td>44 t</td><td><cite data-quality="secondary"> </cite></td></tr></tbody></table>
<p data-user-input="typed in the form">500 t</p>
<style>main button:focus-visible { outline: none !important; }</style>
"""


def test_the_checker_finds_what_is_wrong(page: Any, server: str) -> None:
    """The checker itself, on a page of known faults: it must name each one and nothing else (a recorded run's
    result, a cited input with a quality and the user's own input pass)."""
    _open(page, "/deals")
    page.evaluate("html => { document.querySelector('main').innerHTML = html; }", BAD_PAGE)
    found = _audit(page)
    # a model result whose run has no record on the page; a citation with no known quality, and one with no words
    assert [u.split(":")[0] for u in found["unsourced"]] == ["td in #main", "dd in #main", "p in #main",
                                                             "p in #main", "p in #main", "td in #main", "td in #main"]
    assert [u.split(": ", 1)[1] for u in found["unsourced"]] == ['"1,200 t"', '"29, 66"', '"7%"', '"Mine 3"',
                                                                '"median 812"', '"42 t"', '"44 t"']
    assert len(found["charts"]) == 5  # no aria-details; no aria-label, no role, aria-details naming nothing; generated
    assert sum("generated aria-label" in c for c in found["charts"]) == 1
    assert sum("no aria-label" in c for c in found["charts"]) == 1
    assert sum("aria-details" in c for c in found["charts"]) == 2
    assert len(found["labels"]) == 3
    assert ["wrapped" in found["labels"][0], "unlabelled" in found["labels"][1], "button" in found["labels"][2]] == [
        True, True, True]
    assert found["small"] == ['p in #main: "fine print": 10px']
    # the focus-ring detector sees the button whose ring was taken away
    n = page.evaluate(FOCUS_LOG)
    page.locator("body").focus()
    for _ in range(n + 5):
        page.keyboard.press("Tab")
    no_ring = [f["el"] for f in page.evaluate("window.__focus") if not f["ring"]]
    assert len(no_ring) == 1 and no_ring[0].startswith("<button")


def test_keyboard_selects_a_map_marker_from_the_facility_table(page: Any, server: str) -> None:
    """Markers are canvas drawings: the table's Details button, pressed from the keyboard, marks the facility's
    marker (highlight and tooltip) as well as opening its details."""
    _open(page, "/map")
    row = page.locator("#facility-table tbody tr", has_text="Gamma magnet works")
    row.get_by_role("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#details-name")
    assert page.locator("body").get_attribute("data-selected-marker") == "fac-chn-mag"
    tip = page.locator("#map > div").filter(has_text="Gamma magnet works")
    tip.first.wait_for(state="visible")
    assert "magnet" in tip.first.inner_text()
    # a facility without coordinates is in the table only: nothing is marked, the details still open
    no_coords = page.evaluate("fetch('/api/v1/facilities?limit=1000').then(r => r.json())"
                              ".then(b => b.data.find(f => f.lat === null).name)")
    page.locator("#facility-table tbody tr", has_text=no_coords).get_by_role("button").press("Enter")
    page.wait_for_function(f"document.getElementById('details-name')?.textContent === {no_coords!r}")
    assert page.locator("body").get_attribute("data-selected-marker") == ""
    assert_local_only(page, server)


def test_map_draws_no_stripe_across_the_antimeridian(page: Any, server: str) -> None:
    """Readable map: the atlas rings that cross 180° (eastern Russia, Fiji) are unwrapped, not drawn as a stripe
    from +180 to -180 across the whole map."""
    _open(page, "/map")
    crossing = page.evaluate("""() => echarts.getMap('world').geoJSON.features.filter(f => {
        const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
        return polys.flat().some(r => r.some(p => p[0] > 170) && r.some(p => p[0] < -170)); })
        .map(f => f.properties.name)""")
    assert crossing == []
    unwrapped = page.evaluate("""() => echarts.getMap('world').geoJSON.features.filter(f => {
        const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
        return polys.flat().some(r => r.some(p => p[0] > 180)); }).map(f => f.properties.name).sort()""")
    assert "Russia" in unwrapped


@pytest.mark.parametrize("path", ["/map", "/sankey"])
def test_early_data_requests_carry_the_api_token(browser: Any, read_token_server: tuple[str, str], path: str) -> None:
    """The map and the Sankey ask for their data before ECharts is parsed; on a server that needs a token for
    every read, those first requests carry it (a <link rel=preload> could not), so none is refused."""
    url, token = read_token_server
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=url)
    page = ctx.new_page()
    answers: list[tuple[str, int, str | None]] = []
    page.on("response", lambda r: answers.append((r.url, r.status, r.request.headers.get("authorization"))))
    errors: list[str] = []
    # the health page's /favicon.ico is a 404 whose console line can arrive after the page has loaded: those
    # lines name the favicon in their location and are not the dashboard's (its pages declare an inline icon)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not str(m.location.get("url", "")).endswith("/favicon.ico") else None)
    try:
        page.goto("/api/v1/health")
        page.evaluate("t => sessionStorage.setItem('orechain.apiToken', t)", token)
        page.wait_for_load_state("networkidle")
        answers.clear()  # the health check above was asked without one
        errors.clear()
        page.goto(path)
        wait_ready(page)
        api = [(u, s, a) for u, s, a in answers if "/api/v1/" in u]
        assert len(api) >= 3
        assert [(u, s) for u, s, _a in api if s != 200] == []
        assert {a for _u, _s, a in api} == {f"Bearer {token}"}
        assert errors == []
    finally:
        ctx.close()


def test_item_pages_on_a_token_server_tell_unknown_ids_only_through_the_api(browser: Any,
                                                                           read_token_server: tuple[str, str]) -> None:
    """On a server that needs a token for reads, the HTML of a known and an unknown facility is the same shell
    (status 200: the page does not reveal the id exists); with the tab's token, the known one draws and the
    unknown one says what the API answered (404)."""
    url, token = read_token_server
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=url)
    page = ctx.new_page()
    try:
        assert page.goto("/facilities/fac-pak-mine").status == 200
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
        assert page.evaluate("document.body.dataset.ready") == "error"  # no token yet: 401, said in the page
        assert "needs an API token" in page.locator("#page").inner_text()
        page.evaluate("t => sessionStorage.setItem('orechain.apiToken', t)", token)
        assert page.goto("/facilities/no-such-facility").status == 200
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
        assert page.evaluate("document.body.dataset.ready") == "error"
        assert "no-such-facility" in page.locator("#page [role=alert]").inner_text()
        assert page.goto("/facilities/fac-pak-mine").status == 200
        wait_ready(page)
        assert page.evaluate("document.body.dataset.ready") == "1"
    finally:
        ctx.close()
