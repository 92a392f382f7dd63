#!/usr/bin/env python3
"""Kill it anywhere, it converges: SIGKILL `axe deploy customer CUSTOMER --from-pack PACK --apply --yes` at every
kill point of lab/axe_lab/chaos.py (POINTS, 25 of them), run the same command again, and check what it left.

    .venv/bin/python scripts/chaos_dday.py                     # every point (about 1.5 h on 2 cores)
    .venv/bin/python scripts/chaos_dday.py --points frame.switch,rotate.vault.recreate
    .venv/bin/python scripts/chaos_dday.py --list              # the points, their triggers, nothing run

Runs in a lab of its own (AXE_LAB_NAME=axechaos unless set; a private AXE_STATE_DIR and AXE_CONFIG under /tmp)
and removes it afterwards (--keep-lab keeps it). Three rounds, each point with the work it needs:
- first: a D-day from nothing, one new customer and lab host per point (k01, k02, ...), removed after it;
- rotate: the customer `chaos`, live after one uninterrupted D-day; before each point customer IT's pack is
  rotated (new client ids and secrets) and frame's MCP token too, so ingest, frame, blueprint, hive and the vault
  all have work; an uninterrupted rotation first measures what the product itself makes fail (the baseline row);
- restart: `chaos` again, its cloudflared config.yml edited on the host, so the D-day rewrites it and restarts it.
Each point: the killed run, then `axe lock status` (and a release only when held and not stale), then the same
command again until it converges (2 runs at most, 600 s each). A poller asks all four services through the edge
the whole time. Prints one table (and --json PATH writes every figure).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", help="comma-separated point names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the kill points and exit")
    parser.add_argument("--json", metavar="PATH", help="write every figure as JSON here")
    parser.add_argument("--state", metavar="DIR", help="the state directory (default: a new one under /tmp)")
    parser.add_argument("--keep-lab", action="store_true", help="leave the lab up afterwards")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for one run of axe (default 600)")
    opts = parser.parse_args()

    from axe_lab import chaos
    if opts.list:
        for p in chaos.POINTS:
            print(f"{p.name:<27} {p.round:<8} {p.step:<12} {p.describe()}\n{'':<29}{p.what}")
        return 0
    chosen = [chaos.BY_NAME[n] for n in opts.points.split(",")] if opts.points else list(chaos.POINTS)

    state = Path(opts.state or tempfile.mkdtemp(prefix="axe-chaos-"))
    state.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("AXE_LAB_NAME", "axechaos")
    os.environ.update(AXE_STATE_DIR=str(state / "state"), AXE_CONFIG=str(state / "config.env"),
                      PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    from axe_lab import config, customers, env, hosts

    lab = config.Lab.from_env()
    log = lambda m: print(f"chaos: {m}", file=sys.stderr, flush=True)  # noqa: E731
    outcomes: list = []
    extra_rows: list[dict] = []
    started = time.monotonic()
    anchor = "chaos"  # keeps the lab's emulators up while first-round hosts come and go
    try:
        log(f"lab {lab.name} in {state} (host {anchor})")
        hosts.up(lab, [anchor], log=log)
        env.write_operator_config(lab)
        settings = dict(env.settings(lab))
        world_env = {**os.environ, **settings, "AXE_CUSTOMERS_FILE": str(customers.path(lab))}

        # ---- first: a D-day from nothing, a host of its own per point ----
        for i, point in enumerate([p for p in chosen if p.round == "first"], 1):
            customer = f"k{i:02d}"
            log(f"[{point.name}] new customer {customer}")
            hosts.up(lab, [customer], log=log)
            world = chaos.World(lab.name, customer, world_env, log=log)
            pack_path = state / f"pack-{customer}.json"
            pack = chaos.new_pack(customer, pack_path)
            poller = chaos.Poller(world).start()
            try:
                outcomes.append(chaos.run_point(world, pack_path, pack, point, poller, timeout=opts.timeout))
            finally:
                poller.close()
                hosts.down(lab, [customer])
            log(chaos.table(outcomes[-1:]))

        # ---- rotate and restart: one live customer ----
        later = [p for p in chosen if p.round in ("rotate", "restart")]
        if later:
            world = chaos.World(lab.name, anchor, world_env, log=log)
            pack_path = state / "pack-chaos-0.json"
            pack = chaos.new_pack(anchor, pack_path)
            poller = chaos.Poller(world).start()
            try:
                first = chaos.attempt(world, pack_path, None, timeout=opts.timeout)
                if not chaos.converged(first):
                    raise SystemExit(f"the uninterrupted first D-day of {anchor} failed:\n{first.output[-3000:]}")
                extra_rows.append({"row": "first D-day, no kill", "seconds": round(first.ended - first.started, 1)})
                chaos.put_sentinels(world)
                if any(p.round == "rotate" for p in later):
                    # The baseline: an uninterrupted rotation, and what the product itself makes fail during it.
                    pack_path = state / "pack-chaos-baseline.json"
                    pack, _rotated = chaos.rotate(world, pack_path, pack)
                    base = chaos.attempt(world, pack_path, None, timeout=opts.timeout)
                    failed = poller.failures(base.started, base.ended)
                    windows = chaos.planned_windows([base])
                    extra_rows.append({"row": "rotation, no kill (baseline)", "converged": chaos.converged(base),
                                       "seconds": round(base.ended - base.started, 1),
                                       "failed": failed,
                                       "unplanned": chaos.unplanned(poller, base.started, base.ended,
                                                                    set(chaos.SERVICES), windows)})
                for n, point in enumerate(later, 1):
                    log(f"[{point.name}]")
                    rotated: set = set()
                    if point.round == "rotate":
                        pack_path = state / f"pack-chaos-{n}.json"
                        pack, rotated = chaos.rotate(world, pack_path, pack)
                    else:
                        chaos.touch_cloudflared_config(world)
                    chaos.put_sentinels(world)
                    outcomes.append(chaos.run_point(world, pack_path, pack, point, poller, rotated,
                                                    timeout=opts.timeout))
                    log(chaos.table(outcomes[-1:]))
            finally:
                poller.close()
    finally:
        if not opts.keep_lab:
            hosts.down(lab)
            env.remove_operator_config()

    print(chaos.table(outcomes))
    for extra in extra_rows:
        print(f"{extra.pop('row')}: {json.dumps(extra)}")
    hit = sum(1 for o in outcomes if o.killed.hit)
    bad = [o.point.name for o in outcomes if o.problems or o.failures or not o.converged]
    print(f"{len(outcomes)} points, {hit} hit, {len(outcomes) - len(bad)} clean; not clean: {', '.join(bad) or 'none'}; "
          f"{(time.monotonic() - started) / 60:.0f} min")
    if opts.json:
        Path(opts.json).write_text(json.dumps({"points": [chaos.row(o) for o in outcomes], "extra": extra_rows},
                                              indent=2, default=str))
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
