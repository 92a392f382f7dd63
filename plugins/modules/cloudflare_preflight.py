#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudflare_preflight
short_description: Check the Cloudflare API token before anything changes (trap T09)
version_added: 0.1.0
description:
  - Verifies the token, finds the zone, and proves each permission the onboarding needs with a read
    (Zone:Read, DNS:Read, Cloudflare Tunnel:Read), naming every missing one at once. Edit permissions show
    themselves only on a write; a token with a Read permission missing lacks its Edit too.
  - Reads only.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
  - axelabs.onboard.cloudflare
options: {}
"""

EXAMPLES = r"""
- name: Check the Cloudflare token
  axelabs.onboard.cloudflare_preflight:
    api_token: "{{ lookup('axelabs.onboard.vault_secret', 'CLOUDFLARE_API_TOKEN', customer='operator', service='cloudflare') }}"
  delegate_to: localhost
"""

RETURN = r"""
zone_id:
  description: The zone's id.
  returned: success
  type: str
account_id:
  description: The account that holds the zone and the tunnels.
  returned: success
  type: str
permissions:
  description: Each permission checked and whether the token has it.
  returned: always
  type: dict
  sample: {"Zone:Read": true, "DNS:Read": true, "Cloudflare Tunnel:Read": true}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import cloudflare as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    module = AnsibleModule(argument_spec=common_args.cloudflare_spec(), supports_check_mode=True)
    if not cf.HAS_CLOUDFLARE:
        module.fail_json(msg=missing_required_lib("cloudflare"), exception=cf.CLOUDFLARE_IMPORT_ERROR)
    permissions = {}
    try:
        zone, permissions = cf.token_permissions(common_args.cloudflare_from(module.params))
        missing = sorted(p for p, ok in permissions.items() if not ok)
        if missing:
            raise cf.missing_permissions_error(missing)
    except ProductError as exc:
        fail(module, exc, permissions=permissions)
    module.exit_json(changed=False, zone_id=zone["id"], account_id=zone["account_id"], permissions=permissions)


if __name__ == "__main__":
    main()
