#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: host_lock
short_description: Take or release the customer host's deploy lock
version_added: 0.1.0
description:
  - One changing run per customer host at a time. The lock is a directory made atomically with C(mkdir), holding
    a C(details.json) that says who holds it, since when, for what and under which run id.
  - Taking a lock the same run already holds succeeds (a play may take it again). A lock held by another run is
    waited for up to O(wait) seconds, then the module fails naming the holder.
  - In check mode nothing is written; a lock held by another run is reported as a warning.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  state:
    description: C(acquired) takes the lock, C(released) gives it back (only when this run holds it, unless O(force)).
    type: str
    choices: [acquired, released]
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
"""

EXAMPLES = r"""
- name: Take the host's lock (waiting up to 5 minutes for another run)
  axelabs.onboard.host_lock:
    run_id: "{{ axe_run_id }}"
    holder: ops@laptop
    purpose: axe onboard acme
    wait: 300
"""

RETURN = r"""
holder:
  description: The lock's details after the call (empty when released or free).
  returned: always
  type: dict
  sample: {run_id: 20261124T101500-onboard-3f2a1c, holder: ops@laptop, purpose: axe onboard acme, since: "2026-11-24T10:15:00+0000"}
"""

import errno
import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule


def read(path):
    try:
        with open(os.path.join(path, "details.json")) as fh:
            return json.load(fh)
    except (IOError, OSError, ValueError):
        return {"run_id": "", "holder": "unknown (no details)", "purpose": "", "since": ""}


def describe(details):
    return "%s since %s for %r (run %s)" % (details.get("holder"), details.get("since"), details.get("purpose"),
                                            details.get("run_id"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", choices=["acquired", "released"], default="acquired"),
            path=dict(type="path", default="~/.axe/lock"),
            run_id=dict(type="str", required=True),
            holder=dict(type="str", default="unknown"),
            purpose=dict(type="str", default=""),
            wait=dict(type="int", default=0),
            force=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    path = p["path"]
    mine = {"run_id": p["run_id"], "holder": p["holder"], "purpose": p["purpose"],
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if p["state"] == "released":
        if not os.path.isdir(path):
            module.exit_json(changed=False, holder={})
        details = read(path)
        if details.get("run_id") != p["run_id"] and not p["force"]:
            module.exit_json(changed=False, holder=details, msg="held by another run; left alone")
        if not module.check_mode:
            shutil.rmtree(path)
        module.exit_json(changed=True, holder={})

    parent = os.path.dirname(path)
    deadline = time.time() + max(0, p["wait"])
    while True:
        if os.path.isdir(path):
            details = read(path)
            if details.get("run_id") == p["run_id"]:
                module.exit_json(changed=False, holder=details)
            if module.check_mode:
                module.warn("the host is locked by %s; an apply would wait or stop" % describe(details))
                module.exit_json(changed=False, holder=details)
            if time.time() >= deadline:
                module.fail_json(msg="the host is locked by %s" % describe(details), holder=details,
                                 next_step="wait for that run (or give --lock-wait SECONDS); if it died, release it: "
                                           "ansible-playbook axelabs.onboard.lock_release -e axe_target=CUSTOMER")
            time.sleep(1)
            continue
        if module.check_mode:
            module.exit_json(changed=True, holder=mine)
        try:
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o700)
            os.mkdir(path, 0o700)  # atomic: exactly one run makes it
        except OSError as exc:
            if exc.errno == errno.EEXIST:
                continue  # another run made it between our look and our mkdir: look again
            # Anything else (a ~/.axe made by root, a full disk) will not go away by trying again.
            module.fail_json(msg="cannot create the deploy lock %s: %s" % (path, exc.strerror),
                             next_step="%s must be a directory the SSH user owns and can write "
                                       "(e.g. sudo chown -R $(id -un) %s on the host), then run again" % (parent, parent))
        tmp = os.path.join(path, ".details.json")
        with open(tmp, "w") as fh:
            json.dump(mine, fh)
        os.rename(tmp, os.path.join(path, "details.json"))
        module.exit_json(changed=True, holder=mine)


if __name__ == "__main__":
    main()
