"""One writer process for the reliability tests, driving the real CLI in-process.

    python tests/reliability/worker.py import DB FILE... [--barrier DIR]   # orechain data import baci
    python tests/reliability/worker.py load DB [--barrier DIR]             # orechain db init

``--barrier DIR`` makes several workers start their work at the same moment, once Python has started: each
writes ``DIR/ready-PID`` and waits for ``DIR/go``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from orechain.interfaces import cli


def main(argv: list[str]) -> None:
    if "--barrier" in argv:
        i = argv.index("--barrier")
        barrier = Path(argv[i + 1])
        del argv[i:i + 2]
        (barrier / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + 120
        while not (barrier / "go").exists():
            if time.monotonic() > deadline:
                raise SystemExit("worker: no go signal within 120 s")
            time.sleep(0.005)
    action, db, *rest = argv
    if action == "import":
        sys.argv = ["orechain", "data", "import", "baci", *rest, "--db", db]
    elif action == "load":
        sys.argv = ["orechain", "db", "init", "--db", db]
    else:
        raise SystemExit(f"unknown action {action}")
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
