"""The runbook's D+2 in the customer's Vaultwarden (issue 18, point 3): `axe vault org`, on one customer after a whole
D-day on a lab host of its own, with the customer-side session customer IT set up (`axe vault session`, the helper at
the keyboard) as the automation identity ai@vorg.co.kr.

Before the session works it is refused with the next step; a members file's bad line is named with its number. The
dry run plans the organization (VORG, the SSO identifier), the four collections of structure v1 and the invites,
and creates nothing. --apply makes them: the real Bitwarden CLI on the Mac mini lists the organization, its four
collections (the Korean entity name with its quotes, decrypted by the CLI with the organization key the run
shared to ai@), its members (both identities Owner and confirmed - the admin had an account, so accepted at once
without mail, then `bw confirm org-member` - and the staff invited as User) and who reaches which collection (staff
read/write to the entity's and Shared Tools, nowhere in the Platform two). A second --apply changes nothing. A
second entity in customers.yaml is named by the D+7 review (`axe check d7`) as not as planned, then gets exactly its
collection, staff read/write, on the next run. Neither the
session nor the CLI's access token is in anything a run printed.

In order, on one host of the module's own (each test starts where the previous one left it).
"""
from __future__ import annotations

import json

import pexpect
import pytest
import yaml

from helpers.after_dday import shipped

pytestmark = pytest.mark.lab

CUSTOMER = "vorg"
LEGAL_NAME = "보르그 주식회사"
ENTITY_NAME = '(주)"보르그" 코리아'
ENTITIES = {"vorg-kr": ENTITY_NAME}
SECOND = ("vorg-us", "Vorg \"US\" Inc.")
AI = f"ai@{CUSTOMER}.co.kr"
ADMIN = f"it-admin@{CUSTOMER}.co.kr"
STAFF = [f"kim@{CUSTOMER}.co.kr", f"lee@{CUSTOMER}.co.kr"]
URL = "https://127.0.0.1:18443/vault"  # the customer's Vaultwarden as the Mac mini reaches it (TLS as the edge gives)
CA = "/etc/lab-tls/ca.pem"  # the lab host's test CA, which its bw trusts through NODE_EXTRA_CA_CERTS
PLATFORM = ["Platform — Service Secrets", "Platform — Infrastructure"]


@pytest.fixture(scope="module")
def d(lab, tmp_path_factory):
    with shipped(lab, tmp_path_factory.mktemp("vorg"), CUSTOMER, LEGAL_NAME, ENTITIES) as d:
        d.members = d.base / "staff.txt"
        d.members.write_text(f"# {CUSTOMER}'s staff (D+2)\n{STAFF[0]}\n\n{STAFF[1]}   # accounting\n")
        yield d


