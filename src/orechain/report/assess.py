"""The Pakistan-US assessment: composes report sections into one self-contained HTML page plus CSV tables.

``SECTIONS`` is the ordered list of section builders. An entry is either a ``"module:function"`` string
(imported when the report is built, so a section that fails to import only fails itself), a module with a
``build(store, ctx) -> Section`` function, or such a function. To add a section, add one line::

    "orechain.report.sections.dependency",            # its build(store, ctx)
    "orechain.report.sections.evidence:export_controls",  # a named function

A section that raises (or returns something that cannot be rendered) is replaced by an error box with
its traceback; the other sections are still built and the report is still written. Callers learn which
sections failed from :attr:`Report.failures` (the CLI then exits with status 1).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pandas as pd
from markupsafe import Markup

from orechain.evidence import queries
from orechain.evidence.store import Store
from orechain.report.html import Page, csv_name, render_page
from orechain.report.section import ReportContext, Section

__all__ = ["SECTIONS", "Outcome", "Report", "SectionEntry", "build_report", "build_sections", "write_report"]

SectionBuilder = Callable[[Store, ReportContext], Section]
SectionEntry = str | ModuleType | SectionBuilder

SECTIONS: list[SectionEntry] = [
    "orechain.report.sections.evidence:production_shares",
    "orechain.report.sections.evidence:lifecycle",
    "orechain.report.sections.evidence:export_controls",
    "orechain.report.sections.evidence:pakistan_facts",
    "orechain.report.sections.claims",
    "orechain.report.sections.dependency",
    "orechain.report.sections.scenarios",
]

TITLE = "Pakistan–US critical minerals: first assessment"


@dataclass
class Outcome:
    """One built section, or the error box that stands in for it (``error`` is then the traceback)."""

    name: str
    section: Section
    error: str | None = None


@dataclass
class Report:
    html: str
    tables: dict[str, pd.DataFrame]
    """Relative path (``tables/<section>-<key>.csv``) to the table written there."""
    outcomes: list[Outcome]
    warnings: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        return [o.name for o in self.outcomes if o.error is not None]


def entry_name(entry: SectionEntry) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, ModuleType):
        return entry.__name__
    return f"{getattr(entry, '__module__', '?')}:{getattr(entry, '__qualname__', repr(entry))}"


def _resolve(entry: SectionEntry) -> SectionBuilder:
    target: object = entry
    if isinstance(entry, str):
        mod_name, _, func = entry.partition(":")
        target = importlib.import_module(mod_name)
        if func:
            target = getattr(target, func)
    if isinstance(target, ModuleType):
        target = target.build
    if not callable(target):
        raise TypeError(f"section entry {entry_name(entry)!r} is not callable")
    return target


def _check(section: object) -> Section:
    if not isinstance(section, Section):
        raise TypeError(f"a section builder must return a Section, not {type(section).__name__}")
    for chart in section.charts:
        json.dumps(chart.option, allow_nan=False)
    for key, table in section.tables.items():
        if not isinstance(table, pd.DataFrame):
            raise TypeError(f"table {key!r} is a {type(table).__name__}, not a DataFrame")
    return section


def error_section(name: str, exc: BaseException) -> Outcome:
    tb = "".join(traceback.format_exception(exc))
    sid = "failed-" + "".join(c if c.isalnum() else "-" for c in name).strip("-")
    html = Markup('<div class="error-box" role="alert"><p><strong>This section failed to build</strong> '
                  "({name}): {msg}</p><p>The rest of the report is unaffected. Details:</p><pre>{tb}</pre></div>"
                  ).format(name=name, msg=f"{type(exc).__name__}: {exc}", tb=tb)
    section = Section(id=sid, title=f"Section failed: {name}", html=str(html),
                      summary=[f"section {name} failed: {type(exc).__name__}: {exc}"])
    return Outcome(name=name, section=section, error=tb)


def build_sections(store: Store, ctx: ReportContext, sections: Sequence[SectionEntry] | None = None
                   ) -> list[Outcome]:
    """Build every section in order; a failing one becomes an error box and the others still run."""
    outcomes: list[Outcome] = []
    seen_ids: set[str] = set()
    for entry in SECTIONS if sections is None else sections:
        name = entry_name(entry)
        try:
            section = _check(_resolve(entry)(store, ctx))
            if section.id in seen_ids:
                raise ValueError(f"section id {section.id!r} is used by an earlier section")
        except Exception as exc:
            outcome = error_section(name, exc)
        else:
            outcome = Outcome(name=name, section=section)
        seen_ids.add(outcome.section.id)
        outcomes.append(outcome)
    return outcomes


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("orechain")
    except PackageNotFoundError:
        return "unknown"


def cited_sources(store: Store, outcomes: Sequence[Outcome]) -> tuple[pd.DataFrame, list[str]]:
    """The sources cited by the sections (with which sections cite each), and warnings for unknown ids."""
    cited: dict[str, list[str]] = {}
    for o in outcomes:
        for sid in sorted(o.section.source_ids):
            cited.setdefault(sid, []).append(o.section.title)
    known = queries.sources(store)
    known = known[known["id"].isin(list(cited))].copy()
    missing = sorted(set(cited) - set(known["id"]))
    warnings = [f"source {sid!r} is cited but not in the evidence base" for sid in missing]
    if missing:
        unknown = pd.DataFrame({"id": missing, "publisher": "", "title": "(not in the evidence base)"})
        known = pd.concat([known, unknown], ignore_index=True)
    known["cited_by"] = known["id"].map(lambda s: "; ".join(cited[s]))
    cols = ["id", "publisher", "title", "date", "kind", "url", "licence", "cited_by"]
    return known.reindex(columns=cols).sort_values("id").reset_index(drop=True), warnings


def build_report(store: Store, ctx: ReportContext, sections: Sequence[SectionEntry] | None = None) -> Report:
    """Build the sections and render the page in memory; nothing is written."""
    outcomes = build_sections(store, ctx, sections)
    tables: dict[str, pd.DataFrame] = {}
    for o in outcomes:
        for key, df in o.section.tables.items():
            path = csv_name(o.section.id, key)
            if path in tables:
                raise ValueError(f"two tables would be written to {path}")
            tables[path] = df
    sources, warnings = cited_sources(store, outcomes)
    page = Page(title=TITLE, as_of=ctx.as_of, version=_version(),
                generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                sources=sources, failures=[o.name for o in outcomes if o.error])
    html = render_page(page, [o.section for o in outcomes])
    return Report(html=html, tables=tables, outcomes=outcomes, warnings=warnings)


def write_report(report: Report, out_dir: Path, page_name: str = "index.html") -> list[Path]:
    """Write the page and the tables under ``out_dir``; an old ``tables/`` folder is replaced whole.

    Everything is first written to temporary names in ``out_dir`` and then renamed into place, so a
    failure part-way leaves the previous report (if any) as it was.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    try:
        for rel, df in report.tables.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(target, index=False, lineterminator="\n")
        (staging / "tables").mkdir(exist_ok=True)
        (staging / page_name).write_text(report.html, encoding="utf-8")
        tables_dir = out_dir / "tables"
        old = out_dir / f".tables-old-{os.getpid()}"
        if tables_dir.exists():
            tables_dir.rename(old)
        (staging / "tables").rename(tables_dir)
        os.replace(staging / page_name, out_dir / page_name)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out_dir / page_name, *(out_dir / rel for rel in report.tables)]
