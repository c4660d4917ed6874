"""The ``orechain`` command line (typer + rich).

Every command takes ``--db`` (a path or a SQLAlchemy URL; default ``$ORECHAIN_DB`` or the per-user
database). Commands that return tables take ``--format table|csv|json|jsonl|excel`` and ``--out``.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from orechain.evidence import queries
from orechain.evidence.errors import InputError
from orechain.evidence.store import Store, StoreError
from orechain.interfaces.output import Format, OutputError, emit

app = typer.Typer(
    name="orechain",
    help="Critical-mineral supply chains, mine to magnet: evidence, analytics, scenarios and claims.\n\n"
         "Start with: orechain db init, then orechain assess pakistan-us.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create and inspect the evidence database.", no_args_is_help=True)
data_app = typer.Typer(help="Import real data files and list sources.", no_args_is_help=True)
query_app = typer.Typer(help="Query the evidence base.", no_args_is_help=True)
assess_app = typer.Typer(help="Assessments: reports that compose the evidence and analytics.",
                         no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(query_app, name="query")
app.add_typer(assess_app, name="assess")

err = Console(stderr=True)
out = Console()

DbOpt = Annotated[Optional[str], typer.Option("--db", envvar="ORECHAIN_DB",  # noqa: UP045 - typer needs Optional
                                              help="Database path or SQLAlchemy URL.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Write to this file.")]  # noqa: UP045


def open_store(db: str | None) -> Store:
    """Open the store, loading the shipped evidence base the first time."""
    try:
        store = Store.open(db)
    except StoreError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    counts = store.counts()
    if counts.get("sources", 0) == 0 or counts.get("governance", 0) == 0:  # also an interrupted first load
        from orechain.evidence.shipped import load_shipped

        err.print(f"[dim]new database at {store.display_url}: loading the shipped evidence base[/dim]")
        load_shipped(store, notes=[])  # the notes are printed by `db init` and documented in docs/data.md
    return store


def fail(exc: Exception, code: int = 2) -> typer.Exit:
    if isinstance(exc, InputError):
        err.print(f"[red]error:[/red] {len(exc.problems)} problem(s) in the input; nothing was written")
        err.print(exc.report(), markup=False, highlight=False)
    else:
        err.print("[red]error:[/red]", escape(str(exc)), highlight=False)
    return typer.Exit(code)


# --- db ---------------------------------------------------------------------------------------------
@db_app.command("init")
def db_init(db: DbOpt = None) -> None:
    """Create the database (or upgrade its schema) and load the shipped evidence base.

    Re-running it is safe: rows already present are left as they are.

    Example: orechain db init --db ./team.db
    """
    from orechain.evidence.shipped import load_shipped

    notes: list[str] = []
    try:
        store = Store.open(db)
        added = load_shipped(store, notes=notes)
    except (StoreError, InputError) as exc:
        raise fail(exc) from exc
    total = sum(added.values())
    out.print(f"database {store.display_url} at schema {store.revision()}")
    if total:
        out.print(f"loaded the shipped evidence base: {total} rows added "
                  + ", ".join(f"{k} {v}" for k, v in added.items() if v))
    else:
        out.print("the shipped evidence base was already loaded; nothing changed")
    for note in notes:  # rows of the shipped WGI table that cannot be imported (docs/data.md lists them)
        short = note if len(note) <= 200 else note[:200].rsplit(" ", 1)[0] + " ... (docs/data.md)"
        err.print(f"[dim]note: {escape(short)}[/dim]")


@db_app.command("status")
def db_status(db: DbOpt = None, fmt: FormatOpt = Format.TABLE) -> None:
    """Show where the database is, its schema revision and the row count of each table.

    Example: orechain db status --format json
    """
    try:
        store = Store.open(db, migrate=False)
        rev, head = store.revision(), store.head()
        counts = store.counts()
    except StoreError as exc:
        raise fail(exc) from exc
    import pandas as pd

    err.print(f"database: {store.display_url}\nschema: {rev or 'not initialised'} (newest {head})"
              + ("" if rev == head else "  -> run `orechain db init`"))
    emit(pd.DataFrame({"table": list(counts), "rows": list(counts.values())}), fmt, title="tables")


# --- data -------------------------------------------------------------------------------------------
@data_app.command("import")
def data_import(
    kind: Annotated[str, typer.Argument(help="usgs-mcs, usgs-mcs-salient, wmd, baci, wgi")],
    files: Annotated[list[Path], typer.Argument(help="Files to import, each in its own transaction.")],
    db: DbOpt = None,
    codes: Annotated[Optional[Path], typer.Option(help="baci: country_codes_V*.csv (default: the one beside "  # noqa: UP045
                                                  "the file, else ISO numeric + BACI exceptions)")] = None,
) -> None:
    """Import real data files. Each file is one transaction; a file already imported changes nothing.

    Examples:
      orechain data import usgs-mcs ../shared/data/usgs-mcs/mcs2024-raree_world.csv
      orechain data import wgi wgi_political_stability_pv.csv
      orechain data import baci BACI_HS22_Y2023_V202501.csv --codes country_codes_V202501.csv
    See docs/importers.md for each format.
    """
    from orechain.evidence.importers import IMPORTERS, run_import

    importer = IMPORTERS.get(kind)
    if codes is not None:  # only BACI has a companion file
        from orechain.evidence.importers.baci import BaciImporter

        if kind != "baci":
            err.print("[red]error:[/red] --codes applies to baci only")
            raise typer.Exit(2)
        importer = BaciImporter(codes=codes)
    if importer is None:
        err.print(f"[red]error:[/red] unknown import kind {kind!r}; known: {', '.join(sorted(IMPORTERS))}")
        raise typer.Exit(2)
    store = open_store(db)
    status = 0
    for path in files:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
                      TimeElapsedColumn(), console=err, transient=True, disable=not sys.stderr.isatty()) as prog:
            task = prog.add_task(f"importing {path.name}", total=None)
            try:
                rec = run_import(store, importer, path, progress=partial(prog.advance, task))
            except (InputError, StoreError) as exc:
                fail(exc)
                status = 2
                continue
        out.print(rec.message())
    store.close()  # release pooled connections (PostgreSQL) before exiting
    raise typer.Exit(status)


@data_app.command("sources")
def data_sources(db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None) -> None:
    """List every source in the evidence base, with how many observations and facilities cite it.

    Example: orechain data sources --format csv --out sources.csv
    """
    store = open_store(db)
    df = queries.sources(store)
    emit(df[["id", "publisher", "title", "date", "kind", "observations", "facilities", "url", "licence"]],
         fmt, out_path, title="sources")


# --- query ------------------------------------------------------------------------------------------
@query_app.command("production")
def query_production(
    commodity: Annotated[Optional[str], typer.Option(help="e.g. rare-earths, antimony, tungsten")] = None,  # noqa: UP045
    country: Annotated[Optional[list[str]], typer.Option(help="ISO3 code or name; repeatable")] = None,  # noqa: UP045
    year: Annotated[Optional[list[int]], typer.Option(help="repeatable")] = None,  # noqa: UP045
    reserves: Annotated[bool, typer.Option("--reserves", help="reserves instead of mine production")] = False,
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Mine production (or reserves) by country and year; every source's figure is its own row.

    Example: orechain query production --country CHN --year 2023 --format csv
    """
    from orechain.evidence.names import UnknownName, resolve_country

    try:
        codes = [resolve_country(c) for c in country] if country else None
    except UnknownName as exc:
        raise fail(exc) from exc
    store = open_store(db)
    df = queries.production(store, commodity=commodity, country=codes, year=year,
                            metric="reserves" if reserves else "mine_production")
    emit(df, fmt, out_path, title="reserves" if reserves else "mine production")


