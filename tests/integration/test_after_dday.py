"""The runbook's days after D-day (issue 18), on one customer after a whole D-day: D+1's `axe entity add` (a Korean
legal name registered in frame and mirrored in hive), D+1's `axe blueprint admin` (before the admin's first sign-in it
fails naming the sign-in and the exact command to run after it; the first sign-in through the edge - the SSO callback,
with the lab's code for what Entra sends - creates the user; dry run, grant, no change; an address with quotes and
Hangul is data, one that could only be SQL is refused before any SSH; roles read on the host with blueprint's own
user-table command), the backups (restic on the lab host, Debian's, where Homebrew
keeps it on a Mac: set up by the D-day's backup step, run by its LaunchAgent, verified by a restore into scratch, a
deleted frame volume brought back with `axe backup restore`), D+7's `axe check d7` before and after, and D+2's
`axe vault org` last (the customer's Vaultwarden organization through the real Bitwarden CLI on the Mac mini, with the
customer-side session customer IT set up as the automation identity ai@bkup.co.kr), after which the D+7 review is clean.

D+2's part: before the session works it is refused with the next step; a members file's bad line is named with its
number. The dry run plans the organization (BKUP, the SSO identifier), the collections of structure v1 - with two
entities, one per entity by its legal name (quotes, Hangul, braces: data all the way into the CLI) - and the invites,
and creates nothing. --apply makes them: the real CLI lists the organization, its collections (decrypted with the
organization key the run shared to ai@), its members (both identities Owner and confirmed - the admin had an account,
so accepted at once without mail, then `bw confirm org-member` - the staff invited as User) and who reaches which
collection (staff read/write to the entities' and Shared Tools, nowhere in the Platform two). A second --apply changes
nothing. A third entity in customers.yaml is named by the D+7 review as not as planned, then gets exactly its
collection on the next run. Neither the session nor the CLI's access token is in anything a run printed.

In order, on one host of the module's own (each test starts where the previous one left it).
"""
from __future__ import annotations

import json
import plistlib
import re
import shlex
import time
from urllib.parse import quote

import pexpect
import pytest
import yaml

from helpers.after_dday import shipped
from helpers.keyboard import answer_the_prompts
from helpers.lab import ROOT

pytestmark = pytest.mark.lab

CUSTOMER = "bkup"
LEGAL_NAME = "백업 주식회사 (주) \"Backup\" & Co's"
ENTITIES = {"bkup-kr": "(주)백업코리아 'KR' & \"본사\""}
# Added on D+1 with `axe entity add`: quotes, Hangul, an apostrophe, braces that must never become a template.
NEW_ENTITY, NEW_NAME = "bkup-us", "백업 아메리카 \"US\" & Co's {{ not_a_template }} (주)"
ALL_ENTITIES = sorted([*ENTITIES, NEW_ENTITY])
SITE = f"https://{CUSTOMER}.axelabs.ai/"
ADMIN = f"admin@{CUSTOMER}.co.kr"
ODD = f"김.o'neil'--@{CUSTOMER}.co.kr"  # a quote would end a naive SQL string; Hangul must survive every hop
CALLBACK = "/api/auth/callback/azure-ad"
DOCKER = "PATH=/opt/homebrew/bin:$PATH docker"
AGENT = "/usr/bin/python3 ~/.axe/backups/axe_backup.py"
# D+2: the customer's accounts and staff, and their Vaultwarden as the Mac mini reaches it (TLS as the edge gives).
AI, VAULT_ADMIN = f"ai@{CUSTOMER}.co.kr", f"it-admin@{CUSTOMER}.co.kr"
STAFF = [f"kim@{CUSTOMER}.co.kr", f"lee@{CUSTOMER}.co.kr"]
VAULT_URL = "https://127.0.0.1:18443/vault"
CA = "/etc/lab-tls/ca.pem"  # the lab host's test CA, which its bw trusts through NODE_EXTRA_CA_CERTS
PLATFORM = ["Platform — Service Secrets", "Platform — Infrastructure"]
ENTITY_COLLECTIONS = [ENTITIES["bkup-kr"], NEW_NAME]  # customers.yaml's order
THIRD = ("bkup-jp", 'Backup "JP" K.K.')  # written into customers.yaml by hand: its collection comes on the next run


