"""The operator's side of the vault: the session (T17), the bw version (T18), the lookup plugin and
the 8-values-as-text fallback of ingest."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import vault
from helpers.lab import ROOT, VENV_BIN
from helpers.samples import CUSTOMERS_YAML, PACK

pytestmark = pytest.mark.lab


def lab_settings(lab):
    return dict(line.removeprefix("export ").split("=", 1) for line in lab.axe("lab", "env").stdout.splitlines())


def dead_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def customers(lab, tmp_path):
    lab.host("acme")
    path = tmp_path / "customers.yaml"
    path.write_text(CUSTOMERS_YAML)
    return path


def test_session_from_env_then_keychain_then_none_t17(lab, customers, tmp_path):
    settings = lab_settings(lab)
    session = (lab.lab.state_dir / "vault" / "session").read_text().strip()
    security = settings["AXE_SECURITY"]
    subprocess.run([security, "delete-generic-password", "-s", "axe.vault.session"], capture_output=True)
    pack = tmp_path / "pack.json"
    pack.write_text(json.dumps(PACK))
    # No bw serve answers at the URL: axe starts one with the operator's session.
    base = {"AXE_CUSTOMERS_FILE": str(customers), "AXE_VAULT_URL": f"http://127.0.0.1:{dead_port()}"}
    try:
        run = lab.axe("customers", "ingest", "acme", str(pack), env={**base, "BW_SESSION": session})
        assert run.returncode == 0, run.stdout + run.stderr
        assert "started bw serve at http://127.0.0.1:" in run.stderr
        assert "session from the environment (BW_SESSION; the Keychain item axe.vault.session updated to match)" in run.stderr
        # Kept in step: the Keychain now holds it, written through stdin (never argv).
        stored = subprocess.run([security, "find-generic-password", "-s", "axe.vault.session", "-w"],
                                capture_output=True, text=True)
        assert stored.stdout.strip() == session

        run = lab.axe("customers", "ingest", "acme", str(pack), env=base, drop=("BW_SESSION",))
        assert run.returncode == 0, run.stdout + run.stderr
        assert "with the session from the Keychain item axe.vault.session" in run.stderr

        stale = lab.axe("customers", "ingest", "acme", str(pack), env={**base, "BW_SESSION": "stale-session"})
        assert stale.returncode == 2 and "T17" in stale.stderr and "bw unlock --raw" in stale.stderr

        subprocess.run([security, "delete-generic-password", "-s", "axe.vault.session"], capture_output=True)
        none = lab.axe("customers", "ingest", "acme", str(pack), env=base, drop=("BW_SESSION",))
        assert none.returncode == 2
        assert "T17: no vault session" in none.stderr and "security add-generic-password" in none.stderr
    finally:
        subprocess.run([security, "delete-generic-password", "-s", "axe.vault.session"], capture_output=True)


def test_known_bad_bw_version_is_refused_with_the_pin_t18(lab, customers):
    """The version is read from the real current CLI (`bw --version`), refused with the runbook's pin named;
    the pinned real CLI goes on to the vault. (Why that range: tests/lab/test_vault_real_cli.py's T18 test.)"""
    from axe_lab import operator_bw
    current = str(lab.lab.state_dir / "bin" / f"bw-{operator_bw.CURRENT}")
    run = lab.axe("secret", "get", "ANY", "--customer", "acme", "--service", "frame",
                  env={"AXE_CUSTOMERS_FILE": str(customers), "AXE_BW": current})
    assert run.returncode == 2
    assert f"T18: bw {operator_bw.CURRENT} is in the range known to crash against the vault server" in run.stderr
    assert f"npm install -g @bitwarden/cli@{operator_bw.PINNED}" in run.stderr
    pinned = lab.axe("secret", "get", "ANY", "--customer", "acme", "--service", "frame",
                     env={"AXE_CUSTOMERS_FILE": str(customers)})
    assert pinned.returncode == 1 and "is not in the vault" in pinned.stderr  # past T18: not in the vault, exit 1


def test_lookup_reads_by_name_and_names_the_fix_when_missing(lab, tmp_path):
    lab.host("acme")
    settings = lab_settings(lab)
    client = vault.backend("bw_serve", url=settings["AXE_VAULT_URL"])
    client.put("lookupc", "frame", "FRAME_LOOKUPC_DB_PASSWORD", "lookup-value-123")
    play = tmp_path / "play.yml"
    play.write_text("""\
- name: Read a secret by name
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The value matches, without ever being shown
      ansible.builtin.assert:
        that: lookup('axelabs.onboard.vault_secret', 'FRAME_LOOKUPC_DB_PASSWORD', customer='lookupc',
                     service='frame') | hash('sha256') == expected
      no_log: true
    - name: A missing secret names the push command
      ansible.builtin.debug:
        msg: "{{ lookup('axelabs.onboard.vault_secret', 'FRAME_LOOKUPC_MISSING', customer='lookupc', service='frame') }}"
""")
    env = {**os.environ, **settings, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")}
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(play), "-e",
                          "expected=" + hashlib.sha256(b"lookup-value-123").hexdigest()],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "ok: [localhost]" in run.stdout  # the first task passed
    assert run.returncode == 2
    assert "FRAME_LOOKUPC_MISSING is not in the vault" in run.stdout + run.stderr
    assert "axe secret push FRAME_LOOKUPC_MISSING --service frame --customer lookupc --apply" in run.stdout + run.stderr
    assert "lookup-value-123" not in run.stdout + run.stderr
    client.delete("lookupc", "frame", "FRAME_LOOKUPC_DB_PASSWORD")


def test_ingest_from_the_eight_values_as_text(lab, customers, tmp_path):
    lab.host("acme")
    text = tmp_path / "values.txt"
    apps = PACK["apps"]
    text.write_text(f"""tenant_id: {PACK['tenant_id']}
blueprint client_id: {apps['blueprint']['client_id']}
blueprint client_secret: {apps['blueprint']['client_secret']}
vaultwarden client_id: {apps['vaultwarden']['client_id']}
vaultwarden client_secret: {apps['vaultwarden']['client_secret']}
frame_mcp client_id: {apps['frame_mcp']['client_id']}
frame_mcp client_secret: {apps['frame_mcp']['client_secret']}
frame_mcp application_id_uri: https://acme.axelabs.ai/frame/mcp
""")
    run = lab.axe("customers", "ingest", "acme", "--from-text", str(text), "--json",
                  env={"AXE_CUSTOMERS_FILE": str(customers)})
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["mode"] == "plan" and report["hosts"]["acme"]["ingest"]["file_changed"] is True
    assert len(report["hosts"]["acme"]["ingest"]["vault_items"]) == 3
    assert customers.read_text() == CUSTOMERS_YAML
    assert not any(s in run.stdout + run.stderr for s in (a["client_secret"] for a in apps.values()))
