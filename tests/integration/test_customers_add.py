"""`axe customers add` makes a valid stub; the vault_secret module removes a secret, check -> apply -> check -> apply."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import vault
from helpers.lab import ROOT, VENV_BIN

pytestmark = pytest.mark.lab


def test_add_creates_a_valid_stub_then_changes_only_what_is_asked(lab, tmp_path):
    lab.host("acme")
    path = tmp_path / "registry" / "customers.yaml"
    env = {"AXE_CUSTOMERS_FILE": str(path)}
    args = ["customers", "add", "gamma", "--legal-name", "Gamma Co.", "--primary-domain", "gamma.co.kr",
            "--entity", "gamma-kr", "--entity", "gamma-us"]
    plan = lab.axe(*args, "--json", env=env)
    assert plan.returncode == 0 and json.loads(plan.stdout)["changed"] == 1 and not path.exists()
    made = lab.axe(*args, "--apply", "--yes", "--json", env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    entry = cf.plain(cf.CustomersFile(str(path)).load().entry("gamma"))  # valid against the schema
    assert entry["public_domain"] == "gamma.axelabs.ai" and entry["tailscale_host"] == "gamma-macmini"
    assert entry["entities"] == ["gamma-kr", "gamma-us"] and entry["sso"] == {"provider": "microsoft_entra_id"}
    again = lab.axe(*args, "--apply", "--yes", "--json", env=env)
    assert json.loads(again.stdout)["changed"] == 0
    before = path.read_text()
    renamed = lab.axe("customers", "add", "gamma", "--legal-name", "Gamma Korea Co.", "--apply", "--yes", env=env)
    assert renamed.returncode == 0
    changed_lines = [(a, b) for a, b in zip(before.splitlines(), path.read_text().splitlines()) if a != b]
    assert changed_lines == [('    legal_name: "Gamma Co."', '    legal_name: "Gamma Korea Co."')]
    incomplete = lab.axe("customers", "add", "delta", "--legal-name", "Delta", "--apply", "--yes", env=env)
    assert incomplete.returncode == 1 and "a new customer needs primary_domain, entities" in incomplete.stdout


def test_vault_secret_absent_check_apply_check_apply(lab, tmp_path):
    lab.host("acme")
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    client = vault.backend("bw_serve", url=settings["AXE_VAULT_URL"])
    client.put("absentc", "hive", "HIVE_ABSENTC_TOKEN", "to-be-removed")
    env = {**os.environ, **settings, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")}

    def run(*extra):
        proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", "axelabs.onboard.vault_secret",
                               "-a", "customer=absentc service=hive env=HIVE_ABSENTC_TOKEN state=absent",
                               "-e", "ansible_python_interpreter=" + str(VENV_BIN / "python"), *extra],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout.split(" => ", 1)[1])
    assert run("--check")["changed"] is True and client.exists("absentc", "hive", "HIVE_ABSENTC_TOKEN")
    assert run()["action"] == "delete"
    assert run("--check")["changed"] is False
    assert run()["action"] == "absent" and not vault.backend("bw_serve", url=settings["AXE_VAULT_URL"]).exists(
        "absentc", "hive", "HIVE_ABSENTC_TOKEN")
