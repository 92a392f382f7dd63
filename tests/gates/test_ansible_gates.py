"""The collection's gates: ansible-lint (production profile) and ansible-test sanity (molecule: test_molecule.py).

Each runs the real tool over the real tree and fails with the tool's own findings.
"""
from __future__ import annotations

import os
import subprocess

from helpers.lab import ROOT, VENV_BIN


def _env():
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


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
