#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: customer_pack_ingest
short_description: Ingest customer IT's bootstrap pack into customers.yaml and the vault
version_added: 0.1.0
description:
  - Reads the pack C(axelabs-bootstrap-{customer}.json) (schema C(axelabs-bootstrap/v1)), or the same
    8 values as text, and validates it. Ids are UUIDs, the application id URI and redirect URIs belong
    to the customer's public domain (or are known MCP client callbacks), the schema version is known.
    Unknown fields are reported as warnings.
  - Reads the pack as customer IT's tools write it, with a UTF-8 or UTF-16 byte order mark (Windows
    PowerShell 5.1) and CRLF line ends. Refuses, naming the file and the field, a pack that is not a regular
    file (a FIFO or a device, before reading it) or is larger than 64 KiB, is not UTF-8, has a key twice in one
    object, nests deeper than 32 levels, or gives two apps the same client id in any letter case. The schema
    itself refuses ids, URIs and secrets holding control characters (a trailing newline, NUL, ESC), zero-width
    characters, bidi controls or lone surrogates.
  - Fills the customer's C(sso) in customers.yaml (tenant id, the three apps' client ids, the env names
    of their secrets, redirect URIs), adds the services manifest slots for the three client secrets
    (trap T08), and pushes the three client secrets to the vault.
  - customers.yaml keeps every byte it does not change (comments, order, quoting, blank lines); the write
    is atomic, keeps a C(.bak) and holds a lock. Secrets go to the vault first, so the file never names
    a secret the vault lacks.
  - A bad pack changes nothing anywhere. Secret values never appear in the result, the diff or an error.
  - Runs on the controller.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault
  - axelabs.onboard.vault.CUSTOMERS_FILE
options:
  customer:
    description: The customer id (C(^[a-z][a-z0-9-]{1,30}$)). Its entry must exist in customers.yaml.
    type: str
    required: true
  pack:
    description: Path to the pack on the controller.
    type: path
    required: true
  pack_format:
    description:
      - C(json) for the pack file, C(text) for the 8 values, one C(name=value) per line.
    type: str
    choices: [json, text]
    default: json
"""

EXAMPLES = r"""
- name: Ingest acme's pack (check mode shows the customers.yaml diff and the vault items)
  axelabs.onboard.customer_pack_ingest:
    customer: acme
    pack: ~/Downloads/axelabs-bootstrap-acme.json
  delegate_to: localhost
"""

RETURN = r"""
customers_file:
  description: The customers.yaml that was read (and written).
  returned: always
  type: str
  sample: /Users/axe/.axe/customers.yaml
file_changed:
  description: Whether customers.yaml changed (or would, in check mode).
  returned: success
  type: bool
vault_items:
  description: The vault items for the three client secrets and what happened (or would) to each. Names only.
  returned: success
  type: list
  elements: dict
  sample: [{service: blueprint, env: AZURE_ACME_BLUEPRINT_CLIENT_SECRET, name: axe/acme/blueprint/AZURE_ACME_BLUEPRINT_CLIENT_SECRET, action: create}]
pack_warnings:
  description: Fields in the pack that the schema does not know; they are ignored.
  returned: success
  type: list
  elements: str
planned:
  description:
    - In check mode, when the ingest would change something, what customers.yaml would hold and which vault
      items would exist. C(playbooks/onboard.yml) hands it to the later steps of the same check run (the
      C(planned) option of M(axelabs.onboard.service_secrets)), so their plan is the one apply would follow.
    - No secret value; the vault items by name.
  returned: check mode, when something would change
  type: dict
  sample: {customers_text: "customers:\n  acme: ...", vault: [{service: blueprint, env: AZURE_ACME_BLUEPRINT_CLIENT_SECRET}]}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import pack as packs
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


class IngestManager(object):
    """Plan the ingest (pure reads), then apply it: vault first, file second."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.customer = self.params["customer"]
        self.file = cf.CustomersFile(common_args.customers_file(self.params))

    def plan(self):
        entry = self.file.load().entry(self.customer)
        self.file.refuse_shared_public_domain(self.customer)
        pack = packs.read(self.params["pack"], self.params["pack_format"])
        warnings = packs.check(pack, self.customer, entry["public_domain"], self.params["pack"])
        cf.apply_pack(self.file.document, self.customer, pack)
        new_text = self.file.render()
        vault = common_args.vault_from(self.params)
        vault.status()
        items = []
        for service, env, value in packs.secrets(pack, self.customer):
            items.append({"service": service, "env": env, "name": "axe/%s/%s/%s" % (self.customer, service, env),
                          "action": vault.plan_put(self.customer, service, env, value)})
        return pack, new_text, items, warnings, vault

    def run(self):
        with cf.FileLock(self.file.path):
            pack, new_text, items, warnings, vault = self.plan()
            before = self.file.text
            file_changed = new_text != before
            vault_changed = any(i["action"] != "unchanged" for i in items)
            if not self.module.check_mode:
                for (service, env, value), item in zip(packs.secrets(pack, self.customer), items):
                    if item["action"] != "unchanged":
                        vault.put(self.customer, service, env, value)
                if file_changed:
                    self.file.write(new_text)
        result = dict(changed=file_changed or vault_changed, customers_file=self.file.path,
                      file_changed=file_changed, vault_items=items, pack_warnings=warnings)
        if self.module.check_mode and result["changed"]:
            # For the later steps of the same check run (playbooks/onboard.yml): what customers.yaml
            # would hold and which vault items would exist. Names and non-secret text only.
            result["planned"] = dict(customers_text=new_text,
                                     vault=[dict(service=i["service"], env=i["env"]) for i in items])
        if self.module._diff:
            result["diff"] = [dict(before_header=self.file.path, after_header=self.file.path,
                                   before=before, after=new_text),
                              dict(before_header="vault", after_header="vault",
                                   before="".join("%s: %s\n" % (i["name"], "absent" if i["action"] == "create" else "set")
                                                  for i in items),
                                   after="".join("%s: %s\n" % (i["name"], "set" if i["action"] == "unchanged" else
                                                               "set (%sd)" % i["action"]) for i in items))]
        return result


def main():
    argument_spec = dict(
        customer=dict(type="str", required=True),
        pack=dict(type="path", required=True),
        pack_format=dict(type="str", choices=["json", "text"], default="json"),
    )
    argument_spec.update(common_args.customers_file_spec())
    argument_spec.update(common_args.vault_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"), exception=cf.RUAMEL_IMPORT_ERROR)
    common_args.check_customer(module, module.params["customer"])
    try:
        result = IngestManager(module).run()
    except ProductError as exc:
        fail(module, exc)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg="ingest failed unexpectedly: %s" % exc, exception=traceback.format_exc())
    for warning in result["pack_warnings"]:
        module.warn("pack field ignored: %s" % warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
