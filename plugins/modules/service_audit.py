#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_audit
short_description: Read a service's audit log summary from its running release (frame's, for the D+7 review)
version_added: 0.3.0
description:
  - Runs the service's audit command (its role's C(audit.cli), e.g. C(python3 -m frame.cli audit-summary)) with
    C(docker exec) in the first of O(containers) that runs (the live colour), and returns the one JSON object it prints.
  - Reads only; never changes anything, in check mode or not.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
options:
  containers:
    description: The service's release containers (its colours); the first running one is asked.
    type: list
    elements: str
    required: true
  cli:
    description: The audit command inside the container.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: frame's audit log
  axelabs.onboard.service_audit:
    containers: [frame-mcp-blue, frame-mcp-green]
    cli: [python3, -m, frame.cli, audit-summary]
"""

RETURN = r"""
audit:
  description: What the service's audit command printed (frame's - C(entries), C(by_people), C(last_by_people)).
  returned: success
  type: dict
container:
  description: The container that was asked.
  returned: success
  type: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    module = AnsibleModule(argument_spec=dict(containers=dict(type="list", elements="str", required=True),
                                              cli=dict(type="list", elements="str", required=True)),
                           supports_check_mode=True)
    host = ServiceHost(module)
    try:
        running = [c for c in module.params["containers"]
                   if host.run(["docker", "inspect", "--format", "{{.State.Running}}", c], check=False)[1].strip() == "true"]
        if not running:
            raise ProductError("none of %s runs: the audit log cannot be read" % ", ".join(module.params["containers"]),
                               next_step="axe health CUSTOMER says what serves; axe deploy SERVICE CUSTOMER --apply")
        dummy, out, dummy = host.run(cc.exec_in(running[0], module.params["cli"]), what="the audit command")
        try:
            audit = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise ProductError("the audit command in %s printed no JSON: %s" % (running[0], out.strip()[-300:]),
                               next_step="run it on the host: docker exec %s %s" % (running[0], " ".join(module.params["cli"])))
    except ProductError as exc:
        fail(module, exc, commands=host.commands)
    module.exit_json(changed=False, audit=audit, container=running[0], commands=host.commands)


if __name__ == "__main__":
    main()
