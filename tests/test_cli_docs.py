"""docs/cli.md is the --help of every command as it is now: regenerate it with scripts/gen_cli_docs.py."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", REPO / "scripts" / "gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_is_up_to_date() -> None:
    gen = _generator()
    expected = gen.render()
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    if current != expected:
        diff = "".join(list(difflib.unified_diff(current.splitlines(True), expected.splitlines(True),
                                                 "docs/cli.md", "--help now"))[:80])
        raise AssertionError("docs/cli.md is out of date: run .venv/bin/python scripts/gen_cli_docs.py\n" + diff)


def test_cli_reference_covers_every_command() -> None:
    gen = _generator()
    import typer

    from orechain.interfaces.cli import app

    paths = [" ".join(("orechain", *p)) for p, _ in gen.walk(typer.main.get_command(app))]
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert len(paths) > 20
    for p in paths:
        assert f"## {p}\n" in text, p
    for must in ("orechain db init", "orechain query production", "orechain assess pakistan-us", "orechain simulate",
                 "orechain claims check"):
        assert must in paths


def test_help_rendering_is_deterministic_and_plain() -> None:
    gen = _generator()
    from orechain.interfaces.cli import app

    a = gen.help_text(app, ("query", "production"))
    assert a == gen.help_text(app, ("query", "production"))
    assert "\x1b[" not in a
    assert max(len(line) for line in a.splitlines()) <= gen.WIDTH
    assert "Example: orechain query production" in a
