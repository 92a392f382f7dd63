"""The backup agent's decisions without a host: restic's times, staleness past the setting, failed runs as findings,
next steps with the customer's id, a verify that does not match, and the catalogue's backup view. Only restic's and
docker's answers are canned (the Host class below the agent's logic); the lab tests run the real programs."""
from __future__ import annotations

import datetime
import importlib.util
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("axe_backup", ROOT / "roles/backup/files/axe_backup.py")
agent = importlib.util.module_from_spec(spec)
spec.loader.exec_module(agent)


class CannedHost:
    """restic's answers by subcommand, as the real one prints them with --json."""

    def __init__(self, snapshots, stats=None, manifest=None):
        self.answers = {"snapshots": json.dumps(snapshots), "stats": json.dumps(stats or {}),
                        "dump": json.dumps(manifest or {"sources": {}})}

    def restic(self, *args, check=True, **kw):
        return subprocess.CompletedProcess(args, 0, self.answers[args[0]].encode(), b"")


def config(tmp_path, **extra):
    repo = tmp_path / "local"
    repo.mkdir(parents=True)
    (repo / "config").write_text("restic")
    return dict({"customer": "acme", "dir": str(tmp_path), "repository": str(repo), "stale_hours": 26,
                 "sources": [{"service": "frame", "kind": "postgres"}]}, **extra)


def ago(hours):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


@pytest.mark.parametrize("text, expected", [
    ("2026-11-29T00:22:04.123456789Z", "2026-11-29T00:22:04Z"),
    ("2026-11-29T09:22:04.5+09:00", "2026-11-29T00:22:04Z"),
    ("2026-11-29T00:22:04Z", "2026-11-29T00:22:04Z"),
])
def test_restic_times_with_nanoseconds_and_offsets(text, expected):
    assert agent.stamp(agent.parse_time(text)) == expected


def test_an_unexpected_time_is_an_error_not_a_guess():
    with pytest.raises(ValueError):
        agent.parse_time("yesterday")


def test_a_fresh_snapshot_has_no_finding_and_says_what_it_holds(tmp_path):
    holds = {"frame": {"kind": "postgres", "file": "dump.sql", "counts": {"entities": 2}}}
    host = CannedHost([{"time": ago(2), "short_id": "abcd1234", "tags": ["axe", "scheduled"]}],
                      {"total_size": 2048, "total_file_count": 5}, {"sources": holds})
    result = agent.cmd_status(config(tmp_path), host)
    assert result["findings"] == []
    assert result["latest"]["id"] == "abcd1234" and 1.9 < result["latest"]["age_hours"] < 2.1
    assert result["latest"]["holds"] == holds and result["latest"]["size_bytes"] == 2048


def test_a_snapshot_older_than_the_setting_is_stale(tmp_path):
    host = CannedHost([{"time": ago(30), "short_id": "old00001"}, {"time": ago(40), "short_id": "old00002"}])
    result = agent.cmd_status(config(tmp_path), host)
    assert result["latest"]["id"] == "old00001"  # the newest, whatever order restic lists them in
    [finding] = result["findings"]
    assert "30.0 h old (stale past 26 h)" in finding["problem"]
    assert finding["next"].endswith("axe backup acme --now --apply")
    assert agent.cmd_status(dict(config(tmp_path / "other"), stale_hours=48), host)["findings"] == []


def test_no_repository_and_a_failed_last_run_are_findings_with_the_customer_s_id(tmp_path):
    cfg = config(tmp_path)
    (tmp_path / "local" / "config").unlink()
    agent.write_json(str(tmp_path / "last-run.json"), {"ok": False, "started": "2026-11-28T03:15:00Z",
                                                       "error": "frame-postgres is not running",
                                                       "next": "axe deploy frame CUSTOMER --apply"})
    result = agent.cmd_status(cfg, CannedHost([]))
    assert result["initialised"] is False
    assert [f["next"] for f in result["findings"]] == ["axe backup acme --now --apply", "axe deploy frame acme --apply"]


def test_a_verify_that_does_not_match_names_what_differs(tmp_path):
    db = tmp_path / "data.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE entities (id TEXT)")
    conn.execute("INSERT INTO entities VALUES ('a')")
    conn.commit()
    conn.close()
    stage = tmp_path / "stage"
    (stage / "hive").mkdir(parents=True)
    db.rename(stage / "hive" / "data.db")
    check = agent.verify_source({"customer": "acme"}, None, str(stage), {"service": "hive", "kind": "sqlite",
                                                                          "tables": ["entities"]},
                                {"file": "data.db", "counts": {"entities": 2}})
    assert check == {"service": "hive", "counts": {"entities": 1}, "expected": {"entities": 2}, "ok": False}


def test_a_corrupt_sqlite_copy_does_not_load(tmp_path):
    bad = tmp_path / "data.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises((agent.Failed, sqlite3.DatabaseError)):
        agent.sqlite_counts(str(bad), ["entities"])


def test_the_catalogue_s_backup_view_is_each_service_s_data():
    import sys
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    sources = {s["service"]: s for s in catalogue.backups(catalogue.load())}
    assert sources["frame"]["kind"] == "postgres" and sources["frame"]["volume"] == "frame-pgdata"
    assert sources["hive"]["containers"] == ["hive-mcp-blue", "hive-mcp-green"]  # from its slots, not repeated
    assert sources["vault"] == {"service": "vault", "kind": "directory", "path": "~/.axe/vault/data",
                                "container": "axe-vaultwarden"}
    assert all(s["kind"] in agent.DUMPERS and s["kind"] in agent.RESTORERS for s in sources.values())


def test_the_sqlite_copy_a_container_runs_dumps_and_restores_with_the_paths_swapped(tmp_path):
    """SQLITE_COPY is what `docker exec CONTAINER python3 -c` runs for a dump (live -> copy) and a restore (copy ->
    live): run here by a python3 the same way, the restore replaces what the live file holds."""
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    with sqlite3.connect(live) as db:
        db.execute("CREATE TABLE entities (id TEXT)")
        db.executemany("INSERT INTO entities VALUES (?)", [("acme-kr",), ("acme-us",)])
    subprocess.run([sys.executable, "-c", agent.SQLITE_COPY, str(live), str(copy)], check=True)
    with sqlite3.connect(live) as db:  # the service wrote on after the dump
        db.execute("DELETE FROM entities")
        db.execute("INSERT INTO entities VALUES ('late')")
    subprocess.run([sys.executable, "-c", agent.SQLITE_COPY, str(copy), str(live)], check=True)
    assert agent.sqlite_counts(str(live), ["entities"]) == {"entities": 2}
    with sqlite3.connect(live) as db:
        assert sorted(r[0] for r in db.execute("SELECT id FROM entities")) == ["acme-kr", "acme-us"]
