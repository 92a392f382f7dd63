#!/usr/bin/env python3
"""Measure `axe deploy` per service: first deploy, no-op re-run, blue/green swap (for the vault: the
bootstrap's dry run instead). Figures, not assertions.

    .venv/bin/python scripts/bench_deploy.py [--json]

Runs in its own lab (AXE_LAB_NAME=axebench, a temporary state dir, customer `bench`) and removes it
afterwards. D-day steps 1-2 (ingest, onboard) run first and are not timed. Each figure is the wall
time of the `axe` command as an operator runs it (its check run included). Per run:
  ssh      SSH connections the host's sshd accepted ("Accepted publickey"); the first deploy starts
           with no ControlPersist master, the later runs reuse the one it left
  remote   tasks that ran on the host (each one SSH session over that connection; controller-side
           tasks, delegated ones and skipped ones not counted), from the runs' ansible-runner events
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_lab import ROOT, axe, own_lab

CUSTOMER = "bench"


class Sshd:
    def __init__(self, container: str):
        self.container = container

    def mark(self) -> str:
        time.sleep(1.1)  # docker logs --since has one-second resolution
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

    def count(self, since: str) -> int:
        logs = subprocess.run(["docker", "logs", "--since", since, self.container], capture_output=True, text=True)
        return (logs.stdout + logs.stderr).count("Accepted publickey")


CONTROLLER_ACTIONS = {"ansible.builtin.assert", "ansible.builtin.set_fact", "ansible.builtin.include_role",
                      "ansible.builtin.validate_argument_spec", "ansible.builtin.set_stats", "ansible.builtin.fail",
                      "ansible.builtin.debug", "ansible.builtin.meta"}


def remote_tasks(runs: Path, before: set[str]) -> int:
    count = 0
    for run in sorted(p for p in runs.iterdir() if p.name not in before):
        for path in run.glob("artifacts/*/job_events/*.json"):
            event = json.loads(path.read_text())
            data = event.get("event_data", {})
            if event.get("event") in ("runner_on_ok", "runner_on_failed") and not data.get("delegated_host") \
                    and not (data.get("res") or {}).get("_ansible_delegated_vars") \
                    and data.get("task_action") not in CONTROLLER_ACTIONS:
                count += 1
    return count


def measure(sshd: Sshd, runs: Path, *args: str, cold: bool = False) -> tuple[float, int, int]:
    if cold:
        from axe.ssh_sockets import control_dir
        for socket in control_dir(runs.parent).glob("*"):
            subprocess.run(["ssh", "-O", "exit", "-o", f"ControlPath={socket}", "x"], capture_output=True)
    since = sshd.mark()
    before = {p.name for p in runs.iterdir()} if runs.exists() else set()
    started = time.monotonic()
    axe(*args)
    return round(time.monotonic() - started, 2), sshd.count(since), remote_tasks(runs, before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    lab, state = own_lab("axebench")
    from axe_lab import hosts

    figures: dict[str, dict] = {}
    try:
        axe("lab", "up", "--hosts", CUSTOMER)
        settings = dict(ln.removeprefix("export ").split("=", 1) for ln in axe("lab", "env").stdout.splitlines())
        os.environ.update(settings)
        axe("customers", "add", CUSTOMER, "--legal-name", "Bench Co.", "--primary-domain", "bench.example",
            "--entity", "bench-kr", "--apply", "--yes")
        subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_pack.py"), CUSTOMER, str(state / "pack.json")], check=True)
        axe("customers", "ingest", CUSTOMER, str(state / "pack.json"), "--apply", "--yes")
        axe("onboard", CUSTOMER, "--apply", "--yes")
        sshd = Sshd(lab.container(f"{CUSTOMER}-macmini"))
        runs = state / "runs"
        for service in ("frame", "blueprint", "hive"):
            row = {}
            for name, args, cold in (("plan", (), False), ("first_deploy", ("--apply", "--yes"), True),
                                     ("noop_rerun", ("--apply", "--yes"), False),
                                     ("swap_v2", ("--ref", "v2", "--apply", "--yes"), False)):
                seconds, ssh, remote = measure(sshd, runs, "deploy", service, CUSTOMER, *args, cold=cold)
                row[f"{name}_s"], row[f"{name}_ssh"], row[f"{name}_remote"] = seconds, ssh, remote
            figures[service] = row
        # The customer's Vaultwarden: one container, no colours; its "swap" is the bootstrap's dry run.
        row = {}
        for name, args, cold in (("plan", ("deploy", "vault", CUSTOMER), False),
                                 ("first_deploy", ("deploy", "vault", CUSTOMER, "--apply", "--yes"), True),
                                 ("noop_rerun", ("deploy", "vault", CUSTOMER, "--apply", "--yes"), False),
                                 ("bootstrap_check", ("vault", "bootstrap", CUSTOMER), False)):
            row[f"{name}_s"], row[f"{name}_ssh"], row[f"{name}_remote"] = measure(sshd, runs, *args, cold=cold)
        figures["vault"] = row
    finally:
        hosts.down(lab)

    if opts.json:
        print(json.dumps(figures, indent=2))
    else:
        columns = list(next(iter(figures.values())))
        print(f"{'service':<10}" + "".join(f"{c:>20}" for c in columns))
        for service, row in figures.items():
            print(f"{service:<10}" + "".join(f"{row.get(c, '-'):>20}" for c in columns))
            extra = [c for c in row if c not in columns]
            if extra:
                print(f"{'':<10}" + "  ".join(f"{c}={row[c]}" for c in extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
