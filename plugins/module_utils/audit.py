# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer host's audit log: one JSON line per change the product made there (who, when, what, run id).

Two kinds of entry: every changing run on the host, as it takes and gives back the host's deploy lock (host_lock:
who, which run, for what), and, between them, every change of a service's release state (service_host.save_state:
a release gone live, a rollback, a release staged and stopped).

Kept on the host, `~/.axe/audit.jsonl`, so it is the host's own record whichever controller (an operator's `axe`,
AWX) made the change. Who and which run are read from the host's deploy lock (`~/.axe/lock/details.json`, written
by axelabs.onboard.host_lock), which every changing run holds while it changes anything. Lines are appended whole
(one write under flock, O_APPEND); past MAX_BYTES the oldest half is dropped, atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import json
import os
import time

from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file
from ansible_collections.axelabs.onboard.plugins.module_utils import release

AUDIT_LOG = "~/.axe/audit.jsonl"
HOST_LOCK = "~/.axe/lock"
MAX_BYTES = 1024 * 1024
TAIL_BYTES = 256 * 1024


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def holder(lock_dir=HOST_LOCK):
    """{who, run_id, purpose} of the run that holds the host's lock now; empty values when none does."""
    try:
        with open(os.path.join(os.path.expanduser(lock_dir), "details.json")) as fh:
            details = json.load(fh)
    except (IOError, OSError, ValueError):
        details = {}
    return {"who": details.get("holder") or "", "run_id": details.get("run_id") or "", "purpose": details.get("purpose") or ""}


def _release_words(rel):
    return "%s (%s)" % (rel.get("ref") or "?", release.tag(rel.get("commit")) or "?")


def transition(service, old, new):
    """What changed between two release states of `service`, as one sentence; None when nothing an operator asks
    about did (pure: unit-tested)."""
    old, new = old or {}, new or {}
    old_active, new_active = old.get("active"), new.get("active")
    old_live = (old.get("releases") or {}).get(old_active) or {}
    new_live = (new.get("releases") or {}).get(new_active) or {}
    if new_active and (new_active != old_active or new_live.get("commit") != old_live.get("commit")):
        was = "was %s in %s" % (_release_words(old_live), old_active) if old_active else "first release"
        return "%s %s live in %s (%s)" % (service, _release_words(new_live), new_active, was)
    old_staged, new_staged = old.get("staged") or {}, new.get("staged") or {}
    if new_staged and new_staged != old_staged:
        return "%s %s staged in %s beside the live release" % (service, _release_words(new_staged), new_staged.get("slot"))
    if old_staged and not new_staged:
        still = _release_words(new_live) if new_active else "nothing"
        return "%s staged %s in %s stopped; %s still live" % (service, _release_words(old_staged), old_staged.get("slot"), still)
    return None


def record(service, what, path=AUDIT_LOG, lock_dir=HOST_LOCK, who=None):
    """Append one entry; never raises (the audit log must not fail a change that happened). `who`: {who, run_id,
    purpose} when it is not the lock's holder (a lock released by force is released by someone else)."""
    entry = dict(who or holder(lock_dir), at=_now(), service=service, what=what)
    target = os.path.expanduser(path)
    try:
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size > MAX_BYTES:
                with open(target, "rb") as fh:
                    kept = fh.read()[-(MAX_BYTES // 2):]
                kept = kept[kept.find(b"\n") + 1:]
                atomic_file.write(target, kept.decode("utf-8", "replace"), 0o600)
                os.close(fd)
                fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
            line = (json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a write cut short before: this entry starts on a line of its own
            os.write(fd, line)
        finally:
            os.close(fd)
    except (IOError, OSError):
        return False
    return True


def tail(lines, path=AUDIT_LOG):
    """The newest `lines` entries, oldest first; lines that are not JSON are skipped (a torn write, a hand edit)."""
    target = os.path.expanduser(path)
    try:
        with open(target, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - TAIL_BYTES))
            data = fh.read()
    except (IOError, OSError):
        return []
    if size > TAIL_BYTES:
        data = data[data.find(b"\n") + 1:]
    entries = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries[-lines:] if lines > 0 else []
