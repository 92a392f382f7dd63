# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs shared by the modules (their docs are the `vault` doc fragment)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback

from ansible_collections.axelabs.onboard.plugins.module_utils import vault
from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import CUSTOMER_ID
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

DEFAULT_CUSTOMERS_FILE = "~/.axe/customers.yaml"


def vault_spec():
    return dict(
        vault_backend=dict(type="str", choices=sorted(vault.BACKENDS), fallback=(env_fallback, ["AXE_VAULT_BACKEND"])),
        vault_url=dict(type="str", fallback=(env_fallback, ["AXE_VAULT_URL"])),
        vault_organization=dict(type="str", fallback=(env_fallback, ["AXE_VAULT_ORGANIZATION"])),
    )


def customers_file_spec():
    return dict(customers_file=dict(type="path", fallback=(env_fallback, ["AXE_CUSTOMERS_FILE"])))


def customers_file(params):
    return os.path.expanduser(params.get("customers_file") or DEFAULT_CUSTOMERS_FILE)


def vault_from(params):
    return vault.backend(params.get("vault_backend") or "bw_serve", url=params.get("vault_url"),
                         organization=params.get("vault_organization"))


def require_customer(customer):
    """Raises ProductError (T25) when `customer` is not a customer id."""
    import re
    if not re.match(CUSTOMER_ID, customer or ""):
        raise ProductError("T25: %r is not a customer id (^[a-z][a-z0-9-]{1,30}$)" % customer)


def check_customer(module, customer):
    try:
        require_customer(customer)
    except ProductError as exc:
        module.fail_json(msg=exc.message)


def planned_vault(params, check_mode):
    """The ingest's plan a check run is handed (none in apply mode: the ingest has happened), and the vault items
    it will make, as (service, env): what a check counts as present."""
    planned = (params.get("planned") or {}) if check_mode else {}
    return planned, set((i.get("service"), i.get("env")) for i in planned.get("vault") or [])


def cloudflare_spec():
    return dict(
        api_token=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_TOKEN"])),
        base_url=dict(type="str", fallback=(env_fallback, ["CLOUDFLARE_BASE_URL"])),
        zone=dict(type="str", fallback=(env_fallback, ["AXE_CLOUDFLARE_ZONE"])),
    )


def cloudflare_from(params):
    from ansible_collections.axelabs.onboard.plugins.module_utils.cloudflare import CloudflareClient
    return CloudflareClient(params.get("api_token"), params.get("zone") or "axelabs.ai", base_url=params.get("base_url"))
