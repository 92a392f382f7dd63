#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vault_secret
short_description: Ensure a customer's secret is present in (or absent from) the vault
version_added: 0.1.0
description:
  - A secret is named by its env name, for one service of one customer. The customer's services manifest in
    customers.yaml must list that env name (trap T08); a push for an unlisted name is refused with
    C({env} not in manifest).
  - The value comes from O(value) or from O(value_file) (a file on the controller, so it never rides on
    a command line or in extra vars). It never appears in the result, the diff or a log.
  - Runs on the controller.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault
  - axelabs.onboard.vault.CUSTOMERS_FILE
  - axelabs.onboard.customer
attributes:
  diff_mode:
    support: full
    details: The diff names the item and whether it is set; never the value.
options:
  service:
    description: The service whose manifest lists the secret.
    type: str
    required: true
  env:
    description: The secret's env name, e.g. C(AZURE_ACME_BLUEPRINT_CLIENT_SECRET).
    type: str
    required: true
  value:
    description: The secret value. Mutually exclusive with O(value_file).
    type: str
  value_file:
    description: A file on the controller holding the value (trailing newline stripped).
    type: path
  state:
    description: Whether the secret should be in the vault.
    type: str
    choices: [present, absent]
    default: present
  check_manifest:
    description: Refuse env names that the customer's services manifest does not list (trap T08).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Push the blueprint client secret (value from a file the operator's prompt wrote)
  axelabs.onboard.vault_secret:
    customer: acme
    service: blueprint
    env: AZURE_ACME_BLUEPRINT_CLIENT_SECRET
    value_file: /run/user/501/axe/value
  delegate_to: localhost
"""

RETURN = r"""
name:
  description: The vault item's name.
  returned: always
  type: str
  sample: axe/acme/blueprint/AZURE_ACME_BLUEPRINT_CLIENT_SECRET
action:
  description: What happened (or would, in check mode) - create, update, unchanged, delete or absent.
  returned: success
  type: str
  sample: create
"""

import io

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail
from ansible_collections.axelabs.onboard.plugins.module_utils.vault import item_name


def check_manifest(params, customer, service, env):
    f = cf.CustomersFile(common_args.customers_file(params)).load()
    f.entry(customer)
    slots = f.manifest(customer)
    if not slots:
        raise ProductError("services not declared for %s: a sovereignty customer deploys its own stack "
                           "(decision D-ops-40)" % customer, trap="T24",
                           next_step="nothing to push for %s; declare services.* in customers.yaml if that changed" % customer)
    if env not in [s.get("env") for s in slots.get(service, [])]:
        raise ProductError("%s not in manifest (services.%s.%s.secrets)" % (env, service, customer), trap="T08",
                           next_step="add the slot with `axe customers ingest %s PACK.json --apply` (pack secrets) or to "
                                     "customers.yaml, then push again" % customer)


def main():
    argument_spec = dict(
        customer=dict(type="str", required=True),
        service=dict(type="str", required=True),
        env=dict(type="str", required=True),
        value=dict(type="str", no_log=True),
        value_file=dict(type="path"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        check_manifest=dict(type="bool", default=True),
    )
    argument_spec.update(common_args.customers_file_spec())
    argument_spec.update(common_args.vault_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("value", "value_file")],
                           required_if=[("state", "present", ("value", "value_file"), True)])
    p = module.params
    common_args.check_customer(module, p["customer"])
    name = item_name(p["customer"], p["service"], p["env"])
    try:
        if p["check_manifest"] and p["state"] == "present":
            check_manifest(p, p["customer"], p["service"], p["env"])
        vault = common_args.vault_from(p)
        vault.status()
        if p["state"] == "absent":
            present = vault.exists(p["customer"], p["service"], p["env"])
            action = "delete" if present else "absent"
            if present and not module.check_mode:
                vault.delete(p["customer"], p["service"], p["env"])
        else:
            value = p["value"]
            if p["value_file"]:
                with io.open(p["value_file"], encoding="utf-8") as fh:
                    value = fh.read().rstrip("\n")
            if not value:
                raise ProductError("the value for %s is empty" % p["env"], next_step="give a non-empty value")
            module.no_log_values.add(value)
            action = vault.plan_put(p["customer"], p["service"], p["env"], value)
            if action != "unchanged" and not module.check_mode:
                action = vault.put(p["customer"], p["service"], p["env"], value)
    except ProductError as exc:
        fail(module, exc, name=name)
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read value_file: %s" % exc, name=name)
    changed = action in ("create", "update", "delete")
    result = dict(changed=changed, name=name, action=action)
    if module._diff:
        before = "absent" if action in ("create", "absent") else "set"
        after = "absent" if action in ("delete", "absent") else ("set" if action == "unchanged" else "set (new value)")
        result["diff"] = dict(before_header=name, after_header=name, before=before + "\n", after=after + "\n")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
