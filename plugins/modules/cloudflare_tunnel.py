#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudflare_tunnel
short_description: Ensure a customer's locally-managed Cloudflare Tunnel exists (or is gone)
version_added: 0.1.0
description:
  - Ensures one named, locally-managed tunnel (C(config_src=local), run by cloudflared with a credentials file).
    An existing tunnel of that name is reused; a second one of the same name is never created.
  - Returns the tunnel id, and the credentials file content when the tunnel was just created or its secret
    rotated (the only times the secret is known). The credentials hold the tunnel secret, so a task that may
    create or rotate must set C(no_log=true), as the collection's cloudflared role does.
  - O(state=absent) cleans the tunnel's connections, then deletes it.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.cloudflare
options:
  name:
    description: The tunnel's name, by convention C(axe-{customer}).
    type: str
    required: true
  state:
    description: Whether the tunnel should exist.
    type: str
    choices: [present, absent]
    default: present
  rotate:
    description: Give the tunnel a new secret and return new credentials (cloudflared must then get them).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ensure acme's tunnel
  axelabs.onboard.cloudflare_tunnel:
    name: axe-acme
    api_token: "{{ lookup('axelabs.onboard.vault_secret', 'CLOUDFLARE_API_TOKEN', customer='acme', service='frame') }}"
  register: tunnel
  no_log: true
"""

RETURN = r"""
tunnel_id:
  description: The tunnel's id (empty in check mode when it would be created).
  returned: success
  type: str
  sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
created:
  description: Whether the tunnel was (or would be) created.
  returned: success
  type: bool
credentials:
  description: The credentials file for cloudflared (AccountTag, TunnelSecret, TunnelID); only when created or rotated. Secret - use no_log.
  returned: when created or rotated, outside check mode
  type: dict
"""

import base64
import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import cloudflare as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    argument_spec = dict(name=dict(type="str", required=True),
                         state=dict(type="str", choices=["present", "absent"], default="present"),
                         rotate=dict(type="bool", default=False))
    argument_spec.update(common_args.cloudflare_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib("cloudflare"), exception=cf.CLOUDFLARE_IMPORT_ERROR)
    p = module.params
    result = dict(changed=False, created=False, tunnel_id="")
    try:
        client = common_args.cloudflare_from(p)
        existing = client.tunnels_named(p["name"])
        if len(existing) > 1:
            raise ProductError("%d tunnels are named %s" % (len(existing), p["name"]),
                               next_step="delete the extra ones in the Cloudflare dashboard, keeping the one cloudflared uses")
        current = existing[0] if existing else None
        account = client.zone()["account_id"]
        if p["state"] == "absent":
            if current:
                result.update(changed=True, tunnel_id=current["id"])
                if not module.check_mode:
                    client.delete_tunnel(current["id"])
        elif current and not p["rotate"]:
            result["tunnel_id"] = current["id"]
        else:
            # Not added to no_log_values: Ansible would then mask it in the result the play needs.
            # The result carries the secret; tasks using this module set no_log (see EXAMPLES).
            secret = base64.b64encode(os.urandom(32)).decode()
            result.update(changed=True, created=current is None)
            if current:
                result["tunnel_id"] = current["id"]
            if not module.check_mode:
                if current:
                    client.rotate_tunnel_secret(current["id"], secret)
                else:
                    result["tunnel_id"] = client.create_tunnel(p["name"], secret)["id"]
                result["credentials"] = {"AccountTag": account, "TunnelSecret": secret, "TunnelID": result["tunnel_id"]}
    except ProductError as exc:
        fail(module, exc)
    if module._diff:
        before = "tunnel %s: %s\n" % (p["name"], "present" if result["tunnel_id"] and not result["created"] else "absent")
        after = "tunnel %s: %s\n" % (p["name"], "absent" if p["state"] == "absent" else
                                     "present" + (" (new secret)" if p["rotate"] else ""))
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
