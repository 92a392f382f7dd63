"""`axe deploy customer CUSTOMER --from-pack PACK`: the whole D-day on a fresh lab host, as one command.

In order, on one host of the module's own (each test starts where the previous one left it):
the trap preflight reports every trap it can see in one pass and changes nothing; the plan changes nothing
anywhere and shows every step; the apply takes the customer from nothing to four services answering 200
through the edge, with the Ship Log line and the IT reply; the same command again changes nothing;
`ansible-playbook playbooks/onboard.yml --check` works with the inventory plugin; and no secret value is
left in anything the runs wrote.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import cloudflare
import pytest

from helpers.dday import DDay
from helpers.lab import ROOT, VENV_BIN
from helpers.samples import PACK

pytestmark = pytest.mark.lab

CUSTOMER = "oneshot"
DOMAIN = f"{CUSTOMER}.axelabs.ai"
ENV_MARKERS = {"BW_SESSION": "leakmarker-bw-session-0001", "BWS_ACCESS_TOKEN": "leakmarker-bws-token-0002",
               "CLOUDFLARE_API_TOKEN": "leakmarker-cf-token-0003", "ACME_DB_PASSWORD": "leakmarker-password-0004",
               "SOME_SIGNING_KEY": "leakmarker-signing-key-0005", "PUSH_SECRET": "leakmarker-secret-0006"}
STEPS = ["ingest", "preflight", "cloudflared", "frame", "blueprint", "hive", "vault", "backup", "health"]
# Names as Korean customers have them (issue 14, item 1): Hangul, (주), spaces, both quotes, &, an emoji, and one
# long name; passed through customers.yaml, frame's and hive's registration, the IT reply and --json unchanged.
LEGAL_NAME = "원샷 주식회사 (주) \"One Shot\" & Co's 🚀"
ENTITY_NAMES = {"oneshot-kr": "(주)원샷코리아 'KR' & \"본사\"",
                "oneshot-us": "원샷 아메리카 " + "가나다라마바사 " * 20 + "Inc."}


@pytest.fixture(scope="module")
def d(lab, tmp_path_factory):
    lab.host("acme")  # the lab's emulators and git server are up
    base = tmp_path_factory.mktemp("dday")
    with lab.fresh(CUSTOMER) as host:
        d = DDay(lab, host, base, CUSTOMER)
        d.pack = base / f"axelabs-bootstrap-{CUSTOMER}.json"
        d.pack.write_text(json.dumps(PACK).replace("acme", CUSTOMER))
        d.ship_log = base / "ship-log.txt"
        d.env["AXE_SHIP_LOG"] = str(d.ship_log)
        # Secret-bearing variables in the operator's shell: none may reach anything a run leaves on disk.
        d.env.update(ENV_MARKERS)
        d.sdk = cloudflare.Cloudflare(api_token=d.settings["AXE_LAB_CLOUDFLARE_TOKEN"],
                                      base_url=d.settings["AXE_LAB_CLOUDFLARE_URL"])
        d.zone = next(iter(d.sdk.zones.list(name="axelabs.ai")))
        run = d.axe("customers", "add", CUSTOMER, "--legal-name", LEGAL_NAME, "--primary-domain", "oneshot.co.kr",
                    *[a for e, n in ENTITY_NAMES.items() for a in ("--entity", e, "--entity-name", f"{e}={n}")],
                    "--apply", "--yes")
        assert run.returncode == 0, run.stdout + run.stderr
        # The services the contract names (the pack's ingest adds their slots); without it oneshot is T24's. The fleet's
        # release of each service is what a new customer's D-day deploys.
        d.customers.write_text(d.customers.read_text() + "releases: {frame: v1, blueprint: v1, hive: v1}\n"
                               "services:\n  frame:\n    oneshot:\n      secrets: []\n")
        yield d


def world(d) -> dict:
    """Everything a D-day changes, as a value: customers.yaml, the vault, Cloudflare, the host."""
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    backend = vault.backend("bw_serve", url=d.settings["AXE_VAULT_URL"])
    records = sorted((r.type, r.content) for r in d.sdk.dns.records.list(zone_id=d.zone.id, name=DOMAIN))
    tunnels = sorted(t.id for t in d.sdk.zero_trust.tunnels.cloudflared.list(account_id=d.zone.account.id, name=f"axe-{CUSTOMER}",
                                                                               is_deleted=False))
    host = d.host.ssh("ls -a ~/.axe ~/.cloudflared 2>&1; PATH=/opt/homebrew/bin:$PATH docker ps -a --format '{{.Names}}'"
                      "; pmset -g | grep -w sleep", check=False).stdout
    return {"customers": d.customers.read_text(), "vault": sorted(backend.list(CUSTOMER)), "dns": records,
            "tunnels": tunnels, "host": host}


def rows(stdout: str) -> dict[str, str]:
    """The plan table's step -> result, as the terminal shows it."""
    return dict(re.findall(r"│\s*\d\s*│ (\w+)\s*│ (would change|no change|changed|failed|not reached)", stdout))


