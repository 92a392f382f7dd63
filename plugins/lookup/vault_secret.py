# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vault_secret
short_description: Read a customer's secrets from the vault by env name
version_added: 0.1.0
description:
  - Returns the value of each named secret of one service of one customer, from the same vault the
    C(axelabs.onboard.vault_secret) module writes (item C(axe/{customer}/{service}/{ENV})).
  - Use the result only in tasks with C(no_log), and in files written with a restrictive mode.
author:
  - AXE Labs (@axelabs)
options:
  _terms:
    description: Env names of the secrets.
    required: true
    type: list
    elements: str
  customer:
    description: The customer id.
    required: true
    type: str
  service:
    description:
      - The service whose manifest lists the secrets (a service of the catalogue, C(query('axelabs.onboard.services'))),
        or C(cloudflare) for the operator's API token.
    required: true
    type: str
  missing:
    description: What to do when a secret is not in the vault.
    type: str
    choices: [error, empty]
    default: error
  vault_backend:
    description:
      - The vault backend, C(bw_serve) or C(secrets_manager) (Bitwarden Secrets Manager through C(bitwarden-sdk); its
        settings come from E(AXE_SM_API_URL), E(AXE_SM_IDENTITY_URL), E(AXE_SM_ORGANIZATION_ID), E(AXE_SM_CA_FILE),
        its token from E(BWS_ACCESS_TOKEN) or the keychain item C(axe.secrets-manager.token)).
    type: str
    default: bw_serve
    env:
      - name: AXE_VAULT_BACKEND
  vault_url:
    description: The URL of C(bw serve) on the controller.
    type: str
    default: http://127.0.0.1:8087
    env:
      - name: AXE_VAULT_URL
  vault_organization:
    description: The vault organization that holds the customers' collections.
    type: str
    default: AXE Labs
    env:
      - name: AXE_VAULT_ORGANIZATION
"""

EXAMPLES = r"""
- name: Write blueprint's SSO secret into its env file
  ansible.builtin.copy:
    content: "AZURE_AD_CLIENT_SECRET={{ lookup('axelabs.onboard.vault_secret', 'AZURE_ACME_BLUEPRINT_CLIENT_SECRET',
               customer='acme', service='blueprint') }}\n"
    dest: /Users/axe/.axe/blueprint/.env.local
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The values, in the order of the terms.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.axelabs.onboard.plugins.module_utils import vault
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        customer, service = self.get_option("customer"), self.get_option("service")
        try:
            client = vault.backend(self.get_option("vault_backend"), url=self.get_option("vault_url"),
                                   organization=self.get_option("vault_organization"))
            values = []
            for env, value in zip(terms, client.get_many(customer, service, list(terms))):
                if value is None and self.get_option("missing") == "error":
                    raise AnsibleLookupError(
                        "%s is not in the vault (item %s). Push it: axe secret push %s --service %s --customer %s --apply"
                        % (env, vault.item_name(customer, service, env), env, service, customer))
                values.append(value or "")
            return values
        except ProductError as exc:
            raise AnsibleLookupError(str(exc))
