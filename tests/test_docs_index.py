"""docs/index.md links every page under docs/, and the links in the user-facing pages resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_index_links_every_docs_page() -> None:
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = {m.group(1) for m in LINK.finditer(index)}
    pages = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    missing = sorted(pages - linked)
    assert not missing, f"add a one-line entry to docs/index.md for: {', '.join(missing)}"


@pytest.mark.parametrize("page", ["index.md", "recipes.md", "terminology.md", "cli.md"])
def test_relative_links_resolve(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    broken = [target for target, _ in LINK.findall(text)
              if "://" not in target and not (DOCS / target).resolve().exists()]
    assert not broken, f"docs/{page}: broken links {broken}"


def test_readme_points_to_the_docs_map() -> None:
    assert "docs/index.md" in (REPO / "README.md").read_text(encoding="utf-8")
