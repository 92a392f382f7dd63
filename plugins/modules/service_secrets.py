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
  - Runs on the controller, against customers.yaml and the vault, in the controller's own process (its action plugin - no module
    process to start there).
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
  - axelabs.onboard.customer
options:
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets_step as step
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    module = AnsibleModule(argument_spec=step.argument_spec(), supports_check_mode=True)
    try:
        result = step.run(module.params, module.check_mode, module._diff, module.no_log_values.add)
    except ProductError as exc:
        fail(module, exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