@query_app.command("facilities")
def query_facilities(
    stage: Annotated[Optional[str], typer.Option(help="mining, beneficiation, separation, metal, magnet, recycling")] = None,  # noqa: UP045,E501
    status: Annotated[Optional[str], typer.Option(help="e.g. operating, construction, mou")] = None,  # noqa: UP045
    country: Annotated[Optional[str], typer.Option(help="host country (ISO3 or name)")] = None,  # noqa: UP045
    commodity: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Facilities by stage, status, host country and commodity.

    Example: orechain query facilities --stage separation --format json
    """
    from orechain.evidence.names import UnknownName, resolve_country

    try:
        code = resolve_country(country) if country else None
    except UnknownName as exc:
        raise fail(exc) from exc
    store = open_store(db)
    df = queries.facilities(store, stage=stage, status=status, country=code, commodity=commodity)
    cols = ["id", "name", "stage", "commodity", "country", "region", "operator", "capacity", "capacity_unit",
            "capacity_year", "status", "status_date", "source_id"]
    emit(df[cols], fmt, out_path, title="facilities")


@query_app.command("deals")
def query_deals(db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
                phases: Annotated[bool, typer.Option("--phases", help="one row per deal phase")] = False) -> None:
    """Deals (or, with --phases, their phases and planned windows).

    Example: orechain query deals --phases
    """
    store = open_store(db)
    df = queries.deal_phases(store) if phases else queries.deals(store)
    emit(df, fmt, out_path, title="deal phases" if phases else "deals")


@query_app.command("events")
def query_events(db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None) -> None:
    """Policy events such as export controls, with scope and dates.

    Example: orechain query events --format csv
    """
    store = open_store(db)
    emit(queries.events(store), fmt, out_path, title="events")


@query_app.command("observations")
def query_observations(
    metric: Annotated[Optional[str], typer.Option(help="e.g. stage_share, price, mine_production")] = None,  # noqa: UP045
    commodity: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    db: DbOpt = None, fmt: FormatOpt = Format.TABLE, out_path: OutOpt = None,
) -> None:
    """Any sourced observation, with its source.

    Example: orechain query observations --metric stage_share --commodity rare-earths
    """
    store = open_store(db)
    df = queries.observations(store, metric=metric, commodity=commodity)
    cols = ["metric", "commodity", "stage", "country", "facility", "year", "period", "value", "lower", "upper",
            "value_text", "unit", "quality", "source_id", "note"]
    emit(df[cols], fmt, out_path, title="observations")


from orechain.interfaces.cli_assess import pakistan_us  # noqa: E402, I001
assess_app.command("pakistan-us")(pakistan_us)
from orechain.interfaces.cli_serve import serve  # noqa: E402, I001
app.command("serve")(serve)

from orechain.interfaces.cli_claims import claims_app  # noqa: E402, I001
app.add_typer(claims_app, name="claims")
from orechain.interfaces.cli_scenarios import simulate  # noqa: E402, I001
app.command("simulate")(simulate)
from orechain.interfaces.cli_analytics import risk_app, trace_cmd  # noqa: E402, I001
app.add_typer(risk_app, name="risk"); app.command("trace")(trace_cmd)  # noqa: E702
from orechain.interfaces.cli_users import users_app  # noqa: E402, I001
app.add_typer(users_app, name="users")


def main() -> None:
    try:
        app()
    except (StoreError, OutputError) as exc:
        err.print("[red]error:[/red]", escape(str(exc)), highlight=False)
        sys.exit(2)
