#!/usr/bin/env python3
"""Measure the fleet commands on as many lab hosts as this machine holds: the first rollout (every customer at once),
`axe status --all`, `axe health --all`, a canary-then-batches rollout of a new version, and its re-run (nothing to
do). Figures, not assertions; per customer and extrapolated to 100 customers.

    .venv/bin/python scripts/bench_fleet.py [--hosts 8] [--batch 25%] [--json]

Runs in its own lab (AXE_LAB_NAME=axefleetbench, a temporary state dir, customers fleet01..fleetNN) and removes it
afterwards. Bringing the hosts up and D-day steps 1-2 (ingest, onboard) run first and are timed apart. Each figure is
the wall time of the `axe` command as an operator runs it (its plan included).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench_lab import ROOT, axe, own_lab, print_figures


def timed(*args: str, ok=(0,)) -> tuple[float, dict]:
    started = time.monotonic()
    run = axe(*args, "--json", ok=ok)
    return round(time.monotonic() - started, 1), json.loads(run.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--batch", default="25%")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()
    lab, state = own_lab("axefleetbench", "axe-fleet-bench-")
    from axe_lab import hosts

    customers = [f"fleet{i:02d}" for i in range(1, opts.hosts + 1)]
    figures: dict = {"hosts": opts.hosts, "load_before": os.getloadavg()[0]}
    try:
        started = time.monotonic()
        axe("lab", "up", "--hosts", ",".join(customers))
        figures["hosts_up_s"] = round(time.monotonic() - started, 1)
        os.environ.update(dict(ln.removeprefix("export ").split("=", 1) for ln in axe("lab", "env").stdout.splitlines()))
        started = time.monotonic()
        for c in customers:
            axe("customers", "add", c, "--legal-name", f"{c} Co.", "--primary-domain", f"{c}.example", "--entity", f"{c}-kr",
                "--apply", "--yes")
            subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_pack.py"), c, str(state / f"{c}.json")], check=True)
            axe("customers", "ingest", c, str(state / f"{c}.json"), "--apply", "--yes")
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda c: axe("onboard", c, "--apply", "--yes"), customers))
        figures["ingest_and_onboard_s"] = round(time.monotonic() - started, 1)

        figures["rollout_first_s"], out = timed("rollout", "frame", "--ref", "v1", "--all", "--canary", "0", "--apply", "--yes")
        assert all(r["result"] == "shipped v1" for r in out["customers"].values()), out["customers"]
        figures["status_all_s"], out = timed("status", "--all", ok=(0, 1))
        assert all(e["services"]["frame"]["live"]["ref"] == "v1" for e in out["customers"].values())
        figures["health_all_s"], out = timed("health", "--all", ok=(0, 1))
        assert all(rows["frame"]["ok"] for rows in out["customers"].values())
        figures["rollout_s"], out = timed("rollout", "frame", "--ref", "v2", "--all", "--canary", "1", "--batch", opts.batch,
                                          "--apply", "--yes")
        assert all(r["result"] == "shipped v2" for r in out["customers"].values()), out["customers"]
        figures["rollout_serial"] = out["serial"]
        figures["rollout_apply_s"] = out["seconds"]
        figures["rollout_rerun_s"], out = timed("rollout", "frame", "--ref", "v2", "--all", "--apply", "--yes")
        assert out["mode"] == "plan"
        figures["load_after"] = os.getloadavg()[0]
    finally:
        hosts.down(lab)

    n = opts.hosts
    for key in ("rollout_first_s", "status_all_s", "health_all_s", "rollout_s", "rollout_rerun_s"):
        figures[key.replace("_s", "_per_customer_s")] = round(figures[key] / n, 2)
    print_figures(figures, opts.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
