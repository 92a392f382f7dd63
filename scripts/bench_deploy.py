#!/usr/bin/env python3
"""Measure `axe deploy` per service: first deploy, no-op re-run, blue/green swap. Figures, not assertions.

    .venv/bin/python scripts/bench_deploy.py [--json]

Runs in its own lab (AXE_LAB_NAME=axebench, a temporary state dir, customer `bench`) and removes it
afterwards. D-day steps 1-2 (ingest, onboard) run first and are not timed. Each figure is the wall
time of the `axe` command as an operator runs it (its check run included); SSH connections are
counted from the host's sshd log ("Accepted publickey"), so ControlPersist's reuse shows.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CUSTOMER = "bench"


def axe(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([str(BIN / "axe"), *args], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"axe {' '.join(args)} failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return run


class Sshd:
    def __init__(self, container: str):
        self.container = container

    def mark(self) -> str:
        time.sleep(1.1)  # docker logs --since has one-second resolution
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

    def count(self, since: str) -> int:
        logs = subprocess.run(["docker", "logs", "--since", since, self.container], capture_output=True, text=True)
        return (logs.stdout + logs.stderr).count("Accepted publickey")


def measure(sshd: Sshd, *args: str) -> tuple[float, int]:
    since = sshd.mark()
    started = time.monotonic()
    axe(*args)
    return round(time.monotonic() - started, 2), sshd.count(since)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="axe-bench-"))
    os.environ.update(AXE_LAB_NAME="axebench", AXE_STATE_DIR=str(state), AXE_CONFIG=str(state / "config.env"),
                      AXE_CUSTOMERS_FILE=str(state / "customers.yaml"))
    from axe_lab import config, hosts

    lab = config.Lab.from_env()
    figures: dict[str, dict] = {}
    try:
        axe("lab", "up", "--hosts", CUSTOMER)
        settings = dict(l.removeprefix("export ").split("=", 1) for l in axe("lab", "env").stdout.splitlines())
        os.environ.update(settings)
        axe("customers", "add", CUSTOMER, "--legal-name", "Bench Co.", "--primary-domain", "bench.example",
            "--entity", "bench-kr", "--apply", "--yes")
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_pack.py"), CUSTOMER, str(state / "pack.json")], check=True)
        axe("customers", "ingest", CUSTOMER, str(state / "pack.json"), "--apply", "--yes")
        axe("onboard", CUSTOMER, "--apply", "--yes")
        sshd = Sshd(lab.container(f"{CUSTOMER}-macmini"))
        for service in ("frame", "blueprint", "hive"):
            row = {}
            row["plan_s"], row["plan_ssh"] = measure(sshd, "deploy", service, CUSTOMER)
            row["first_deploy_s"], row["first_deploy_ssh"] = measure(sshd, "deploy", service, CUSTOMER, "--apply", "--yes")
            row["noop_rerun_s"], row["noop_rerun_ssh"] = measure(sshd, "deploy", service, CUSTOMER, "--apply", "--yes")
            row["swap_v2_s"], row["swap_v2_ssh"] = measure(sshd, "deploy", service, CUSTOMER, "--ref", "v2", "--apply", "--yes")
            figures[service] = row
    finally:
        hosts.down(lab)

    if opts.json:
        print(json.dumps(figures, indent=2))
    else:
        columns = list(next(iter(figures.values())))
        print(f"{'service':<10}" + "".join(f"{c:>18}" for c in columns))
        for service, row in figures.items():
            print(f"{service:<10}" + "".join(f"{row[c]:>18}" for c in columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
