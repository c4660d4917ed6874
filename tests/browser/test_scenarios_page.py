"""The scenario page in real headless Chromium: the assumptions form (change a value, rerun, the fan chart is
redrawn and the change listed; an invalid value gets the API's error next to its field), the advanced YAML box in
sync with the fields, and the API token control against a server that requires tokens."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from test_dashboard import assert_local_only, wait_ready

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
DONE = "document.body.dataset.run === 'done' || document.body.dataset.run === 'error'"


def median(page: Any) -> list[float]:
    data: list[float] = page.evaluate("""() => echarts.getInstanceByDom(document.getElementById('fan')).getOption()
        .series.find(s => s.name === 'median').data""")
    return data


def field(page: Any, ref: str) -> Any:
    return page.locator(f"#s-fields [data-ref='{ref}']")


def field_error(page: Any, ref: str) -> str:
    text: str = page.locator(f"#{field(page, ref).get_attribute('id')}-err").inner_text()
    return text


def rerun(page: Any, expect: str = "done") -> None:
    page.get_by_role("button", name="Rerun").click()
    page.wait_for_function(DONE, timeout=90000)
    assert page.evaluate("document.body.dataset.run") == expect, page.locator("#s-state").inner_text()


def test_change_an_assumption_rerun_and_see_the_chart_and_the_diff_change(page: Any, shipped_server: str) -> None:
    page.goto("/scenarios")
    wait_ready(page)
    cap = field(page, "projects.mp-independence-metal.capacity.mode")
    assert cap.input_value() == "353" and cap.get_attribute("min") == "0"
    label = page.locator(f"label[for='{cap.get_attribute('id')}']").inner_text()
    assert "capacity (mode)" in label and "t NdPr oxide eq/yr" in label
    assert page.locator("#s-changes li").count() == 0
    page.fill("#s-n", "2000")
    rerun(page)
    before = median(page)
    assert len(before) > 5 and page.locator("#s-progress").evaluate("p => p.value") == 1
    # the metal line feeding the US magnet plant is the chain's narrowest stage: a larger one moves the fan
    cap.fill("500")
    changes = page.locator("#s-changes li[data-ref='projects.mp-independence-metal.capacity.mode']")
    assert "353 → 500" in changes.inner_text() and "Project mp-independence-metal" in changes.inner_text()
    # the YAML (advanced) follows, with only that value changed
    assert "capacity: {dist: pert, min: 250, mode: 500, max: 500}" in page.locator("#s-yaml").input_value()
    rerun(page)
    after = median(page)
    assert len(after) == len(before) and after != before
    assert sum(after) > sum(before)  # more metal capacity, more independent capacity
    assert "seed 1" in page.locator("#s-title").inner_text()
    # a run setting is listed too; resetting to the built-in clears the list
    page.fill("#s-seed", "2")
    assert "Seed: 1 → 2" in page.locator("#s-changes").inner_text()
    page.get_by_role("button", name="Reset to built-in").click()
    page.wait_for_function("document.querySelectorAll('#s-changes li').length === 0")
    assert_local_only(page, shipped_server)


def test_an_invalid_value_shows_the_error_next_to_its_field(page: Any, shipped_server: str) -> None:
    page.goto("/scenarios")
    wait_ready(page)
    page.fill("#s-n", "500")
    # outside the schema's limits: refused in the page, before any request
    p_fail = "projects.fwo-ussm-polymetallic-refinery.gates[0].p_fail"
    field(page, p_fail).fill("1.5")
    assert field_error(page, p_fail) == "at most 1"
    assert field(page, p_fail).get_attribute("aria-invalid") == "true"
    field(page, p_fail).fill("0.3")
    assert field_error(page, p_fail) == ""
    # within the limits but inconsistent (min above mode and max): the API's 422 is shown next to the field
    low = "projects.pk-ree-mine.capacity.min"
    field(page, low).fill("900")
    rerun(page, expect="error")
    assert "need min <= mode <= max" in field_error(page, low)
    assert "invalid scenario" in page.locator("#s-state [role=alert]").inner_text()
    assert page.evaluate("document.activeElement.dataset.ref") == low
    assert_local_only(page, shipped_server, expected_status=422)


def test_the_advanced_yaml_and_the_fields_stay_in_sync(page: Any, shipped_server: str) -> None:
    page.goto("/scenarios")
    wait_ready(page)
    page.locator("#s-advanced summary").click()
    text = page.locator("#s-yaml").input_value()
    assert "name: pakistan-us" in text and "rate: 0.3" in text
    page.fill("#s-yaml", text.replace("rate: 0.3", "rate: 0.6", 1))
    page.locator("#s-yaml").blur()
    page.wait_for_function("document.querySelector(\"[data-ref='hazards.Balochistan.rate']\").value === '0.6'")
    assert "0.3 → 0.6 per year" in page.locator("#s-changes li[data-ref='hazards.Balochistan.rate']").inner_text()
    # not YAML: said under the box, the fields stay
    page.fill("#s-yaml", "name: [unclosed")
    page.locator("#s-yaml").blur()
    page.wait_for_function("document.getElementById('s-yaml-error').textContent.length > 0")
    assert "invalid YAML" in page.locator("#s-yaml-error").inner_text()
    # valid YAML that breaks the schema: the job is refused with the line
    page.fill("#s-yaml", text.replace("horizon:", "horizon_typo:", 1))
    page.fill("#s-n", "500")
    rerun(page, expect="error")
    assert "invalid scenario" in page.locator("#s-state [role=alert]").inner_text()
    assert "horizon_typo" in page.locator("#s-errors").inner_text() + page.locator("#s-fields").inner_text()
    assert_local_only(page, shipped_server, expected_status=422)


def test_a_chosen_option_is_listed_once_and_written_into_the_yaml(page: Any, shipped_server: str) -> None:
    page.goto("/scenarios")
    wait_ready(page)
    ref = "projects.pk-phase1-export.status"
    before = field(page, ref).input_value()
    after = "operating" if before != "operating" else "construction"
    field(page, ref).select_option(after)
    change = page.locator(f"#s-changes li[data-ref='{ref}']")
    assert change.count() == 1 and f"{before} → {after}" in change.inner_text()
    assert page.locator("#s-changes-count").inner_text() == "1"
    assert f"status: {after}" in page.locator("#s-yaml").input_value()
    field(page, ref).select_option(before)  # back to the built-in's value: no change listed
    assert page.locator("#s-changes li").count() == 0
    assert_local_only(page, shipped_server)


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory,
                 serve_app: Callable[..., AbstractContextManager[str]]) -> Iterator[tuple[str, str]]:
    """A server that needs a token for every read and an editor's for jobs, and a viewer's token."""
    from orechain.access.audit import Actor
    from orechain.access.users import Role, add_user, issue_token
    from orechain.evidence.store import Store
    from orechain.interfaces.api.auth import AccessConfig

    db = tmp_path_factory.mktemp("tokens") / "tokens.db"
    with Store.open(db) as store:
        add_user(store, "ana", "viewer", Actor("cli:test"))
        token = issue_token(store, "ana", Actor("cli:test"))
    with serve_app(db, access=AccessConfig(read_token_required=True, job_role=Role.EDITOR)) as url:
        yield url, token


def test_the_token_control_lets_the_dashboard_read_a_protected_server(browser: Any,
                                                                      token_server: tuple[str, str]) -> None:
    url, token = token_server
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=url)
    page = ctx.new_page()
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    try:
        page.goto("/scenarios")
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
        assert page.evaluate("document.body.dataset.ready") == "error"
        assert "needs an API token" in page.locator("#s-errors").inner_text()
        assert page.locator("#oc-token").get_attribute("open") is not None  # the control opens itself
        assert "enter it under" in page.locator("#oc-token-msg").inner_text()
        # a wrong token is refused, and said so
        page.fill("#oc-token-input", "ocx_wrong")
        with page.expect_navigation():
            page.get_by_role("button", name="Use token").click()
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
        assert "was refused" in page.locator("#oc-token-msg").inner_text()
        page.fill("#oc-token-input", token)
        with page.expect_navigation():
            page.get_by_role("button", name="Use token").click()
        wait_ready(page)
        assert field(page, "projects.pk-ree-mine.capacity.mode").input_value() == "200"
        assert page.locator("#oc-token-state").inner_text() == "(set)"
        api = [(u, auth) for u, auth in sent if "/api/v1/" in u]
        assert api and api[-1][1] == f"Bearer {token}"
        assert not any(token in u for u, _ in sent), "the token must never be in a URL"
        assert page.evaluate("sessionStorage.getItem('orechain.apiToken')") == token
        # a viewer may read but not submit jobs here: the 403 is said in plain words
        page.fill("#s-n", "500")
        rerun(page, expect="error")
        assert "needs the role editor" in page.locator("#s-state [role=alert]").inner_text()
        assert "role may not do this" in page.locator("#oc-token-msg").inner_text()
        page.evaluate("document.getElementById('oc-token').open = true")
        with page.expect_navigation():
            page.get_by_role("button", name="Forget").click()
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=20000)
        assert page.evaluate("sessionStorage.getItem('orechain.apiToken')") is None
        assert page.evaluate("document.body.dataset.ready") == "error"
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_scenario_token_flow.png"), full_page=True)
        ctx.close()
