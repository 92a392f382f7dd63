#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_up
short_description: Bring named compose services to the compose file's state, recreating them only when told or needed
version_added: 0.1.0
description:
  - For a stack that is not released blue/green (the customer's Vaultwarden) - one container, configured by its
    compose file.
  - Asks compose first (C(docker compose up --dry-run --progress json)) what C(up) would create, recreate or start;
    when the answer is nothing and O(force_recreate) is false, nothing runs and nothing changes.
  - O(force_recreate) recreates the services even when compose sees no difference - the runbook's
    C(docker compose up -d --force-recreate axe-vaultwarden) after the bootstrap patch. Pass it only when something
    the container reads changed, so an unchanged stack is never recreated.
  - In check mode only the dry run runs; RV(actions) says what C(up) would do. A compose file that does not exist
    yet (a first deploy previewed in check mode) is reported as a service to be created.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.service
options:
  services:
    description: The compose services to bring up (nothing else is touched - C(--no-deps)).
    type: list
    elements: str
    required: true
  force_recreate:
    description: Recreate O(services) even when compose sees no change.
    type: bool
    default: false
  pull:
    description:
      - C(missing) fetches an image that is not on the host yet (a published image, such as Vaultwarden's);
        C(never) for images built on the host.
    type: str
    choices: [never, missing]
    default: missing
"""

EXAMPLES = r"""
- name: Recreate the customer's Vaultwarden when its compose file changed
  axelabs.onboard.compose_up:
    project_dir: /Users/axe/.axe/vault
    compose_file: docker-compose.yml
    services: [axe-vaultwarden]
    force_recreate: "{{ vault_compose_file.changed }}"
"""

RETURN = r"""
actions:
  description: Per container, what compose did (in check mode, would do) - C(Recreate), C(Create), C(Start), ...
  returned: success
  type: dict
  sample: {axe-vaultwarden: [Recreate]}
commands:
  description: The commands that ran on the host, with exit codes and seconds.
  returned: always
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def plan(module, host, services, force, pull):
    """{container or service: [what up would do]}; empty when nothing would change."""
    if not os.path.isfile(host.path(host.compose_file)):
        if not module.check_mode:
            raise ProductError("no %s in %s" % (host.compose_file, host.project_dir),
                               next_step="write the compose file first (axe deploy vault CUSTOMER --apply)")
        return dict((s, ["Create (its compose file is written first)"]) for s in services)
    rc, out, err = host.run(cc.compose_up(host.project_dir, host.compose_file, services, dry_run=True, pull=pull),
                            check=False)
    if rc != 0:
        if "pull access denied" in err or "No such image" in err or "not found" in err:
            return dict((s, ["Create (image not on the host yet)"]) for s in services)
        raise ProductError("docker compose up --dry-run failed (exit %d): %s" % (rc, (err or out).strip()[-800:]),
                           next_step="fix the compose file or the engine as the message says, then run again")
    actions = cc.dry_run_changes(out + "\n" + err)
    if force:
        for s in services:
            if not any(s == name or name.endswith(s) for name in actions):
                actions[s] = ["Recreate (forced: its configuration changed)"]
    return actions


def main():
    module = AnsibleModule(
        argument_spec=dict(project_dir=dict(type="path", required=True), compose_file=dict(type="str", default="compose.yaml"),
                           services=dict(type="list", elements="str", required=True),
                           force_recreate=dict(type="bool", default=False),
                           pull=dict(type="str", default="missing", choices=["never", "missing"])),
        supports_check_mode=True,
    )
    p = module.params
    host = ServiceHost(module, p["project_dir"], p["compose_file"])
    try:
        actions = plan(module, host, p["services"], p["force_recreate"], p["pull"])
        if actions and not module.check_mode:
            host.compose(cc.compose_up, p["services"], recreate=p["force_recreate"], pull=p["pull"],
                         what="docker compose up %s" % " ".join(p["services"]))
    except ProductError as exc:
        fail(module, exc, commands=host.commands)
    lines = ["%s: %s" % (name, ", ".join(what)) for name, what in sorted(actions.items())]
    module.exit_json(changed=bool(actions), actions=actions, commands=host.commands,
                     diff=dict(before="", after="".join("~ container %s\n" % line for line in lines)))


if __name__ == "__main__":
    main()
