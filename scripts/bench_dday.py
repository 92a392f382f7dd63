#!/usr/bin/env python3
"""Measure the whole D-day, `axe deploy customer CUSTOMER --from-pack PACK`, three ways side by side:

  shipped   axe as it ships (Mitogen's strategy, pipelining, one SSH connection per host kept open)
  defaults  the same D-day under Ansible's defaults (its linear strategy, no pipelining, no ControlPersist:
            AXE_ANSIBLE_DEFAULTS=1)
  floor     the same Cloudflare and vault calls, compose ups and health waits made by a small script with no
            Ansible at all (scripts/bench_floor.py says exactly what it does and leaves out)

each through its three runs: the plan-only run on a new customer, the first run (check, apply, the proof from
outside) and the no-op re-run. Figures, not assertions; the ratios say how much of a D-day is overhead.

    .venv/bin/python scripts/bench_dday.py [--customers N] [--modes shipped,defaults,floor] [--json]

--customers N runs N customers' D-days at once, each on a lab host of its own, and reports the wall time of the
batch (what an operator onboarding N customers waits). Runs in its own lab (AXE_LAB_NAME=axebench, a temporary
state dir) and removes it afterwards. With N=1 it also counts, per run, the SSH connections the host's sshd
accepted and the tasks that ran on the host (see bench_deploy.py).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_deploy import Sshd, remote_tasks
from bench_lab import BIN, ROOT, axe, own_lab
from bench_floor import Floor, Host, files_from

MODES = ("shipped", "defaults", "floor")
RUNS = ("plan_only", "first_run", "noop_rerun")


def at_once(jobs: list) -> tuple[float, list]:
    """Run the callables together (one thread each); the batch's wall time and each one's own result."""
    results: list = [None] * len(jobs)
    errors: list = []

    def run(i, job):
        try:
            results[i] = job()
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"bench: {errors[0]}")
    return round(time.monotonic() - started, 2), results


def dday_command(customer: str, pack: Path, apply: bool, env: dict) -> float:
    started = time.monotonic()
    run = subprocess.run([str(BIN / "axe"), "deploy", "customer", customer, "--from-pack", str(pack),
                          *(("--apply", "--yes") if apply else ())], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"axe deploy customer {customer} failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return round(time.monotonic() - started, 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1, help="D-days at once, each on its own lab host")
    parser.add_argument("--modes", default=",".join(MODES), help="which of shipped,defaults,floor (floor needs shipped)")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    modes = [m for m in opts.modes.split(",") if m]
    if set(modes) - set(MODES) or ("floor" in modes and "shipped" not in modes) or opts.customers < 1:
        parser.error("--modes is a list of shipped,defaults,floor (floor needs shipped); --customers is 1 or more")
    lab, state = own_lab("axebench", AXE_SHIP_LOG="ship-log.txt")
    from axe_lab import hosts

    customers = {m: [f"{m}{i}" for i in range(1, opts.customers + 1)] for m in modes}
    figures: dict[str, dict] = {m: {} for m in modes}
    try:
        axe("lab", "up", "--hosts", ",".join(c for cs in customers.values() for c in cs))
        settings = dict(ln.removeprefix("export ").split("=", 1) for ln in axe("lab", "env").stdout.splitlines())
        os.environ.update(settings)
        packs = {}
        for customer in (c for cs in customers.values() for c in cs):
            axe("customers", "add", customer, "--legal-name", f"Bench {customer}", "--primary-domain",
                f"{customer}.example", "--entity", f"{customer}-kr", "--apply", "--yes")
            packs[customer] = state / f"{customer}.json"
            subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_pack.py"), customer, str(packs[customer])], check=True)
        for mode in (m for m in modes if m != "floor"):
            env = {**os.environ, **({"AXE_ANSIBLE_DEFAULTS": "1"} if mode == "defaults" else {})}
            sshd = Sshd(lab.container(f"{customers[mode][0]}-macmini")) if opts.customers == 1 else None
            for name, apply in zip(RUNS, (False, True, True)):
                since = sshd.mark() if sshd else ""
                before = {p.name for p in (state / "runs").iterdir()} if (state / "runs").exists() else set()
                wall, each = at_once([lambda c=c: dday_command(c, packs[c], apply, env) for c in customers[mode]])
                row = {"seconds": wall, "each": each}
                if sshd:
                    row.update(ssh=sshd.count(since), remote_tasks=remote_tasks(state / "runs", before))
                figures[mode][name] = row
                print(f"{mode} {name}: {row['seconds']} s", file=sys.stderr, flush=True)
        if "floor" in modes:
            figures["floor"] = floor(lab, customers, settings, state)
    finally:
        hosts.down(lab)
    report(figures, opts)
    return 0


def floor(lab, customers: dict, settings: dict, state: Path) -> dict:
    shipped_host = Host(lab.ssh_config, f"{customers['shipped'][0]}-macmini", state / "cp-floor")
    files = files_from(shipped_host, Floor(shipped_host, customers["shipped"][0], "", settings).definitions)
    source = Floor(shipped_host, customers["shipped"][0], "", settings)
    secrets = {(s, e): source.vault.get(customers["shipped"][0], s, e) for s, e in source.vault.list(customers["shipped"][0])}
    shipped_host.close()
    floors = [Floor(Host(lab.ssh_config, f"{c}-macmini", state / "cp-floor"), c, f"{c}.axelabs.ai", settings)
              for c in customers["floor"]]
    # The no-op's floor asks the shipped customers' hosts, which the shipped D-day deployed end to end (cloudflared
    # and the edge included); the plan and the first run are made on fresh hosts of their own.
    deployed = [Floor(Host(lab.ssh_config, f"{c}-macmini", state / "cp-floor"), c, f"{c}.axelabs.ai", settings)
                for c in customers["shipped"]]
    out = {}
    for name, phase, on in (("plan_only", lambda f: f.plan(), floors), ("first_run", lambda f: f.first(files, secrets), floors),
                            ("noop_rerun", lambda f: f.noop(), deployed)):
        wall, each = at_once([lambda f=f: timed(lambda: phase(f)) for f in on])
        out[name] = {"seconds": wall, "each": each}
        print(f"floor {name}: {wall} s", file=sys.stderr, flush=True)
    for f in floors + deployed:
        f.host.close()
    return out


def timed(fn) -> float:
    started = time.monotonic()
    fn()
    return round(time.monotonic() - started, 2)


def report(figures: dict, opts) -> None:
    for mode in ("defaults", "floor"):
        for name, row in figures.get(mode, {}).items():
            shipped = figures.get("shipped", {}).get(name, {}).get("seconds")
            if shipped and row["seconds"]:
                key = "defaults_over_shipped" if mode == "defaults" else "shipped_over_floor"
                figures.setdefault("ratios", {}).setdefault(name, {})[key] = round(
                    (row["seconds"] / shipped) if mode == "defaults" else (shipped / row["seconds"]), 2)
    if opts.json:
        print(json.dumps({"customers": opts.customers, **figures}, indent=2))
        return
    modes = [m for m in MODES if m in figures]
    print(f"D-day with {opts.customers} customer(s) at once: wall seconds of the batch")
    print(f"{'run':<12}" + "".join(f"{m:>10}" for m in modes) + f"{'defaults/shipped':>18}{'shipped/floor':>15}")
    for name in RUNS:
        ratios = figures.get("ratios", {}).get(name, {})
        print(f"{name:<12}" + "".join(f"{figures[m].get(name, {}).get('seconds', '-'):>10}" for m in modes)
              + f"{ratios.get('defaults_over_shipped', '-'):>18}{ratios.get('shipped_over_floor', '-'):>15}")
    if opts.customers == 1:
        for mode in (m for m in modes if m != "floor"):
            print(f"{mode}: " + ", ".join(f"{n} ssh={figures[mode][n]['ssh']} remote_tasks={figures[mode][n]['remote_tasks']}"
                                          for n in RUNS))


if __name__ == "__main__":
    sys.exit(main())
