"""The customers inventory plugin: customers.yaml + `tailscale status --json` -> hosts (T05, T06, T24)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers.lab import ROOT, VENV_BIN
from helpers.samples import CUSTOMERS_YAML

pytestmark = pytest.mark.lab


def inventory(env):
    run = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventory/customers.yml", "--list"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def unsafe(value):
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


def test_hosts_resolve_to_magicdns_names_with_tailscale_state(lab, tmp_path):
    lab.host("acme")
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    env = {**os.environ, "AXE_CUSTOMERS_FILE": str(customers), "AXE_SSH_CONFIG": str(lab.ssh_config),
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    settings = dict(line.removeprefix("export ").split("=", 1) for line in lab.axe("lab", "env").stdout.splitlines())
    env.update(settings)
    inv = inventory(env)
    acme = inv["_meta"]["hostvars"]["acme"]
    assert unsafe(acme["ansible_host"]) == "acme-macmini.tail-lab.ts.net"  # never the bare alias (T06)
    assert acme["axe_tailscale"]["known"] and acme["axe_tailscale"]["online"] and acme["axe_tailscale"]["direct"]
    assert acme["axe_sovereign"] is True  # no services manifest in this file yet
    assert "realchoice" in inv["sovereign"]["hosts"] and "beta" in inv["managed"]["hosts"]
    assert set(inv["tailscale_unknown"]["hosts"]) == {"realchoice", "beta"}  # not on the lab's tailnet

    # T05: relayed and offline peers land in their groups.
    assert lab.axe("lab", "tailnet", "acme", "--relayed").returncode == 0
    inv = inventory(env)
    assert inv["_meta"]["hostvars"]["acme"]["axe_tailscale"]["direct"] is False
    assert inv["tailscale_relayed"]["hosts"] == ["acme"]
    lab.axe("lab", "tailnet", "acme", "--offline")
    assert inventory(env)["tailscale_offline"]["hosts"] == ["acme"]
    lab.axe("lab", "tailnet", "acme", "--online", "--direct")

    # The resolved name reaches the host: the ping playbook over the plugin's inventory.
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), "playbooks/ping.yml", "-i", "inventory/customers.yml",
                          "-e", "axe_target=acme"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert "acme                       : ok=" in run.stdout


def test_a_broken_customers_file_is_a_named_inventory_error(lab, tmp_path):
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML.replace('public_domain: "beta.axelabs.ai"', "public_domain: 42"))
    env = {**os.environ, "AXE_CUSTOMERS_FILE": str(customers), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    settings = dict(line.removeprefix("export ").split("=", 1) for line in lab.axe("lab", "env").stdout.splitlines())
    env.update(settings)
    run = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventory/customers.yml", "--list"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "customers.beta.public_domain: 42 is not of type 'string'" in run.stderr


def test_axe_ping_resolves_through_the_registry_and_stops_on_t05(lab, tmp_path):
    lab.host("acme")
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    env = {"AXE_CUSTOMERS_FILE": str(customers)}
    ok = lab.axe("ping", "acme", "--json", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["hosts"]["acme"]["ping"]["platform"]["hostname"] == "acme-macmini"
    try:
        lab.axe("lab", "tailnet", "acme", "--relayed")
        run = lab.axe("ping", "acme", "beta", "--json", env=env)
        assert run.returncode == 1
        hosts = json.loads(run.stdout)["hosts"]
        # Each finding is a detail of the preflight's error, with its own next step, as the module gave it.
        [acme], [beta] = hosts["acme"]["errors"], hosts["beta"]["errors"]
        assert any(d.startswith("T05: acme-macmini is reached only through the DERP relay") for d in acme["details"]), acme
        assert any(d.startswith("T05: beta-macmini is not on the tailnet") and "exchange Tailscale keys" in d
                   for d in beta["details"]), beta
        assert acme["next"] and "T05: acme-macmini" in "\n".join(hosts["acme"]["messages"])  # and on the terminal
    finally:
        lab.axe("lab", "tailnet", "acme", "--direct")
