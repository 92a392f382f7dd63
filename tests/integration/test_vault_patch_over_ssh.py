"""The vaultwarden_compose_patch action against a real host over SSH: check -> apply -> check -> apply,
each form of compose file, and the file's other lines (its SSO client secret) never in any output."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers.lab import ROOT, VENV_BIN

pytestmark = pytest.mark.lab

SECRET = "vw-client-secret-5a7c1e9f3b"
COMPOSE = f'''\
# the customer's vault
services:
  axe-vaultwarden:
    image: vaultwarden/server:1.34.1
    environment:
      DOMAIN: "https://acme.axelabs.ai"
      SSO_CLIENT_SECRET: "{SECRET}"
      SSO_SIGNUPS_MATCH_EMAIL: "true"   # match by email
      SIGNUPS_ALLOWED: "false"
      INVITATIONS_ALLOWED: "false"
'''
PLAY = '''\
- name: Patch
  hosts: customers
  gather_facts: false
  tasks:
    - name: Patch the compose file
      axelabs.onboard.vaultwarden_compose_patch:
        path: "{{ target }}"
        public_domain: acme.axelabs.ai
      register: patch
    - name: Show the result
      ansible.builtin.debug:
        msg: "RESULT {{ patch | to_json }}"
'''


def run_play(lab, tmp_path, target, *extra):
    play = tmp_path / "play.yml"
    play.write_text(PLAY)
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    env = {**os.environ, **settings, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
           "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"}
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(play), "-i", "inventory/lab.yml", "-e", f"target={target}",
                          "--diff", *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert SECRET not in run.stdout + run.stderr  # the diff and the result show only the managed keys' lines
    line = next(ln for ln in run.stdout.splitlines() if "RESULT " in ln)
    return json.loads(json.loads(line.split(": ", 1)[1].rstrip(","))[len("RESULT "):])


def test_check_apply_check_apply_over_ssh(lab, tmp_path):
    host = lab.host("acme")
    target = "/tmp/axe-vwtest/docker-compose.yml"
    host.ssh("mkdir -p /tmp/axe-vwtest && rm -f /tmp/axe-vwtest/*", check=True)
    host.ssh(f"cat > {target}", input_text=COMPOSE)
    try:
        plan = run_play(lab, tmp_path, target, "--check")
        assert plan["changed"] and sorted(plan["patched"]) == sorted(
            ["SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION", "SIGNUPS_ALLOWED", "SSO_ONLY", "ORGANIZATION_INVITE_AUTO_ACCEPT", "DOMAIN"])
        assert host.ssh(f"cat {target}").stdout == COMPOSE  # check mode wrote nothing
        applied = run_play(lab, tmp_path, target)
        assert applied["changed"] and applied.get("backup_file")
        text = host.ssh(f"cat {target}").stdout
        assert f'SSO_CLIENT_SECRET: "{SECRET}"' in text and 'INVITATIONS_ALLOWED: "false"' in text
        lines = text.splitlines()
        anchor = next(i for i, ln in enumerate(lines) if "SSO_SIGNUPS_MATCH_EMAIL" in ln)
        assert lines[anchor + 1] == '      SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION: "true"'
        assert 'DOMAIN: "https://acme.axelabs.ai/vault"' in text and 'SIGNUPS_ALLOWED: "true"' in text
        again = run_play(lab, tmp_path, target, "--check")
        assert not again["changed"] and {f["action"] for f in again["findings"]} == {"ok"}
        last = run_play(lab, tmp_path, target)
        assert not last["changed"] and host.ssh(f"cat {target}").stdout == text
    finally:
        host.ssh("rm -rf /tmp/axe-vwtest", check=False)
