from __future__ import annotations

from pathlib import Path

from orechain.settings import SETTINGS

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS.values() if f"`{s.env}`" not in text]
    assert not missing, f"settings missing from docs/settings.md: {missing}"
