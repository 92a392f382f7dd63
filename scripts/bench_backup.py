#!/usr/bin/env python3
"""Measure the backups on a customer after D-day: one backup now, status, verify (a restore into scratch), and a
restore of frame's data (dry run, then apply). Figures, not assertions.

    .venv/bin/python scripts/bench_backup.py [--customer acme] [--rows N] [--json]

Runs against the lab the environment points at (`eval "$(axe lab env)"`, AXE_CUSTOMERS_FILE; scripts/demo.sh
leaves the demo customer `acme` ready). --rows N first adds N audit-log rows of 200 bytes to frame's database (so
the dump is not a few kilobytes). Each figure is the wall time of the `axe` command as an operator runs it (its check
run included) and, where the agent reports it, the agent's own time on the host and the snapshot's sizes.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def axe(*args: str) -> tuple[float, dict]:
    started = time.monotonic()
    run = subprocess.run([str(BIN / "axe"), *args, "--json"], capture_output=True, text=True)
    seconds = time.monotonic() - started
    if run.returncode != 0:
        raise SystemExit(f"axe {' '.join(args)} failed:\n{run.stdout[-3000:]}{run.stderr[-2000:]}")
    return seconds, json.loads(run.stdout)


def grow(customer: str, rows: int) -> None:
    sql = ("INSERT INTO audit_log (actor, action, entity_id, detail) SELECT 'bench', 'journal.create', e.id, "
           f"repeat('x', 200) FROM entities e, generate_series(1, {int(rows)}) LIMIT {int(rows)};\n")
    # The SQL on stdin: no quoting through ssh, sh and psql.
    cmd = ("PATH=/opt/homebrew/bin:$PATH docker exec -i frame-postgres sh -c "
           "'PGPASSWORD=\"$FRAME_DB_PASSWORD\" exec /usr/lib/postgresql/15/bin/psql -h 127.0.0.1 -U frame -d postgres -q'")
    subprocess.run([str(BIN / "axe"), "lab", "ssh", customer, "--", cmd], input=sql, text=True, check=True,
                   capture_output=True, timeout=300)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customer", default="acme")
    p.add_argument("--rows", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    c = args.customer
    if args.rows:
        grow(c, args.rows)
    figures = {}
    wall, out = axe("backup", c, "--now", "--apply", "--yes")
    run = out["hosts"][c]["backup"]["run"]
    figures["backup --now"] = {"wall_s": round(wall, 1), "agent_s": run["seconds"], "processed_bytes": run["bytes"],
                               "added_bytes": run["added"], "counts": {s: v["counts"] for s, v in run["sources"].items()}}
    wall, out = axe("backup", "status", c)
    latest = out["hosts"][c]["backup_status"]["latest"]
    figures["status"] = {"wall_s": round(wall, 1), "snapshot_bytes": latest["size_bytes"], "files": latest["files"]}
    wall, out = axe("backup", "verify", c)
    figures["verify"] = {"wall_s": round(wall, 1), "agent_s": out["hosts"][c]["backup_verify"]["seconds"]}
    wall, _ = axe("backup", "restore", c, "--service", "frame")
    figures["restore frame (plan)"] = {"wall_s": round(wall, 1)}
    wall, out = axe("backup", "restore", c, "--service", "frame", "--apply", "--yes")
    figures["restore frame (apply, check run included)"] = {"wall_s": round(wall, 1),
                                                            "counts": out["hosts"][c]["backup_restore"]["counts"]}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, f in figures.items():
            print(f"{name:45} " + ", ".join(f"{k} {v}" for k, v in f.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
