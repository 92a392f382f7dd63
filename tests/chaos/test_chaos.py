"""Kill it anywhere, it converges (issue 13, item 5): part of the README's test command.

`axe deploy customer CUSTOMER --from-pack PACK --apply --yes` SIGKILLed (its whole process group) at the four riskiest kill points of lab/axe_lab/chaos.py, then the same command
again. scripts/chaos_dday.py runs all 25 points; this test keeps to four, on one fresh lab host, along two D-days
instead of one D-day per point: each run resumes what the killed one left and is killed at a later point, so every
apply segment does new work. After the last kill of a D-day the same command must converge (all four services 200
through the edge) with no Docker volume, vault item or customers.yaml entry lost, and a poller through the edge
must see no failed request from a service that served before a kill, outside the product's own planned pauses
(the vault's recreate, cloudflared's restart, a support service's recreate: chaos.PLANNED). A kill inside the
vault's recreate leaves the vault down until the next run (compose had stopped the old container; nothing on the
host creates the new one but a run): that point names the vault as `down_until_rerun`, and its figure is how long.

The four, in the order a D-day meets them, and why they are the riskiest:
- ingest.write (D-day 1, from nothing): customers.yaml is the registry of every customer, not only this one; the
  ingest's writer is killed with its temporary file written and not yet renamed. A torn registry stops every run
  for every customer.
- restart.cloudflared (D-day 2, a live customer whose config.yml changed): one cloudflared carries all four
  services; killed between its bootout and its bootstrap, nothing on the host will start it again but a next run.
- rotate.frame.switch (D-day 2): the proxy already sends frame's traffic to the new colour, the release state still
  names the old one; the next run decides from that state which colour to overwrite.
- rotate.vault.recreate (D-day 2): the customer's passwords; compose has stopped and renamed the old
  axe-vaultwarden and not yet created the new one.
"""
from __future__ import annotations

import os

import pytest

from axe_lab import chaos
from helpers.samples import CUSTOMERS_YAML

pytestmark = pytest.mark.lab

CUSTOMER = "chaos"
FIRST_DDAY = ["ingest.write"]
ROTATION = ["restart.cloudflared", "rotate.frame.switch", "rotate.vault.recreate"]


def test_killed_anywhere_the_same_command_converges(lab, tmp_path):
    with lab.fresh(CUSTOMER):
        settings = dict(line.removeprefix("export ").split("=", 1) for line in lab.axe("lab", "env").stdout.splitlines())
        customers_file = tmp_path / "customers.yaml"
        customers_file.write_text(CUSTOMERS_YAML)  # other customers: the kills must leave their entries alone
        env = {**os.environ, **settings, "AXE_CUSTOMERS_FILE": str(customers_file),
               "AXE_SHIP_LOG": str(tmp_path / "ship-log.txt")}
        world = chaos.World(lab.lab.name, CUSTOMER, env)
        added = world.axe("customers", "add", CUSTOMER, "--legal-name", "Chaos Co., Ltd.", "--primary-domain",
                          "chaos.example", "--entity", "chaos-kr", "--apply", "--yes", timeout=300)
        assert added.returncode == 0, added.stdout + added.stderr

        poller = chaos.Poller(world).start()
        try:
            pack_path = tmp_path / "pack-1.json"
            pack = chaos.new_pack(CUSTOMER, pack_path)
            outcomes = chaos.run_chain(world, pack_path, pack, [chaos.BY_NAME[n] for n in FIRST_DDAY], poller)
            chaos.put_sentinels(world)
            pack_path = tmp_path / "pack-2.json"
            pack, rotated = chaos.rotate(world, pack_path, pack)
            chaos.touch_cloudflared_config(world)
            outcomes += chaos.run_chain(world, pack_path, pack, [chaos.BY_NAME[n] for n in ROTATION], poller, rotated)
        finally:
            poller.close()
    report = chaos.table(outcomes)
    print(report)

    assert [o.point.name for o in outcomes if o.killed.hit] == FIRST_DDAY + ROTATION, report
    for o in outcomes:
        # The step each killed run was in, as its plays published it: each segment provably got further.
        assert o.killed.running.startswith(o.point.step + " | "), (o.point.name, o.killed.running)
    # Each D-day converged with the same command, in at most two runs after its last kill.
    assert [o.converged for o in outcomes] == [True, None, None, True], report
    # What went wrong, per point: failed checks, and failed requests of services that served before the kill.
    wrong = {o.point.name: o.problems + [f"failed after the kill: {chaos._fails(o.failures, o.failure_times)}"
                                         for _ in [0] if o.failures]
             for o in outcomes}
    assert {name: what for name, what in wrong.items() if what} == {}, report
