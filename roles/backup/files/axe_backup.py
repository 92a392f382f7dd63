# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup agent: the customer's data into restic, on the customer's Mac mini (installed by the backup role as
~/.axe/backups/axe_backup.py, always started as `/usr/bin/python3 axe_backup.py COMMAND`).

    run [--tag TAG]            dump each database consistently, back it up with restic, apply retention
    status                     the last snapshot, its age, size and what it holds; the last run and verify
    verify                     restore the latest snapshot into scratch and prove the databases load
    restore SERVICE [--dry-run]   put one service's data back from the latest snapshot

Each prints one JSON object on stdout (exit 0 done, 1 failed: `error` and `next` say why and what to do).
launchd runs `run` on the schedule (LaunchAgent ai.axelabs.backup); `axe backup` runs every command over SSH.
The settings are config.json beside this file (the role writes it; no secret in it): the restic password is
read by restic itself from its password file (mode 600), never put on a command line.

Databases are never copied live: postgres through pg_dump (one transaction, a consistent snapshot), sqlite
through its backup API (a consistent copy) made inside the service's container. Stdlib only: this runs with the
host's python3, outside Ansible.
"""
import contextlib
import datetime
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRATCH_PREFIX = "axe-verify-"


class Failed(Exception):
    def __init__(self, message, next_step=""):
        Exception.__init__(self, message)
        self.next_step = next_step


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(moment=None):
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_config(path=None):
    with open(path or os.path.join(HERE, "config.json")) as fh:
        return json.load(fh)


class Host(object):
    """What the agent runs on the host: docker and restic with the configured PATH and repository."""

    def __init__(self, config):
        self.config = config
        self.env = dict(os.environ, PATH=config["path"], RESTIC_REPOSITORY=config["repository"],
                        RESTIC_PASSWORD_FILE=config["password_file"],
                        RESTIC_CACHE_DIR=os.path.join(config["dir"], "cache"))
        self.env.pop("RESTIC_PASSWORD", None)  # only the password file, never the environment

    def run(self, argv, stdin=None, stdout=None, check=True, timeout=1800, env=None):
        proc = subprocess.run(argv, env=dict(self.env, **(env or {})), stdin=stdin if stdin is not None else subprocess.DEVNULL,
                              stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise Failed("%s failed (exit %d): %s" % (" ".join(argv[:3]), proc.returncode, err[-1] if err else "no output"))
        return proc

    def docker(self, *args, **kw):
        return self.run(["docker"] + list(args), **kw)

    def restic(self, *args, **kw):
        return self.run(["restic"] + list(args), **kw)

    def running(self, name):
        proc = self.docker("inspect", "--format", "{{.State.Running}}", name, check=False)
        return proc.returncode == 0 and proc.stdout.strip() == b"true"

    def first_running(self, names):
        for name in names:
            if self.running(name):
                return name
        return None


@contextlib.contextmanager
def agent_lock(config):
    """One agent command at a time per host (launchd's schedule and an operator's `axe backup` may meet)."""
    path = os.path.join(config["dir"], ".agent.lock")
    with open(path, "a+") as fh:
        deadline = time.monotonic() + config.get("lock_wait", 600)
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise Failed("another backup agent command is still running on this host",
                                 "wait for it (see %s/logs) and run the command again" % config["dir"])
                time.sleep(1)
        yield


def write_json(path, data):
    """Atomically: a reader never sees half a file, a kill leaves the previous one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


# ---- dumps: each source kind, consistently -------------------------------------------------------------------

def sqlite_counts(path, tables):
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise Failed("%s does not load: integrity_check says %s" % (os.path.basename(path), check))
        return {t: conn.execute('SELECT count(*) FROM "%s"' % t.replace('"', '""')).fetchone()[0] for t in tables}
    finally:
        conn.close()


def pg_exec(source, password_env=None):
    """psql/pg_dump inside the database container, with the password the container already holds in its env."""
    pw = password_env or source["password_env"]
    return ["sh", "-c", 'PGPASSWORD="$%s" exec "$0" "$@"' % pw]


def pg_counts(host, container, source):
    counts = {}
    for table in source["tables"]:
        out = host.docker("exec", container, *pg_exec(source), source["bin"] + "/psql", "-h", "127.0.0.1", "-U",
                          source["user"], "-d", source["database"], "-tAc", 'SELECT count(*) FROM "%s"' % table).stdout
        counts[table] = int(out.decode().strip())
    return counts


