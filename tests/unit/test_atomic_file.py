"""The one atomic file write (module_utils/atomic_file.py): the old file or the new one, never half, never a
temp file left by a failure; a dead writer's temp file is swept, a live one's kept."""
import os

import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file


def test_a_write_keeps_the_file_s_mode_and_leaves_nothing_beside_it(tmp_path):
    path = tmp_path / "release.json"
    path.write_text("old")
    path.chmod(0o600)
    atomic_file.write(str(path), "새 내용")
    assert path.read_text(encoding="utf-8") == "새 내용" and (path.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release.json"]
    atomic_file.write(str(tmp_path / "new.txt"), "x")
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "customers.yaml"
    path.write_text("old")

    def no_rename(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "rename", no_rename)
    with pytest.raises(OSError):
        atomic_file.write(str(path), "new")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["customers.yaml"]


def test_only_dead_writers_temps_are_swept(tmp_path):
    path = tmp_path / "customers.yaml"
    path.write_text("x")
    for pid in (111, 222):
        (tmp_path / f".customers.yaml.{pid}.tmp").write_text("half")
    atomic_file.sweep_dead_temps(str(path), alive=lambda pid: pid == 222)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".customers.yaml.222.tmp", "customers.yaml"]