def bw(d, *args, raw=False):
    """The real Bitwarden CLI on the Mac mini, with the customer-side session, as JSON."""
    run = d.host.ssh("BW_SESSION=\"$(cat ~/.bw-session)\" /opt/homebrew/bin/bw " + " ".join(f"'{a}'" for a in args)
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


def test_refused_without_a_working_session_and_a_bad_members_line_is_named(d, tmp_path):
    run = d.axe("vault", "org", CUSTOMER, "--admin", ADMIN)
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "the customer-side vault session is not set up" in out
    assert f"axe vault session {CUSTOMER} --apply" in out
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{STAFF[0]}\n# fine\nnot an email\n\n{STAFF[1]}, {ADMIN}\n")
    run = d.axe("vault", "org", CUSTOMER, "--admin", ADMIN, "--members", str(bad))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "line 3: 'not an email'" in run.stderr and "line 5:" in run.stderr and "line 1" not in run.stderr


def helper_at_the_keyboard(d):
    """customer IT runs the pushed helper once over ssh -t, answering its master password prompts."""
    child = pexpect.spawn("ssh", ["-tt", "-F", str(d.lab.ssh_config), d.host.host, f"~/.axe/bin/bw-bootstrap.sh {URL} {AI}"],
                          encoding="utf-8", timeout=90)
    for _ in range(2):
        # The helper's own line first: the login prompt redraws "Master password" as it is typed into, so waiting
        # for the prompt alone could answer the unlock before the login is done (seen with the machine busy).
        child.expect(["Log in to ", "Unlock the vault "])
        child.expect("Master password")
        child.sendline("correct horse battery")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before


def test_d2_dry_run_then_apply_then_nothing_to_change(d, lab):
    from axe_lab import vault_server
    # Customer IT's two accounts, made as signing up in the web vault makes them: the automation identity and the
    # real admin (a person). Then the session (D-day step 3) as ai@.
    assert AI in vault_server.add_customer_account(lab.lab, d.host.host, AI, "correct horse battery")
    assert ADMIN in vault_server.add_customer_account(lab.lab, d.host.host, ADMIN, "the admin's own words")
    run = d.axe("vault", "session", CUSTOMER, "--url", URL, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    helper_at_the_keyboard(d)
    flags = ("--members", str(d.members), "--ca-file", CA)

    # The first run needs the real admin.
    run = d.axe("vault", "org", CUSTOMER, *flags)
    assert run.returncode == 1 and "--admin EMAIL" in run.stdout + run.stderr, run.stdout + run.stderr

    run, plan = d.axe_json("vault", "org", CUSTOMER, "--admin", ADMIN, *flags)
    assert run.returncode == 0 and plan["mode"] == "plan" and plan["applied"] is False, run.stdout + run.stderr
    planned = plan["hosts"][CUSTOMER]["vault_org"]
    assert planned["actions"] == [
        "create organization VORG (identifier VORG), Owner: the automation identity",
        f"create collection {PLATFORM[0]} (operator only)", f"create collection {PLATFORM[1]} (operator only)",
        f"create collection {ENTITY_NAME} (staff read/write)", "create collection Shared Tools (staff read/write)",
        f"invite {ADMIN} as Owner, access to all collections (the real admin)",
        *[f"invite {e} as User (staff: the entity collections and Shared Tools, read/write)" for e in STAFF]]
    assert organization(d) == []  # the dry run created nothing

    run, applied = d.axe_json("vault", "org", CUSTOMER, "--admin", ADMIN, *flags, "--apply", "--yes")
    assert run.returncode == 0 and applied["applied"] is True, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["vault_org"]["organization"]["created"] is True
    # What is there, read with the real CLI on the Mac mini.
    [org] = organization(d)
    members = {m["email"]: (m["type"], m["status"]) for m in bw(d, "list", "org-members", "--organizationid", org["id"])}
    assert members == {AI: (0, 2), ADMIN: (0, 2), STAFF[0]: (2, 0), STAFF[1]: (2, 0)}
    staff_rw = {e: (False, False) for e in STAFF}
    assert access(d, org["id"]) == {PLATFORM[0]: {}, PLATFORM[1]: {}, ENTITY_NAME: staff_rw, "Shared Tools": staff_rw}

    run, again = d.axe_json("vault", "org", CUSTOMER, "--admin", ADMIN, *flags, "--apply", "--yes")
    assert run.returncode == 0 and again["applied"] is False and again["changed"] == 0, run.stdout + run.stderr
    assert again["hosts"][CUSTOMER]["vault_org"]["actions"] == []
    assert [o["id"] for o in organization(d)] == [org["id"]]
    # The D+7 review sees the organization as planned.
    run, review = d.axe_json("check", "d7", CUSTOMER)
    assert [f for f in review["findings"] if f["area"] == "vault"] == [], review["findings"]
    assert review["hosts"][CUSTOMER]["d7"]["vault_org"]["changes"] == []

    # Neither the session nor the CLI's access token is in anything a run printed.
    session = d.host.ssh("cat ~/.bw-session").stdout.strip()
    data = json.loads(d.host.ssh("cat ~/'.config/Bitwarden CLI/data.json'").stdout)
    token = next(v for k, v in data.items() if k.endswith("_token_accessToken"))
    assert len(session) > 40 and token.count(".") == 2
    assert [h for h in d.outputs if session in h or token in h or token.split(".")[2] in h] == []


def test_a_new_entity_gets_exactly_its_collection(d):
    doc = yaml.safe_load(d.customers.read_text())
    entry = doc["customers"][CUSTOMER]
    entry["entities"].append(SECOND[0])
    entry.setdefault("entity_names", {})[SECOND[0]] = SECOND[1]
    d.customers.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    [org] = organization(d)
    before = access(d, org["id"])
    # Until D+2's command runs again, the D+7 review names what is not as planned, and the command that fixes it.
    run, review = d.axe_json("check", "d7", CUSTOMER)
    [vault] = [f for f in review["findings"] if f["area"] == "vault"]
    assert vault == {"area": "vault", "problem": "the vault organization is not as planned: create collection "
                                                 f"{SECOND[1]} (staff read/write)", "next": f"axe vault org {CUSTOMER} --apply"}

    run, applied = d.axe_json("vault", "org", CUSTOMER, "--ca-file", CA, "--apply", "--yes")
    assert run.returncode == 0 and applied["applied"] is True, run.stdout + run.stderr
    assert applied["hosts"][CUSTOMER]["vault_org"]["actions"] == [f"create collection {SECOND[1]} (staff read/write)"]
    after = access(d, org["id"])
    assert after == {**before, SECOND[1]: {e: (False, False) for e in STAFF}}
    run, again = d.axe_json("vault", "org", CUSTOMER, "--ca-file", CA)
    assert run.returncode == 0 and again["changed"] == 0, run.stdout + run.stderr
