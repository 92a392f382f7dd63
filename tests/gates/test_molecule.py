"""Molecule: each role's scenario (molecule/<role>/), against a lab host of its own (m-<scenario>).

The scenarios run ansible-playbook directly, under the strategy axe would use (AXE_STRATEGY; Mitogen unless
it says linear), so they prove the roles under both. A file of its own: with the suite in parallel
(scripts/test.sh), the scenarios run on one worker while the lint and sanity gates run on another.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from axe.strategy import strategy_env
from helpers.lab import ROOT, VENV_BIN

MOLECULE_SCENARIOS = sorted(p.name for p in (ROOT / "molecule").iterdir()
                            if (p / "molecule.yml").is_file())


@pytest.mark.lab
@pytest.mark.parametrize("scenario", MOLECULE_SCENARIOS)
def test_molecule_scenario(lab, scenario):
    lab.host("acme")  # the lab's emulators are up; their settings come from `axe lab env`
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    env = {**os.environ, **settings, **strategy_env(os.environ.get("AXE_STRATEGY") or "mitogen"),
           "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "ANSIBLE_FORCE_COLOR": "0", "NO_COLOR": "1"}
    run = subprocess.run([str(VENV_BIN / "molecule"), "test", "-s", scenario], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
