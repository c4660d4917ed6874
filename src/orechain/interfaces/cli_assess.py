"""``orechain assess pakistan-us``: the Pakistan-US report (HTML + CSV tables + a terminal summary)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.panel import Panel
from rich.text import Text

from orechain.interfaces.cli import DbOpt, err, fail, open_store, out
from orechain.report.section import ReportContext

__all__ = ["pakistan_us"]

DEFAULT_OUT = Path("out/pakistan-us")


def _parse_as_of(value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date (YYYY-MM-DD): {value!r}", param_hint="--as-of") from exc


def pakistan_us(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write index.html and tables/*.csv into.",
                                          file_okay=False)] = DEFAULT_OUT,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Assessment date, YYYY-MM-DD (default: today).",  # noqa: UP045
                                                 metavar="DATE")] = None,
    db: DbOpt = None,
) -> None:
    """Write the Pakistan-US assessment: a self-contained HTML report, its tables as CSV, and a summary here.

    The report is DIR/index.html (charts inline, no network requests) and every table in it is also
    written as DIR/tables/<section>-<table>.csv. If a section fails, its place in the report shows the
    error, the rest is still written, and the command exits with status 1 naming the failed sections.

    Examples:
      orechain assess pakistan-us --out out/pakistan-us
      orechain assess pakistan-us --as-of 2025-11-20 --db ./team.db
    """
    from orechain.report.assess import build_report, write_report

    ctx = ReportContext(as_of=_parse_as_of(as_of))
    store = open_store(db)
    try:
        with err.status("building the report", spinner="dots"):
            report = build_report(store, ctx)
            paths = write_report(report, out_dir)
    except OSError as exc:
        raise fail(exc) from exc
    finally:
        store.close()
    body = Text()
    for o in report.outcomes:
        for line in o.section.summary:
            body.append("✗ " if o.error else "• ", style="red" if o.error else "")
            body.append(line + "\n")
    out.print(Panel(body if body.plain else Text("no findings"), expand=False,
                    title=f"Pakistan-US assessment as of {ctx.as_of.isoformat()}"), highlight=False)
    out.print(f"report: {paths[0]}\ntables: {len(paths) - 1} CSV file(s) in {out_dir / 'tables'}")
    for w in report.warnings:
        err.print(f"[yellow]warning:[/yellow] {w}")
    if report.failures:
        err.print(f"[red]error:[/red] {len(report.failures)} section(s) failed and are shown as error boxes: "
                  + ", ".join(report.failures))
        raise typer.Exit(1)
