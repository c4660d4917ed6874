"""`orechain data import KIND FILE...` for every kind, through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from orechain.interfaces.cli import app

FIX = Path(__file__).resolve().parents[1] / "fixtures"
runner = CliRunner()


@pytest.fixture
def db(fresh_db: str) -> str:
    """A new database on the test's backend; the CLI loads the shipped evidence base on first use."""
    return fresh_db


def test_every_kind_imports_from_the_cli(db: str) -> None:
    cases = [("usgs-mcs", FIX / "usgs-mcs" / "mcs2099-raree_world.csv", FIX / "usgs-mcs" / "mcs2099-antim_world.csv"),
             ("usgs-mcs-salient", FIX / "usgs-mcs" / "mcs2099-tungs_salient.csv"),
             ("wmd", FIX / "wmd" / "6.4-production-by-minerals.xlsx"),
             ("wgi", FIX / "wgi" / "wgi_pv_long.csv", FIX / "wgi" / "wgi_databank.csv")]
    for kind, *files in cases:
        res = runner.invoke(app, ["data", "import", kind, *map(str, files), "--db", db])
        assert res.exit_code == 0, res.output
        assert res.output.count(f"as {kind}:") == len(files)
    res = runner.invoke(app, ["data", "import", "baci", str(FIX / "baci" / "BACI_HS22_Y2099_V209901.csv"),
                              "--codes", str(FIX / "baci" / "country_codes_V209901.csv"), "--db", db])
    assert res.exit_code == 0 and "imported 6 rows as baci" in res.output, res.output
    again = runner.invoke(app, ["data", "import", "wmd", str(FIX / "wmd" / "6.4-production-by-minerals.xlsx"),
                                "--db", db])
    assert again.exit_code == 0 and "already imported" in again.output and "nothing changed" in again.output


def test_bad_file_exits_2_naming_line_and_field(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "mcs2099-antim_world.csv"
    bad.write_text('Source,Country,Type,Prod_t_2097\nMCS2099,Atlantis,"Mine production, contained antimony",5\n')
    res = runner.invoke(app, ["data", "import", "usgs-mcs", str(bad), "--db", db])
    assert res.exit_code == 2
    assert "nothing was written" in res.output and "line 2, field 'Country'" in res.output


def test_unknown_kind_and_misplaced_codes(db: str) -> None:
    res = runner.invoke(app, ["data", "import", "comtrade", "x.csv", "--db", db])
    assert res.exit_code == 2 and "unknown import kind" in res.output
    res = runner.invoke(app, ["data", "import", "wgi", "x.csv", "--codes", "c.csv", "--db", db])
    assert res.exit_code == 2 and "--codes applies to baci only" in res.output
