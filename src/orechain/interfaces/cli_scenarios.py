"""``orechain simulate``: run a scenario (a built-in name or a YAML file) and print its results."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
import yaml
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from orechain.evidence.errors import InputError
from orechain.evidence.store import StoreError
from orechain.interfaces.cli import DbOpt, OutOpt, err, fail, open_store
from orechain.interfaces.output import Format, emit


def _needs_store(path: Path) -> bool:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # load_scenario reports it with file and line
    if not isinstance(data, dict):
        return False
    projects = data.get("projects") or []
    return bool(data.get("base")) or any(isinstance(p, dict) and "facility" in p for p in projects)


def _target(text: str) -> tuple[float, int]:
    try:
        value, year = text.split("@")
        return float(value), int(year)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: write VALUE@YEAR, e.g. 1000@2030") from exc


def simulate(
    scenario: Annotated[str, typer.Argument(help="A built-in scenario name (pakistan-us, us-magnets-2030, "
                                                 "eu-crma-2030) or a scenario YAML file.")],
    scenarios: Annotated[int, typer.Option("--scenarios", "-n", min=1, help="Number of scenarios.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same result.")] = 1,
    backend: Annotated[str, typer.Option(help="numpy, dask, cupy or jax.")] = "numpy",
    scheduler: Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer needs Optional
        help="Dask scheduler address (tcp://host:8786); default: a LocalCluster.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="LocalCluster workers (default: CPU count).")] = None,  # noqa: UP045
    block_size: Annotated[int, typer.Option(min=1, help="Scenarios per random-stream block.")] = 8_192,
    target: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        help="Also report P(independent capacity >= VALUE by YEAR); VALUE@YEAR, repeatable.")] = None,
    tornado: Annotated[bool, typer.Option("--tornado/--no-tornado", help="Tornado sensitivity.")] = True,
    db: DbOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    out_path: OutOpt = None,
) -> None:
    """Monte Carlo of a scenario: fan charts (P5-P95), probabilities, time to impact, tornado.

    By year: independent-chain capacity, supply/demand ratio, share free of excluded countries,
    what the impact projects add and what their own sources could deliver (each with its time
    to impact); P(capacity >= X by year Y); capacity online by project; the tornado; and a
    plain-language summary. A scenario with base: runs on the evidence base's whole network
    (as orechain trace builds it) with its projects on top.

    Examples:
      orechain simulate pakistan-us --scenarios 20000 --seed 1
      orechain simulate us-magnets-2030 --target 3000@2030 --format json --out us.json
      orechain simulate my-scenario.yaml --backend dask --scheduler tcp://10.0.0.5:8786 --format csv
    """
    from orechain.scenarios.backends import Backend, BackendUnavailable
    from orechain.scenarios.evidence import facility_table
    from orechain.scenarios.results import simulate as run
    from orechain.scenarios.spec import builtin_names, builtin_path, load_scenario

    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter(f"--format must be table, json or csv, not {fmt!r}")
    try:
        be = Backend(backend)
    except ValueError as exc:
        raise typer.BadParameter(f"--backend must be one of {', '.join(b.value for b in Backend)}") from exc
    path = Path(scenario)
    if not path.suffix and scenario in builtin_names():
        path = builtin_path(scenario)
    elif not path.exists():
        err.print(f"[red]error:[/red] no scenario file {scenario!r} and no built-in of that name; built-ins: "
                  + ", ".join(builtin_names()))
        raise typer.Exit(2)
    targets = [_target(t) for t in target or []]
    try:
        facilities = None
        if _needs_store(path):
            facilities = facility_table(open_store(db))
        spec = load_scenario(path, facilities)
        for _value, year in targets:
            if year not in spec.years:
                raise typer.BadParameter(f"--target year {year} is outside {spec.years[0]}-{spec.years[-1]}")
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} scenarios"),
                      TimeElapsedColumn(), console=err, transient=True, disable=not sys.stderr.isatty()) as prog:
            task = prog.add_task(f"simulating {spec.name}", total=scenarios)
            result = run(spec, scenarios, seed, be, block_size=block_size, scheduler=scheduler, workers=workers,
                         targets=targets, tornado=tornado, progress=lambda n: prog.advance(task, n))
    except (InputError, StoreError, BackendUnavailable) as exc:
        raise fail(exc) from exc
    for note in spec.notes:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    if fmt == "json":
        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n"
        if out_path is not None:
            out_path.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return
    if fmt == "csv":
        emit(result.long_table(), Format.CSV, out_path)
        return
    _print_tables(result, out_path)


def _print_tables(result: Any, out_path: Path | None) -> None:
    from rich.console import Console

    fh = out_path.open("w", encoding="utf-8") if out_path is not None else None
    console = Console(file=fh, width=160) if fh else Console()
    try:
        for line in result.summary():
            console.print(line, highlight=False)
        stream = fh or sys.stdout
        cols = ["year", "mean", "p5", "p25", "p50", "p75", "p95"]
        unit = result.scenario.unit
        emit(result.fan("flow")[cols], Format.TABLE, title=f"independent-chain capacity ({unit})", stream=stream)
        emit(result.fan("ratio")[cols], Format.TABLE, title="supply/demand ratio", stream=stream)
        emit(result.fan("share_free")[cols], Format.TABLE, title="share of demand free of excluded countries",
             stream=stream)
        if len(result.reach()):
            emit(result.reach(), Format.TABLE, title="P(independent capacity >= value by year)", stream=stream)
        imp = result.scenario.impact
        if imp is not None:
            emit(result.fan("impact_flow")[cols], Format.TABLE, title=f"added by {imp.name} ({unit})", stream=stream)
            emit(result.time_to_impact(), Format.TABLE, title=f"time to impact: first year {imp.name} add "
                 f"{imp.threshold:g}", stream=stream)
            if "sourced" in result.model.nets:
                emit(result.fan("sourced_flow")[cols], Format.TABLE,
                     title=f"deliverable from the sources of {imp.name} alone ({unit})", stream=stream)
                emit(result.time_to_impact("sourced"), Format.TABLE, title=f"time to impact: first year the sources "
                     f"of {imp.name} alone could deliver {imp.threshold:g}", stream=stream)
        if len(result.benchmark()):
            emit(result.benchmark(), Format.TABLE, title="benchmark", stream=stream)
        if result.tornado is not None:
            emit(result.tornado, Format.TABLE, title="tornado sensitivity", stream=stream)
    finally:
        if fh is not None:
            fh.close()
