"""What every benchmark script starts from: a lab of its own and `axe` as the operator runs it.

A benchmark's lab has its own name, a temporary state dir, its own operator config and customers.yaml, so it never
touches the operator's lab or a test lab; each script removes its hosts when it is done."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the virtualenv the script runs in: its `axe`


def own_lab(name: str, prefix: str = "axe-bench-", **state_files: str):
    """Point this process (and every `axe` it starts) at a new lab `name` under a temporary state dir; state_files
    names more settings that are files in it (AXE_SHIP_LOG="ship-log.txt"). Returns the lab (axe_lab.config.Lab) and
    its state dir."""
    state = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update(AXE_LAB_NAME=name, AXE_STATE_DIR=str(state), AXE_CONFIG=str(state / "config.env"),
                      AXE_CUSTOMERS_FILE=str(state / "customers.yaml"),
                      **{setting: str(state / file) for setting, file in state_files.items()})
    from axe_lab import config
    return config.Lab.from_env(), state


def axe(*args: str, ok=(0,)) -> subprocess.CompletedProcess:
    """`axe ARGS`; a benchmark whose command fails ends there, with the command's own words."""
    run = subprocess.run([str(BIN / "axe"), *args], capture_output=True, text=True)
    if run.returncode not in ok:
        raise SystemExit(f"axe {' '.join(args)} failed ({run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return run


def print_figures(figures: dict, as_json: bool) -> None:
    """A benchmark's figures, seconds to the hundredth: JSON, or one `name value` line each."""
    rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}
    if as_json:
        print(json.dumps(rounded, indent=2))
    else:
        for key, value in rounded.items():
            print(f"{key:<36} {value}")
