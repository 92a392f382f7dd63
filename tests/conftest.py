"""Shared fixtures. The lab fixture lives in tests/helpers/lab.py (read it before writing a lab test)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from helpers.lab import ROOT, LabSession


def _docker_answers() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    # No Docker is a setup failure, never a reason to skip: scripts/test.sh starts an engine.
    assert _docker_answers(), "no Docker engine answers: run scripts/test.sh (it installs and starts one)"
    # getbasetemp() is the worker's own under xdist; its parent is the run's, shared by all workers.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    session = LabSession(tmp_path_factory.mktemp("lab"), shared / "lab-images")
    yield session
    session.close()


@pytest.fixture(scope="session")
def repo_root():
    return ROOT


# Property and fuzz tests: random locally (to keep finding new cases), derandomized in CI so a
# run's verdict does not depend on luck. Failures found locally are kept in .hypothesis/.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
import os as _os  # noqa: E402

if _os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
