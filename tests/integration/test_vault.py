"""The customer's Vaultwarden on a lab host of its own, after D-day steps 1-2.

`axe deploy vault`: check -> apply -> check -> apply (plain ansible-playbook) changes nothing and never
recreates the container; it answers /vault/alive through the edge. `axe vault bootstrap` on a stack
written before the bootstrap keys existed: the dry run diagnoses and changes nothing, --apply patches
exactly what was missing or wrong and recreates the container once, a second --apply does nothing.
A deploy whose new container cannot start puts the previous configuration back. The customer-side
vault session: the helper run at a terminal, then checked over SSH with no TTY (file and Keychain,
T20), and no secret or session value in anything a run leaves.
"""
from __future__ import annotations

import json

import pexpect
import pytest

from helpers.dday import customer_after_onboard
from helpers.keyboard import answer_the_prompts
from helpers.samples import PACK

pytestmark = pytest.mark.lab

CUSTOMER = "vlt"
DOMAIN = f"{CUSTOMER}.axelabs.ai"
SECRET = PACK["apps"]["vaultwarden"]["client_secret"]
STACK = "~/.axe/vault"

# A stack as operators wrote it by hand before D-ops-24/26/27: DOMAIN without /vault (T21), SSO_ONLY on
# (T14), signups off with invitations off (T13), no SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION (T12) and no
# ORGANIZATION_INVITE_AUTO_ACCEPT. The client secret inline, as the runbook's file had it.
OLD_STACK = """\
# Vaultwarden for {customer} (hand-made)
services:
  axe-vaultwarden:
    image: axelab/vaultwarden:lab
    container_name: axe-vaultwarden
    restart: unless-stopped
    environment:
      DOMAIN: "https://{domain}"
      SSO_ENABLED: "true"
      SSO_AUTHORITY: "https://login.microsoftonline.com/{tenant}/v2.0"
      SSO_CLIENT_ID: "{client_id}"
      SSO_CLIENT_SECRET: "{secret}"   # from the vault
      SSO_SIGNUPS_MATCH_EMAIL: "true"
      SSO_ONLY: "true"
      SIGNUPS_ALLOWED: "false"
      INVITATIONS_ALLOWED: "false"
    volumes:
      - ./data:/data
    ports:
      - "127.0.0.1:18082:80"
""".format(customer=CUSTOMER, domain=DOMAIN, tenant=PACK["tenant_id"].replace("acme", CUSTOMER),
           client_id=PACK["apps"]["vaultwarden"]["client_id"], secret=SECRET.replace("acme", CUSTOMER))


@pytest.fixture(scope="module")
def dday(lab, tmp_path_factory):
    with customer_after_onboard(lab, tmp_path_factory.mktemp("vault"), CUSTOMER) as d:
        yield d


def container_id(dday):
    return dday.docker("docker inspect --format '{{.Id}}' axe-vaultwarden 2>/dev/null || true").strip()


def settings_inside(dday, base="/vault"):
    return json.loads(dday.host.ssh(f"curl -sf http://127.0.0.1:18082{base}/lab/settings").stdout)


def test_deploy_vault_check_apply_check_apply(dday):
    run, plan = dday.deploy("vault", apply=False)
    assert run.returncode == 0 and plan["changed"] >= 1, run.stdout + run.stderr
    # The check run changed nothing on the host.
    assert dday.host.ssh(f"test -e {STACK}", check=False).returncode != 0
    assert container_id(dday) == ""

    run, applied = dday.deploy("vault")
    assert run.returncode == 0, run.stdout + run.stderr
    report = applied["hosts"][CUSTOMER]["deploys"]["vault"]
    assert report["action"] == "recreate"
    assert (report["sso_link"], report["sso_identifier"]) == (f"https://{DOMAIN}/vault/#/sso", "VLT")  # T15
    assert dday.get("/vault/alive")[0] == 200
    first = container_id(dday)
    assert first
    inside = settings_inside(dday)
    assert inside["DOMAIN"] == f"https://{DOMAIN}/vault"
    assert inside["SSO_AUTHORITY"] == f"https://login.microsoftonline.com/{PACK['tenant_id']}/v2.0"
    assert (inside["SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION"], inside["SIGNUPS_ALLOWED"], inside["SSO_ONLY"],
            inside["ORGANIZATION_INVITE_AUTO_ACCEPT"], inside["INVITATIONS_ALLOWED"]) == ("true", "true", "false", "true", "false")
    # The secret reached the container through .env.local (mode 600); the compose file holds none.
    secret = SECRET.replace("acme", CUSTOMER)
    assert dday.host.ssh(f"stat -c %a {STACK}/.env.local").stdout.strip() == "600"
    assert secret in dday.host.ssh(f"cat {STACK}/.env.local").stdout
    assert secret not in dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout
    assert dday.host.ssh(f"ls -a {STACK}").stdout.count(".env.local") == 1  # its backup copy is gone

    run, again = dday.deploy("vault", apply=False)
    assert run.returncode == 0 and again["changed"] == 0, run.stdout
    direct = dday.playbook("deploy", "-e", "axe_service=vault")
    assert direct.returncode == 0, direct.stdout[-3000:]
    assert "changed=0" in direct.stdout.split("PLAY RECAP")[1]
    assert container_id(dday) == first  # an unchanged stack is never recreated


