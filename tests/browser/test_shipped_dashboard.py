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
