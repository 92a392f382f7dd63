"""The fleet: three customers on frame v1 (first deployed by a rollout, all at once), then `axe status --all`,
`axe rollout frame --ref broken` (stops after the canary, which keeps serving v1; nobody else changes), `axe rollout
frame --ref v2 --all --canary 1` (every customer on v2 with zero failed requests through the edge), a re-run that
has nothing to do, the wanted version as data (`axe deploy frame CUSTOMER` without --ref) and `axe audit`."""
from __future__ import annotations

import concurrent.futures
import json
import re
import time

import pytest

from helpers.dday import DDay, Poller
from helpers.lab import LabHost
from helpers.samples import CUSTOMERS_YAML, PACK

pytestmark = pytest.mark.lab

FLEET = ("fla", "flb", "flc")


def fleet_yaml() -> str:
    """customers.yaml with the three customers (acme's entry, renamed) and the sovereignty one (realchoice)."""
    acme = re.search(r"(  # D-day 2026-11-24\n  acme:\n.*?\n)\n", CUSTOMERS_YAML, re.S).group(1)
    sovereign = re.search(r"(  # graduated.*?\n)\n  beta:", CUSTOMERS_YAML, re.S).group(1)
    head, releases = CUSTOMERS_YAML.split("customers:\n")[0], re.search(r"(# what a new.*\nreleases: .*\n)", CUSTOMERS_YAML).group(1)
    return head + "customers:\n" + "".join(acme.replace("acme", c) for c in FLEET) + sovereign + releases