@pytest.fixture(scope="module")
def d(lab, tmp_path_factory):
    with shipped(lab, tmp_path_factory.mktemp("backup"), CUSTOMER, LEGAL_NAME, ENTITIES) as d:
        # launchd starts the daily backup at 03:15 host time: a suite running then would find a snapshot it did not
        # make. Move the time twelve hours from now with --at (which the set-up run at the end must keep).
        d.dday_schedule = plist_of(d)["StartCalendarInterval"]  # what the D-day set, asserted below
        hour = (int(d.host.ssh("date +%H").stdout) + 12) % 24
        run = d.axe("backup", CUSTOMER, "--at", f"{hour:02d}:40", "--apply", "--yes")
        assert run.returncode == 0 and f"daily at {hour:02d}:40" in run.stdout, run.stdout + run.stderr
        yield d


def plist_of(d) -> dict:
    return plistlib.loads(d.host.ssh("cat ~/Library/LaunchAgents/ai.axelabs.backup.plist").stdout.encode())


def agent(d, command: str) -> dict:
    return json.loads(d.host.ssh(f"{AGENT} {command}", check=False).stdout.strip().splitlines()[-1])


def frame_entities(d) -> tuple[int, str]:
    return d.get("/frame/entities")


def restic_password(d) -> str:
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    return vault.backend("bw_serve", url=d.settings["AXE_VAULT_URL"]).get(CUSTOMER, "backup", "RESTIC_BKUP_PASSWORD")


def entities_in(d, service: str) -> dict:
    colour = d.host.ssh(f"{DOCKER} ps --format '{{{{.Names}}}}' --filter name={service}-mcp-").stdout.split()[0]
    out = d.host.ssh(f"{DOCKER} exec {colour} python3 -m {service}.cli list-entities").stdout
    return {e["id"]: e for e in json.loads(out)["entities"]}


