#!/usr/bin/env python3
"""Measure the whole D-day, `axe deploy customer CUSTOMER --from-pack PACK`: the plan-only run on a new
customer, the first run (check, then apply, then the proof), and the no-op re-run. Figures, not assertions.

    .venv/bin/python scripts/bench_dday.py [--json]

Runs in its own lab (AXE_LAB_NAME=axebench, a temporary state dir, customer `bench`) and removes it
afterwards. Each figure is the wall time of the `axe` command as an operator runs it, with the SSH
connections the host's sshd accepted and the tasks that ran on the host (see bench_deploy.py).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_deploy import CUSTOMER, ROOT, Sshd, axe, measure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="axe-bench-"))
    os.environ.update(AXE_LAB_NAME="axebench", AXE_STATE_DIR=str(state), AXE_CONFIG=str(state / "config.env"),
                      AXE_CUSTOMERS_FILE=str(state / "customers.yaml"), AXE_SHIP_LOG=str(state / "ship-log.txt"))
    from axe_lab import config, hosts

    lab = config.Lab.from_env()
    figures: dict[str, dict] = {}
    try:
        axe("lab", "up", "--hosts", CUSTOMER)
        os.environ.update(dict(ln.removeprefix("export ").split("=", 1) for ln in axe("lab", "env").stdout.splitlines()))
        axe("customers", "add", CUSTOMER, "--legal-name", "Bench Co.", "--primary-domain", "bench.example",
            "--entity", "bench-kr", "--apply", "--yes")
        pack = state / "pack.json"
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_pack.py"), CUSTOMER, str(pack)], check=True)
        sshd = Sshd(lab.container(f"{CUSTOMER}-macmini"))
        runs = state / "runs"
        dday = ("deploy", "customer", CUSTOMER, "--from-pack", str(pack))
        for name, extra, cold in (("plan_only", (), True), ("first_run", ("--apply", "--yes"), False),
                                  ("noop_rerun", ("--apply", "--yes"), False)):
            seconds, ssh, remote = measure(sshd, runs, *dday, *extra, cold=cold)
            figures[name] = {"seconds": seconds, "ssh": ssh, "remote_tasks": remote}
    finally:
        hosts.down(lab)
    if opts.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{'run':<12}{'seconds':>10}{'ssh':>6}{'remote tasks':>14}")
        for name, row in figures.items():
            print(f"{name:<12}{row['seconds']:>10}{row['ssh']:>6}{row['remote_tasks']:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
