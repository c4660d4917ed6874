"""The report in a real headless Chromium: every chart draws, no script error, no network request."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from orechain.evidence.store import Store
from orechain.report import assess
from orechain.report.section import ReportContext

pytestmark = pytest.mark.browser


def test_every_chart_draws_without_errors_or_requests(report_store: Store, tmp_path: Path, browser: Any) -> None:
    report = assess.build_report(report_store, ReportContext(as_of=dt.date(2025, 11, 20)))
    page_path = assess.write_report(report, tmp_path)[0]
    page = browser.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(page_path.as_uri())
    boxes = page.locator(".chart-box")
    n = boxes.count()
    assert n >= 5  # three production charts and two timelines
    for i in range(n):
        assert boxes.nth(i).locator("svg").count() == 1, f"chart {i} did not draw"
    page.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []
