"""`axe ping` and the ping playbook: inventory -> SSH -> become -> remote Docker, three ways."""
from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest

from helpers.lab import ROOT, VENV_BIN

pytestmark = pytest.mark.lab


def test_axe_ping_with_no_setup_beyond_lab_up(lab):
    """`axe lab up --hosts acme` then `axe ping acme`: nothing else configured (no AXE_SSH_CONFIG)."""
    lab.host("acme")
    run = lab.axe("ping", "acme", "--json", drop=("AXE_SSH_CONFIG",))
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert (report["ok"], report["changed"], report["failed"]) == (1, 0, 0)
    ping = report["hosts"]["acme"]["ping"]
    assert ping["become_uid"] == "0"
    assert ping["compose"].startswith("2.")
    assert ping["outside_session_path"] == ["docker"]  # found only through the Homebrew prefix (T07)
    assert ping["platform"]["hostname"] == "acme-macmini"
    assert {"system", "release", "machine", "os", "python"} <= set(ping["platform"])
    # Mitogen took the connection over (the default), or Ansible's own strategy ran the modules (AXE_STRATEGY=linear).
    assert ping["runner"] == ("ansible" if os.environ.get("AXE_STRATEGY") == "linear" else "mitogen")


def test_axe_ping_table_and_per_run_artifacts(lab):
    lab.host("acme")
    run = lab.axe("ping", "acme")
    assert run.returncode == 0, run.stderr
    assert "acme" in run.stdout and "compose 2." in run.stdout and "1 ok, 0 changed, 0 failed" in run.stdout
    runs = sorted((lab.lab.state_dir.parents[1] / "runs").iterdir())
    assert runs and (runs[-1] / "artifacts").is_dir()
    assert not list(runs[-1].glob("env/envvars")), "ansible-runner env files are suppressed"


def test_unreachable_customer_fails_with_nonzero_exit(lab):
    lab.host("acme")
    run = lab.axe("ping", "acme", "nosuchhost", "--json")
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert (report["ok"], report["failed"]) == (1, 1)
    assert report["hosts"]["nosuchhost"]["status"] == "unreachable"


def test_bad_customer_id_is_refused_before_anything_runs(lab):
    run = lab.axe("ping", "Acme_Corp")
    assert run.returncode == 2
    assert "T25" in run.stderr and "next:" in run.stderr


def _playbook_env(lab, **extra):
    env = {**os.environ, "AXE_SSH_CONFIG": str(lab.ssh_config), **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return env


def test_playbook_runs_straight_from_the_checkout(lab):
    lab.host("acme")
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), "playbooks/ping.yml", "-i", "inventory/lab.yml"],
                         cwd=ROOT, env=_playbook_env(lab), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert "acme                       : ok=" in run.stdout and "failed=0" in run.stdout


def test_playbook_runs_from_the_built_and_installed_collection(lab, tmp_path):
    lab.host("acme")
    build = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path",
                            str(tmp_path), "--force"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    tarball = next(tmp_path.glob("axelabs-onboard-*.tar.gz"))
    names = tarfile.open(tarball).getnames()
    assert "plugins/modules/host_preflight.py" in names and "playbooks/ping.yml" in names
    assert not [n for n in names if n.split("/")[0] in ("wrapper", "lab", ".venv", "scripts")]

    # From outside the checkout: its ansible.cfg would show the collection as installed already.
    install = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--force", str(tarball),
                              "-p", str(tmp_path / "collections")], cwd=tmp_path, capture_output=True, text=True,
                             timeout=120)
    assert install.returncode == 0, install.stderr
    # Outside the checkout, so its ansible.cfg and .collections link play no part.
    run = subprocess.run([str(VENV_BIN / "ansible-playbook"), "axelabs.onboard.ping", "-i",
                          str(ROOT / "inventory" / "lab.yml")],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env=_playbook_env(lab, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
                                           ANSIBLE_PIPELINING="True"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert (tmp_path / "collections/ansible_collections/axelabs/onboard/playbooks/ping.yml").is_file()
    assert "acme                       : ok=" in run.stdout and "failed=0" in run.stdout
