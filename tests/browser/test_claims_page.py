"""The claims-ledger and document pages in real headless Chromium (fake articles, tests/api/fixtures/claims)."""

from __future__ import annotations

from typing import Any

import pytest
from test_dashboard import assert_local_only, wait_ready

pytestmark = pytest.mark.browser

WEALTH = "PAK/total mineral wealth/value"


def test_claims_ledger_highlights_conflicts_and_shows_sentences_on_focus(page: Any, server: str) -> None:
    page.goto("/claims")
    wait_ready(page)
    assert page.locator("body").get_attribute("data-claims-shown") == "4"
    assert "1 subject(s) in conflict" in page.locator("#summary").inner_text()
    conflict = page.locator(f"tbody.conflict[data-subject='{WEALTH}']")
    assert conflict.count() == 1 and conflict.get_attribute("data-status") == "contradict"
    assert conflict.locator("tr[data-claim]").count() == 2
    assert page.locator("tbody.conflict").count() == 1
    # the highlight is drawn: the conflict rows have the warning background, the others do not
    bg = page.evaluate("""() => [...document.querySelectorAll('tbody')].map(b =>
        [b.dataset.subject, getComputedStyle(b.querySelector('tr[data-claim] td')).backgroundColor])""")
    colours = dict(bg)
    assert colours[WEALTH] != colours["PAK/rare earth grade/grade"]
    # keyboard: Tab onto a claim shows its source sentence; Escape hides it
    tip = conflict.locator(".tip").first
    assert not tip.is_visible()
    claim = conflict.locator(".claim").first
    claim.focus()
    assert tip.is_visible()
    assert "mineral wealth" in tip.inner_text()
    assert claim.get_attribute("aria-describedby") == tip.get_attribute("id")
    page.keyboard.press("Escape")
    assert not tip.is_visible()
    for _ in range(8):  # Tab on (past the figure, document and evidence links) to the next claim: its sentence shows
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('claim')"):
            break
    nxt = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    assert nxt and page.locator(f"[id='{nxt}']").is_visible()
    # hover shows it too
    page.mouse.move(0, 0)
    other = page.locator("tbody:not(.conflict) .claim").first
    other.hover()
    assert other.locator("xpath=following-sibling::span[@role='tooltip']").is_visible()
    # every figure links to its passage in its document; evidence links to its source
    fig = conflict.locator("td.num a").first
    assert fig.get_attribute("href").startswith("/documents/") and "#claim-" in fig.get_attribute("href")
    assert page.locator("a[href='/sources/test-news']").count() == 1
    # a selector redraws: conflicts only
    page.select_option("#f-show", "conflicts")
    page.wait_for_function("document.body.dataset.claimsShown === '2'")
    assert page.locator("tbody").count() == 1
    page.select_option("#f-show", "all")
    page.select_option("#f-plausibility", "plausible")
    page.wait_for_function("document.body.dataset.claimsShown === '1'")
    assert "1,400 mg/kg" in page.locator("#claims").inner_text()
    assert_local_only(page, server)


def test_claim_links_to_its_passage_in_the_document(page: Any, server: str) -> None:
    page.goto("/claims")
    wait_ready(page)
    page.locator(f"tbody[data-subject='{WEALTH}'] td.num a").first.click()
    page.wait_for_url("**/documents/**")
    wait_ready(page)
    assert page.locator("h1").inner_text().startswith("Test article")
    focused = page.evaluate("document.activeElement.tagName + ' ' + document.activeElement.id")
    assert focused.startswith("MARK claim-")
    mark = page.locator("mark.conflict")
    assert mark.count() == 1 and "trillion" in mark.inner_text()
    assert page.locator(".doctext mark").count() == 2
    assert_local_only(page, server)
