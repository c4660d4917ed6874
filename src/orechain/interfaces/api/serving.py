"""How orechain runs the API under uvicorn (``orechain serve`` and the benchmark use the same settings)."""

from __future__ import annotations

from typing import Any

__all__ = ["UVICORN"]

# uvloop and httptools (uvicorn[standard]); no per-request access-log line (formatting and writing it is paid on
# every request; errors are still logged at warning level); a listen backlog above any client count we test.
UVICORN: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "log_level": "warning", "access_log": False,
                           "backlog": 2048}
