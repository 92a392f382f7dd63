#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: customer_entity
short_description: Add an entity to a customer's entry in customers.yaml (axe entity add, the runbook's D+1)
version_added: 0.3.0
description:
  - Appends O(entity) to C(customers.{customer}.entities) with its legal name in C(entity_names) and, where they are
    not frame's defaults, its kind and accounting standard in C(entity_settings). Adding an entity that is there with
    the same values changes nothing.
  - Refuses an entity that is there under another legal name or other settings (frame registers an entity once; a
    second name would never reach it), and a sovereignty customer (T24) - one with no services manifest.
  - Keeps every byte of customers.yaml it does not change; writes atomically under a lock with a C(.bak). In check
    mode returns RV(planned), the file it would leave, so the deploys after it in the same check run plan with it.
  - Runs on the controller.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault.CUSTOMERS_FILE
  - axelabs.onboard.customer
options:
  entity:
    description: The entity id (C(^[a-z0-9][a-z0-9_-]{0,62}$)).
    type: str
    required: true
  legal_name:
    description: The entity's legal name (법인명), stored and registered as given.
    type: str
    required: true
  settings:
    description:
      - How frame registers it - C(kind), C(accounting_standard). Only values that differ from O(defaults) are stored.
    type: dict
    default: {}
  defaults:
    description: frame's defaults for O(settings) (its role's C(entities.defaults)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Add acme's US entity
  axelabs.onboard.customer_entity:
    customer: acme
    entity: acme-us
    legal_name: ACME US Inc.
    settings: {accounting_standard: usgaap}
    defaults: {kind: corporate, accounting_standard: ksme}
  delegate_to: localhost
"""

RETURN = r"""
customers_file:
  description: The customers.yaml that was read (and written).
  returned: always
  type: str
added:
  description: Whether the entity was added (in check mode, would be).
  returned: success
  type: bool
planned:
  description: In check mode, C(customers_text), the customers.yaml apply would leave (no secret in it).
  returned: check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def add(f, customer, entity, legal_name, settings):
    """Add the entity to the loaded file `f`; True when it changed anything. Raises ProductError."""
    entry = f.entry(customer)
    if not f.manifest(customer):
        raise ProductError("services not declared for %s: the customer runs its own stack, its entities included"
                           % customer, trap="T24",
                           next_step="nothing to add for %s; declare services.* in customers.yaml only if the "
                                     "sovereignty decision changed" % customer)
    names = cf.plain(entry.get("entity_names")) or {}
    stored = (cf.plain(entry.get("entity_settings")) or {}).get(entity) or {}
    if entity in cf.plain(entry["entities"]):
        name = names.get(entity) or cf.plain(entry["legal_name"])
        if name != legal_name or stored != settings:
            held = "".join(" %s %s" % kv for kv in sorted(stored.items()))
            raise ProductError("%s already has entity %s as %r%s" % (customer, entity, name,
                               " (%s)" % held.strip() if held else ""),
                               next_step="an entity is registered once: give its name and settings as they are, or "
                                         "add the new one under a new id")
        return False
    entry["entities"].append(cf.quoted(entity))
    if entry.get("entity_names") is None:
        entry["entity_names"] = cf.quoted({})
    entry["entity_names"][entity] = cf.quoted(legal_name)
    if settings:
        if entry.get("entity_settings") is None:
            entry["entity_settings"] = cf.quoted({})
        entry["entity_settings"][entity] = cf.quoted(settings)
    return True


def main():
    argument_spec = dict(customer=dict(type="str", required=True), entity=dict(type="str", required=True),
                         legal_name=dict(type="str", required=True), settings=dict(type="dict", default={}),
                         defaults=dict(type="dict", default={}))
    argument_spec.update(common_args.customers_file_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"), exception=cf.RUAMEL_IMPORT_ERROR)
    p = module.params
    common_args.check_customer(module, p["customer"])
    path = common_args.customers_file(p)
    # Only what differs from frame's defaults is written: the entry says what is special about the entity.
    settings = dict((k, v) for k, v in p["settings"].items() if v is not None and p["defaults"].get(k) != v)
    try:
        before, after = cf.edit(path, lambda f: add(f, p["customer"], p["entity"], p["legal_name"], settings),
                                module.check_mode)
    except ProductError as exc:
        fail(module, exc)
    added = after != before
    result = dict(changed=added, added=added, customers_file=path)
    if module.check_mode:
        result["planned"] = dict(customers_text=after, vault=[])
    if module._diff:
        result["diff"] = dict(before_header=path, after_header=path, before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
