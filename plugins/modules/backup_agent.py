#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: backup_agent
short_description: Ask the host's backup agent (axe_backup.py) for its status, a verified restore, or a service's data back
version_added: 0.3.0
description:
  - Runs the agent C(axe_backup.py) (installed by the C(axelabs.onboard.backup) role) on the customer's host and returns its answer.
  - C(status) reads the restic repository - the latest snapshot, its age, size and what it holds, the last run and
    the last verification - and lists findings (no snapshot, stale past the role's C(backup_stale_hours), a failed run).
  - C(verify) restores the latest snapshot into scratch (a scratch postgres container of the service's own image on no
    network; sqlite files opened read-only), checks that every database loads and that its row counts equal those
    recorded when the snapshot was taken, and removes the scratch. Live data is never touched.
  - C(restore) puts one service's data back from the latest snapshot, after a snapshot of what is there now when its
    database still runs. In check mode it only says what it would replace.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  action:
    description: The agent's command.
    type: str
    choices: [status, verify, restore]
    required: true
  service:
    description: The service whose data O(action=restore) puts back.
    type: str
  agent:
    description: The agent's path on the host.
    type: path
    required: true
notes:
  - O(action=status) and O(action=verify) report C(changed=false) since neither changes the customer's data. O(action=verify)
    runs in check mode too, since its scratch is removed before it returns.
"""

EXAMPLES = r"""
- name: The latest snapshot and its age
  axelabs.onboard.backup_agent:
    action: status
    agent: /Users/axe/.axe/backups/axe_backup.py

- name: Put frame's database back from the latest snapshot
  axelabs.onboard.backup_agent:
    action: restore
    service: frame
    agent: /Users/axe/.axe/backups/axe_backup.py
"""

RETURN = r"""
agent:
  description: The agent's answer, as it printed it (C(ok), and per action C(latest), C(findings), C(checks), C(counts)...).
  returned: always
  type: dict
  sample: {ok: true, snapshot: 1a2b3c4d, checks: [{service: frame, counts: {entities: 2}, expected: {entities: 2}, ok: true}]}
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(action=dict(type="str", required=True, choices=["status", "verify", "restore"]),
                           service=dict(type="str"), agent=dict(type="path", required=True)),
        required_if=[("action", "restore", ["service"])],
        supports_check_mode=True,
    )
    p = module.params
    if not os.path.isfile(p["agent"]):
        module.fail_json(msg="the backup agent is not installed on this host (%s)" % p["agent"],
                         next_step="axe backup CUSTOMER --apply (it installs the agent)")
    argv = ["/usr/bin/env", "python3", p["agent"], p["action"]]
    if p["action"] == "restore":
        argv.append(p["service"])
        if module.check_mode:
            argv.append("--dry-run")
    rc, out, err = module.run_command(argv)
    try:
        answer = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except ValueError:
        answer = {}
    if not isinstance(answer, dict) or "ok" not in answer:
        module.fail_json(msg="the backup agent gave no answer (exit %d): %s" % (rc, (err or out).strip()[-400:]),
                         next_step="run %s %s on the host to see why" % (p["agent"], p["action"]))
    changed = p["action"] == "restore" and bool(answer.get("changed")) or (p["action"] == "restore" and module.check_mode)
    if rc != 0 or not answer.get("ok"):
        module.fail_json(msg=answer.get("error") or "the agent's %s failed" % p["action"], next_step=answer.get("next", ""),
                         agent=answer, changed=changed and not module.check_mode)
    result = dict(changed=changed, agent=answer)
    if module._diff and p["action"] == "restore":
        result["diff"] = dict(before="%s: live data\n" % p["service"],
                              after="%s: snapshot %s (%s)\n" % (p["service"], answer.get("snapshot"), answer.get("taken_at")))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