def test_bootstrap_patches_an_old_stack_once(dday):
    dday.host.ssh(f"cat > {STACK}/docker-compose.yml", input_text=OLD_STACK)
    dday.docker(f"cd {STACK} && docker compose up -d 2>&1")
    # The old DOMAIN has no path: the recreated container answers /alive once it listens (bounded wait).
    dday.host.ssh("for i in $(seq 1 100); do curl -sf -o /dev/null http://127.0.0.1:18082/alive && exit 0; sleep 0.1; done; "
                  "exit 1")
    # T21 as the edge shows it: the old DOMAIN mounts the vault at /, so /vault/alive is not found.
    assert dday.get("/vault/alive")[0] == 404
    before_text, before_id = dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout, container_id(dday)

    run, plan = dday.axe_json("vault", "bootstrap", CUSTOMER)
    assert run.returncode == 0, run.stdout + run.stderr
    assert plan["changed"] >= 1 and plan["applied"] is False
    findings = {f["key"]: f["action"] for f in plan["hosts"][CUSTOMER]["vault_bootstrap"]["findings"]}
    assert findings == {"SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION": "add", "SIGNUPS_ALLOWED": "set", "SSO_ONLY": "set",
                        "ORGANIZATION_INVITE_AUTO_ACCEPT": "add", "DOMAIN": "set"}
    assert dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout == before_text
    assert container_id(dday) == before_id

    run, applied = dday.axe_json("vault", "bootstrap", CUSTOMER, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    report = applied["hosts"][CUSTOMER]["vault_bootstrap"]
    assert sorted(report["patched"]) == sorted(k for k, a in findings.items() if a != "ok") and report["recreated"]
    after_text = dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout
    before_lines, after_lines = before_text.splitlines(), after_text.splitlines()
    # Every other line kept; the two missing keys right after the anchor, in its style.
    changed = {line.split(":")[0].strip() for line in after_lines if line not in before_lines}
    assert changed == {"DOMAIN", "SSO_ONLY", "SIGNUPS_ALLOWED", "SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION",
                       "ORGANIZATION_INVITE_AUTO_ACCEPT"}
    assert len(after_lines) == len(before_lines) + 2
    anchor = next(i for i, line in enumerate(after_lines) if "SSO_SIGNUPS_MATCH_EMAIL" in line)
    assert [ln.strip() for ln in after_lines[anchor + 1:anchor + 3]] == [
        'SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION: "true"', 'ORGANIZATION_INVITE_AUTO_ACCEPT: "true"']
    assert 'INVITATIONS_ALLOWED: "false"' in after_text
    patched_id = container_id(dday)
    assert patched_id != before_id  # recreated
    assert dday.get("/vault/alive")[0] == 200
    assert settings_inside(dday)["SSO_ONLY"] == "false"
    # T12/T13 are gone for the first employee.
    assert dday.get("/vault/lab/first-sso-login?email_verified=unknown")[0] == 200

    run, again = dday.axe_json("vault", "bootstrap", CUSTOMER, "--apply", "--yes")
    assert run.returncode == 0 and again["changed"] == 0 and again["applied"] is False, run.stdout
    direct = dday.playbook("vault_bootstrap")
    assert direct.returncode == 0 and "changed=0" in direct.stdout.split("PLAY RECAP")[1], direct.stdout[-3000:]
    assert container_id(dday) == patched_id  # recreated once, not again
    assert dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout == after_text


def test_a_deploy_that_cannot_start_puts_the_previous_configuration_back(dday):
    run, applied = dday.deploy("vault")  # back to the rendered stack
    assert run.returncode == 0, run.stdout + run.stderr
    good = dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout
    # An image that cannot run as Vaultwarden (no command): the new container never answers.
    broken = dday.lab.axe("deploy", "vault", CUSTOMER, "--apply", "--yes", "--health-timeout", "5",
                          env={**dday.env, "AXE_VAULT_IMAGE": "axelab/runtime:bookworm"})
    dday.outputs.append(broken.stdout + broken.stderr)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "previous configuration was put back" in broken.stdout, broken.stdout
    assert dday.host.ssh(f"cat {STACK}/docker-compose.yml").stdout == good
    assert "axelab/vaultwarden:lab" in dday.docker("docker inspect --format '{{.Config.Image}}' axe-vaultwarden")
    assert dday.get("/vault/alive")[0] == 200
    assert dday.host.ssh(f"ls -a {STACK}").stdout.count(".env.local") == 1


def test_the_stand_in_refuses_to_start_with_sso_misconfigured(dday):
    run = dday.host.ssh("PATH=/opt/homebrew/bin:$PATH; docker run --rm -e SSO_ENABLED=true "
                        f"-e DOMAIN=https://{DOMAIN}/vault -e SSO_CLIENT_ID=x axelab/vaultwarden:lab", check=False)
    assert run.returncode == 12
    assert "`SSO_CLIENT_ID`, `SSO_CLIENT_SECRET` and `SSO_AUTHORITY` must be set for SSO support" in run.stdout


def _helper(dday, *args, password="correct horse battery", prompts=2):
    """customer IT at the keyboard: the helper over ssh -t, answering its master password prompts."""
    child = pexpect.spawn("ssh", ["-tt", "-F", str(dday.lab.ssh_config), dday.host.host,
                                  "~/.axe/bin/bw-bootstrap.sh " + " ".join(args)],
                          encoding="utf-8", timeout=60)
    answer_the_prompts(child, password, prompts)
    return child.exitstatus, child.before


def verify(dday, ready, message=None, *extra):
    """`axe vault session --verify`: exit 0 only when the session works over SSH with no TTY."""
    run, result = dday.axe_json("vault", "session", CUSTOMER, "--verify", *extra)
    assert run.returncode == (0 if ready else 1), run.stdout + run.stderr
    if message:
        assert message in "\n".join(result["hosts"][CUSTOMER]["messages"]), result
    return result["hosts"][CUSTOMER].get("vault_session", {})


def test_the_customer_side_vault_session(dday, lab):
    """With the real Bitwarden CLI on the Mac mini (the runbook's pin, as Homebrew lays it out), logging in to
    the customer's Vaultwarden stand-in, which serves the Bitwarden protocol under /vault; TLS in front of it
    as the edge gives it (the real CLI speaks HTTPS only)."""
    from axe_lab import vault_server
    email = f"ai@{CUSTOMER}.co.kr"
    url = "https://127.0.0.1:18443/vault"  # the customer's Vaultwarden as the Mac mini itself reaches it
    # The real CLI where Homebrew puts it: the pin, and the whole CLI (its REST server too), run by node.
    assert dday.host.ssh("/opt/homebrew/bin/bw --version").stdout.strip() == "2025.7.0"
    assert "Start a RESTful API webserver." in dday.host.ssh("/opt/homebrew/bin/bw --help").stdout
    assert dday.host.ssh("/opt/homebrew/opt/node/bin/node --version").stdout.startswith("v20.")
    # Customer IT signed up in the web vault; the lab's tooling makes the account the same way.
    assert email in vault_server.add_customer_account(lab.lab, dday.host.host, email, "correct horse battery")
    run, plan = dday.axe_json("vault", "session", CUSTOMER, "--url", url)
    assert run.returncode == 0 and plan["changed"] >= 1, run.stdout + run.stderr
    assert dday.host.ssh("test -e ~/.axe/bin/bw-bootstrap.sh", check=False).returncode != 0

    run, applied = dday.axe_json("vault", "session", CUSTOMER, "--url", url, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    state = applied["hosts"][CUSTOMER]["vault_session"]
    assert state["ready"] is False and state["file"] == "missing"
    assert state["command"] == f"~/.axe/bin/bw-bootstrap.sh {url} {email}"  # the hand-off, word for word
    verify(dday, False, "file=missing")

    # Without a terminal the helper does not prompt: it says what it needs.
    no_tty = dday.host.ssh(f"~/.axe/bin/bw-bootstrap.sh {url} {email}", check=False)
    assert no_tty.returncode == 2 and "ssh -t" in no_tty.stderr

    status, out = _helper(dday, url, email)
    assert status == 0, out
    assert dday.host.ssh("stat -c %a ~/.bw-session").stdout.strip() == "600"
    session = dday.host.ssh("cat ~/.bw-session").stdout.strip()
    assert len(session) > 40
    state = verify(dday, True)
    assert (state["source"], state["file"], state["status"]) == ("file", "ok", "unlocked")

    dday.host.ssh("chmod 644 ~/.bw-session")
    verify(dday, False, "file=unsafe -rw-r--r--")
    dday.host.ssh("chmod 600 ~/.bw-session")

    # The Keychain variant. An item another app made lacks the security tool's partition: SSH cannot read it (T20).
    dday.host.ssh(f"LAB_KEYCHAIN_CREATOR=teamid:LAB123 security add-generic-password -s axe.vault.session -a {email} "
                  "-w \"$(cat ~/.bw-session)\"")
    verify(dday, False, "keychain=T20 security: SecKeychainItemCopyContent: User interaction is not allowed.", "--keychain")
    status, out = _helper(dday, url, email, "--keychain", prompts=1)  # logged in already: unlock only
    assert status == 0, out
    state = verify(dday, True, None, "--keychain")
    assert (state["source"], state["keychain"], state["status"]) == ("keychain", "ok", "unlocked")

    # Neither the session nor the client secret is anywhere a run left.
    session_now = dday.host.ssh("security find-generic-password -s axe.vault.session -w", input_text="").stdout.strip()
    haystacks = list(dday.outputs)
    for path in (lab.base / "state").rglob("*"):
        if path.is_file() and "vault" not in path.parts and path.stat().st_size < 20_000_000:
            haystacks.append(path.read_bytes().decode("utf-8", "replace"))
    values = [session, session_now, SECRET.replace("acme", CUSTOMER)]
    assert all(len(v) > 20 for v in values)
    assert [v[:6] for v in values for h in haystacks if v in h] == []


def test_a_lock_directory_the_ssh_user_cannot_write_is_named_not_retried(dday):
    # What a host whose ~/.axe was made by root (a bind mount's missing source, say) looks like to the lock.
    dday.host.ssh("sudo mkdir -p ~/.axe-root && sudo chown root:root ~/.axe-root && sudo chmod 755 ~/.axe-root")
    run = dday.ansible("ansible", CUSTOMER, "-m", "axelabs.onboard.host_lock",
                       "-a", "path=~/.axe-root/lock run_id=test wait=0")
    assert run.returncode != 0, run.stdout
    assert "cannot create the deploy lock" in run.stdout and "Permission denied" in run.stdout, run.stdout
    assert "chown" in run.stdout


def test_axe_health_from_outside_and_from_the_host(dday):
    run, health = dday.axe_json("health", CUSTOMER)
    rows = health["customers"][CUSTOMER]
    # vlt has its tunnel and its vault, and none of frame, blueprint, hive: not healthy, and it says where.
    assert run.returncode == 1 and health["ok"] is False, run.stdout
    assert rows["cloudflared"] == {"outside": 200, "ok": True}
    assert rows["vault"]["ok"] and rows["vault"]["host"]["containers"] == {"axe-vaultwarden": "running"}
    assert not rows["frame"]["ok"] and rows["frame"]["host"]["http"] == 0
    assert set(rows["frame"]["host"]["containers"].values()) == {"missing"}

    dday.docker("docker stop axe-vaultwarden >/dev/null")
    try:
        run, health = dday.axe_json("health", CUSTOMER)
        vault = health["customers"][CUSTOMER]["vault"]
        assert not vault["ok"] and vault["outside"] != 200 and vault["host"]["containers"] == {"axe-vaultwarden": "exited"}
    finally:
        dday.docker("docker start axe-vaultwarden >/dev/null")

    # --all: the sovereignty customer's tunnel only (T24); a customer whose host is not there is named, not skipped.
    run, health = dday.axe_json("health", "--all")
    assert set(health["customers"]["realchoice"]) == {"cloudflared"}
    assert health["customers"]["beta"]["frame"]["host"]["error"].startswith("host ")
