"""T18's version check reads `bw --version` once per CLI file (the real CLI takes seconds to start), and again
when the file changes; a known-bad version is refused with the pin named."""
from __future__ import annotations

import dataclasses
import os

import pytest

from axe import vault_session
from axe.errors import AxeError
from axe.settings import Settings


def fake_bw(path, version, calls):
    path.write_text(f"#!/bin/sh\necho x >> {calls}\necho {version}\n")
    path.chmod(0o755)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("AXE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("AXE_CONFIG", str(tmp_path / "none.env"))
    return dataclasses.replace(Settings.load(), bw=str(tmp_path / "bw"))


def test_the_version_is_read_once_per_cli_file(settings, tmp_path):
    calls = tmp_path / "calls"
    fake_bw(tmp_path / "bw", "2025.7.0", calls)
    assert vault_session.check_bw_version(settings) == "2025.7.0"
    assert vault_session.check_bw_version(settings) == "2025.7.0"
    assert calls.read_text().count("x") == 1
    fake_bw(tmp_path / "bw", "2026.9.0", calls)  # upgraded in place: a new file
    os.utime(tmp_path / "bw", ns=(1, 1))
    with pytest.raises(AxeError) as err:
        vault_session.check_bw_version(settings)
    assert "T18: bw 2026.9.0" in str(err.value) and "@bitwarden/cli@2025.7.0" in str(err.value)
    assert calls.read_text().count("x") == 2


def test_an_unreadable_version_is_never_remembered(settings, tmp_path):
    calls = tmp_path / "calls"
    fake_bw(tmp_path / "bw", "not-a-version", calls)
    for _ in range(2):
        with pytest.raises(AxeError):
            vault_session.check_bw_version(settings)
    assert calls.read_text().count("x") == 2
