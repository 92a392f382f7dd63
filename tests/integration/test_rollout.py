"""The fleet: three customers on frame v1 (first deployed by a rollout, all at once), then `axe status --all`,
`axe rollout frame --ref broken` (stops after the canary, which keeps serving v1; nobody else changes), `axe rollout
frame --ref v2 --all --canary 1` (every customer on v2 with zero failed requests through the edge), a re-run that
has nothing to do, the wanted version as data (`axe deploy frame CUSTOMER` without --ref) and `axe audit`."""
from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
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
        first.ship_log = base / "ship-log.txt"
        first.env["AXE_SHIP_LOG"] = str(first.ship_log)
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
    assert out["ship_log_lines"] == d.ship_log.read_text().splitlines() and len(out["ship_log_lines"]) == 3
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


def test_a_rollout_interrupted_in_its_second_batch_resumes_with_the_same_command_and_no_failed_request(fleet):
    """Ctrl-C while the batch after the canary stages its release: the canary is shipped (its Ship Log line, its
    recorded ref), the batch's customers still serve v1, the printed next step is the same command; that command then
    ships the rest. Pollers through the edge, one per customer across both runs, see no failed request."""
    d = fleet[FLEET[0]]
    command = ("rollout", "frame", "--ref", "v2", "--all", "--canary", "1", "--batch", "2", "--apply", "--yes")
    pollers = [Poller(fleet[c], "/frame/mcp") for c in FLEET]
    for p in pollers:
        p.start()
    started = time.monotonic()
    logged = d.ship_log.read_text().splitlines()  # the first rollout's lines
    try:
        d.since = time.time()
        proc = d.start(*command, "--json")
        canary = d.wait_for_task("rollout-frame", "Compose up - stage the release")  # the canary's: its batch began
        batch = d.wait_for_task("rollout-frame", "Compose up - stage the release", hosts=set(FLEET) - {canary})
        os.kill(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals axe's whole process group
        out, err = proc.communicate(timeout=120)
        d.outputs.append(out + err)
        assert proc.returncode == 130, out + err
        stopped = json.loads(out)
        lines = d.ship_log.read_text().splitlines()[len(logged):]
        stopped_versions = versions(fleet)
        stopped_text = d.customers.read_text()
        run, resumed = d.axe_json(*command, timeout=900)
    finally:
        for p in pollers:
            p.stop.set()
            p.join()
    seconds = time.monotonic() - started
    print(f"rollout of frame v2 to {len(FLEET)} customers (canary 1, batch 2), interrupted then resumed: {seconds:.1f}s; "
          f"through the edge: {[dict(p.seen) for p in pollers]}")

    # The interrupted run: what each customer reached, said as it is.
    assert stopped["interrupted"] is True and stopped["signal"].startswith("SIGINT"), stopped
    assert stopped["next"] == "axe rollout frame --ref v2 --all --apply"
    results = {c: stopped["customers"][c]["result"] for c in FLEET}
    assert results[canary] == "shipped v2", results
    assert results[batch] == f"interrupted in its deploy: axe status {batch} says what serves now", results
    assert all(results[c] == results[batch].replace(batch, c) or results[c].startswith("not reached")
               for c in set(FLEET) - {canary}), results
    assert stopped["ship_log_lines"] == lines and len(lines) == 1 and f" shipped {canary} " in lines[0] and " frame=v2@" in lines[0]
    assert stopped_versions == {c: "2.0.0" if c == canary else "1.0.0" for c in FLEET}
    assert stopped_text.count('ref: "v2"') == 1  # only the canary reached v2: only its wanted version says so

    # The same command resumes: the canary is left alone, the two others ship.
    assert run.returncode == 0, run.stdout + run.stderr
    assert {c: resumed["customers"][c]["result"] for c in FLEET} == {c: "unchanged" if c == canary else "shipped v2" for c in FLEET}
    assert resumed["customers"][canary]["plan"] == "already on v2"
    assert [p.failures() for p in pollers] == [{}, {}, {}]
    assert all(p.seen["2.0.0"] > 0 for p in pollers)
    assert versions(fleet) == {c: "2.0.0" for c in FLEET}
    assert len(resumed["ship_log_lines"]) == 2 and d.ship_log.read_text().splitlines() == logged + lines + resumed["ship_log_lines"]
    text = d.customers.read_text()
    assert text.count('ref: "v2"') == 3 and "# graduated to self-deploy" in text  # recorded; comments kept
    assert d.axe_json("lock", "status", batch)[1]["hosts"][batch]["lock"]["held"] is False  # taken over, given back

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
    # Every changing run on the host, as it took and gave back its deploy lock: its tunnel's set-up, the first rollout,
    # the interrupted one (which never gave it back), and the resumed one, which took it over from the run that had
    # ended (the deploy above planned nothing, so applied nothing).
    runs = [e["what"] for e in audit["entries"] if "deploy lock" in e["what"]]
    pair = ["took the host's deploy lock ({})", "gave the host's deploy lock back ({})"]
    deploy = f"axe deploy frame {FLEET[1]}"
    assert runs[:5] == [w.format(f"axe onboard {FLEET[1]}") for w in pair] + [w.format(deploy) for w in pair] + \
        [pair[0].format(deploy)], runs
    assert runs[5].startswith("took over the deploy lock of ") and f"for '{deploy}'" in runs[5] \
        and runs[5].endswith("that run had ended without giving it back"), runs
    assert runs[6:] == [w.format(deploy) for w in pair], runs


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
