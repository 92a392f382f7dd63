#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_lock
short_description: Take, inspect or release the customer host's deploy lock
version_added: 0.1.0
description:
  - One changing run per customer host at a time. The lock is a directory made atomically with C(mkdir), holding
    a C(details.json) that says who holds it, since when, for what, under which run id, and the holder's process
    (machine, pid and the pid's start time) on the operator's machine.
  - Re-entrant by run id - taking a lock the same run already holds succeeds with RV(acquired=false), so a step
    inside a longer run (a service inside the whole D-day) knows the lock is not its own to give back.
  - A lock held by another run is waited for up to O(wait) seconds, then the module fails naming the holder and
    the command that shows and clears it. A lock whose holder ran on this same operator machine and no longer
    runs is provably stale - it is taken over, with a warning that says so. A lock from another machine is
    never taken over; only O(state=released) with O(force=true) removes it.
  - In check mode nothing is written; a lock held by another run is reported as a warning (stale or not).
  - Taking the lock and giving it back (or releasing another's by force) each add an entry to the host's audit log
    (C(~/.axe/audit.jsonl)) - who, which run, for what - so every changing run on the host is recorded.
  - The action plugin of the same name fills in the holder's process on the controller, checks staleness there
    and returns RV(stale); the module's own part runs on the host.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  state:
    description:
      - C(acquired) takes the lock, C(released) gives it back (only when this run holds it, unless O(force)),
        C(inspected) only reports it.
    type: str
    choices: [acquired, released, inspected]
    default: acquired
  path:
    description: The lock directory on the host.
    type: path
    default: ~/.axe/lock
  run_id:
    description: This run's id; the same id may take the lock again.
    type: str
    required: true
  holder:
    description: Who runs (e.g. C(operator@laptop)).
    type: str
    default: unknown
  purpose:
    description: What the run does (e.g. C(axe onboard acme)).
    type: str
    default: ""
  wait:
    description: Seconds to wait for another run's lock before failing.
    type: int
    default: 0
  force:
    description: With O(state=released), remove the lock whoever holds it (for a run that died holding it).
    type: bool
    default: false
  owner:
    description:
      - The holder's process on the operator's machine (C(machine), C(pid), C(started)). Filled in by the action
        plugin; give it only when calling the module part directly.
    type: dict
  takeover:
    description:
      - The run id of a lock the controller proved stale; with O(state=acquired) that lock (and only while it is
        still that run's) is replaced by this run's. Set by the action plugin.
    type: str
  report_held:
    description: With O(state=acquired), return RV(held) instead of waiting or failing when another run holds it.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Take the host's lock (waiting up to 5 minutes for another run)
  axelabs.onboard.host_lock:
    run_id: "{{ axe_run_id }}"
    holder: ops@laptop
    purpose: axe onboard acme
    wait: 300
  register: lock

- name: Give it back, only if this step took it (or the step failed)
  axelabs.onboard.host_lock:
    state: released
    run_id: "{{ axe_run_id }}"
  when: lock.acquired or inventory_hostname not in ansible_play_hosts

- name: Who holds the lock, and is the holder provably gone?
  axelabs.onboard.host_lock:
    state: inspected
    run_id: lock-status
  register: lock_now
"""

RETURN = r"""
holder:
  description: The lock's details after the call (empty when released or free).
  returned: always
  type: dict
  sample:
    run_id: 20261124T101500-dday-3f2a1c
    holder: ops@laptop
    purpose: axe deploy customer acme
    since: "2026-11-24T10:15:00+0000"
    owner: {machine: laptop/4f2c9a0e1b7d3c55, pid: 4242, started: "ticks:1234567"}
acquired:
  description: With O(state=acquired), whether this call took the lock (false when this run already held it).
  returned: always
  type: bool
held:
  description: Another run's lock details, with O(report_held=true) when another run holds it (else empty).
  returned: always
  type: dict
stale:
  description: Whether the lock's holder is provably gone (set by the action plugin on the controller).
  returned: always
  type: bool
stale_reason:
  description: Why the holder is provably gone, or empty.
  returned: always
  type: str
"""

import errno
import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file
from ansible_collections.axelabs.onboard.plugins.module_utils import audit
from ansible_collections.axelabs.onboard.plugins.module_utils.audit import HOST_LOCK

NO_DETAILS = {"run_id": "", "holder": "unknown (no details)", "purpose": "", "since": ""}


def read(path):
    try:
        with open(os.path.join(path, "details.json")) as fh:
            return json.load(fh)
    except (IOError, OSError, ValueError):
        return dict(NO_DETAILS)


def describe(details):
    return "%s since %s for %r (run %s)" % (details.get("holder"), details.get("since"), details.get("purpose"),
                                            details.get("run_id"))


def write_details(path, details):
    atomic_file.write(os.path.join(path, "details.json"), json.dumps(details), 0o600)


def take_over(path, stale_run_id, mine):
    """Replace a stale lock with ours, atomically: the stale directory is renamed away first, so two runs
    taking over at once cannot both win (only one rename succeeds), then ours is made as usual."""
    details = read(path)
    if details.get("run_id") != stale_run_id:
        return False  # it changed hands since the controller looked: look again
    grave = "%s.stale-%s-%d" % (path, int(time.time()), os.getpid())
    try:
        os.rename(path, grave)
    except OSError:
        return False
    shutil.rmtree(grave, ignore_errors=True)
    # The audit log keeps that a run ended without giving the lock back (interrupted, killed) and who took it over.
    audit.record("", "took over the deploy lock of %s: that run had ended without giving it back" % describe(details),
                 who={"who": mine.get("holder") or "", "run_id": mine.get("run_id") or "", "purpose": mine.get("purpose") or ""})
    return True


def release(module, path, run_id, force, holder_of_force="unknown"):
    if not os.path.isdir(path):
        module.exit_json(changed=False, holder={}, acquired=False, held={})
    details = read(path)
    if details.get("run_id") != run_id and not force:
        module.exit_json(changed=False, holder=details, acquired=False, held={}, msg="held by another run; left alone")
    if not module.check_mode:
        if details.get("run_id") == run_id:
            audit.record("", "gave the host's deploy lock back (%s)" % details.get("purpose"), lock_dir=path)
        else:
            audit.record("", "released the deploy lock of %s by force" % describe(details),
                         who={"who": holder_of_force, "run_id": run_id, "purpose": "axe lock release"})
        shutil.rmtree(path)
    module.exit_json(changed=True, holder={}, released=details, acquired=False, held={})


def acquire(module, p, mine):
    path = p["path"]
    parent = os.path.dirname(path)
    if p["takeover"] and not module.check_mode:
        take_over(path, p["takeover"], mine)
    deadline = time.time() + max(0, p["wait"])
    while True:
        if os.path.isdir(path):
            details = read(path)
            if details.get("run_id") == p["run_id"]:
                module.exit_json(changed=False, holder=details, acquired=False, held={})
            if p["report_held"] or module.check_mode:
                module.exit_json(changed=False, holder=details, acquired=False, held=details)
            if time.time() >= deadline:
                module.fail_json(msg="the host is locked by %s" % describe(details), holder=details, held=details,
                                 acquired=False)
            time.sleep(1)
            continue
        if module.check_mode:
            module.exit_json(changed=True, holder=mine, acquired=True, held={})
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o700)
            os.mkdir(path, 0o700)  # atomic: exactly one run makes it
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue  # another run made it between our look and our mkdir: look again
            # Anything else (a ~/.axe made by root, a full disk) will not go away by trying again.
            module.fail_json(msg="cannot create the deploy lock %s: %s" % (path, exc.strerror), acquired=False,
                             next_step="%s must be a directory the SSH user owns and can write "
                                       "(e.g. sudo chown -R $(id -un) %s on the host), then run again" % (parent, parent))
        write_details(path, mine)
        audit.record("", "took the host's deploy lock (%s)" % mine["purpose"], lock_dir=path)
        module.exit_json(changed=True, holder=mine, acquired=True, held={})


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["acquired", "released", "inspected"], default="acquired"),
            path=dict(type="path", default=HOST_LOCK),
            run_id=dict(type="str", required=True),
            holder=dict(type="str", default="unknown"),
            purpose=dict(type="str", default=""),
            wait=dict(type="int", default=0),
            force=dict(type="bool", default=False),
            owner=dict(type="dict"),
            takeover=dict(type="str"),
            report_held=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "inspected":
        module.exit_json(changed=False, holder=read(p["path"]) if os.path.isdir(p["path"]) else {},
                         acquired=False, held={})
    if p["state"] == "released":
        release(module, p["path"], p["run_id"], p["force"], p["holder"])
    mine = {"run_id": p["run_id"], "holder": p["holder"], "purpose": p["purpose"],
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "owner": p["owner"] or {}}
    acquire(module, p, mine)


if __name__ == "__main__":
    main()
