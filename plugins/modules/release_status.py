#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: release_status
short_description: What a customer's host runs - each service's live version and colour, since when - and its audit log
version_added: 0.4.0
description:
  - Reads every service's release state (C({root}/{service}/.axe/release.json), written by the service engine) in one
    module call, so C(axe status) costs one round trip per host. Compares each live version with the one
    customers.yaml wants (O(wanted)) and names the drift.
  - With O(audit_lines), also returns the newest entries of the host's audit log (C(~/.axe/audit.jsonl)) - who changed
    what, when, in which run.
  - Reads only; never changes anything, in check mode or not.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
options:
  root:
    description: The directory holding one project directory per service (the service role's C(service_root)).
    type: path
    required: true
  services:
    description: The services to read (the catalogue's C(released) view).
    type: list
    elements: str
    default: []
  wanted:
    description: The ref customers.yaml wants per service (the inventory's C(axe_wanted_refs)).
    type: dict
    default: {}
  audit_lines:
    description: How many of the audit log's newest entries to return (0 - none).
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: What acme runs, and the last 20 changes
  axelabs.onboard.release_status:
    root: ~/.axe/services
    services: [frame, blueprint, hive]
    wanted: {frame: v2, blueprint: v1, hive: v1}
    audit_lines: 20
"""

RETURN = r"""
services:
  description:
    - Per service - C(live) (the ref, C(commit), C(colour) and C(since) of the release that serves, or null), C(wanted),
      C(previous), C(staged) (a release brought up beside the live one and not finished) and C(drift) (empty when the
      live version is the wanted one).
  returned: always
  type: dict
audit:
  description: The audit log's newest entries, oldest first - C(at), C(who), C(run_id), C(purpose), C(service), C(what).
  returned: always
  type: list
  elements: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import audit
from ansible_collections.axelabs.onboard.plugins.module_utils import release
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import STATE_DIR, STATE_FILE


def read_state(path):
    """The release state at `path`, None when there is none, or {"error": ..} when it cannot be read."""
    try:
        with open(path) as fh:
            return dict(release.empty_state(), **json.load(fh))
    except (IOError, OSError):
        return None
    except ValueError:
        return {"error": "%s is not JSON (its .bak beside it is the one before)" % path}


def describe(state, wanted):
    """One service's status from its release state and the wanted ref (pure: unit-tested)."""
    if state and state.get("error"):
        return {"live": None, "wanted": wanted or "", "previous": None, "staged": None, "drift": state["error"]}
    state = state or release.empty_state()
    active = state.get("active")
    rel = (state.get("releases") or {}).get(active) or {}
    live = {"ref": rel.get("ref") or "", "commit": rel.get("commit") or "", "colour": active,
            "since": rel.get("at") or ""} if active else None
    if not live:
        drift = "not deployed"
    elif not wanted:
        drift = "customers.yaml wants no version"
    elif live["ref"] != wanted:
        drift = "wants %s, runs %s" % (wanted, live["ref"] or release.tag(live["commit"]))
    else:
        drift = ""
    staged = state.get("staged") or None
    if staged and live and not drift:
        drift = "a release staged in %s was not finished" % staged.get("slot")
    return {"live": live, "wanted": wanted or "", "previous": state.get("previous"), "staged": staged, "drift": drift}


def main():
    module = AnsibleModule(argument_spec=dict(root=dict(type="path", required=True),
                                              services=dict(type="list", elements="str", default=[]),
                                              wanted=dict(type="dict", default={}),
                                              audit_lines=dict(type="int", default=0)),
                           supports_check_mode=True)
    p = module.params
    root = p["root"]  # type path: ~ is this host's home
    services = {}
    for service in p["services"]:
        state = read_state(os.path.join(root, service, STATE_DIR, STATE_FILE))
        services[service] = describe(state, p["wanted"].get(service))
    module.exit_json(changed=False, services=services, audit=audit.tail(max(0, min(p["audit_lines"], 1000))))


if __name__ == "__main__":
    main()