def dump_postgres(host, source, dest):
    """pg_dump is one consistent snapshot; the counts are taken before and after it and must agree, so they are
    the dump's (a write in between makes it try again, at most three times)."""
    container = source["container"]
    if not host.running(container):
        raise Failed("%s is not running: %s's database cannot be dumped" % (container, source["service"]),
                     "axe deploy %s CUSTOMER --apply, or axe backup restore CUSTOMER --service %s --apply if its data "
                     "is gone" % (source["service"], source["service"]))
    for attempt in range(3):
        before = pg_counts(host, container, source)
        with open(dest, "wb") as out:
            host.docker("exec", container, *pg_exec(source), source["bin"] + "/pg_dump", "-h", "127.0.0.1", "-U",
                        source["user"], "--no-owner", source["database"], stdout=out)
        after = pg_counts(host, container, source)
        if before == after:
            return after
    raise Failed("%s's rows kept changing during three dumps" % source["service"], "run the backup again later")


# Run by the container's own python3 (the database file is in its volume): copies the database at argv[1] into
# argv[2] through sqlite's backup API, which is consistent while the service writes. A dump and a restore differ
# only in which path is which.
SQLITE_COPY = ("import sqlite3,sys\ns=sqlite3.connect(sys.argv[1],timeout=30)\nd=sqlite3.connect(sys.argv[2],timeout=30)\n"
               "s.backup(d)\nd.close()\ns.close()\n")


def dump_sqlite(host, source, dest):
    """The backup API inside the container (the file is the container's volume), then out with docker cp."""
    container = host.first_running(source["containers"])
    if container is None:
        raise Failed("none of %s is running: %s's database cannot be copied" % (", ".join(source["containers"]),
                     source["service"]), "axe deploy %s CUSTOMER --apply" % source["service"])
    inside = "/tmp/axe-backup-%s.db" % source["service"]
    host.docker("exec", container, "python3", "-c", SQLITE_COPY, source["path"], inside)
    try:
        host.docker("cp", "%s:%s" % (container, inside), dest)
    finally:
        host.docker("exec", container, "rm", "-f", inside, check=False)
    return sqlite_counts(dest, source["tables"])


def copy_directory(host, source, dest):
    """A data directory: its sqlite files through the backup API, the rest as files."""
    src = os.path.expanduser(source["path"])
    if not os.path.isdir(src):
        raise Failed("%s's data directory %s does not exist" % (source["service"], src),
                     "axe deploy %s CUSTOMER --apply" % source["service"])
    files = 0
    for root, dirs, names in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for name in names:
            if name.endswith(("-wal", "-shm", "-journal")):
                continue  # part of a sqlite database, copied through it
            s, d = os.path.join(root, name), os.path.join(dest, rel, name)
            if name.endswith((".sqlite3", ".db")):
                a, b = sqlite3.connect(s, timeout=30), sqlite3.connect(d)
                a.backup(b)
                b.close()
                a.close()
            else:
                shutil.copy2(s, d)
            files += 1
    return {"files": files}


DUMPERS = {"postgres": dump_postgres, "sqlite": dump_sqlite, "directory": copy_directory}
FILES = {"postgres": "dump.sql", "sqlite": "data.db", "directory": "data"}


def staging_dir(config):
    return os.path.join(config["dir"], "staging")


def cmd_run(config, host, tag="scheduled"):
    started = now()
    record = {"started": stamp(started), "tag": tag, "ok": False}
    try:
        stage = staging_dir(config)
        shutil.rmtree(stage, ignore_errors=True)  # what a killed run left
        os.makedirs(stage, mode=0o700)
        manifest = {"customer": config["customer"], "taken_at": stamp(), "sources": {}}
        for source in config["sources"]:
            dest = os.path.join(stage, source["service"])
            os.makedirs(dest, mode=0o700)
            target = os.path.join(dest, FILES[source["kind"]])
            counts = DUMPERS[source["kind"]](host, source, target)
            manifest["sources"][source["service"]] = {"kind": source["kind"], "file": FILES[source["kind"]],
                                                      "counts": counts}
        write_json(os.path.join(stage, "manifest.json"), manifest)
        out = host.restic("backup", "--json", "--host", config["customer"], "--tag", "axe", "--tag", tag, stage).stdout
        summary = [json.loads(line) for line in out.decode().splitlines() if '"summary"' in line][-1]
        retention = []
        for key, value in sorted(config["retention"].items()):
            retention += ["--%s" % key.replace("_", "-"), str(value)]
        host.restic("forget", "--host", config["customer"], "--tag", "axe", "--prune", *retention)
        record.update(ok=True, snapshot=summary["snapshot_id"][:8], bytes=summary.get("total_bytes_processed"),
                      added=summary.get("data_added"), sources=manifest["sources"])
        return record
    except Failed as exc:
        record.update(error=str(exc), next=exc.next_step)
        raise
    finally:
        record["finished"] = stamp()
        record["seconds"] = round((now() - started).total_seconds(), 1)
        write_json(os.path.join(config["dir"], "last-run.json"), record)
        shutil.rmtree(staging_dir(config), ignore_errors=True)


