"""The dashboard on the shipped evidence base: every page loads, draws, and stays on loopback."""

from __future__ import annotations

from typing import Any

import pytest
from test_dashboard import assert_local_only, wait_ready

pytestmark = pytest.mark.browser


def test_shipped_map_and_pakistan_us_route(page: Any, shipped_server: str) -> None:
    page.goto("/map")
    wait_ready(page)
    shown = int(page.locator("body").get_attribute("data-facilities-shown"))
    total = page.evaluate("fetch('/api/v1/facilities?limit=1').then(r => r.json()).then(b => b.meta.total)")
    assert shown == total > 0
    assert page.locator("#facility-table tbody tr").count() == total
    # the Pakistan-US corridor: the USSM-FWO MoU has parties controlled from both countries
    assert "PAK → USA" in page.locator("#route-h").inner_text()
    assert page.locator("#route a[href='/deals/ussm-fwo-2025']").count() == 1
    corridor = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('map')).getOption()
        .series.find(s => s.name === 'corridor').data""")
    assert len(corridor) == 1
    assert_local_only(page, shipped_server)


def test_every_shipped_deal_and_facility_page_loads(page: Any, shipped_server: str) -> None:
    page.goto("/deals")
    wait_ready(page)
    deals = page.evaluate("fetch('/api/v1/deals?limit=1000').then(r => r.json()).then(b => b.data.map(d => d.id))")
    facs = page.evaluate("fetch('/api/v1/facilities?limit=1000').then(r => r.json()).then(b => b.data.map(d => d.id))")
    for path in [f"/deals/{d}" for d in deals] + [f"/facilities/{f}" for f in facs[:10]]:
        page.goto(path)
        wait_ready(page)
        assert page.locator("h1").inner_text().strip(), path
    page.goto("/deals/ussm-fwo-2025")
    wait_ready(page)
    assert_local_only(page, shipped_server)


def test_scenario_form_runs_edits_and_reruns(page: Any, shipped_server: str) -> None:
    page.goto("/scenarios")
    wait_ready(page)
    assert "name: pakistan-us" in page.locator("#s-yaml").input_value()
    page.fill("#s-n", "2000")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("document.body.dataset.run === 'done' || document.body.dataset.run === 'error'",
                           timeout=60000)
    assert page.evaluate("document.body.dataset.run") == "done", page.locator("#s-state").inner_text()
    opt = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('fan')).getOption()")
    median = next(s for s in opt["series"] if s["name"] == "median")["data"]
    assert len(median) == len(opt["xAxis"][0]["data"]) > 5
    assert page.locator("#s-summary li").count() >= 2
    # change an assumption (the seed) and rerun: a new job, a redrawn chart
    page.fill("#s-seed", "2")
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("document.body.dataset.run === 'done' || document.body.dataset.run === 'error'",
                           timeout=60000)
    assert "seed 2" in page.locator("#s-title").inner_text()
    # a broken edit is reported with its line, not run
    page.fill("#s-yaml", page.locator("#s-yaml").input_value().replace("horizon:", "horizon_typo:", 1))
    page.get_by_role("button", name="Run").click()
    page.wait_for_function("document.body.dataset.run === 'error'", timeout=30000)
    assert "invalid scenario" in page.locator("#s-state [role=alert]").inner_text()
    assert_local_only(page, shipped_server, expected_status=422)
