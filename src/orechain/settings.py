"""Every setting orechain reads, in one place, with its default and help text.

Settings come from environment variables (and, for some, from command-line options that override them).
``docs/settings.md`` documents each one; a test fails when a setting here is missing there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str | None
    help: str

    def get(self) -> str | None:
        value = os.environ.get(self.env)
        return value if value not in (None, "") else self.default


SETTINGS: dict[str, Setting] = {}


def register(name: str, env: str, default: str | None, help: str) -> Setting:
    s = Setting(name, env, default, help)
    SETTINGS[name] = s
    return s


DB = register(
    "db", "ORECHAIN_DB", None,
    "Database location: a file path (SQLite) or a SQLAlchemy URL such as postgresql+psycopg://user@host/db. "
    "Default: $XDG_DATA_HOME/orechain/orechain.db (~/.local/share/orechain/orechain.db). The CLI's --db "
    "overrides it.",
)
