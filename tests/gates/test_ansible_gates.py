"""The collection's gates: ansible-lint (production profile), ansible-test sanity, molecule.

Each runs the real tool over the real tree and fails with the tool's own findings.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from helpers.lab import ROOT, VENV_BIN


def _env(**extra):
    env = {**os.environ, **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    return env


def test_ansible_lint_production_profile_is_clean():
    run = subprocess.run([str(VENV_BIN / "ansible-lint"), "--nocolor", "--profile", "production"],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    assert "Profile 'production' was required, and it passed." in run.stdout + run.stderr


def test_ansible_test_sanity_is_clean():
    run = subprocess.run(["bash", str(ROOT / "scripts" / "ansible-sanity.sh")], cwd=ROOT, env=_env(),
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
    assert run.stdout.count('Running sanity test "') >= 20  # every test ran, none was skipped away


MOLECULE_SCENARIOS = sorted(p.name for p in (ROOT / "molecule").iterdir()
                            if (p / "molecule.yml").is_file())


@pytest.mark.lab
@pytest.mark.parametrize("scenario", MOLECULE_SCENARIOS)
def test_molecule_scenario(lab, scenario):
    lab.host("acme")  # the lab's emulators are up; their settings come from `axe lab env`
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    run = subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", scenario], cwd=ROOT,
                         env=_env(**settings, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1"),
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