# ---- what the repository holds ------------------------------------------------------------------------------

def snapshots(config, host):
    if not os.path.exists(os.path.join(config["repository"], "config")):
        return None
    out = host.restic("snapshots", "--json", "--host", config["customer"], "--tag", "axe").stdout
    return sorted(json.loads(out or b"[]"), key=lambda s: s["time"])


def parse_time(value):
    """restic's RFC 3339 times carry nanoseconds and an offset; Python's parser takes microseconds."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", value)
    if not match:
        raise ValueError("unexpected time from restic: %r" % value)
    base, frac, zone = match.groups()
    text = base + ("." + frac[:6].ljust(6, "0") if frac else "") + ("+00:00" if zone == "Z" else zone)
    return datetime.datetime.fromisoformat(text).astimezone(datetime.timezone.utc)


def restore_latest(config, host, target, include=None):
    args = ["restore", "latest", "--host", config["customer"], "--tag", "axe", "--target", target]
    if include:
        args += ["--include", include]
    host.restic(*args)
    stage = os.path.join(target, staging_dir(config).lstrip("/"))
    manifest = read_json(os.path.join(stage, "manifest.json"))
    if manifest is None:
        raise Failed("the latest snapshot has no manifest.json", "axe backup CUSTOMER --now --apply, then verify")
    return stage, manifest


def named(config, findings):
    """Next steps as the operator types them: the customer's id where a message says CUSTOMER."""
    return [dict(f, next=f["next"].replace("CUSTOMER", config["customer"])) for f in findings]


def cmd_status(config, host):
    snaps = snapshots(config, host)
    result = {"repository": config["repository"], "initialised": snaps is not None, "snapshots": len(snaps or []),
              "last_run": read_json(os.path.join(config["dir"], "last-run.json")),
              "last_verify": read_json(os.path.join(config["dir"], "last-verify.json")),
              "stale_hours": config["stale_hours"], "findings": []}
    if snaps:
        latest = snaps[-1]
        age = (now() - parse_time(latest["time"])).total_seconds() / 3600.0
        stats = json.loads(host.restic("stats", "latest", "--json", "--host", config["customer"], "--tag", "axe").stdout)
        result["latest"] = {"id": latest["short_id"], "time": stamp(parse_time(latest["time"])), "age_hours": round(age, 2),
                            "tags": latest.get("tags", []), "size_bytes": stats.get("total_size"),
                            "files": stats.get("total_file_count")}
        dumped = host.restic("dump", "latest", os.path.join(staging_dir(config), "manifest.json"), "--host",
                             config["customer"], "--tag", "axe", check=False)
        if dumped.returncode == 0:
            result["latest"]["holds"] = json.loads(dumped.stdout.decode())["sources"]
        if age > config["stale_hours"]:
            result["findings"].append({"problem": "the latest snapshot is %.1f h old (stale past %d h)"
                                                  % (age, config["stale_hours"]),
                                       "next": "axe backup status CUSTOMER shows the last run's error; "
                                               "axe backup CUSTOMER --now --apply"})
    else:
        result["findings"].append({"problem": "no snapshot yet", "next": "axe backup CUSTOMER --now --apply"})
    last = result["last_run"]
    if last and not last.get("ok"):
        result["findings"].append({"problem": "the last backup run (%s) failed: %s" % (last.get("started"), last.get("error")),
                                   "next": last.get("next") or "axe backup CUSTOMER --now --apply"})
    result["findings"] = named(config, result["findings"])
    return result


