#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_resources
short_description: Create the external networks and volumes a compose file declares
version_added: 0.1.0
description:
  - The deploy's network step, and the answer to trap T22. C(docker compose up) fails when a volume or a network
    declared C(external) does not exist; this module reads the compose file (C(docker compose config)) and creates
    each missing one first.
  - Never deletes or changes an existing volume or network (a volume holds a customer's data).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.service
options:
  networks:
    description: Networks to have even if the compose file does not declare them (the shared C(axe) network).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: External volumes and the shared network (T22)
  axelabs.onboard.compose_resources:
    project_dir: /Users/axe/.axe/services/frame
    networks: [axe]
"""

RETURN = r"""
created:
  description: What was (in check mode, would be) created.
  returned: success
  type: dict
  sample: {volumes: [frame-pgdata], networks: []}
present:
  description: The external resources that already existed.
  returned: success
  type: dict
"""

import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail

CHECKS = {"volumes": (cc.volume_exists, cc.volume_create), "networks": (cc.network_exists, cc.network_create)}
MISSING_ENV_FILE = re.compile(r"env file (\S+) not found")


def declared(host, module, compose_file):
    """The external volumes and networks the compose file declares. In check mode the env files a later step
    writes (.env.local) may not be there yet - a first run, or one stopped before step 5: then the file is read
    against empty stand-ins in a scratch directory, so the plan still names what apply would create."""
    rc, out, err = host.run(cc.compose_config(host.project_dir, compose_file), check=False)
    if rc != 0 and module.check_mode and MISSING_ENV_FILE.search(err or ""):
        scratch = tempfile.mkdtemp(prefix="axe-plan-")
        try:
            path = host.path(compose_file)
            for dummy in range(8):  # compose names one missing env file at a time; a file has a few at most
                rc, out, err = host.run(cc.compose_config(scratch, path), check=False)
                found = MISSING_ENV_FILE.search(err or "") if rc != 0 else None
                if not found or not found.group(1).startswith(scratch):
                    break
                open(found.group(1), "w").close()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if rc != 0:
        raise ProductError("docker compose config failed (exit %d): %s" % (rc, (err or out).strip()[-800:]),
                           next_step="fix what the message names and run the deploy again: every step is re-runnable")
    return cc.external_resources(json.loads(out))


def main():
    module = AnsibleModule(
        argument_spec=dict(project_dir=dict(type="path", required=True), compose_file=dict(type="str", default="compose.yaml"),
                           networks=dict(type="list", elements="str", default=[])),
        supports_check_mode=True,
    )
    p = module.params
    host = ServiceHost(module, p["project_dir"], p["compose_file"])
    created, present = {"volumes": [], "networks": []}, {"volumes": [], "networks": []}
    try:
        wanted = {"volumes": [], "networks": list(p["networks"])}
        if os.path.isfile(host.path(p["compose_file"])):
            found = declared(host, module, p["compose_file"])
            for kind in wanted:
                wanted[kind] += [n for n in found[kind] if n not in wanted[kind]]
        elif not module.check_mode:
            raise ProductError("no %s in %s" % (p["compose_file"], p["project_dir"]), next_step="run the clone step first")
        for kind, names in wanted.items():
            exists, create = CHECKS[kind]
            for name in names:
                if host.ok(exists(name)):
                    present[kind].append(name)
                    continue
                created[kind].append(name)
                if not module.check_mode:
                    host.run(create(name), what="create %s %s" % (kind[:-1], name))
    except ProductError as exc:
        fail(module, exc, trap="T22", commands=host.commands)
    changed = bool(created["volumes"] or created["networks"])
    lines = ["%s %s" % (kind[:-1], n) for kind in ("networks", "volumes") for n in created[kind]]
    module.exit_json(changed=changed, created=created, present=present, commands=host.commands,
                     diff=dict(before="", after="".join("+ %s\n" % line for line in lines)))


if __name__ == "__main__":
    main()
