"""`axe deploy frame|blueprint|hive`: the 13-step engine against a lab host of its own, after D-day steps 1-2.

Per service: check -> apply -> check -> apply changes nothing (the second apply run directly with
ansible-playbook, so the apply itself is proven idempotent, not only the plan). Then: a new ref swaps
colour (frame, hive) or swaps blueprint-app in two steps behind its proxy with zero failed requests from
a client polling through the edge; the broken ref leaves the old release serving and exits non-zero with
the log excerpt and what serves, as measured on the host; rollback is one command; missing
secrets and settings are named at once (T08, T10); sovereignty is refused (T24); two deploys to one
host meet the lock; and no secret value is left anywhere a run writes.
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from helpers.dday import EXTERNAL, Poller, customer_after_onboard
from helpers.lab import ROOT
from helpers.samples import PACK

pytestmark = pytest.mark.lab

CUSTOMER = "dep"


@pytest.fixture(scope="module")
def dday(lab, tmp_path_factory):
    with customer_after_onboard(lab, tmp_path_factory.mktemp("deploy"), CUSTOMER) as d:
        yield d


# A secret holding every character .env.local could get wrong (issue 14, item 5): quotes, $, a backslash, #, and a
# newline followed by what would be a second variable if the line ended there.
HOSTILE = "tok'en\"$HOME ${HOME} $$ \\ # not a comment\nSECOND_VAR=injected\\"


def _container_env(dday, container, *names):
    code = "import json,os,sys; print(json.dumps([os.environ.get(n) for n in sys.argv[1:]]))"
    out = dday.docker(f"docker exec {container} python3 -c '{code}' {' '.join(names)}")
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("service", ["frame", "blueprint", "hive"])
def test_check_apply_check_apply(dday, service):
    if service == "frame":
        import sys
        sys.path.insert(0, str(ROOT / ".collections"))
        from ansible_collections.axelabs.onboard.plugins.module_utils import vault
        vault.backend("bw_serve", url=dday.settings["AXE_VAULT_URL"]).put(CUSTOMER, "frame", "FRAME_DEP_MCP_TOKEN", HOSTILE)
    run, plan = dday.deploy(service, apply=False)
    assert run.returncode == 0 and plan["changed"] == 1, run.stdout
    # Check mode changed nothing on the host.
    assert dday.host.ssh(f"test -e ~/.axe/services/{service}", check=False).returncode != 0
    assert service not in dday.docker("docker ps -a --format '{{.Names}}'")

    run, applied = dday.deploy(service)
    assert run.returncode == 0, run.stdout + run.stderr
    report = applied["hosts"][CUSTOMER]["deploys"][service]
    assert report["action"] == "release" and report["ref"] == "v1"
    assert dday.version(service) == "1.0.0"
    assert dday.host.ssh(f"stat -c %a ~/.axe/services/{service}/.env.local").stdout.strip() == "600"
    if service == "frame":  # exactly the value, and no second variable
        assert _container_env(dday, "frame-mcp-blue", "FRAME_MCP_TOKEN", "SECOND_VAR") == [HOSTILE, None]

    run, again = dday.deploy(service, apply=False)
    assert run.returncode == 0 and again["changed"] == 0, run.stdout
    direct = dday.playbook("deploy", "-e", f"axe_service={service}")
    assert direct.returncode == 0, direct.stdout[-3000:]
    assert f"{CUSTOMER}" in direct.stdout and "changed=0" in direct.stdout.split("PLAY RECAP")[1]


def test_services_answer_behind_the_edge_with_entities_and_sso(dday):
    assert dday.version("frame") == dday.version("hive") == dday.version("blueprint") == "1.0.0"
    # frame and hive know the customer's entity (registered with its PII passphrases, T16).
    assert json.loads(dday.get("/frame/entities")[1])["entities"] == ["dep-kr"]
    assert json.loads(dday.get("/hive/entities")[1])["entities"] == ["dep-kr"]
    # blueprint booted with its Entra SSO settings (T10) from the pack.
    providers = json.loads(dday.get("/api/auth/providers")[1])
    assert providers["client_id"] == PACK["apps"]["blueprint"]["client_id"]
    assert providers["tenant_id"] == PACK["tenant_id"]
    # T22: the external volumes were created before `up`.
    assert {"frame-pgdata", "hive-data"} <= set(dday.docker("docker volume ls --format '{{.Name}}'").split())
    # T07: the launcher works from a non-login SSH session.
    assert "frame-mcp-blue" in dday.host.ssh("~/.axe/bin/axe-frame ps --format '{{.Name}}'").stdout


@pytest.mark.parametrize("service,colours", [("frame", ("blue", "green")), ("hive", ("blue", "green"))])
def test_a_new_ref_swaps_colour_with_zero_failed_requests(dday, service, colours):
    poller = Poller(dday, EXTERNAL[service])
    poller.start()
    try:
        time.sleep(0.5)
        run, applied = dday.deploy(service, "--ref", "v2")
    finally:
        time.sleep(0.5)
        poller.stop.set()
        poller.join(10)
    assert run.returncode == 0, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["deploys"][service]["slot"] == colours[1]
    assert poller.failures() == {}, poller.seen
    assert poller.seen["1.0.0"] > 0 and poller.seen["2.0.0"] > 0, poller.seen
    assert dday.version(service) == "2.0.0"
    states = dday.docker("docker ps -a --format '{{.Names}} {{.State}}'")
    assert f"{service}-mcp-{colours[1]} running" in states and f"{service}-mcp-{colours[0]} exited" in states


def test_blueprint_swaps_with_zero_failed_requests_and_blueprint_app_stays_the_live_container(dday):
    poller = Poller(dday, EXTERNAL["blueprint"])
    poller.start()
    try:
        time.sleep(0.5)
        run, applied = dday.deploy("blueprint", "--ref", "v2")
    finally:
        time.sleep(0.5)
        poller.stop.set()
        poller.join(10)
    print(f"blueprint v1 -> v2 swap through the edge: {sum(poller.seen.values())} requests, {dict(poller.seen)}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["deploys"]["blueprint"]["slot"] == "app"
    assert poller.failures() == {}, poller.seen
    assert poller.seen["1.0.0"] > 0 and poller.seen["2.0.0"] > 0, poller.seen
    assert dday.version("blueprint") == "2.0.0"
    # At rest the live blueprint is the container the runbook's tooling `docker exec`s into, and the proxy serves from it.
    assert dday.docker("docker exec blueprint-app cat /app/VERSION").strip() == "2.0.0"
    assert "blueprint-app-candidate" not in dday.docker("docker ps -a --format '{{.Names}}'")
    assert "set $axe_upstream blueprint-app:3000;" in dday.host.ssh("cat ~/.axe/services/blueprint/.axe/proxy/upstream.conf").stdout
    run, plan = dday.deploy("blueprint", "--ref", "v2", apply=False)
    assert run.returncode == 0 and plan["changed"] == 0, run.stdout


TAKE_PORT = """
import socket, time
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past the health checks' TIME_WAIT connections
sock.bind(("127.0.0.1", 18095))
sock.listen(1)
open("/tmp/take-18095.bound", "w").close()
time.sleep(180)
"""


def test_blueprint_failing_half_way_through_the_swap_says_what_serves_as_measured(dday):
    """blueprint-app cannot come back (its host port is taken) once the proxy moved to the candidate: nothing
    the operator reads may claim blueprint-app serves; the candidate keeps serving, measured as such, and the next
    deploy puts the live release back in blueprint-app before anything else."""
    # blueprint-app's host port (only health checks use it; the proxy reaches blueprint-app on the docker network) is
    # taken from under it: its docker-proxy stopped, a listener in its place for 3 minutes at most. blueprint-app
    # serves on; once recreated it cannot start.
    dday.host.ssh("sudo -n kill $(pgrep -f -- '-host-ip 127.0.0.1 -host-port 1809[5] ')")
    dday.host.ssh("cat > /tmp/take-18095.py", input_text=TAKE_PORT)
    pid = dday.host.ssh("rm -f /tmp/take-18095.bound; setsid python3 /tmp/take-18095.py >/dev/null 2>&1 < /dev/null & echo $!").stdout.strip()
    deadline = time.monotonic() + 20
    while dday.host.ssh("test -e /tmp/take-18095.bound", check=False).returncode != 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert dday.host.ssh("test -e /tmp/take-18095.bound", check=False).returncode == 0, "the listener did not get 18095"
    poller = Poller(dday, EXTERNAL["blueprint"])
    poller.start()
    try:
        run, failed = dday.deploy("blueprint", "--ref", "v1", "--health-timeout", "10")
    finally:
        dday.host.ssh(f"kill {int(pid)}", check=False)
        poller.stop.set()
        poller.join(10)
    print(f"blueprint failing half-way: {sum(poller.seen.values())} requests, {dict(poller.seen)}")
    assert run.returncode == 1
    messages = "\n".join(failed["hosts"][CUSTOMER]["messages"])
    print(messages)
    assert "docker compose up blueprint-app failed" in messages, messages
    assert "keeps serving" not in messages, messages
    assert ("measured on the host after the failure: http://127.0.0.1:18083/health/ready (axe-blueprint-proxy, what"
            " cloudflared forwards to) answers 200, version 1.0.0; http://127.0.0.1:18094/health/ready"
            " (blueprint-app-candidate, the container the proxy points at) answers 200, version 1.0.0") in messages, messages
    assert poller.failures() == {}, poller.seen
    # The port is free again: the next deploy first puts v2 (the recorded live release) back in blueprint-app.
    run, applied = dday.deploy("blueprint", "--ref", "v2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert dday.version("blueprint") == "2.0.0"
    assert dday.docker("docker exec blueprint-app cat /app/VERSION").strip() == "2.0.0"
    assert "blueprint-app-candidate" not in dday.docker("docker ps -a --format '{{.Names}}'")


MEASURED = {
    "frame": "measured on the host after the failure: http://127.0.0.1:18080/frame/health/ready (axe-frame-proxy, what"
             " cloudflared forwards to) answers 200, version 2.0.0 (green); http://127.0.0.1:18091/health/ready"
             " (frame-mcp-green, the container the proxy points at) answers 200, version 2.0.0 (green)",
    "blueprint": "measured on the host after the failure: http://127.0.0.1:18083/health/ready (axe-blueprint-proxy, what"
                 " cloudflared forwards to) answers 200, version 2.0.0; http://127.0.0.1:18095/health/ready"
                 " (blueprint-app, the container the proxy points at) answers 200, version 2.0.0",
}


@pytest.mark.parametrize("service,serving", [("frame", "2.0.0"), ("blueprint", "2.0.0")])
def test_the_broken_ref_cannot_take_the_service_down(dday, service, serving):
    poller = Poller(dday, EXTERNAL[service])
    poller.start()
    try:
        run, failed = dday.deploy(service, "--ref", "broken", "--health-timeout", "8")
    finally:
        poller.stop.set()
        poller.join(10)
    assert run.returncode == 1
    messages = "\n".join(failed["hosts"][CUSTOMER]["messages"])
    assert "is not healthy after" in messages and 'migration 0007 failed: relation "ledger_v3" does not exist' in messages
    assert "last log lines of" in messages
    # What serves is measured on the host after the failure, not claimed.
    assert "keeps serving" not in messages and MEASURED[service] in messages, messages
    assert poller.failures() == {} and set(poller.seen) == {serving}, poller.seen
    assert dday.version(service) == serving
    running = dday.docker("docker ps --format '{{.Names}}'").split()
    assert "blueprint-app-candidate" not in running
    assert not {"frame-mcp-blue", "frame-mcp-green"} <= set(running)  # the failed colour was stopped
    # The failed release changed nothing that a re-run would see.
    run, plan = dday.deploy(service, "--ref", "v2", apply=False)
    assert run.returncode == 0 and plan["changed"] == 0, run.stdout


def test_a_ref_that_does_not_exist_is_named_and_changes_nothing(dday):
    before = dday.docker("docker ps --format '{{.Names}} {{.Image}}'")
    run, failed = dday.deploy("frame", "--ref", "v9")
    assert run.returncode == 1
    messages = "\n".join(failed["hosts"][CUSTOMER]["messages"])
    assert "ref 'v9' is not in git://" in messages and "pick an existing tag or branch with --ref" in messages
    assert dday.docker("docker ps --format '{{.Names}} {{.Image}}'") == before
    assert dday.host.ssh("test -e ~/.axe/lock", check=False).returncode != 0  # the lock was given back


def test_rollback_is_one_command(dday):
    run, applied = dday.deploy("frame", "--rollback")
    assert run.returncode == 0, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["deploys"]["frame"]["ref"] == "v1"
    assert dday.version("frame") == "1.0.0"
    run, applied = dday.deploy("frame", "--ref", "v2")
    assert run.returncode == 0 and dday.version("frame") == "2.0.0"


def test_missing_secrets_and_settings_are_named_at_once(dday):
    # beta has a manifest (frame) but no pack: blueprint lacks its secret and both Entra ids (T08, T10).
    run = dday.axe("deploy", "blueprint", "beta", "--json")
    assert run.returncode == 1
    messages = "\n".join(json.loads(run.stdout)["hosts"]["beta"]["messages"])
    assert "3 value(s) blueprint needs for beta are missing" in messages and "T10" in messages
    for name in ("AZURE_BETA_BLUEPRINT_CLIENT_SECRET: no slot in services.blueprint.beta", "AZURE_AD_CLIENT_ID",
                 "AZURE_AD_TENANT_ID", "axe customers ingest beta PACK.json --apply"):
        assert name in messages, messages


def test_a_sovereignty_customer_is_refused_before_any_ssh(dday):
    run = dday.axe("deploy", "frame", "realchoice", "--json")
    assert run.returncode == 1
    messages = "\n".join(json.loads(run.stdout)["hosts"]["realchoice"]["messages"])
    assert "T24: services not declared for realchoice" in messages and "D-ops-40" in messages


def test_two_deploys_to_one_host_meet_the_lock(dday):
    holder = {}
    frame_before = dday.get(EXTERNAL["frame"])

    def slow():  # holds the lock for about the health timeout: the broken ref never gets healthy
        holder["run"] = dday.deploy("frame", "--ref", "broken", "--health-timeout", "20")

    first = threading.Thread(target=slow)
    first.start()
    deadline = time.monotonic() + 60
    while dday.host.ssh("test -d ~/.axe/lock", check=False).returncode != 0 and time.monotonic() < deadline:
        time.sleep(0.3)
    run, second = dday.deploy("hive", "--ref", "v2", "--force")
    assert run.returncode == 1
    messages = "\n".join(second["hosts"][CUSTOMER]["messages"])
    assert "for 'axe deploy frame dep' (run " in messages, messages
    run, waited = dday.deploy("hive", "--ref", "v2", "--force", "--lock-wait", "120")
    first.join(120)
    assert holder["run"][0].returncode == 1
    assert run.returncode == 0, run.stdout + run.stderr
    assert dday.get(EXTERNAL["frame"]) == frame_before and dday.version("hive") == "2.0.0"


def test_no_secret_value_is_left_anywhere_a_run_writes(dday, lab):
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    backend = vault.backend("bw_serve", url=dday.settings["AXE_VAULT_URL"])
    values = [backend.get(CUSTOMER, service, env) for service, env in
              [("frame", "FRAME_DEP_DB_PASSWORD"), ("frame", "FRAME_DEP_MCP_TOKEN"), ("frame", "PII_DEP_KR_PASSPHRASE_1"),
               ("frame", "PII_DEP_KR_PASSPHRASE_2"), ("hive", "HIVE_DEP_MCP_TOKEN"), ("blueprint", "BLUEPRINT_DEP_NEXTAUTH_SECRET"),
               ("blueprint", "AZURE_DEP_BLUEPRINT_CLIENT_SECRET"), ("frame", "AZURE_DEP_FRAME_MCP_CLIENT_SECRET")]]
    assert all(v and len(v) >= 8 for v in values)  # so the search below is not vacuous
    # They did reach the host, in the one file meant for them.
    env_local = dday.host.ssh("cat ~/.axe/services/frame/.env.local").stdout
    assert values[0] in env_local and values[2] in env_local
    haystacks = list(dday.outputs)
    state = lab.base / "state"
    for path in state.rglob("*"):
        if path.is_file() and "vault" not in path.parts and path.stat().st_size < 20_000_000:
            haystacks.append(path.read_bytes().decode("utf-8", "replace"))
    haystacks.append(dday.customers.read_text())
    leaks = [v[:6] for v in values for h in haystacks if v in h]
    assert leaks == []
