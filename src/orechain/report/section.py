"""The contract between a report and its sections.

A section is built by a function ``build(store, ctx) -> Section`` in ``orechain.report.sections.<area>``.
It returns HTML (no external requests: charts are ECharts option objects that the report renders with
the vendored, inlined library), the tables it shows (written as CSV beside the report), the plain-text
lines for the terminal summary, and the ids of the sources its statements rest on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ReportContext:
    """What every section may need: the date the assessment is made 'as of', and the consumer."""

    as_of: dt.date
    consumer: str = "USA"
    seed: int = 20251008


@dataclass
class Chart:
    """An ECharts chart: ``option`` is the ECharts option object (JSON-serialisable)."""

    id: str
    option: dict[str, Any]
    height: int = 420
    caption: str = ""


@dataclass
class Section:
    id: str
    title: str
    html: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    source_ids: set[str] = field(default_factory=set)
