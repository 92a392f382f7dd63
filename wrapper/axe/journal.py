"""One line per `axe` command in $AXE_STATE_DIR/logs/axe.log: when, who, what, outcome.

Commands never take secrets on their command line (secrets come from the vault, a hidden prompt
or stdin), so the arguments are safe to record.
"""
from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path


def record(state_dir: Path, argv: list[str], exit_code: int, seconds: float) -> None:
    logs = state_dir / "logs"
    try:
        logs.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "user": getpass.getuser(),
                           "pid": os.getpid(), "argv": argv, "exit": exit_code, "seconds": round(seconds, 2)})
        with open(logs / "axe.log", "a") as fh:
            fh.write(line + "\n")
    except OSError:
        pass  # the journal must never be the reason a command fails
