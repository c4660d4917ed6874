from __future__ import annotations

import csv
import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orechain.evidence.store import Store
from orechain.interfaces.cli import app
from orechain.report import assess
from orechain.report.section import ReportContext, Section

CTX = ReportContext(as_of=dt.date(2025, 11, 20))
URL_ATTRS = {
    "src",
    "href",
    "data",
    "poster",
    "srcset",
    "action",
    "formaction",
    "background",
    "xlink:href",
    "manifest",
    "ping",
}


class _Page(HTMLParser):
    """Collects every URL-valued attribute, element ids, script bodies and the production tables' cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False
        self._section: str | None = None
        self._in_td = False
        self.production_cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in URL_ATTRS and value is not None:
                self.refs.append((tag, name, value))
            if name == "id" and value:
                self.ids.add(value)
            if name == "style" and value:
                self.styles.append(value)
            if tag == "section" and name == "id":
                self._section = value
        self._in_script = tag == "script"
        if tag == "td" and self._section == "production":
            self._in_td = True
            self.production_cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "td":
            self._in_td = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)
        elif self._in_td:
            self.production_cells[-1] += data


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    p.close()
    return p


def assert_self_contained(html: str) -> _Page:
    page = parse(html)
    for tag, attr, value in page.refs:
        if tag == "a" and attr == "href":
            continue  # links are followed only when clicked: no request
        assert value.startswith(("#", "data:")), f"<{tag} {attr}={value!r}> would make a request"
    assert not any("url(" in s and "data:" not in s for s in page.styles)
    assert "<link" not in html.lower()
    assert "@import" not in html
    return page


def _ok(store: Store, ctx: ReportContext) -> Section:
    return Section(id="ok", title="A working section", html="<p>fine</p>", summary=["ok"], source_ids={"test-fixture"})


def _boom(store: Store, ctx: ReportContext) -> Section:
    raise RuntimeError("the analytics are not ready")


def _not_a_section(store: Store, ctx: ReportContext) -> Section:
    return "text"  # type: ignore[return-value]


def test_a_failing_section_becomes_an_error_box_and_the_rest_is_built(report_store: Store) -> None:
    report = assess.build_report(
        report_store, CTX, [_ok, _boom, "orechain.report.sections.no_such_module", _not_a_section]
    )
    assert len(report.failures) == 3 and report.failures[0].endswith("_boom")
    html = report.html
    assert html.count('class="error-box"') == 3
    assert "RuntimeError: the analytics are not ready" in html
    assert "No module named" in html and "must return a Section" in html
    assert "<p>fine</p>" in html and "3 section(s) failed to build" in html
    assert "src-test-fixture" in parse(html).ids


def test_section_ids_must_be_unique(report_store: Store) -> None:
    report = assess.build_report(report_store, CTX, [_ok, _ok])
    assert len(report.failures) == 1 and "is used by an earlier section" in report.html


def test_an_unknown_cited_source_is_listed_and_warned_about(report_store: Store) -> None:
    def cites_nothing_known(store: Store, ctx: ReportContext) -> Section:
        return Section(id="x", title="x", html="", source_ids={"no-such-source"})

    report = assess.build_report(report_store, CTX, [cites_nothing_known])
    assert report.warnings == ["source 'no-such-source' is cited but not in the evidence base"]
    assert "src-no-such-source" in parse(report.html).ids


def test_report_is_self_contained_and_every_citation_has_its_anchor(report_store: Store, tmp_path: Path) -> None:
    report = assess.build_report(report_store, CTX)
    assert report.failures == []
    page = assert_self_contained(report.html)
    assert any("echarts" in s and len(s) > 500_000 for s in page.scripts), "ECharts is inlined"
    anchors = {v[1:] for t, a, v in page.refs if t == "a" and v.startswith("#src-")}
    assert anchors and anchors <= page.ids
    assert {"production", "lifecycle", "export-controls", "pakistan-facts", "sources"} <= page.ids
    assert "As of <strong>2025-11-20</strong>" in report.html
    assert re.search(r"orechain \d+\.\d+", report.html)


def test_every_number_in_the_production_table_is_in_the_csv(report_store: Store, tmp_path: Path) -> None:
    report = assess.build_report(report_store, CTX)
    assess.write_report(report, tmp_path)
    with (tmp_path / "tables" / "production-shares.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    in_csv = {float(r["value"]) for r in rows if r["value"]} | {float(r["share_pct"]) for r in rows if r["share_pct"]}
    cells = [c for c in parse(report.html).production_cells if c.strip()]
    numbers = [float(n.replace(",", "")) for c in cells for n in re.findall(r"\d[\d,]*(?:\.\d+)?", c)]
    assert len(numbers) > 20
    missing = [n for n in numbers if n not in in_csv]
    assert missing == [], f"shown but not in the CSV: {missing}"
    assert {"W"} <= {r["value_text"] for r in rows if not r["value"]}


def test_write_report_replaces_the_old_tables(report_store: Store, tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "stale.csv").write_text("old\n")
    report = assess.build_report(report_store, CTX)
    paths = assess.write_report(report, tmp_path)
    assert paths[0] == tmp_path / "index.html" and paths[0].stat().st_size > 1_000_000
    assert not (tmp_path / "tables" / "stale.csv").exists()
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == sorted(p.name for p in paths[1:])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


runner = CliRunner()


def test_cli_writes_the_report_on_a_fresh_database(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["assess", "pakistan-us", "--db", str(tmp_path / "fresh.db"), "--out", str(out), "--as-of", "2025-11-20"]
    )
    assert res.exit_code == 0, res.output
    assert "Pakistan-US assessment as of 2025-11-20" in res.output
    html = (out / "index.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    assert (out / "tables" / "production-shares.csv").is_file()
    assert (out / "tables" / "lifecycle-facilities.csv").is_file()


def test_cli_exits_1_naming_failed_sections_but_still_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assess, "SECTIONS", [*assess.SECTIONS, _boom])
    out = tmp_path / "out"
    res = runner.invoke(app, ["assess", "pakistan-us", "--db", str(tmp_path / "fresh.db"), "--out", str(out)])
    assert res.exit_code == 1
    assert "1 section(s) failed" in res.output and "_boom" in res.output
    assert "the analytics are not ready" in (out / "index.html").read_text(encoding="utf-8")


def test_cli_rejects_a_bad_as_of_date(tmp_path: Path) -> None:
    res = runner.invoke(app, ["assess", "pakistan-us", "--db", str(tmp_path / "x.db"), "--as-of", "20/11/2025"])
    assert res.exit_code == 2 and "not an ISO date" in res.output
