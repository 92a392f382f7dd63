"""`axe blueprint admin CUSTOMER EMAIL` (the runbook's D+1 grant) on a customer after a whole D-day, in order.

Before the admin has signed in, the dry run and the apply both fail naming the sign-in and the exact command to
run after it, and write nothing. The first sign-in through the edge (the SSO callback, with the lab's code for
what Entra sends) creates the user with the role 'user'; then the dry run says it would grant and writes
nothing, the apply grants, and the apply again changes nothing. An address with quotes and Hangul reaches
blueprint as data; one that could only be SQL is refused before any SSH. The playbook runs without `axe` in
check mode. blueprint-app stopped: the error names the deploy that starts it. Roles are read on the host with
blueprint's own user-table command, never through `axe`."""
from __future__ import annotations

import json
import shlex
from urllib.parse import quote

import pytest

from helpers.after_dday import shipped

pytestmark = pytest.mark.lab

CUSTOMER = "bpadmin"
SITE = f"https://{CUSTOMER}.axelabs.ai/"
ADMIN = f"admin@{CUSTOMER}.co.kr"
ODD = f"김.o'neil'--@{CUSTOMER}.co.kr"  # a quote would end a naive SQL string; Hangul must survive every hop
CALLBACK = "/api/auth/callback/azure-ad"


@pytest.fixture(scope="module")
def dday(lab, tmp_path_factory):
    with shipped(lab, tmp_path_factory.mktemp("bpadmin"), CUSTOMER, "BP Admin Korea", {"bpadmin-kr": "(주)비피어드민"}) as d:
        yield d


def user(dday, email):
    """The user row as blueprint holds it, read on the host (None: never signed in)."""
    out = dday.docker(f"docker exec blueprint-app python3 -m blueprint.db show-user -- {shlex.quote(email)}")
    return json.loads(out)["user"]


def users(dday):
    return int(dday.docker("docker exec blueprint-app python3 -c 'from blueprint import users; print(users.count())'"))


def sign_in(dday, email):
    status, body = dday.get(f"{CALLBACK}?code={quote('lab:' + email, safe='')}")
    assert status == 200, (status, body)
    return json.loads(body)


def admin(dday, email, *flags):
    run = dday.axe("blueprint", "admin", CUSTOMER, email, *flags)
    return run, run.stdout + run.stderr


def test_before_the_first_sign_in_dry_run_and_apply_fail_naming_the_next_step(dday):
    for flags in ((), ("--apply", "--yes")):
        run, output = admin(dday, ADMIN, *flags)
        assert run.returncode == 1, output
        assert f"{ADMIN} has not signed in to blueprint yet" in output
        assert f"have them sign in at {SITE} with Microsoft, then run again: `axe blueprint admin {CUSTOMER} {ADMIN} --apply`" \
            in output
        assert f"axe blueprint admin {CUSTOMER}: plan (check mode, nothing changed)" in output
        assert f"axe blueprint admin {CUSTOMER}: applied" not in output  # the failed plan stops the apply
    assert user(dday, ADMIN) is None and users(dday) == 0


def test_the_first_sign_in_through_the_edge_creates_the_user(dday):
    assert dday.get(CALLBACK)[0] == 400  # Entra's redirect target without a code, as before
    first = sign_in(dday, ADMIN)
    assert first["first_sign_in"] and first["user"]["role"] == "user" and first["user"]["email"] == ADMIN
    again = sign_in(dday, ADMIN)
    assert not again["first_sign_in"] and again["user"]["id"] == first["user"]["id"]
    assert again["user"]["lastSignInAt"] > first["user"]["lastSignInAt"]
    assert user(dday, ADMIN)["role"] == "user" and users(dday) == 1


def test_dry_run_says_it_would_grant_and_changes_nothing(dday):
    run, output = admin(dday, ADMIN)
    assert run.returncode == 0, output
    assert f"{ADMIN}: would grant blueprint's admin role (now user)" in output
    assert f"{ADMIN}: user" in output and f"{ADMIN}: admin" in output  # the diff of the role line
    assert "dry run: nothing was changed" in output
    assert user(dday, ADMIN)["role"] == "user"


def test_apply_grants_and_again_changes_nothing(dday):
    run, output = admin(dday, ADMIN, "--apply", "--yes")
    assert run.returncode == 0, output
    assert f"{ADMIN}: granted blueprint's admin role (was user)" in output
    assert user(dday, ADMIN)["role"] == "admin"

    run, again = dday.axe_json("blueprint", "admin", CUSTOMER, ADMIN, "--apply", "--yes")
    assert run.returncode == 0, run.stdout + run.stderr
    assert again["changed"] == 0 and again["applied"] is False  # the plan found nothing to change: no apply run
    report = again["hosts"][CUSTOMER]["blueprint_admin"]
    assert (report["role_before"], report["granted"]) == ("admin", False)
    run, output = admin(dday, ADMIN, "--apply", "--yes")
    assert f"{ADMIN}: already blueprint's admin, nothing to change" in output and "nothing to change." in output


def test_an_address_with_quotes_and_hangul_is_data_and_one_that_is_sql_is_refused(dday):
    assert sign_in(dday, ODD)["user"]["email"] == ODD
    run, output = admin(dday, ODD, "--apply", "--yes")
    assert run.returncode == 0, output
    assert user(dday, ODD)["role"] == "admin" and user(dday, ADMIN)["role"] == "admin" and users(dday) == 2

    sql = f"x'; DROP TABLE User; --@{CUSTOMER}.co.kr"
    run, output = admin(dday, sql, "--apply", "--yes")
    assert run.returncode == 2, output
    assert f"{sql!r} is not an email address: it contains whitespace" in output
    assert "give the address the user signs in to Microsoft with" in output
    assert "check mode" not in output  # refused before any run
    assert users(dday) == 2


def test_the_playbook_without_axe_plans_the_grant_in_check_mode(dday):
    newcomer = f"new@{CUSTOMER}.co.kr"
    sign_in(dday, newcomer)
    run = dday.playbook("blueprint_admin", "-e", json.dumps({"blueprint_admin_email": newcomer}), "--check", "--diff")
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"-{newcomer}: user" in run.stdout and f"+{newcomer}: admin" in run.stdout
    assert "changed=1" in run.stdout
    assert user(dday, newcomer)["role"] == "user"


def test_blueprint_app_not_running_names_the_deploy(dday):
    dday.docker("docker stop blueprint-app >/dev/null")
    try:
        run, output = admin(dday, ADMIN)
        assert run.returncode == 1, output
        assert f"blueprint-app is not running on {CUSTOMER} (exited)" in output
        assert f"`axe deploy blueprint {CUSTOMER} --apply`" in output
    finally:
        dday.docker("docker start blueprint-app >/dev/null")