# ---- the proof: restore into scratch ----------------------------------------------------------------------------

def scratch_name(config, service):
    return "%s%s-%s" % (SCRATCH_PREFIX, config["customer"], service)


def remove_scratch(config, host):
    for source in config["sources"]:
        host.docker("rm", "-f", "-v", scratch_name(config, source["service"]), check=False)


def wait_postgres(host, container, source, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = host.docker("exec", container, *pg_exec(source), source["bin"] + "/psql", "-h", "127.0.0.1", "-U",
                           source["user"], "-d", source["database"], "-tAc", "SELECT 1", check=False)
        if proc.returncode == 0:
            return
        if not host.running(container):
            break
        time.sleep(1)
    raise Failed("postgres in %s did not accept connections in %d s" % (container, timeout),
                 "docker logs %s on the host says why" % container)


def load_postgres(host, container, source, dump):
    with open(dump, "rb") as fh:
        host.docker("exec", "-i", container, *pg_exec(source), source["bin"] + "/psql", "-q", "-h", "127.0.0.1",
                    "-U", source["user"], "-d", source["database"], "-v", "ON_ERROR_STOP=1", stdin=fh)


def verify_source(config, host, stage, source, taken):
    path = os.path.join(stage, source["service"], taken["file"])
    if source["kind"] == "postgres":
        name = scratch_name(config, source["service"])
        # A scratch postgres of the service's own image, on no network, with a throwaway password of its own.
        host.docker("run", "-d", "--name", name, "--network", "none", "-e", source["password_env"], source["image"],
                    env={source["password_env"]: secrets.token_urlsafe(24)})
        try:
            wait_postgres(host, name, source)
            load_postgres(host, name, source, path)
            counts = pg_counts(host, name, source)
        finally:
            host.docker("rm", "-f", "-v", name, check=False)
    elif source["kind"] == "sqlite":
        counts = sqlite_counts(path, source["tables"])
    else:
        counts = {"files": sum(len(walked[2]) for walked in os.walk(path))}
    return {"service": source["service"], "counts": counts, "expected": taken["counts"], "ok": counts == taken["counts"]}


def cmd_verify(config, host):
    started = now()
    snaps = snapshots(config, host)
    if not snaps:
        raise Failed("there is no snapshot to verify", "axe backup CUSTOMER --now --apply")
    record = {"started": stamp(started), "snapshot": snaps[-1]["short_id"], "ok": False}
    scratch = tempfile.mkdtemp(prefix="verify-", dir=config["dir"])
    try:
        remove_scratch(config, host)  # what a killed verify left
        stage, manifest = restore_latest(config, host, scratch)
        record["taken_at"] = manifest["taken_at"]
        checks = [verify_source(config, host, stage, s, manifest["sources"][s["service"]])
                  for s in config["sources"] if s["service"] in manifest["sources"]]
        missing = [s["service"] for s in config["sources"] if s["service"] not in manifest["sources"]]
        record.update(checks=checks, missing=missing, ok=all(c["ok"] for c in checks) and not missing)
        if not record["ok"]:
            bad = ["%s: %s restored, %s at snapshot time" % (c["service"], c["counts"], c["expected"])
                   for c in checks if not c["ok"]] + ["%s: not in the snapshot" % m for m in missing]
            record["error"] = "the restore does not match: " + "; ".join(bad)
        return record
    finally:
        record["seconds"] = round((now() - started).total_seconds(), 1)
        record["verified_at"] = stamp()
        write_json(os.path.join(config["dir"], "last-verify.json"), record)
        remove_scratch(config, host)
        shutil.rmtree(scratch, ignore_errors=True)


# ---- restore: one service's data back in place -------------------------------------------------------------------

def restore_postgres(config, host, source, dump, dry_run):
    live = host.running(source["container"])
    plan = {"replaces": "volume %s" % source["volume"], "database_running": live}
    if dry_run:
        return plan
    if live:
        # Nothing is lost: what the database holds now goes into a snapshot of its own before it is replaced.
        try:
            plan["before_restore_snapshot"] = cmd_run(config, host, tag="before-restore")["snapshot"]
        except Failed as exc:
            raise Failed("the database still runs and could not be backed up first: %s" % exc,
                         "fix that, or stop %s if its data is known bad, then restore again" % source["container"])
    host.docker("rm", "-f", source["container"], check=False)
    host.docker("volume", "rm", source["volume"], check=False)
    host.docker("volume", "create", source["volume"])
    host.run([os.path.join(config["launchers"], "axe-" + source["service"]), "up", "-d", "--no-deps", "--no-build", source["container"]])
    wait_postgres(host, source["container"], source)
    load_postgres(host, source["container"], source, dump)
    return plan


def restore_sqlite(config, host, source, copy, dry_run):
    container = host.first_running(source["containers"])
    plan = {"replaces": source["path"], "through": container}
    if dry_run:
        return plan
    if container is None:
        raise Failed("none of %s runs to restore %s into" % (", ".join(source["containers"]), source["path"]),
                     "axe deploy %s CUSTOMER --apply, then restore again" % source["service"])
    inside = "/tmp/axe-restore-%s.db" % source["service"]
    host.docker("cp", copy, "%s:%s" % (container, inside))
    try:
        host.docker("exec", container, "python3", "-c", SQLITE_COPY, inside, source["path"])
    finally:
        host.docker("exec", container, "rm", "-f", inside, check=False)
    return plan


def restore_directory(config, host, source, copy, dry_run):
    path = os.path.expanduser(source["path"])
    aside = "%s.before-restore-%s" % (path, now().strftime("%Y%m%dT%H%M%S"))
    plan = {"replaces": path, "keeps_previous_at": aside}
    if dry_run:
        return plan
    host.docker("stop", source["container"], check=False)
    if os.path.exists(path):
        os.rename(path, aside)
    shutil.copytree(copy, path)
    host.docker("start", source["container"])
    return plan


RESTORERS = {"postgres": restore_postgres, "sqlite": restore_sqlite, "directory": restore_directory}


def cmd_restore(config, host, service, dry_run=False):
    source = next((s for s in config["sources"] if s["service"] == service), None)
    if source is None:
        raise Failed("%s is not backed up here (backed up: %s)" % (service, ", ".join(s["service"] for s in config["sources"])),
                     "give one of those to --service")
    snaps = snapshots(config, host)
    if not snaps:
        raise Failed("there is no snapshot to restore from", "nothing was changed")
    scratch = tempfile.mkdtemp(prefix="restore-", dir=config["dir"])
    try:
        stage, manifest = restore_latest(config, host, scratch)
        taken = manifest["sources"].get(service)
        if taken is None:
            raise Failed("the latest snapshot holds no %s data" % service, "nothing was changed")
        copy = os.path.join(stage, service, taken["file"])
        plan = RESTORERS[source["kind"]](config, host, source, copy, dry_run)
        result = {"service": service, "snapshot": snaps[-1]["short_id"], "taken_at": manifest["taken_at"],
                  "expected": taken["counts"], "dry_run": dry_run, "changed": not dry_run}
        result.update(plan)
        if not dry_run and source["kind"] == "postgres":
            result["counts"] = pg_counts(host, source["container"], source)
            result["ok"] = result["counts"] == taken["counts"]
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv):
    config = load_config(os.environ.get("AXE_BACKUP_CONFIG"))
    host = Host(config)
    command = argv[0] if argv else ""

    def stop(signum, frame):  # launchd's SIGTERM and Ctrl-C: the finally blocks remove staging and scratch
        raise Failed("stopped by signal %d" % signum, "run the command again")
    signal.signal(signal.SIGTERM, stop)
    try:
        with agent_lock(config):
            if command == "run":
                tag = argv[argv.index("--tag") + 1] if "--tag" in argv else "scheduled"
                result = cmd_run(config, host, tag)
            elif command == "status":
                result = cmd_status(config, host)
            elif command == "verify":
                result = cmd_verify(config, host)
            elif command == "restore" and len(argv) >= 2:
                result = cmd_restore(config, host, argv[1], "--dry-run" in argv)
            else:
                raise Failed("usage: axe_backup.py run|status|verify|restore SERVICE [--dry-run]")
    except Failed as exc:
        next_step = exc.next_step.replace("CUSTOMER", config["customer"])  # printed as the operator types it
        print(json.dumps({"ok": False, "error": str(exc), "next": next_step}, ensure_ascii=False))
        return 1
    except (subprocess.TimeoutExpired, OSError, ValueError, KeyError) as exc:
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(exc).__name__, exc), "next": ""}, ensure_ascii=False))
        return 1
    print(json.dumps(dict({"ok": True}, **result), ensure_ascii=False))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
