"""The examples in the --help of ``orechain risk ...`` and ``orechain trace`` run as pasted (on the shipped evidence
base plus an invented BACI file, which the help says to import), and their terminal tables fit 100 columns."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orechain.evidence.importers import IMPORTERS, run_import
from orechain.evidence.shipped import load_shipped
from orechain.evidence.store import Store
from orechain.interfaces.cli import app

COMMANDS = (["risk", "hhi"], ["risk", "geopolrisk"], ["risk", "eu-sr"], ["trace"])
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("examples")
    with Store.open(d / "o.db") as store:
        load_shipped(store)
        for year in (2022, 2023):
            # invented flows in the BACI layout: every HS code of the example materials into the USA and the EU
            rows = [f"{year},{exp},{imp},{hs},{1000 + 10 * n},{50 + n}" for n, (exp, imp, hs) in enumerate(
                (e, i, h) for e in (156, 458, 643, 704) for i in (842, 276, 251)
                for h in (284690, 284610, 280530, 261100, 810110, 261710))]
            path = d / f"BACI_HS22_Y{year}_V202501.csv"
            path.write_text("t,i,j,k,v,q\n" + "\n".join(rows) + "\n")
            run_import(store, IMPORTERS["baci"], path)
    return d / "o.db"


def _examples(command: list[str]) -> list[str]:
    r = CliRunner().invoke(app, [*command, "--help"], env=ENV)
    assert r.exit_code == 0, r.output
    found = [line.strip() for line in r.stdout.splitlines() if re.match(r"\s*(Example: )?orechain ", line)]
    return [re.sub(r"^Example: ", "", line) for line in found]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_help_examples_run_as_pasted_and_fit_100_columns(command: list[str], db: Path) -> None:
    examples = _examples(command)
    assert examples, f"no example in orechain {' '.join(command)} --help"
    problems = []
    for example in examples:
        args = shlex.split(example)[1:]
        r = CliRunner().invoke(app, [*args, "--db", str(db)], env=ENV)
        if r.exit_code != 0:
            problems.append(f"{example}\n{r.output}")
        wide = [line for line in r.stdout.splitlines() if len(line.rstrip()) > 100]
        if wide:
            problems.append(f"{example}: table wider than 100 columns:\n" + "\n".join(wide))
    assert not problems, "\n".join(problems)


def test_every_column_is_kept_outside_the_table(db: Path) -> None:
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "-y", "2024", "--format", "csv"], env=ENV)
    header = r.stdout.splitlines()[0].split(",")
    assert {"commodity", "hhi", "leader", "gw_missing", "governance_source"} <= set(header)
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "-y", "2024"], env=ENV)
    assert "columns not shown: commodity" in r.stderr and "hhi_10000" in r.stdout
    r = CliRunner().invoke(app, ["risk", "hhi", "--db", str(db), "-y", "2024", "--all-columns"], env=ENV)
    assert "gw_missing_share" in r.stdout and "columns not shown" not in r.stderr


@pytest.mark.parametrize("args", [
    *[["trace", "--consumer", "USA", "-x", "CHN", "--show", s]
      for s in ("stages", "paths", "facilities", "capacity", "shares", "missing", "aggregated")],
    ["risk", "hhi", "--by", "controller"], ["risk", "hhi", "--by", "controller", "--show", "left-out"],
    ["risk", "hhi", "--by", "host", "--stage", "separation", "--show", "shares"], ["risk", "hhi", "--show", "shares"],
    ["risk", "eu-sr", "-m", "rare-earths", "-m", "tungsten", "-m", "antimony", "-y", "2022", "-y", "2023"],
], ids=" ".join)
def test_default_tables_fit_100_columns(args: list[str], db: Path) -> None:
    r = CliRunner().invoke(app, [*args, "--db", str(db)], env=ENV)
    assert r.exit_code == 0, r.output
    wide = [line for line in r.stdout.splitlines() if len(line.rstrip()) > 100]
    assert not wide, "\n".join(wide)
