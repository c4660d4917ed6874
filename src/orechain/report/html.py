"""HTML building blocks for reports: citations, tables and the self-contained page.

Every number a section shows should go through :func:`cite` (one number, one source) or
:func:`table_html` with ``links`` (each cell linked to the source named in its row), so a reader can
follow it to ``#src-<id>`` in the sources list at the end of the page. The page inlines the vendored
ECharts file; nothing in it makes a network request.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from orechain.report.section import Section

__all__ = [
    "ECHARTS_FILE", "Page", "chart_slot", "cite", "csv_name", "fmt_number", "render_page", "source_anchor",
    "table_html",
]

ECHARTS_FILE = "echarts-6.1.0.min.js"


def source_anchor(source_id: str) -> str:
    """The fragment id of a source in the sources list: ``src-<id>`` with unsafe characters encoded."""
    return "src-" + re.sub(r"[^A-Za-z0-9_.:-]", lambda m: f"_{ord(m.group()):x}", str(source_id))


def csv_name(section_id: str, key: str) -> str:
    """Where a section's table ``key`` is written, relative to the report folder."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{section_id}-{key}").strip("-")
    return f"tables/{safe}.csv"


def chart_slot(chart_id: str) -> Markup:
    """A marker a section puts in its HTML where chart ``chart_id`` should appear (else: end of section)."""
    return Markup(f"<!--chart:{escape(chart_id)}-->")


PLAIN_COLUMNS = frozenset({"year", "seq", "capacity_year"})
"""Numeric columns shown without thousands separators (years and sequence numbers)."""


def fmt_number(value: Any, decimals: int | None = None) -> str:
    """A number as shown in the report: thousands separators; integers without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or (not isinstance(value, (int, float)) and not hasattr(value, "item")):
        return str(value)
    v = value.item() if hasattr(value, "item") else value
    if decimals is not None:
        return f"{float(v):,.{decimals}f}"
    if isinstance(v, int) or float(v).is_integer():
        return f"{int(v):,}"
    return f"{float(v):,.6g}" if abs(float(v)) < 1000 else f"{float(v):,.1f}"


def cite(text: Any, source_id: str | None, *, title: str | None = None) -> Markup:
    """``text`` (usually a number) as a link to its source in the sources list; unlinked when no source."""
    shown = text if isinstance(text, str) else fmt_number(text)
    if not source_id:
        return Markup('<span class="num unsourced" title="no source">{}</span>').format(shown)
    return Markup('<a class="num" href="#{}" title="{}">{}</a>').format(
        source_anchor(source_id), title or f"source: {source_id}", shown)


def table_html(df: pd.DataFrame, *, links: Mapping[str, str] | None = None, caption: str | None = None,
               csv: str | None = None, formats: Mapping[str, int] | None = None,
               hide: Sequence[str] = ()) -> Markup:
    """An HTML table of every row of ``df``.

    ``links`` maps a shown column to the column holding the source id of each row; those cells become
    citations. ``formats`` maps a column to a fixed number of decimals. ``hide`` lists columns not shown
    (they stay in the CSV). ``csv`` is the relative path of the CSV copy, linked from the caption.
    """
    links = dict(links or {})
    formats = dict(formats or {})
    cols = [c for c in df.columns if c not in hide]
    parts: list[str] = ['<div class="table-wrap"><table>']
    if caption or csv:
        cap = escape(caption or "")
        if csv:
            cap += Markup(' <a class="csv" href="{}">CSV</a>').format(csv)
        parts.append(f"<caption>{cap}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{escape(str(c))}</th>" for c in cols) + "</tr></thead><tbody>")
    numeric = {c for c in cols if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    for row in df.to_dict(orient="records"):
        cells = []
        for c in cols:
            v = row[c]
            if c in PLAIN_COLUMNS and c in numeric and not _missing(v):
                text = str(int(v))
            else:
                text = fmt_number(v, formats.get(c)) if c in numeric else ("" if _missing(v) else str(v))
            if isinstance(v, Markup):
                cell = v
            elif c in links and text != "":
                src = row.get(links[c])
                cell = cite(text, None if _missing(src) else str(src))
            else:
                cell = escape(text)
            cls = ' class="n"' if c in numeric else ' class="nw"' if len(text) <= 12 else ""
            cells.append(f"<td{cls}>{cell}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
    return Markup("".join(parts))


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


@dataclass
class Page:
    """Everything the page template needs, besides the sections."""

    title: str
    as_of: dt.date
    version: str
    generated: str
    sources: pd.DataFrame
    """One row per cited source: id, publisher, title, date, kind, url, licence, cited_by."""
    failures: list[str]


def _json_for_script(obj: Any) -> str:
    """JSON safe to place inside a <script> element."""
    return json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace(
        "&", "\\u0026")


def _echarts_source() -> str:
    text = (resources.files("orechain.assets") / "vendor" / ECHARTS_FILE).read_text(encoding="utf-8")
    return text.replace("</script", "<\\/script")


def _section_body(section: Section) -> tuple[Markup, list[dict[str, Any]]]:
    """The section's HTML with its charts placed, and the chart specs for the page script."""
    body = str(section.html)
    specs: list[dict[str, Any]] = []
    trailing: list[str] = []
    for chart in section.charts:
        dom_id = f"chart-{section.id}-{chart.id}"
        figure = (f'<figure class="chart"><div class="chart-box" id="{escape(dom_id)}" '
                  f'style="height:{int(chart.height)}px" role="img" aria-label="{escape(chart.caption)}"></div>'
                  + (f"<figcaption>{escape(chart.caption)}</figcaption>" if chart.caption else "") + "</figure>")
        marker = str(chart_slot(chart.id))
        if marker in body:
            body = body.replace(marker, figure)
        else:
            trailing.append(figure)
        specs.append({"id": dom_id, "option": chart.option})
    return Markup(body + "".join(trailing)), specs


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("orechain.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(page: Page, sections: Sequence[Section]) -> str:
    """The whole self-contained HTML document."""
    bodies = []
    specs: list[dict[str, Any]] = []
    for s in sections:
        body, chart_specs = _section_body(s)
        bodies.append({"id": s.id, "title": s.title, "body": body})
        specs.extend(chart_specs)
    sources = []
    for row in page.sources.to_dict(orient="records"):
        sources.append({k: ("" if _missing(v) else v) for k, v in row.items()} | {"anchor": source_anchor(row["id"])})
    return _env.get_template("report.html").render(
        page=page, sections=bodies, sources=sources,
        echarts=Markup(_echarts_source()), charts_json=Markup(_json_for_script(specs)),
    )
