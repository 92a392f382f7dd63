# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: customer_entities
short_description: A customer's entities with their legal names, from customers.yaml
version_added: 0.3.0
description:
  - Reads the customer registry on the controller and returns the customer's entities in their order, each as
    C(id) and C(legal_name) - the entity's name in C(entity_names), else the customer's C(legal_name) - exactly as
    written (quotes, Hangul), the way the service deploys register them.
author:
  - AXE Labs (@axelabs)
options:
  _terms:
    description: The customer id.
    required: true
  customers_file:
    description: The customer registry.
    type: path
    default: ~/.axe/customers.yaml
    env:
      - name: AXE_CUSTOMERS_FILE
"""

EXAMPLES = r"""
- name: One collection per entity
  ansible.builtin.debug:
    msg: "{{ query('axelabs.onboard.customer_entities', 'acme') | map(attribute='legal_name') }}"
"""

RETURN = r"""
_raw:
  description: One element per entity - C(id), C(legal_name).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets
from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile, plain
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("customer_entities takes one customer id")
        try:
            registry = CustomersFile(self.get_option("customers_file")).load(readonly=True)
            entry = plain(registry.entry(terms[0]))
        except ProductError as exc:
            raise AnsibleLookupError(str(exc))
        return [{"id": e["id"], "legal_name": e["legal_name"]} for e in service_secrets.entities(entry)]
