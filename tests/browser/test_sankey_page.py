"""The mine-to-magnet Sankey page in real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest
from test_dashboard import assert_local_only, wait_ready

pytestmark = pytest.mark.browser

OPTION = "() => echarts.getInstanceByDom(document.getElementById('sankey')).getOption().series[0]"


def test_sankey_redraws_on_each_selector_and_links_capacities_to_sources(page: Any, server: str) -> None:
    page.goto("/sankey")
    wait_ready(page)
    # fake data, current status: one operating magnet plant (CHN) and nothing upstream of it
    assert page.locator("body").get_attribute("data-sankey-links") == "0"
    series = page.evaluate(OPTION)
    assert series["type"] == "sankey" and [n["name"] for n in series["data"]] == ["magnet: CHN"]
    assert page.locator("#sankey canvas").count() >= 1
    cap = page.get_by_role("link", name="20,000 t", exact=True)
    assert cap.get_attribute("href") == "/sources/test-stats"
    # year 2019: the old CHN smelter was still operating and is the magnet plant's only known supplier, without
    # a recorded capacity: the supply is untraceable at separation, drawn grey
    page.select_option("#f-year", "2019")
    page.wait_for_function("document.body.dataset.sankeyKey.includes('year=2019')")
    series = page.evaluate(OPTION)
    assert [(lk["source"], lk["target"]) for lk in series["links"]] == [("separation: untraced", "magnet: CHN")]
    colours = {n["name"]: n["itemStyle"]["color"] for n in series["data"]}
    assert colours["separation: untraced"] == "#9ca3af" and colours["magnet: CHN"] != "#9ca3af"
    assert "untraceable further up: 100% at magnet" in page.locator("#summary").inner_text()
    # the consumer selector redraws too (same chain: without a demand the consumer does not change the split)
    page.select_option("#f-consumer", "JPN")
    page.wait_for_function("document.body.dataset.sankeyKey.includes('consumer=JPN')")
    assert "supply of JPN" in page.locator("#summary").inner_text()
    assert_local_only(page, server)


def test_sankey_commodity_without_a_chain_says_so(page: Any, server: str) -> None:
    page.goto("/sankey")
    wait_ready(page)
    page.select_option("#f-commodity", "antimony")
    page.wait_for_function("document.body.dataset.sankeyKey.includes('commodity=antimony')")
    assert "Cannot trace this chain" in page.locator("[role=alert]").inner_text()
    assert page.locator("body").get_attribute("data-sankey-links") == "0"
    assert_local_only(page, server, expected_status=422)


def test_sankey_on_the_shipped_evidence_base(page: Any, shipped_server: str) -> None:
    page.goto("/sankey")
    wait_ready(page)
    assert int(page.locator("body").get_attribute("data-sankey-nodes")) >= 1
    links = page.locator("#facilities a[href^='/sources/']")
    assert links.count() >= 1
    assert_local_only(page, shipped_server)
