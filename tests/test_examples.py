"""Every worked example under examples/ runs to the end, as a script, against a new temporary database.

Each example is executed in its own subprocess (``python -W error examples/NN_*.py``) with ``ORECHAIN_DB``
pointing at a fresh SQLite file in a temporary folder, which is also the working directory (examples write
their files under ``out/examples/`` there). The examples check their own key results with ``assert``, so a
change in the package that breaks what an example shows fails here. An example that takes more than 20 s
is marked slow (see ``SLOW``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("[0-9][0-9]_*.py"))
SLOW: set[str] = set()  # names of examples measured above 20 s


def _params() -> list[object]:
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else []) for p in EXAMPLES]


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", _params())
def test_example_runs(example: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ORECHAIN_DB": str(tmp_path / "orechain.db"), "COLUMNS": "120", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-W", "error", str(example)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{example.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    assert proc.stdout.strip(), f"{example.name} printed nothing"


def test_examples_are_percent_format_notebooks() -> None:
    for p in EXAMPLES:
        text = p.read_text(encoding="utf-8")
        assert "format_name: percent" in text, p.name
        assert text.count("# %%") >= 3, p.name


def test_examples_open_as_notebooks() -> None:
    jupytext = pytest.importorskip("jupytext", reason="jupytext (a dev extra) is not installed")
    for p in EXAMPLES:
        nb = jupytext.read(p)
        kinds = [c.cell_type for c in nb.cells]
        assert kinds[0] == "markdown" and nb.cells[0].source.startswith(f"# {p.stem[:2]} "), p.name
        assert kinds.count("code") >= 3 and kinds.count("markdown") >= 3, (p.name, kinds)
