"""End-to-end: every page in real headless Chromium, against a real server on loopback."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def wait_ready(page: Any) -> None:
    page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
    assert page.evaluate("document.body.dataset.ready") == "1", page.content()[:2000]


def assert_local_only(page: Any, server: str, expected_status: int | None = None) -> None:
    """No request left loopback, and the console shows no error (but the one HTTP status a test provoked)."""
    base = urlsplit(server)
    outside = [u for u in page.recorded.requests
               if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != base.netloc]
    assert page.recorded.requests, "no request was recorded at all"
    assert outside == [], f"requests outside {base.netloc}: {outside}"
    allowed = f"status of {expected_status}" if expected_status else None
    assert [e for e in page.recorded.console_errors if not (allowed and allowed in e)] == []


def test_map_draws_facilities_filters_and_shows_details(page: Any, server: str) -> None:
    page.goto("/map")
    wait_ready(page)
    assert page.locator("body").get_attribute("data-facilities-shown") == "7"
    assert page.locator("#facility-table tbody tr").count() == 7
    assert "1 without coordinates" in page.locator("#summary").inner_text()
    # the map canvas is drawn (ECharts renders into a canvas) with the world outline and the points
    assert page.locator("#map canvas").count() >= 1
    n_points = page.evaluate("""() => { const o = echarts.getInstanceByDom(document.getElementById('map')).getOption();
        return o.series.filter(s => s.type === 'scatter').reduce((n, s) => n + s.data.length, 0); }""")
    assert n_points == 6  # the facility without coordinates is in the table only
    # the Pakistan-US route: both sourced PAK->USA links drawn thick and listed
    assert "PAK → USA: 1 deal(s), 2 facility link(s)" in page.locator("#route-h").inner_text()
    widths = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('map')).getOption()
        .series.find(s => s.name === 'links').data.map(d => d.lineStyle.width)""")
    assert sorted(widths) == [1, 3.5, 3.5]
    corridor = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('map')).getOption()
        .series.find(s => s.name === 'corridor').data""")
    assert len(corridor) == 1
    assert page.get_by_role("link", name="Alpha-Beta minerals MoU").count() == 1
    # another pair of countries: no deal, no corridor line
    page.select_option("#f-to", "CHN")
    page.wait_for_function("document.getElementById('route-h').textContent.includes('→ CHN')")
    assert "0 deal(s)" in page.locator("#route-h").inner_text()
    page.select_option("#f-to", "USA")
    page.wait_for_function("document.getElementById('route-h').textContent.includes('→ USA')")
    # filter by stage, with the keyboard-reachable select
    page.select_option("#f-stage", "separation")
    page.wait_for_function("document.body.dataset.facilitiesShown === '3'")
    assert page.locator("#facility-table tbody tr").count() == 3
    page.select_option("#f-country", "USA")
    page.wait_for_function("document.body.dataset.facilitiesShown === '2'")
    # details: press the button by keyboard; details show sources with links
    page.locator("#facility-table button").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#details-name")
    assert page.locator("#details-name").inner_text().startswith("Beta")
    assert page.locator("#details a[href^='/sources/']").count() >= 1
    assert_local_only(page, server)


def test_map_click_on_a_point_opens_details(page: Any, server: str) -> None:
    page.goto("/map")
    wait_ready(page)
    page.select_option("#f-country", "CHN")
    page.wait_for_function("document.body.dataset.facilitiesShown === '3'")
    xy = page.evaluate("""() => { const c = echarts.getInstanceByDom(document.getElementById('map'));
        return c.convertToPixel({geoIndex: 0}, [109.8, 40.6]); }""")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + xy[0], box["y"] + xy[1])
    page.wait_for_selector("#details-name")
    assert page.locator("#details-name").inner_text() == "Gamma magnet works"
    cap = page.locator("#details a", has_text="20,000 t (2024)")
    assert cap.get_attribute("href") == "/sources/test-stats"
    assert_local_only(page, server)


def test_facility_page_timeline_and_sources(page: Any, server: str) -> None:
    page.goto("/facilities/fac-pak-mine")
    wait_ready(page)
    assert page.locator("h1").inner_text() == "Alpha Hill mine"
    items = page.locator("ol.timeline li")
    assert items.count() == 3
    assert "2024-06-15" in items.nth(2).inner_text() and "operating" in items.nth(2).inner_text()
    n = page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('.chart')).getOption()
        .series[1].data.length""")
    assert n == 3
    # every number on the page is a link to a source: capacity, stakes, observation values
    for text in ("1,200 t Sb (2024)", "75%", "25%", "60"):
        link = page.get_by_role("link", name=text, exact=True)
        assert link.count() >= 1, text
        assert link.first.get_attribute("href").startswith("/sources/")
    page.get_by_role("link", name="1,200 t Sb (2024)").click()
    page.wait_for_url("**/sources/test-company")
    wait_ready(page)
    assert page.locator("h1").inner_text() == "Fake annual report"
    assert_local_only(page, server)


def test_deal_page_phases_and_milestones(page: Any, server: str) -> None:
    page.goto("/deals")
    wait_ready(page)
    page.get_by_role("link", name="Alpha-Beta minerals MoU").click()
    page.wait_for_url("**/deals/deal-test-mou")
    wait_ready(page)
    text = page.locator("ol.timeline").inner_text()
    assert "Phase 1: Export of available minerals" in text and "2025-10-02" in text
    assert page.get_by_role("link", name="500 USD million").get_attribute("href") == "/sources/test-news"
    spans = page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('.chart')).getOption()
        .series[0].data.length""")
    assert spans == 2
    assert_local_only(page, server)


def test_unknown_ids_give_a_404_page(page: Any, server: str) -> None:
    resp = page.goto("/facilities/no-such-thing")
    assert resp.status == 404
    assert "no facility with id" in page.locator("[role=alert]").inner_text().lower()
    resp = page.goto("/api/v1/facilities?limit=abc")
    assert resp.status == 422


def test_sources_page_lists_and_links(page: Any, server: str) -> None:
    page.goto("/sources")
    wait_ready(page)
    assert page.locator("tbody tr").count() == 3
    assert_local_only(page, server)
