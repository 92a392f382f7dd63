# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every vault-touching plugin shares, declared once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  vault_backend:
    description:
      - The vault backend. C(bw_serve) talks to Vaultwarden through the Bitwarden CLI's local REST API.
        C(secrets_manager) talks to Bitwarden Secrets Manager through the official C(bitwarden-sdk) - a project
        per customer, secrets keyed by env name, the machine account's access token from E(BWS_ACCESS_TOKEN) or
        the OS keychain (item C(axe.secrets-manager.token)), its other settings from E(AXE_SM_API_URL),
        E(AXE_SM_IDENTITY_URL), E(AXE_SM_ORGANIZATION_ID) and E(AXE_SM_CA_FILE).
      - Defaults to the environment variable E(AXE_VAULT_BACKEND), else C(bw_serve).
    type: str
    choices: [bw_serve, secrets_manager]
  vault_url:
    description:
      - The URL of C(bw serve) on the controller (C(bw_serve) only).
      - Defaults to the environment variable E(AXE_VAULT_URL), else C(http://127.0.0.1:8087).
    type: str
  vault_organization:
    description:
      - The vault organization that holds the customers' collections (C(bw_serve) only).
      - Defaults to the environment variable E(AXE_VAULT_ORGANIZATION), else C(AXE Labs).
    type: str
"""

    CUSTOMERS_FILE = r"""
options:
  customers_file:
    description:
      - The customer registry, validated against C(schemas/customers.schema.json).
      - Defaults to the environment variable E(AXE_CUSTOMERS_FILE), else C(~/.axe/customers.yaml).
    type: path
"""