def test_the_preflight_names_every_trap_it_sees_at_once_and_changes_nothing(d):
    stale = d.sdk.dns.records.create(zone_id=d.zone.id, name=DOMAIN, type="A", content="192.0.2.99", ttl=1, proxied=True)
    d.host.ssh("sudo -n mv /opt/homebrew/bin/cloudflared /opt/homebrew/bin/cloudflared.away")
    try:
        before = world(d)
        # No pack: the Entra values blueprint and the vault need are missing too (T08, T10).
        run = d.axe("deploy", "customer", CUSTOMER, "--apply", "--yes")
        assert run.returncode == 1
        out = run.stdout
        assert re.search(r"\d+ problem\(s\) found before anything changed \(T02, T07, T08, T10\)", out), out
        assert f"T02: {DOMAIN} holds records axe does not own: A 192.0.2.99 (id {stale.id})" in out
        assert "-> next: check they are stale" in out and "--force-dns" in out
        assert "T07: not found on" in out and "cloudflared" in out.split("T07: not found on", 1)[1].split("\n")[0]
        assert "T08: frame: AZURE_ONESHOT_FRAME_MCP_CLIENT_SECRET" in out
        assert "T10: blueprint: no value in customers.yaml for AZURE_AD_TENANT_ID" in out
        assert "axe customers ingest oneshot PACK.json --apply" in out
        assert rows(out)["preflight"] == "failed" and rows(out)["cloudflared"] == "not reached"
        assert world(d) == before  # the apply never started: the plan stopped at the preflight
        # T05 is seen before any SSH: a relayed peer stops the run with its own answer.
        d.lab.axe("lab", "tailnet", CUSTOMER, "--relayed")
        run = d.axe("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack))
        assert run.returncode == 1
        assert "T05: oneshot-macmini is reached only through the DERP relay" in run.stdout, run.stdout
        assert world(d) == before
    finally:
        d.lab.axe("lab", "tailnet", CUSTOMER, "--direct")
        d.host.ssh("sudo -n mv /opt/homebrew/bin/cloudflared.away /opt/homebrew/bin/cloudflared")
        d.sdk.dns.records.delete(dns_record_id=stale.id, zone_id=d.zone.id)


def test_the_plan_changes_nothing_anywhere_and_shows_every_step(d):
    before = world(d)
    assert before["tunnels"] == [] and before["vault"] == [] and "No such file" in before["host"]
    run = d.axe("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack))
    assert run.returncode == 0, run.stdout + run.stderr
    assert world(d) == before
    plan = rows(run.stdout)
    assert [s for s in STEPS if s in plan] == STEPS, run.stdout
    assert {plan[s] for s in ("ingest", "cloudflared", "frame", "blueprint", "hive", "vault", "backup")} == {"would change"}
    assert "after D-day (the runbook's later days):" in run.stdout and f"D+7  axe check d7 {CUSTOMER}" in run.stdout
    # Later steps are planned with what the ingest will write, and say so, instead of failing (T08/T10).
    assert "planned with the pack's values" in run.stdout
    assert "T04: the Mac mini sleeps after" in run.stdout and "apply sets sleep 0" in run.stdout
    assert "dry run: nothing was changed" in run.stdout
    # The diffs: customers.yaml gains the Entra ids; cloudflared's ingress; the vault items by name only.
    assert '+      tenant_id: "3f2b8c1e-5d4a-4e7b-9c21-7a6d5e4f3b2a"' in run.stdout
    assert "axe/oneshot/blueprint/AZURE_ONESHOT_BLUEPRINT_CLIENT_SECRET: set (created)" in run.stdout
    assert 'path: "^/vault/"' in run.stdout


def test_one_command_takes_the_customer_from_nothing_to_four_services_answering(d):
    run, applied = d.axe_json("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack), "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert applied["applied"] is True
    assert applied["health"] == {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}
    for path in ("/frame/health/ready", "/health/ready", "/hive/health/ready", "/vault/alive"):
        assert d.get(path)[0] == 200, path
    reply = open(applied["reply_file"], encoding="utf-8").read()
    assert "https://oneshot.axelabs.ai/vault/#/sso" in reply and "ONESHOT" in reply  # T15
    assert f"# {LEGAL_NAME}: AXE Labs 배포 완료" in reply and f"안녕하세요, {LEGAL_NAME} IT 담당자님." in reply
    # Each entity, in the live release of frame (postgres) and hive (sqlite), under exactly its own name.
    for cli, proxy in (("frame.cli", "axe-frame-proxy"), ("hive.cli", "axe-hive-proxy")):
        upstream = d.docker(f"docker exec {proxy} cat /etc/nginx/axe/upstream.conf")
        live = re.search(r"set \$axe_upstream ([\w-]+):", upstream).group(1)
        listed = json.loads(d.docker(f"docker exec {live} python3 -m {cli} list-entities").strip().splitlines()[-1])
        assert {e["id"]: e["legal_name"] for e in listed["entities"]} == ENTITY_NAMES, (live, listed)
    for service in ("frame", "hive"):
        assert sorted(applied["hosts"][CUSTOMER]["deploys"][service]["entities_registered"]) == sorted(ENTITY_NAMES)
    assert applied["legal_name"] == LEGAL_NAME
    assert "배포 완료" in reply and "Deployment complete" in reply
    # The whole onboarding, not only its first day: the reply and the report name D+1, D+2 and D+7.
    assert "## 이후 일정 (D+1, D+2, D+7)" in reply and "## The days after (D+1, D+2, D+7)" in reply
    assert [s["command"] for s in applied["later_days"]][-1] == f"axe check d7 {CUSTOMER}"
    backup = applied["hosts"][CUSTOMER]["backup"]  # step 8: the data backed up from the first day
    assert backup["initialised"] and backup["sources"] == ["frame", "blueprint", "hive", "vault"]
    [line] = d.ship_log.read_text().splitlines()
    assert f" shipped {CUSTOMER} https://{DOMAIN} frame=v1@" in line and "health=blueprint:200,frame:200,hive:200,vault:200" in line
    assert applied["ship_log_line"] == line
    deploys = applied["hosts"][CUSTOMER]["deploys"]
    assert {s: deploys[s]["action"] for s in ("frame", "blueprint", "hive")} == dict.fromkeys(("frame", "blueprint", "hive"), "release")
    assert "0" == d.host.ssh("pmset -g | awk '$1 == \"sleep\" {print $2}'").stdout.strip()  # T04 fixed in apply


def test_the_same_command_again_changes_nothing(d):
    before = world(d)
    run, again = d.axe_json("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack), "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert again["applied"] is False and again["changed"] == 0
    assert again["health"] == {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}
    assert world(d) == before
    assert len(d.ship_log.read_text().splitlines()) == 1  # nothing shipped, no line
    # Step 2 checked every service's secrets and settings; the services' own vault checks did not ask again.
    events = run_events(sorted((Path(os.environ["AXE_STATE_DIR"]) / "runs").glob("*-dday-check-*"))[-1])
    checked = [e["event_data"]["res"].get("values_checked") for e in events
               if e["event_data"].get("task_action") == "axelabs.onboard.trap_preflight"]
    assert checked == [["blueprint", "frame", "hive", "vault"]]
    vault_checks = [e["event"] for e in events if e["event_data"].get("task_action") == "axelabs.onboard.service_secrets"
                    and e["event_data"].get("task", "").startswith("Vault check - every secret")]
    assert vault_checks == ["runner_on_skipped"] * 3


def run_events(run: Path) -> list[dict]:
    """A run's task results (ansible-runner's job events), in order."""
    events = [json.loads(p.read_text()) for p in run.glob("artifacts/*/job_events/*.json")
              if not p.name.endswith("-partial.json")]  # an interrupted run can leave the callback's drafts
    return [e for e in sorted(events, key=lambda e: e["counter"])
            if e["event"] in ("runner_on_ok", "runner_on_skipped", "runner_on_failed")]


def _shipped(d) -> tuple:
    """What a D-day that shipped leaves for people: the Ship Log and the reply to customer IT."""
    reply = d.lab.base / "state" / "replies" / f"{CUSTOMER}-it-reply.md"
    return d.ship_log.read_text(), reply.stat().st_mtime_ns if reply.exists() else None


def test_with_tailscale_down_nothing_runs_nothing_ships_and_t05_is_named(d):
    before = _shipped(d)
    down = {"AXE_TAILSCALE": "false"}  # `tailscale status` fails, as with Tailscale stopped
    run, out = d.axe_json("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack), "--apply", "--yes", env=down)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "T05: `false status --json` failed" in out["error"] and out["applied"] is False
    assert {outcome for _step, outcome, _what in out["steps"]} == {"not reached"}
    assert _shipped(d) == before  # no Ship Log line, no reply
    text = d.axe("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack), "--apply", "--yes", env=down)
    assert text.returncode == 1 and "T05" in text.stdout and "no change" not in text.stdout
    for command in (("ping", CUSTOMER), ("vault", "bootstrap", CUSTOMER, "--apply", "--yes"), ("lock", "status", CUSTOMER)):
        run = d.axe(*command, env=down)
        assert run.returncode != 0 and "T05" in run.stdout + run.stderr, (command, run.stdout + run.stderr)
    # Plain ansible-playbook with the repository's ansible.cfg: inventory errors are fatal.
    plain = d.playbook("ping", env=down)
    assert plain.returncode != 0 and "T05" in plain.stdout + plain.stderr
    # And a playbook given no inventory at all fails naming the target instead of matching no host.
    bare = subprocess.run([str(VENV_BIN / "ansible-playbook"), "playbooks/lock_release.yml", "-e", f"axe_target={CUSTOMER}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")})
    assert bare.returncode != 0 and "T01: no host in the inventory matches oneshot" in bare.stdout, bare.stdout


def _confirmed(d, command: str) -> tuple[int, str]:
    """Run a printed command exactly as printed, at a terminal, answering its question with y."""
    import pexpect
    env = {**os.environ, **d.env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    child = pexpect.spawn("/bin/sh", ["-c", command], env=env, cwd=str(d.base), encoding="utf-8", timeout=120)
    if "--apply" in command:
        child.expect(r"\[y/N\]")
        child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_a_lock_from_another_machine_is_named_before_the_apply_and_cleared_as_the_advice_says(d):
    foreign = {"run_id": "20261128T000000-dday-0a1b2c", "holder": "kim@other-laptop", "purpose": f"axe deploy customer {CUSTOMER}",
               "since": "2026-11-28T00:00:00+0900", "owner": {"machine": "other-laptop/0123456789abcdef", "pid": 4242,
                                                             "started": "ticks:1"}}
    d.host.ssh("mkdir -p ~/.axe/lock && cat > ~/.axe/lock/details.json", input_text=json.dumps(foreign))
    plan = d.axe("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack))
    assert plan.returncode == 0 and "the host is locked by kim@other-laptop" in plan.stdout, plan.stdout
    run, out = d.axe_json("deploy", "frame", CUSTOMER, "--ref", "v2", "--apply", "--yes")
    assert run.returncode == 1
    messages = "\n".join(out["hosts"][CUSTOMER]["messages"])
    assert "kim@other-laptop" in messages and "pid 4242 on other-laptop/0123456789abcdef" in messages, messages
    run, status = d.axe_json("lock", "status", CUSTOMER)
    assert status["hosts"][CUSTOMER]["lock"]["held"] is True and status["hosts"][CUSTOMER]["lock"]["stale"] is False
    # Every piece of advice about the lock, run exactly as printed.
    advice = re.findall(r"axe lock (?:status|release) [a-z0-9-]+(?: --apply)?", messages)
    assert advice == [f"axe lock status {CUSTOMER}", f"axe lock release {CUSTOMER} --apply"], messages
    for command in advice:
        code, output = _confirmed(d, command)
        assert code == 0 and "kim@other-laptop" in output, output
    run, status = d.axe_json("lock", "status", CUSTOMER)
    assert status["hosts"][CUSTOMER]["lock"]["held"] is False
    run, out = d.axe_json("deploy", "frame", CUSTOMER, "--ref", "v2", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert d.version("frame") == "2.0.0"


def _left_running(d) -> list[str]:
    return [line for line in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
            if "ansible-playbook" in line and f"inventory/{CUSTOMER}.customers.yml" in line]


@pytest.mark.parametrize("signum, exit_code", [
    (signal.SIGINT, 130),   # Ctrl-C in the D-day's apply, in its frame step
    (signal.SIGTERM, 143),
])
def test_a_signal_mid_apply_stops_the_run_says_interrupted_and_the_same_command_converges(d, signum, exit_code):
    if signum == signal.SIGTERM:
        assert d.deploy("frame", "--ref", "v2")[0].returncode == 0
    # Give the D-day something to do again: frame runs v2 (deployed, and so recorded as wanted); the operator now wants
    # the customer on v1 (customers.yaml says so), which the D-day deploys.
    text = d.customers.read_text()
    assert text.count('ref: "v2"') == 1, text
    d.customers.write_text(text.replace('ref: "v2"', 'ref: "v1"'))
    before = _shipped(d)
    d.since = time.time()
    command = ("deploy", "customer", CUSTOMER, "--from-pack", str(d.pack), "--apply", "--yes", "--json")
    proc = d.start(*command)
    # Into the step, as it changes the host: its compose up has started (a fixed sleep after the step's start
    # could land after a quick step had finished, with the machine idle).
    d.wait_for_step("dday", "frame", task="Compose up - stage the release")
    os.kill(proc.pid, signum)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == exit_code, out + err
    result = json.loads(out)
    assert result["interrupted"] is True and result["mode"] == "apply"
    outcomes = {step: outcome for step, outcome, _what in result["steps"]}
    assert outcomes["frame"] == "interrupted"
    assert [outcomes[s] for s in ("blueprint", "hive", "vault", "health")] == ["not reached"] * 4
    assert "no change" not in [outcomes[s] for s in ("frame", "blueprint", "hive", "vault", "health")]
    deadline = time.monotonic() + 20
    while _left_running(d) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _left_running(d) == []  # the Ansible run stopped with axe
    assert _shipped(d) == before
    # The same command again: it takes over the lock this run left (its holder is provably gone) and converges.
    run, again = d.axe_json(*command[:-1])
    assert run.returncode == 0, run.stdout + run.stderr
    assert again["health"] == {"frame": 200, "blueprint": 200, "hive": 200, "vault": 200}
    assert d.version("frame") == "1.0.0"
    assert d.axe_json("lock", "status", CUSTOMER)[1]["hosts"][CUSTOMER]["lock"]["held"] is False


def test_ansible_playbook_onboard_check_works_with_the_inventory_plugin(d):
    run = d.playbook("onboard", "--check", "--diff")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    recap = re.search(rf"^{CUSTOMER}\s+: ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", run.stdout, re.M)
    assert recap and recap.group(1) == "0", run.stdout[-2000:]


def test_no_secret_value_is_left_in_anything_the_runs_wrote(d, lab):
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    backend = vault.backend("bw_serve", url=d.settings["AXE_VAULT_URL"])
    names = sorted(backend.list(CUSTOMER))
    values = [backend.get(CUSTOMER, service, env) for service, env in names]
    values += [app["client_secret"] for app in PACK["apps"].values()]  # the pack's, known to the test
    values += list(ENV_MARKERS.values())  # the operator's secret-bearing environment
    assert len(names) >= 9 and all(v and len(v) >= 8 for v in values)  # so the search below is not vacuous
    haystacks = list(d.outputs) + [d.customers.read_text(), d.ship_log.read_text()]
    for path in (lab.base / "state").rglob("*"):
        if path.is_file() and "vault" not in path.parts and path.stat().st_size < 20_000_000:
            haystacks.append(path.read_bytes().decode("utf-8", "replace"))
    assert len(haystacks) > 20
    leaks = sorted({v[:6] for v in values for h in haystacks if v in h})
    assert leaks == []
