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

# --- REST API access (orechain.interfaces.api.auth) ---------------------------------------------------
API_READ_TOKEN_REQUIRED = register(
    "api_read_token_required", "ORECHAIN_API_READ_TOKEN_REQUIRED", "false",
    "true: every /api/v1 request (reads too, except /api/v1/health) needs an API token of any role; false: "
    "reads are public. Writes always need a token.",
)
API_JOB_ROLE = register(
    "api_job_role", "ORECHAIN_API_JOB_ROLE", "none",
    "The role needed to submit a scenario job (POST /api/v1/scenarios/jobs): none (as reads), viewer, editor "
    "or admin. Jobs change no data but use the server's CPU.",
)
API_CORS_ORIGINS = register(
    "api_cors_origins", "ORECHAIN_API_CORS_ORIGINS", None,
    "Comma-separated web origins (https://example.org) whose pages may call the API from a browser. Unset: "
    "none (CORS closed; same-origin pages such as the dashboard still work).",
)
API_MAX_UPLOAD_BYTES = register(
    "api_max_upload_bytes", "ORECHAIN_API_MAX_UPLOAD_BYTES", "1048576",
    "The largest claims document (UTF-8 bytes of its text) the API accepts; larger uploads get 413.",
)
