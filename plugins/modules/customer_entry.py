#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: customer_entry
short_description: Create or update a customer's entry in customers.yaml
version_added: 0.1.0
description:
  - Ensures C(customers.{customer}) exists with the given fields, as a valid stub that C(customer_pack_ingest)
    later fills with SSO details. Fields not given keep their current value; a new entry derives
    C(public_domain) (C({customer}.axelabs.ai)) and C(tailscale_host) (C({customer}-macmini)).
  - Keeps every byte of customers.yaml it does not change; writes atomically under a lock with a C(.bak).
  - Runs on the controller.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault.CUSTOMERS_FILE
options:
  customer:
    description: The customer id (C(^[a-z][a-z0-9-]{1,30}$)).
    type: str
    required: true
  legal_name:
    description: The customer's legal name. Required for a new entry.
    type: str
  primary_domain:
    description: The customer's own domain (e.g. C(example.co.kr)). Required for a new entry.
    type: str
  public_domain:
    description: Where the stack is published. Default for a new entry C({customer}.axelabs.ai).
    type: str
  entities:
    description: The customer's entity ids. Required for a new entry.
    type: list
    elements: str
  entity_names:
    description:
      - The legal name of an entity, by entity id (merged into the entry's C(entity_names); an entity without one is
        registered under the customer's legal name). Stored as given, Korean included.
    type: dict
  tailscale_host:
    description: The Mac mini's Tailscale host name. Default for a new entry C({customer}-macmini).
    type: str
  ssh_user:
    description: The operator's account on the Mac mini, when not the default C(axe).
    type: str
  onboarded:
    description: The D-day date, C(YYYY-MM-DD).
    type: str
"""

EXAMPLES = r"""
- name: Create acme's entry stub
  axelabs.onboard.customer_entry:
    customer: acme
    legal_name: ACME Korea Co., Ltd.
    primary_domain: acme.co.kr
    entities: [acme-kr]
  delegate_to: localhost

- name: A Korean legal name, and an entity's own
  axelabs.onboard.customer_entry:
    customer: zeta
    legal_name: 제타 주식회사
    primary_domain: zeta.co.kr
    entities: [zeta-kr]
    entity_names: {zeta-kr: (주)제타코리아}
  delegate_to: localhost
"""

RETURN = r"""
customers_file:
  description: The customers.yaml that was read (and written).
  returned: always
  type: str
created:
  description: Whether the entry was created (rather than updated or left alone).
  returned: success
  type: bool
"""


from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail

FIELDS = ("legal_name", "primary_domain", "public_domain", "entities", "tailscale_host", "ssh_user", "onboarded")


def main():
    argument_spec = dict(customer=dict(type="str", required=True),
                         entities=dict(type="list", elements="str"), entity_names=dict(type="dict"))
    for field in FIELDS:
        argument_spec.setdefault(field, dict(type="str"))
    argument_spec.update(common_args.customers_file_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"), exception=cf.RUAMEL_IMPORT_ERROR)
    customer = module.params["customer"]
    common_args.check_customer(module, customer)
    path = common_args.customers_file(module.params)
    seen = {}

    def change(f):
        customers = f.document.get("customers")
        if customers is None:
            f.document["customers"] = customers = cf.quoted({})
        wanted = dict((k, module.params[k]) for k in FIELDS if module.params[k] is not None)
        created = seen["created"] = customer not in customers
        if created:
            missing = [k for k in ("legal_name", "primary_domain", "entities") if k not in wanted]
            if missing:
                raise ProductError("a new customer needs %s" % ", ".join(missing),
                                   next_step="give --legal-name, --primary-domain and --entity")
            wanted.setdefault("public_domain", "%s.axelabs.ai" % customer)
            wanted.setdefault("tailscale_host", "%s-macmini" % customer)
            entry = cf.quoted({
                "legal_name": wanted["legal_name"], "primary_domain": wanted["primary_domain"],
                "public_domain": wanted["public_domain"], "entities": wanted["entities"],
                "tailscale_host": wanted["tailscale_host"],
                "sso": {"provider": "microsoft_entra_id"}, "user_entity_map": {},
                "default_entities_by_domain": {wanted["primary_domain"]: wanted["entities"]}})
            for extra in ("ssh_user", "onboarded"):
                if extra in wanted:
                    entry[extra] = cf.quoted(wanted[extra])
            customers[customer] = entry
        else:
            entry = customers[customer]
            for key, value in wanted.items():
                if cf.plain(entry.get(key)) != value:
                    entry[key] = cf.quoted(value)
        names = dict((str(k), str(v)) for k, v in (module.params["entity_names"] or {}).items())
        if names:
            if entry.get("entity_names") is None:
                entry["entity_names"] = cf.quoted({})
            for entity, name in sorted(names.items()):
                if cf.plain(entry["entity_names"].get(entity)) != name:
                    entry["entity_names"][entity] = cf.quoted(name)
        f.refuse_shared_public_domain(customer)
        return True  # a new file, or values set again as they were: the rendered text says what changed

    try:
        before, new_text = cf.edit(path, change, module.check_mode, allow_missing=True)
    except ProductError as exc:
        fail(module, exc)
    changed, created = new_text != before, seen["created"]
    result = dict(changed=changed, customers_file=path, created=created)
    if module._diff:
        result["diff"] = dict(before_header=path, after_header=path, before=before, after=new_text)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