@pytest.fixture(scope="module")
def fleet(lab, tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    lab.host("acme")  # the lab's emulators and git server are up
    from axe_lab import hosts
    lab.up(*FLEET)
    try:
        days = {c: DDay(lab, LabHost(c, f"{c}-macmini", lab.ssh_config), base, c) for c in FLEET}
        first = days[FLEET[0]]
        first.customers.write_text(fleet_yaml())
        for c in FLEET:
            pack = base / f"pack-{c}.json"
            pack.write_text(json.dumps(PACK).replace("acme", c))
            run = first.axe("customers", "ingest", c, str(pack), "--apply", "--yes")
            assert run.returncode == 0, run.stdout + run.stderr
        with concurrent.futures.ThreadPoolExecutor(len(FLEET)) as pool:  # three hosts: their tunnels at once
            runs = list(pool.map(lambda c: first.axe("onboard", c, "--apply", "--yes"), FLEET))
        for run in runs:
            assert run.returncode == 0, run.stdout + run.stderr
        yield days
    finally:
        hosts.down(lab.lab, list(FLEET))


def rollout(d, *args):
    return d.axe_json("rollout", "frame", *args, timeout=900)


def versions(days):
    return {c: d.version("frame") for c, d in days.items()}


def test_a_rollout_deploys_a_fleet_then_status_shows_what_each_runs(fleet):
    d = fleet[FLEET[0]]
    started = time.monotonic()
    run, out = rollout(d, "--ref", "v1", "--all", "--canary", "0", "--apply", "--yes")
    print(f"first rollout of frame v1 to {len(FLEET)} customers at once: {time.monotonic() - started:.1f}s")
    assert run.returncode == 0, run.stdout + run.stderr
    assert out["customers"]["realchoice"]["result"] == "left out"
    assert {c: out["customers"][c]["result"] for c in FLEET} == {c: "shipped v1" for c in FLEET}
    assert versions(fleet) == {c: "1.0.0" for c in FLEET}

    run, status = d.axe_json("status", "--all")
    # blueprint and hive are wanted (releases) and were never deployed here: that is drift, said, and exit 1.
    assert run.returncode == 1, run.stdout + run.stderr
    for c in FLEET:
        frame = status["customers"][c]["services"]["frame"]
        assert (frame["live"]["ref"], frame["wanted"], frame["drift"]) == ("v1", "v1", "")
        assert frame["live"]["colour"] in ("blue", "green") and frame["live"]["since"]
        assert status["customers"][c]["services"]["hive"]["drift"] == "not deployed"
        assert status["customers"][c]["state"] == "drift"
    assert status["customers"]["realchoice"]["state"] == "sovereign"


def test_a_broken_ref_stops_after_the_canary_which_keeps_serving_and_nobody_else_changes(fleet):
    d = fleet[FLEET[0]]
    before = d.customers.read_text()
    run, out = rollout(d, "--ref", "broken", "--all", "--canary", "1", "--health-timeout", "8", "--apply", "--yes")
    assert run.returncode == 1, run.stdout + run.stderr
    results = {c: out["customers"][c]["result"] for c in FLEET}
    assert results[FLEET[0]].startswith("failed: "), results
    assert all(results[c].startswith("not reached") for c in FLEET[1:]), results
    assert out["next"] == "axe rollout frame --ref broken --all --apply"
    assert versions(fleet) == {c: "1.0.0" for c in FLEET}  # the canary's v1 still serves; the others untouched
    assert d.customers.read_text() == before  # no customer reached broken: none is recorded as wanting it
    run, status = d.axe_json("status", "--all")
    assert {c: status["customers"][c]["services"]["frame"]["live"]["ref"] for c in FLEET} == {c: "v1" for c in FLEET}


def test_a_rollout_reaches_every_customer_with_zero_failed_requests_then_has_nothing_to_do(fleet):
    d = fleet[FLEET[0]]
    pollers = [Poller(fleet[c], "/frame/mcp") for c in FLEET]
    for p in pollers:
        p.start()
    started = time.monotonic()
    try:
        run, out = rollout(d, "--ref", "v2", "--all", "--canary", "1", "--batch", "2", "--apply", "--yes")
    finally:
        for p in pollers:
            p.stop.set()
            p.join()
    seconds = time.monotonic() - started
    print(f"rollout of frame v2 to {len(FLEET)} customers (canary 1, batch 2): {seconds:.1f}s, "
          f"{seconds / len(FLEET):.1f}s per customer; through the edge: {[dict(p.seen) for p in pollers]}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert {c: out["customers"][c]["result"] for c in FLEET} == {c: "shipped v2" for c in FLEET}
    assert out["serial"] == [1, 2]
    assert [p.failures() for p in pollers] == [{}, {}, {}]
    assert all(p.seen["2.0.0"] > 0 for p in pollers)
    assert versions(fleet) == {c: "2.0.0" for c in FLEET}
    assert len(out["ship_log_lines"]) == 3 and all(" frame=v2@" in line for line in out["ship_log_lines"])
    text = d.customers.read_text()
    assert text.count('ref: "v2"') == 3 and "# graduated to self-deploy" in text  # recorded; comments kept

    run, again = rollout(d, "--ref", "v2", "--all", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert again["mode"] == "plan" and not again["applied"]
    assert {c: again["customers"][c]["plan"] for c in FLEET} == {c: "already on v2" for c in FLEET}


def test_the_wanted_version_is_data_and_the_host_keeps_an_audit_log(fleet):
    d = fleet[FLEET[1]]
    run, out = d.deploy("frame")  # no --ref: customers.yaml says v2 for it now
    assert run.returncode == 0, run.stdout + run.stderr
    assert out["hosts"][FLEET[1]]["deploys"]["frame"]["ref"] == "v2"
    assert out["hosts"][FLEET[1]]["deploys"]["frame"]["action"] == "none"

    run, audit = d.axe_json("audit", FLEET[1])
    assert run.returncode == 0, run.stdout + run.stderr
    live = [e for e in audit["entries"] if " live in " in e["what"]]
    assert [e["what"][:len("frame v1 (")] for e in live] == ["frame v1 (", "frame v2 ("], audit["entries"]
    assert all(e["who"] and e["at"] and "-rollout-frame-" in e["run_id"] and e["purpose"] == f"axe deploy frame {FLEET[1]}"
               for e in live), live
    # Every changing run on the host, as it took and gave back its deploy lock: its tunnel's set-up and the two rollouts
    # that reached it (the deploy above planned nothing, so applied nothing).
    runs = [e["what"] for e in audit["entries"] if "deploy lock" in e["what"]]
    pair = ["took the host's deploy lock ({})", "gave the host's deploy lock back ({})"]
    assert runs == [w.format(f"axe onboard {FLEET[1]}") for w in pair] + \
        [w.format(f"axe deploy frame {FLEET[1]}") for w in pair] * 2, runs


def test_health_all_checks_every_customer_from_outside_and_from_its_host(fleet):
    d = fleet[FLEET[0]]
    run, health = d.axe_json("health", "--all")
    for c in FLEET:
        rows = health["customers"][c]
        assert rows["cloudflared"] == {"outside": 200, "ok": True}
        assert rows["frame"]["ok"] and rows["frame"]["host"]["http"] == 200, rows["frame"]
        assert not rows["hive"]["ok"]  # never deployed here: said, not hidden
    assert set(health["customers"]["realchoice"]) == {"cloudflared"}  # T24: its tunnel only
    assert run.returncode == 1
