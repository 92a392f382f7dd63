#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_secrets
short_description: Check a service's secrets for a customer, and generate the ones it may (vault_check, secrets_bootstrap)
version_added: 0.1.0
description:
  - Runs on the controller, against customers.yaml and the vault.
  - Refuses a sovereignty customer (no services manifest at all) - trap T24, with the decision reference.
  - O(step=vault_check) expands the service's O(secrets) for the customer (per entity where marked) and fails naming
    B(every) secret that is missing and that the deploy cannot make - with why (no manifest slot, or not in the vault)
    and the command that fixes each (trap T08) - and every O(env) setting the customer's entry has no value for
    (blueprint's Entra ids, trap T10), in one report. Read-only, so it runs fully in check mode.
  - O(step=secrets_bootstrap) generates each C(auto_generate) secret of O(secrets) that is missing from the vault, pushes it, and
    adds its slot to the customer's services manifest in customers.yaml (comment-preserving, atomic). Values never
    appear in the result.
  - Returns the customer's entry and entities (with the PII passphrase names each needs - trap T16), for the steps
    that follow.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault
  - axelabs.onboard.vault.CUSTOMERS_FILE
options:
  customer:
    description: The customer id.
    type: str
    required: true
  service:
    description: The service being deployed.
    type: str
    required: true
  secrets:
    description:
      - The service definition's secrets - C(env) (may use C({CUSTOMER}) and C({ENTITY})), C(as) (the name in
        .env.local), C(owner) (the service whose manifest holds it), C(auto_generate), C(per_entity), C(source)
        (C(pack), C(generated) or C(operator)).
    type: list
    elements: dict
    required: true
  step:
    description: Which deploy step this is.
    type: str
    choices: [vault_check, secrets_bootstrap]
    default: vault_check
  env:
    description:
      - The service's non-secret settings, as templates over the customer's entry - C(https://{public_domain}/frame/mcp),
        C({sso[apps][blueprint][client_id]}). Rendered into RV(env); the names the entry has no value for are RV(env_missing).
    type: dict
    default: {}
  generate_bytes:
    description: Random bytes in a generated secret (URL-safe base64 encoded).
    type: int
    default: 32
  planned:
    description:
      - What an earlier step of the same check run would have written - C(customers_text), the customers.yaml it
        would leave, and C(vault), the items (C(service), C(env)) it would create. The C(planned) result of
        M(axelabs.onboard.customer_pack_ingest).
      - Honoured in check mode only, so a plan of the whole D-day shows what apply would do after the ingest
        instead of failing on values the ingest has not written yet. Ignored when applying, where the real file
        and vault are read.
    type: dict
"""

EXAMPLES = r"""
- name: vault_check
  axelabs.onboard.service_secrets:
    customer: acme
    service: blueprint
    secrets:
      - {env: "AZURE_{CUSTOMER}_BLUEPRINT_CLIENT_SECRET", as: AZURE_AD_CLIENT_SECRET, source: pack}
      - {env: "BLUEPRINT_{CUSTOMER}_NEXTAUTH_SECRET", as: NEXTAUTH_SECRET, auto_generate: true}
  delegate_to: localhost
"""

RETURN = r"""
secrets:
  description: The expanded secrets - C(env), C(as), C(owner), C(auto_generate), C(present) (in the vault). Names only.
  returned: success
  type: list
  elements: dict
generated:
  description: Env names generated and pushed by this call (in check mode, that would be).
  returned: success
  type: list
  elements: str
slots_added:
  description: Manifest slots added to customers.yaml, per owner service.
  returned: success
  type: dict
env:
  description: The non-secret settings rendered from O(env).
  returned: success
  type: dict
env_missing:
  description: Names in O(env) the customer's entry has no value for (blueprint without its Entra ids - trap T10).
  returned: success
  type: list
  elements: str
customer_entry:
  description: The customer's entry in customers.yaml (no secrets live there).
  returned: success
  type: dict
entities:
  description: The customer's entities - C(id), C(legal_name), C(env) (its PII passphrase names).
  returned: success
  type: list
  elements: dict
"""

import base64
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets as ss
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def load(path, customer, text=None):
    f = cf.CustomersFile(path).load(text=text)
    entry = f.entry(customer)
    manifest = f.manifest(customer)
    if not manifest:
        raise ProductError("services not declared for %s: the customer deploys its own stack (sovereignty, decision "
                           "D-ops-40 / B-customer-sovereignty-architecture)" % customer, trap="T24",
                           next_step="nothing to deploy for %s: the operator supplies software and DNS/cloudflared only" % customer)
    return f, cf.plain(entry), manifest


def add_slots(path, customer, slots):
    """Write the generated secrets' slots into customers.yaml (under its lock, atomically)."""
    with cf.FileLock(path):
        f = cf.CustomersFile(path).load()
        services = f.document.get("services")
        for owner, envs in sorted(slots.items()):
            per_service = services.get(owner)
            if per_service is None:
                services[owner] = per_service = cf.quoted({})
            manifest = per_service.get(customer)
            if manifest is None:
                per_service[customer] = manifest = cf.quoted({"secrets": []})
            listed = [s.get("env") for s in manifest.setdefault("secrets", [])]
            for env in envs:
                if env not in listed:
                    manifest["secrets"].append(cf.quoted({"env": env, "source": "generated", "auto_generate": True}))
        before = f.text
        after = f.render()
        if after != before:
            f.write(after)
        return before, after


def main():
    argument_spec = dict(customer=dict(type="str", required=True),
                         service=dict(type="str", required=True),
                         secrets=dict(type="list", elements="dict", required=True, no_log=False),  # names, not values
                         step=dict(type="str", default="vault_check", choices=["vault_check", "secrets_bootstrap"]),
                         env=dict(type="dict", default={}), generate_bytes=dict(type="int", default=32),
                         planned=dict(type="dict"))
    argument_spec.update(common_args.customers_file_spec())
    argument_spec.update(common_args.vault_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    customer, service = p["customer"], p["service"]
    common_args.check_customer(module, customer)
    path = common_args.customers_file(p)
    generated, slots, diff, env, env_missing = [], {}, None, {}, []
    planned = (p["planned"] or {}) if module.check_mode else {}
    will_exist = set((i.get("service"), i.get("env")) for i in planned.get("vault") or [])
    try:
        dummy, entry, manifest = load(path, customer, planned.get("customers_text"))
        ents = ss.entities(entry)
        vault = common_args.vault_from(p)
        vault.status()
        secrets, env, env_missing, gaps = ss.check_needs(vault, customer, service, entry, manifest, p["secrets"],
                                                         p["env"], will_exist)
        # Settings from customers.yaml belong in the same report: blueprint without its Entra ids is T10.
        gaps += [(name, "no value in customers.yaml for %s" % p["env"][name],
                  "axe customers ingest %s PACK.json --apply (the customer IT's pack carries it)" % customer)
                 for name in env_missing]
        if gaps:
            raise ProductError("%d value(s) %s needs for %s are missing" % (len(gaps), service, customer),
                               trap="T10" if env_missing and service == "blueprint" else "T08",
                               details=["%s: %s -> %s" % gap for gap in gaps],
                               next_step="run each command above, then deploy again (nothing was changed)")
        if p["step"] == "secrets_bootstrap":
            generated = [s["env"] for s in secrets if s["auto_generate"] and not s["present"]]
            slots = ss.slots_to_add(secrets, manifest)
            if not module.check_mode:
                for s in secrets:
                    if s["env"] in generated:
                        value = base64.urlsafe_b64encode(os.urandom(p["generate_bytes"])).decode().rstrip("=")
                        module.no_log_values.add(value)
                        vault.put(customer, s["owner"], s["env"], value)
                        s["present"] = True
                if slots:
                    diff = add_slots(path, customer, slots)
    except ProductError as exc:
        fail(module, exc)
    changed = bool(generated or slots)
    result = dict(changed=changed, secrets=secrets, generated=generated, slots_added=slots,
                  customer_entry=entry, entities=ents, env=env, env_missing=env_missing)
    if module._diff:
        if diff:
            result["diff"] = dict(before_header=path, after_header=path, before=diff[0], after=diff[1])
        else:
            result["diff"] = dict(before="", after="".join("+ vault %s (generated)\n" % e for e in generated) +
                                  "".join("+ slot services.%s.%s: %s\n" % (o, customer, e) for o, envs in sorted(slots.items()) for e in envs))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
