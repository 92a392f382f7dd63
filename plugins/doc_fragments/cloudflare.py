# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every Cloudflare module shares, declared once."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - The Cloudflare API token (Zone:Read, DNS:Edit, Cloudflare Tunnel:Edit). Read it from the vault
        (C(axelabs.onboard.vault_secret) lookup); never put it on a command line (trap T09).
      - Defaults to the environment variable E(CLOUDFLARE_API_TOKEN).
    type: str
  base_url:
    description:
      - The API base URL (the SDK's own setting). Defaults to E(CLOUDFLARE_BASE_URL), else Cloudflare's.
    type: str
  zone:
    description:
      - The zone that holds the customers' public names; its account holds the tunnels.
      - Defaults to E(AXE_CLOUDFLARE_ZONE), else C(axelabs.ai).
    type: str
requirements:
  - cloudflare (the official Python SDK)
"""
