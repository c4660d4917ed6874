from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from orechain.interfaces.cli import app

runner = CliRunner()


def test_cli_ingest_list_conflicts_check(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    for name, text in (("a.txt", "Pakistan's mineral wealth is worth $6 trillion, officials say."),
                       ("b.txt", "Islamabad claims its minerals are worth up to US$68 trillion."),
                       ("bad.txt", "")):
        (tmp_path / name).write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["claims", "ingest", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"),
                              str(tmp_path / "bad.txt"), "--db", db])
    assert res.exit_code == 1 and "empty file" in res.output and "added 2" in res.output
    res = runner.invoke(app, ["claims", "list", "--format", "jsonl", "--db", db])
    recs = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert len(recs) == 2
    for key in ("doc", "sentence", "start", "end", "subject", "value", "unit", "lower", "upper", "qualifier",
                "date", "grade"):
        assert key in recs[0]
    res = runner.invoke(app, ["claims", "conflicts", "--format", "jsonl", "--db", db])
    conf = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert {r["subject"] for r in conf} == {"PAK/total mineral wealth/value"} and len(conf) == 2
    res = runner.invoke(app, ["claims", "check", "Pakistan's minerals are worth US$68 trillion.", "--db", db])
    assert res.exit_code == 0 and "implausible" in res.output
