"""`axe blueprint admin` with no host: which emails pass, the argv the email travels in, how blueprint's answer is
read, what the module decides in check and apply mode, and the report. Plus the contract with the lab's blueprint:
its real user-table command, run here on a temporary database, answers in the shape the module reads."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml

from ansible_collections.axelabs.onboard.plugins.module_utils import blueprint_admin as ba
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
from ansible_collections.axelabs.onboard.plugins.modules import blueprint_admin as module
from axe import cli
from axe.commands import blueprint
from helpers.lab import ROOT

DEFINITION = yaml.safe_load((ROOT / "roles/blueprint/vars/main.yml").read_text())["blueprint_definition"]
STANDIN = ROOT / "lab/axe_lab/sources/blueprint"


# ---- the email ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("email", ["admin@acme.co.kr", "o'neil@acme.co.kr", "김민수@acme.co.kr", "a.b+it@sub.acme.co.kr",
                                   "it-admin@한국.kr", "x!#$%&*/=?^_`|~-@a.io"])
def test_addresses_entra_can_issue_pass(email):
    assert ba.email_problem(email) is None


@pytest.mark.parametrize("email, problem", [
    ("", "it is empty"),
    ("x'; DROP TABLE User; --@acme.co.kr", "it contains whitespace"),
    ("x';DROP TABLE--@acme.co.kr", "it contains whitespace"),
    ("x';--@acme.co.kr", "the part before @ cannot have ';'"),
    ("admin", "it must have exactly one @ (it has 0)"),
    ("a@b@acme.co.kr", "it must have exactly one @ (it has 2)"),
    ("@acme.co.kr", "the part before @ must be 1 to 64 characters long"),
    ("a" * 65 + "@acme.co.kr", "the part before @ must be 1 to 64 characters long"),
    ("a" * 250 + "@a.io", "it is 255 characters long; an address has at most 254"),
    (".a@acme.co.kr", "cannot start or end with a dot"),
    ("a..b@acme.co.kr", "two dots in a row"),
    ('"a b"@acme.co.kr', "it contains whitespace"),
    ('a"b@acme.co.kr', "the part before @ cannot have '\"'"),
    ("{{ lookup('pipe', 'id') }}@acme.co.kr", "it contains whitespace"),
    ("{{7*7}}@acme.co.kr", "the part before @ cannot have '{' '}'"),
    ("admin@acme", "'acme' is not a domain name"),
    ("admin@-acme.co.kr", "is not a domain name"),
    ("admin@acme_co.kr", "is not a domain name"),
    ("admin@acme..kr", "is not a domain name"),
    ("ad\u202emin@acme.co.kr", "it contains a control or invisible character"),
    ("admin@acme.co.kr\n", "it contains a control or invisible character"),
])
def test_anything_else_is_refused_naming_what_is_wrong(email, problem):
    assert problem in (ba.email_problem(email) or "")
    with pytest.raises(ProductError) as caught:
        ba.check_email(email)
    assert caught.value.message.startswith("%r is not an email address: " % email) and caught.value.next_step


def test_the_email_is_the_last_argv_word_after_the_declared_double_dash():
    admin = DEFINITION["admin"]
    assert admin["container"] == DEFINITION["slots"]["app"]["service"]  # the container the runbook execs into
    for argv in (admin["show"], admin["grant"]):
        assert argv[-1] == "--"  # an address starting with '-' stays an argument
        assert ba.command(argv, "-x'@a.io") == argv + ["-x'@a.io"]


@pytest.mark.parametrize("email", ["admin@acme.co.kr", "o'neil'@acme.co.kr", "김'민수@acme.co.kr", "a$b`c@acme.co.kr"])
def test_the_command_to_run_again_gives_the_email_back_through_a_shell(email):
    words = shlex.split(ba.rerun("acme", email))
    assert words == ["axe", "blueprint", "admin", "acme", email, "--apply"]
    assert cli.parser().parse_args(words[1:]).email == email


# ---- reading blueprint's answer -------------------------------------------------------------------------------
def test_a_user_is_read_from_the_last_json_line():
    out = 'warning: something\n{"user": {"email": "a@b.io", "role": "user"}}\n'
    assert ba.read_user(0, out, "", "blueprint-app") == {"email": "a@b.io", "role": "user"}


def test_a_null_user_means_never_signed_in():
    assert ba.read_user(0, '{"user": null}\n', "", "blueprint-app") is None
    assert ba.read_user(3, '{"user": null, "error": "no user"}\n', "", "blueprint-app") is None


@pytest.mark.parametrize("rc, out, err, why", [
    (1, "", "OCI runtime exec failed: no such file", "OCI runtime exec failed"),
    (0, "not json at all", "", "not json at all"),
    (0, '{"user": {"email": "a@b.io"}}', "", "a@b.io"),        # no role: not blueprint's answer
    (2, '{"error": "database is locked"}', "", "database is locked"),
])
def test_anything_else_fails_naming_the_container_and_the_cause(rc, out, err, why):
    with pytest.raises(ProductError) as caught:
        ba.read_user(rc, out, err, "blueprint-app")
    assert "blueprint's user command in blueprint-app failed (exit %d)" % rc in caught.value.message
    assert why in caught.value.message and "docker logs blueprint-app" in caught.value.next_step


def test_the_errors_name_the_next_step_with_the_exact_command():
    e = ba.never_signed_in("acme", "o'neil@acme.co.kr", "https://acme.axelabs.ai/")
    assert "o'neil@acme.co.kr has not signed in to blueprint yet" in e.message
    assert e.next_step == ("have them sign in at https://acme.axelabs.ai/ with Microsoft, then run again: "
                           "`axe blueprint admin acme 'o'\"'\"'neil@acme.co.kr' --apply`")
    e = ba.not_running("blueprint-app", "exited", "acme", "a@acme.co.kr")
    assert "blueprint-app is not running on acme (exited)" in e.message
    assert "`axe deploy blueprint acme --apply`" in e.next_step
    assert "(no such container)" in ba.not_running("blueprint-app", None, "acme", "a@acme.co.kr").message


# ---- the module's decision, with a host that answers as blueprint would --------------------------------------
class FakeModule:
    def __init__(self, check_mode, email="admin@acme.co.kr"):
        self.check_mode = check_mode
        self.params = {"container": "blueprint-app", "show": DEFINITION["admin"]["show"],
                       "grant": DEFINITION["admin"]["grant"], "email": email, "customer": "acme",
                       "sign_in_url": "https://acme.axelabs.ai/"}


class FakeHost:
    def __init__(self, role, status="running"):
        self.role, self.status, self.ran = role, status, []

    def containers(self, names):
        return {n: {"status": self.status, "image": "blueprint-app:x"} for n in names} if self.status else {}

    def run(self, argv, check=True):
        self.ran.append(argv)
        if "set-role" in argv:
            self.role = "admin"
        return 0, json.dumps({"user": {"email": argv[-1], "role": self.role} if self.role else None}), ""


def _decide(role, check_mode, status="running"):
    host, result = FakeHost(role, status), dict(role_before=None, role=None, granted=False)
    module.grant(FakeModule(check_mode), host, result)
    return host, result


def test_already_admin_changes_nothing():
    host, result = _decide("admin", check_mode=False)
    assert result == dict(role_before="admin", role="admin", granted=False, last_sign_in_at=None)
    assert len(host.ran) == 1  # the question only


def test_check_mode_predicts_the_grant_and_writes_nothing():
    host, result = _decide("user", check_mode=True)
    assert result["granted"] and result["role_before"] == "user" and result["role"] == "admin"
    assert not any("set-role" in argv for argv in host.ran)


def test_apply_grants_with_the_email_as_the_last_word():
    host, result = _decide("user", check_mode=False)
    assert result["granted"] and host.role == "admin"
    assert host.ran[-1] == ["docker", "exec", "blueprint-app"] + DEFINITION["admin"]["grant"] + ["admin@acme.co.kr"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_never_signed_in_fails_in_both_modes_and_writes_nothing(check_mode):
    with pytest.raises(ProductError) as caught:
        _decide(None, check_mode)
    assert "has not signed in to blueprint yet" in caught.value.message


@pytest.mark.parametrize("status", ["exited", None])
def test_a_container_that_does_not_run_is_named_before_anything_runs_in_it(status):
    with pytest.raises(ProductError) as caught:
        _decide("user", False, status)
    assert "`axe deploy blueprint acme --apply`" in caught.value.next_step


def test_the_diff_is_the_role_line():
    assert ba.diff("a@b.io", "user", "admin") == dict(before_header="blueprint User role", after_header="blueprint User role",
                                                     before="a@b.io: user\n", after="a@b.io: admin\n")


# ---- the report -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("report, line", [
    ({"email": "a@b.io", "role_before": "admin", "role": "admin", "granted": False, "check_mode": True},
     "a@b.io: already blueprint's admin, nothing to change"),
    ({"email": "a@b.io", "role_before": "user", "role": "admin", "granted": True, "check_mode": True,
      "last_sign_in_at": "2026-11-01T10:00:00Z"},
     "a@b.io: would grant blueprint's admin role (now user); last signed in 2026-11-01T10:00:00Z"),
    ({"email": "a@b.io", "role_before": "user", "role": "admin", "granted": True, "check_mode": False},
     "a@b.io: granted blueprint's admin role (was user)"),
])
def test_the_report_says_what_happened(report, line):
    assert blueprint.describe({"blueprint_admin": report}) == line


def test_the_command_parses_as_the_runbook_step():
    args = cli.parser().parse_args(["blueprint", "admin", "acme", "it@acme.co.kr", "--apply", "--yes"])
    assert (args.customer, args.email, args.apply, args.yes, args.func) == ("acme", "it@acme.co.kr", True, True, blueprint.admin)


# ---- the contract with the lab's blueprint ----------------------------------------------------------------------
def _db(tmp_path, *argv):
    env = dict(os.environ, BLUEPRINT_DB=str(tmp_path / "blueprint.db"), PYTHONPATH=str(STANDIN))
    run = subprocess.run([sys.executable, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return run.returncode, run.stdout, run.stderr


def test_the_lab_blueprint_answers_as_the_module_reads(tmp_path):
    email = "김.o'neil'--@acme.co.kr"
    admin = DEFINITION["admin"]
    assert ba.read_user(*_db(tmp_path, *ba.command(admin["show"], email)[1:]), container="blueprint-app") is None
    rc, out, err = _db(tmp_path, *ba.command(admin["grant"], email)[1:])
    assert rc == 3 and ba.read_user(rc, out, err, "blueprint-app") is None  # nobody to grant: nothing written
    signed_in = "from blueprint import users; print(users.sign_in(%r, 'x')[1])" % email
    assert _db(tmp_path, "-c", signed_in)[1].strip() == "True"
    assert _db(tmp_path, "-c", signed_in)[1].strip() == "False"  # the second sign-in creates no one
    assert ba.read_user(*_db(tmp_path, *ba.command(admin["show"], email)[1:]), container="blueprint-app")["role"] == "user"
    user = ba.read_user(*_db(tmp_path, *ba.command(admin["grant"], email)[1:]), container="blueprint-app")
    assert (user["email"], user["role"]) == (email, "admin")
    assert _db(tmp_path, "-c", "from blueprint import users; print(users.count())")[1].strip() == "1"