def test_entity_add_registers_a_korean_name_in_frame_and_hive(d):
    before = (d.customers.read_text(), entities_in(d, "frame"))
    plan = d.axe("entity", "add", CUSTOMER, NEW_ENTITY, "--legal-name", NEW_NAME, "--accounting-standard", "usgaap")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "dry run: nothing was changed" in plan.stdout and "PII_BKUP_US_PASSPHRASE_1" in plan.stdout
    assert (d.customers.read_text(), entities_in(d, "frame")) == before  # the plan changed nothing
    run, out = d.axe_json("entity", "add", CUSTOMER, NEW_ENTITY, "--legal-name", NEW_NAME, "--accounting-standard",
                          "usgaap", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    deploys = out["hosts"][CUSTOMER]["deploys"]
    assert deploys["frame"]["entities_registered"] == [NEW_ENTITY] == deploys["hive"]["entities_registered"]
    frame, hive = entities_in(d, "frame"), entities_in(d, "hive")
    assert sorted(frame) == sorted(hive) == ALL_ENTITIES
    assert frame[NEW_ENTITY]["legal_name"] == hive[NEW_ENTITY]["legal_name"] == NEW_NAME  # byte for byte
    assert frame[NEW_ENTITY]["accounting_standard"] == "usgaap" and frame["bkup-kr"]["accounting_standard"] == "ksme"
    assert json.loads(d.get("/frame/entities")[1])["entities"] == ALL_ENTITIES  # served through the edge
    text = d.customers.read_text()
    assert NEW_NAME.replace('"', '\\"') in text and "accounting_standard: \"usgaap\"" in text
    # Again: nothing to change. Under another name: refused, naming what is there.
    again = d.axe("entity", "add", CUSTOMER, NEW_ENTITY, "--legal-name", NEW_NAME, "--accounting-standard", "usgaap",
                  "--apply", "--yes")
    assert again.returncode == 0 and "nothing to change." in again.stdout, again.stdout
    other = d.axe("entity", "add", CUSTOMER, NEW_ENTITY, "--legal-name", "Another name")
    assert other.returncode == 1 and f"{CUSTOMER} already has entity {NEW_ENTITY}" in other.stdout


def test_entity_add_refuses_a_sovereignty_customer_before_touching_anything(d):
    d.customers.write_text(d.customers.read_text().replace(
        "services:", "  selfrun:\n    legal_name: \"셀프런\"\n    primary_domain: selfrun.co.kr\n"
                     "    public_domain: selfrun.axelabs.ai\n    entities: [selfrun-kr]\n    tailscale_host: selfrun-macmini\n"
                     "services:", 1))
    before = d.customers.read_text()
    run = d.axe("entity", "add", "selfrun", "selfrun-us", "--legal-name", "Self Run US", "--apply", "--yes")
    assert run.returncode != 0 and "T24: services not declared for selfrun" in run.stdout, run.stdout + run.stderr
    assert d.customers.read_text() == before


def user(d, email):
    """The user row as blueprint holds it, read on the host (None: never signed in)."""
    out = d.docker(f"docker exec blueprint-app python3 -m blueprint.db show-user -- {shlex.quote(email)}")
    return json.loads(out)["user"]


def users(d):
    return int(d.docker("docker exec blueprint-app python3 -c 'from blueprint import users; print(users.count())'"))


def sign_in(d, email):
    status, body = d.get(f"{CALLBACK}?code={quote('lab:' + email, safe='')}")
    assert status == 200, (status, body)
    return json.loads(body)


def admin(d, email, *flags):
    run = d.axe("blueprint", "admin", CUSTOMER, email, *flags)
    return run, run.stdout + run.stderr


def test_before_the_first_sign_in_dry_run_and_apply_fail_naming_the_next_step(d):
    for flags in ((), ("--apply", "--yes")):
        run, output = admin(d, ADMIN, *flags)
        assert run.returncode == 1, output
        assert f"{ADMIN} has not signed in to blueprint yet" in output
        assert f"have them sign in at {SITE} with Microsoft, then run again: `axe blueprint admin {CUSTOMER} {ADMIN} --apply`" \
            in output
        assert f"axe blueprint admin {CUSTOMER}: plan (check mode, nothing changed)" in output
        assert f"axe blueprint admin {CUSTOMER}: applied" not in output  # the failed plan stops the apply
    assert user(d, ADMIN) is None and users(d) == 0


def test_the_first_sign_in_through_the_edge_creates_the_user(d):
    assert d.get(CALLBACK)[0] == 400  # Entra's redirect target without a code, as before
    first = sign_in(d, ADMIN)
    assert first["first_sign_in"] and first["user"]["role"] == "user" and first["user"]["email"] == ADMIN
    again = sign_in(d, ADMIN)
    assert not again["first_sign_in"] and again["user"]["id"] == first["user"]["id"]
    assert again["user"]["lastSignInAt"] > first["user"]["lastSignInAt"]
    assert user(d, ADMIN)["role"] == "user" and users(d) == 1


def test_dry_run_says_it_would_grant_and_changes_nothing(d):
    run, output = admin(d, ADMIN)
    assert run.returncode == 0, output
    assert f"{ADMIN}: would grant blueprint's admin role (now user)" in output
    assert f"{ADMIN}: user" in output and f"{ADMIN}: admin" in output  # the diff of the role line
    assert "dry run: nothing was changed" in output
    assert user(d, ADMIN)["role"] == "user"


def test_apply_grants_and_again_changes_nothing(d):
    run, output = admin(d, ADMIN, "--apply", "--yes")
    assert run.returncode == 0, output
    assert f"{ADMIN}: granted blueprint's admin role (was user)" in output
    assert user(d, ADMIN)["role"] == "admin"

    run, again = d.axe_json("blueprint", "admin", CUSTOMER, ADMIN, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert again["changed"] == 0 and again["applied"] is False  # the plan found nothing to change: no apply run
    report = again["hosts"][CUSTOMER]["blueprint_admin"]
    assert (report["role_before"], report["granted"]) == ("admin", False)
    run, output = admin(d, ADMIN, "--apply", "--yes")
    assert f"{ADMIN}: already blueprint's admin, nothing to change" in output and "nothing to change." in output


def test_an_address_with_quotes_and_hangul_is_data_and_one_that_is_sql_is_refused(d):
    assert sign_in(d, ODD)["user"]["email"] == ODD
    run, output = admin(d, ODD, "--apply", "--yes")
    assert run.returncode == 0, output
    assert user(d, ODD)["role"] == "admin" and user(d, ADMIN)["role"] == "admin" and users(d) == 2

    sql = f"x'; DROP TABLE User; --@{CUSTOMER}.co.kr"
    run, output = admin(d, sql, "--apply", "--yes")
    assert run.returncode == 2, output
    assert f"{sql!r} is not an email address: it contains whitespace" in output
    assert "give the address the user signs in to Microsoft with" in output
    assert "check mode" not in output  # refused before any run
    assert users(d) == 2


def test_the_playbook_without_axe_plans_the_grant_in_check_mode(d):
    newcomer = f"new@{CUSTOMER}.co.kr"
    sign_in(d, newcomer)
    run = d.playbook("blueprint_admin", "-e", json.dumps({"blueprint_admin_email": newcomer}), "--check", "--diff")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"-{newcomer}: user" in run.stdout and f"+{newcomer}: admin" in run.stdout
    assert "changed=1" in run.stdout
    assert user(d, newcomer)["role"] == "user"


def test_blueprint_app_not_running_names_the_deploy(d):
    d.docker("docker stop blueprint-app >/dev/null")
    try:
        run, output = admin(d, ADMIN)
        assert run.returncode == 1, output
        assert f"blueprint-app is not running on {CUSTOMER} (exited)" in output
        assert f"`axe deploy blueprint {CUSTOMER} --apply`" in output
    finally:
        d.docker("docker start blueprint-app >/dev/null")


def test_the_d_day_set_up_the_backups_with_the_password_in_the_vault_only(d):
    password = restic_password(d)
    assert password and len(password) >= 32
    on_host = d.host.ssh("stat -c %a ~/.axe/backups/restic.pass; cat ~/.axe/backups/restic.pass").stdout.split("\n", 1)
    assert on_host[0] == "600" and on_host[1] == password  # restic's --password-file, and only there
    text = d.customers.read_text()
    assert "RESTIC_BKUP_PASSWORD" in text and password not in text  # a manifest slot, never the value
    assert d.dday_schedule == {"Hour": 3, "Minute": 15}
    plist = plist_of(d)
    assert plist["ProgramArguments"][-1] == "run"
    assert "state = " in d.host.ssh("launchctl print gui/501/ai.axelabs.backup").stdout  # loaded
    # Nothing backed up yet: a finding, and the exit status says so.
    run, status = d.axe_json("backup", "status", CUSTOMER)
    assert run.returncode == 1
    findings = status["hosts"][CUSTOMER]["backup_status"]["findings"]
    assert [f["problem"] for f in findings] == ["no snapshot yet"]
    assert findings[0]["next"] == f"axe backup {CUSTOMER} --now --apply"


def test_the_d7_review_names_what_is_missing_a_week_early(d):
    run, out = d.axe_json("check", "d7", CUSTOMER)
    assert run.returncode == 1, run.stdout + run.stderr
    found = {(f["area"], f["next"]) for f in out["findings"] if f["area"] != "vault"}
    assert found == {("backup", f"axe backup {CUSTOMER} --now --apply"),
                     ("audit", "ask the customer's admin whether staff set up the Frame connector (D+2), then "
                               f"axe check d7 {CUSTOMER}")}, out["findings"]
    # No customer-side vault session on this host yet (D-day step 3): the vault is a finding naming that step.
    [vault] = [f for f in out["findings"] if f["area"] == "vault"]
    assert vault["next"].startswith(f"axe vault session {CUSTOMER}"), vault
    assert out["hosts"][CUSTOMER]["d7"]["audit"]["frame"]["entries"] == 2  # the system's registrations only


def test_the_launch_agent_runs_a_backup_as_launchd_starts_it(d):
    # launchd starts the job on its calendar; kickstart starts the same job, in the environment launchd gives it.
    d.host.ssh("launchctl kickstart gui/501/ai.axelabs.backup")
    deadline = time.monotonic() + 120
    last = None
    while time.monotonic() < deadline:
        last = d.host.ssh("cat ~/.axe/backups/last-run.json 2>/dev/null", check=False).stdout
        if last and "finished" in last:
            break
        time.sleep(1)
    record = json.loads(last)
    assert record["ok"] is True and record["tag"] == "scheduled", record
    assert record["sources"]["frame"]["counts"] == {"entities": 2}  # the D-day's entity and D+1's
    assert record["sources"]["hive"]["counts"] == {"entities": 2}
    assert d.host.ssh("ls ~/.axe/backups/staging 2>&1", check=False).returncode != 0  # the dumps are not left about


def test_backup_now_then_status_says_what_the_latest_snapshot_holds(d):
    plan = d.axe("backup", CUSTOMER, "--now")
    assert plan.returncode == 0 and "would back up now" in plan.stdout and "dry run: nothing was changed" in plan.stdout
    run, applied = d.axe_json("backup", CUSTOMER, "--now", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    made = applied["hosts"][CUSTOMER]["backup"]["run"]
    assert made["ok"] and made["tag"] == "manual" and re.fullmatch(r"[0-9a-f]{8}", made["snapshot"])
    run, status = d.axe_json("backup", "status", CUSTOMER)
    assert run.returncode == 0, run.stdout
    s = status["hosts"][CUSTOMER]["backup_status"]
    assert s["findings"] == [] and s["snapshots"] == 2
    latest = s["latest"]
    assert latest["id"] == made["snapshot"] and latest["age_hours"] < 1 and latest["size_bytes"] > 0
    assert latest["holds"]["frame"] == {"kind": "postgres", "file": "dump.sql", "counts": {"entities": 2}}
    assert set(latest["holds"]) == {"frame", "blueprint", "hive", "vault"}
    # The set-up again without --at: nothing to change, the time moved by --at is kept.
    again = d.axe("backup", CUSTOMER, "--apply", "--yes")
    assert again.returncode == 0 and "nothing to change." in again.stdout, again.stdout
    assert plist_of(d)["StartCalendarInterval"]["Minute"] == 40  # the first set-up's is 03:15


def test_verify_restores_into_scratch_and_matches_the_counts(d):
    before = d.host.ssh(f"{DOCKER} ps -a --format '{{{{.Names}}}}'").stdout.split()
    run, out = d.axe_json("backup", "verify", CUSTOMER)
    assert run.returncode == 0, run.stdout + run.stderr
    v = out["hosts"][CUSTOMER]["backup_verify"]
    assert v["ok"] is True and v["missing"] == []
    checks = {c["service"]: c for c in v["checks"]}
    assert checks["frame"]["counts"] == checks["frame"]["expected"] == {"entities": 2}
    assert checks["hive"]["counts"] == {"entities": 2} and checks["vault"]["ok"]
    after = d.host.ssh(f"{DOCKER} ps -a --format '{{{{.Names}}}}'").stdout.split()
    assert sorted(after) == sorted(before)  # the scratch containers are gone; nothing live was touched
    assert not any(n.startswith("axe-verify-") for n in after)
    status = agent(d, "status")
    assert status["last_verify"]["ok"] is True


def test_a_deleted_frame_volume_comes_back_with_restore(d):
    assert frame_entities(d)[0] == 200
    d.host.ssh(f"{DOCKER} rm -f frame-postgres && {DOCKER} volume rm frame-pgdata")
    assert frame_entities(d)[0] != 200  # frame has lost its data
    plan = d.axe("backup", "restore", CUSTOMER, "--service", "frame")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "would restore frame from snapshot" in plan.stdout and "dry run: nothing was changed" in plan.stdout
    assert d.host.ssh(f"{DOCKER} volume ls -q").stdout.split().count("frame-pgdata") == 0  # the plan made nothing
    run, out = d.axe_json("backup", "restore", CUSTOMER, "--service", "frame", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    r = out["hosts"][CUSTOMER]["backup_restore"]
    assert r["counts"] == r["expected"] == {"entities": 2}
    status, body = frame_entities(d)
    assert status == 200 and json.loads(body)["entities"] == ALL_ENTITIES
    assert d.get("/frame/health/ready")[0] == 200


def test_restore_while_the_database_runs_keeps_what_it_replaces(d):
    run, out = d.axe_json("backup", "restore", CUSTOMER, "--service", "frame", "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    kept = out["hosts"][CUSTOMER]["backup_restore"]["before_restore_snapshot"]
    tags = {s["short_id"]: s.get("tags") for s in json.loads(d.host.ssh(
        "RESTIC_PASSWORD_FILE=~/.axe/backups/restic.pass /opt/homebrew/bin/restic -r ~/.axe/backups/local "
        "snapshots --json").stdout)}
    assert tags[kept] == ["axe", "before-restore"]


def test_the_d7_review_clears_audit_and_backups_once_people_work_and_a_restore_is_proven(d):
    status, body = d.get(f"/frame/mcp/journal?entity={NEW_ENTITY}&actor=staff@bkup.co.kr&memo=first")
    assert status == 200, body  # an employee's first journal entry, through MCP, from outside
    d.axe("backup", "verify", CUSTOMER)  # the restore proven for the latest snapshot (the one made before restoring)
    run, out = d.axe_json("check", "d7", CUSTOMER)
    # Left: the vault, whose organization is D+2's (built below, after which the review is clean).
    assert run.returncode == 1 and [f["area"] for f in out["findings"]] == ["vault"], run.stdout + run.stderr
    review = out["hosts"][CUSTOMER]["d7"]
    assert review["audit"]["frame"]["by_people"] == 1 and set(review["health"].values()) == {200}
    assert review["backup"]["last_verify"]["ok"] is True


def test_bad_input_is_named_with_the_next_step(d):
    run = d.axe("backup", "restore", CUSTOMER)
    assert run.returncode != 0 and f"axe backup restore {CUSTOMER} --service frame --apply" in run.stderr
    run = d.axe("backup", "restore", CUSTOMER, "--service", "nosuch")
    assert run.returncode != 0 and "nosuch is not backed up here (backed up: frame, blueprint, hive, vault)" in run.stdout + run.stderr
    run = d.axe("backup", "verify", CUSTOMER, "--apply")
    assert run.returncode != 0 and "changes nothing" in run.stderr
    run = d.axe("backup", CUSTOMER, "--at", "25:00")
    assert run.returncode != 0 and "--at '25:00' is not a time of day" in run.stderr


# D+2: the vault organization ----------------------------------------------------------------------------------------

def bw(d, *args, raw=False):
    """The real Bitwarden CLI on the Mac mini, with the customer-side session, as JSON."""
    run = d.host.ssh("BW_SESSION=\"$(cat ~/.bw-session)\" /opt/homebrew/bin/bw " + " ".join(shlex.quote(a) for a in args)
                     + " </dev/null")
    return run.stdout if raw else json.loads(run.stdout)


def organization(d):
    assert "Syncing complete" in bw(d, "sync", raw=True)  # what the web vault changed shows in the CLI after a sync
    return [o for o in bw(d, "list", "organizations") if o["name"] == CUSTOMER.upper()]


def access(d, org_id):
    """{collection name: {member email: (readOnly, hidePasswords)}} as the real CLI reads it."""
    emails = {m["id"]: m["email"] for m in bw(d, "list", "org-members", "--organizationid", org_id)}
    out = {}
    for col in bw(d, "list", "org-collections", "--organizationid", org_id):
        got = bw(d, "get", "org-collection", col["id"], "--organizationid", org_id)
        out[col["name"]] = {emails[u["id"]]: (u["readOnly"], u["hidePasswords"]) for u in got["users"]}
    return out


def members_file(d):
    path = d.base / "staff.txt"
    path.write_text(f"# {CUSTOMER}'s staff (D+2)\n{STAFF[0]}\n\n{STAFF[1]}   # accounting\n")
    return path


def test_vault_org_is_refused_without_a_working_session_and_a_bad_members_line_is_named(d, tmp_path):
    run = d.axe("vault", "org", CUSTOMER, "--admin", VAULT_ADMIN)
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "the customer-side vault session is not set up" in out
    assert f"axe vault session {CUSTOMER} --apply" in out
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{STAFF[0]}\n# fine\nnot an email\n\n{STAFF[1]}, {VAULT_ADMIN}\n")
    run = d.axe("vault", "org", CUSTOMER, "--admin", VAULT_ADMIN, "--members", str(bad))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "line 3: 'not an email'" in run.stderr and "line 5:" in run.stderr and "line 1" not in run.stderr


def helper_at_the_keyboard(d):
    """customer IT runs the pushed helper once over ssh -t, answering its master password prompts."""
    child = pexpect.spawn("ssh", ["-tt", "-F", str(d.lab.ssh_config), d.host.host,
                                  f"~/.axe/bin/bw-bootstrap.sh {VAULT_URL} {AI}"], encoding="utf-8", timeout=90)
    answer_the_prompts(child, "correct horse battery", 2)
    assert child.exitstatus == 0, child.before


def test_vault_org_dry_run_then_apply_then_nothing_to_change_and_the_d7_review_is_clean(d, lab):
    from axe_lab import vault_server
    # Customer IT's two accounts, made as signing up in the web vault makes them: the automation identity and the
    # real admin (a person). Then the session (D-day step 3) as ai@.
    assert AI in vault_server.add_customer_account(lab.lab, d.host.host, AI, "correct horse battery")
    assert VAULT_ADMIN in vault_server.add_customer_account(lab.lab, d.host.host, VAULT_ADMIN, "the admin's own words")
    run = d.axe("vault", "session", CUSTOMER, "--url", VAULT_URL, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    helper_at_the_keyboard(d)
    flags = ("--members", str(members_file(d)), "--ca-file", CA)

    # The first run needs the real admin.
    run = d.axe("vault", "org", CUSTOMER, *flags)
    assert run.returncode == 1 and "--admin EMAIL" in run.stdout + run.stderr, run.stdout + run.stderr

    run, plan = d.axe_json("vault", "org", CUSTOMER, "--admin", VAULT_ADMIN, *flags)
    assert run.returncode == 0 and plan["mode"] == "plan" and plan["applied"] is False, run.stdout + run.stderr
    assert plan["hosts"][CUSTOMER]["vault_org"]["actions"] == [
        f"create organization {CUSTOMER.upper()} (identifier {CUSTOMER.upper()}), Owner: the automation identity",
        f"create collection {PLATFORM[0]} (operator only)", f"create collection {PLATFORM[1]} (operator only)",
        *[f"create collection {name} (staff read/write)" for name in ENTITY_COLLECTIONS],
        "create collection Shared Tools (staff read/write)",
        f"invite {VAULT_ADMIN} as Owner, access to all collections (the real admin)",
        *[f"invite {e} as User (staff: the entity collections and Shared Tools, read/write)" for e in STAFF]]
    assert organization(d) == []  # the dry run created nothing

    run, applied = d.axe_json("vault", "org", CUSTOMER, "--admin", VAULT_ADMIN, *flags, "--apply", "--yes")
    assert run.returncode == 0 and applied["applied"] is True, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["vault_org"]["organization"]["created"] is True
    # What is there, read with the real CLI on the Mac mini.
    [org] = organization(d)
    members = {m["email"]: (m["type"], m["status"]) for m in bw(d, "list", "org-members", "--organizationid", org["id"])}
    assert members == {AI: (0, 2), VAULT_ADMIN: (0, 2), STAFF[0]: (2, 0), STAFF[1]: (2, 0)}
    staff_rw = {e: (False, False) for e in STAFF}
    d.vault_org, d.vault_access = org["id"], access(d, org["id"])  # the next test starts from them
    assert d.vault_access == {PLATFORM[0]: {}, PLATFORM[1]: {}, "Shared Tools": staff_rw,
                              **{name: staff_rw for name in ENTITY_COLLECTIONS}}

    run, again = d.axe_json("vault", "org", CUSTOMER, "--admin", VAULT_ADMIN, *flags, "--apply", "--yes")
    assert run.returncode == 0 and again["applied"] is False and again["changed"] == 0, run.stdout + run.stderr
    assert again["hosts"][CUSTOMER]["vault_org"]["actions"] == []
    assert [o["id"] for o in organization(d)] == [org["id"]]
    # D+1, D+2 and D+7 done: the review has nothing left to say, and its exit status says so.
    run, review = d.axe_json("check", "d7", CUSTOMER)
    assert run.returncode == 0 and review["findings"] == [], review["findings"]
    assert review["hosts"][CUSTOMER]["d7"]["vault_org"]["changes"] == []

    # Neither the session nor the CLI's access token is in anything a run printed.
    session = d.host.ssh("cat ~/.bw-session").stdout.strip()
    data = json.loads(d.host.ssh("cat ~/'.config/Bitwarden CLI/data.json'").stdout)
    token = next(v for k, v in data.items() if k.endswith("_token_accessToken"))
    assert len(session) > 40 and token.count(".") == 2
    assert [h for h in d.outputs if session in h or token in h or token.split(".")[2] in h] == []


def test_a_new_entity_gets_exactly_its_vault_collection(d):
    doc = yaml.safe_load(d.customers.read_text())
    entry = doc["customers"][CUSTOMER]
    entry["entities"].append(THIRD[0])
    entry.setdefault("entity_names", {})[THIRD[0]] = THIRD[1]
    d.customers.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    # Until D+2's command runs again, the D+7 review names what is not as planned, and the command that fixes it.
    run, review = d.axe_json("check", "d7", CUSTOMER)
    [vault] = [f for f in review["findings"] if f["area"] == "vault"]
    assert vault == {"area": "vault", "problem": "the vault organization is not as planned: create collection "
                                                 f"{THIRD[1]} (staff read/write)", "next": f"axe vault org {CUSTOMER} --apply"}

    run, applied = d.axe_json("vault", "org", CUSTOMER, "--ca-file", CA, "--apply", "--yes")
    assert run.returncode == 0 and applied["applied"] is True, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["vault_org"]["actions"] == [f"create collection {THIRD[1]} (staff read/write)"]
    # Exactly its collection: the run re-plans after its changes and fails unless nothing is left (a second run
    # changing nothing is the previous test's proof).
    assert access(d, d.vault_org) == {**d.vault_access, THIRD[1]: {e: (False, False) for e in STAFF}}


def test_no_restic_password_in_anything_a_run_left(d, lab):
    password = restic_password(d)
    haystacks = list(d.outputs) + [d.customers.read_text()]
    for path in (lab.base / "state").rglob("*"):
        if path.is_file() and "vault" not in path.parts and path.stat().st_size < 20_000_000:
            haystacks.append(path.read_bytes().decode("utf-8", "replace"))
    assert len(haystacks) > 10
    assert [h[:80] for h in haystacks if password in h] == []
    logs = d.host.ssh("cat ~/.axe/backups/logs/* ~/.axe/backups/*.json 2>/dev/null", check=False).stdout
    assert logs and password not in logs
