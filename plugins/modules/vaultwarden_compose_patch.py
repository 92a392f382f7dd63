#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: vaultwarden_compose_patch
short_description: Patch the customer's Vaultwarden docker-compose.yml for Entra SSO (D-ops-33)
version_added: 0.1.0
description:
  - Reads the Vaultwarden compose file on the host and checks the four keys the runbook's bootstrap needs -
    C(SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION) C("true") (trap T12), C(SIGNUPS_ALLOWED) C("true") (T13),
    C(SSO_ONLY) C("false") (T14), C(ORGANIZATION_INVITE_AUTO_ACCEPT) C("true") - and C(DOMAIN)
    C(https://{public_domain}/vault) (T21).
  - Patches only those that are missing or wrong - a wrong value on its own line, a missing key right after the
    C(SSO_SIGNUPS_MATCH_EMAIL) line in that line's style - keeping every other byte. C(INVITATIONS_ALLOWED) is never
    touched. The environment may be a mapping or a list, and may come from a YAML anchor (patched where it is
    written). A file without the C(SSO_SIGNUPS_MATCH_EMAIL) line is an error, never a guess.
  - The patched text is parsed again and must give the service exactly the wanted values before it is written
    (atomically, with a backup when O(backup)).
  - The work happens on the controller (an action plugin, so the host needs no YAML library); the file is read and
    written over the connection. The result and the diff name only the lines of the five keys, never the rest of
    the file (which holds the SSO client secret).
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
attributes:
  action:
    support: full
    description: Runs on the controller as an action plugin.
options:
  path:
    description: The compose file on the host (the runbook's C(~/.axe/vault/docker-compose.yml)).
    type: path
    required: true
  public_domain:
    description: The customer's public name; C(DOMAIN) must be C(https://{public_domain}/vault).
    type: str
    required: true
  service:
    description: The Vaultwarden service in the compose file.
    type: str
    default: axe-vaultwarden
  backup:
    description: Keep the previous file beside it (C(docker-compose.yml.<timestamp>~)) when it is changed.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Diagnose and patch the customer's Vaultwarden (axe vault bootstrap)
  axelabs.onboard.vaultwarden_compose_patch:
    path: ~/.axe/vault/docker-compose.yml
    public_domain: acme.axelabs.ai
  register: vault_patch
"""

RETURN = r"""
findings:
  description: One per key - C(key), C(now) (its value, or null when absent), C(wanted), C(trap), C(action) (ok, set, add).
  returned: success
  type: list
  elements: dict
  sample: [{key: SSO_ONLY, now: "true", wanted: "false", trap: T14, action: set}]
patched:
  description: The keys that were (in check mode, would be) set or added.
  returned: success
  type: list
  elements: str
backup_file:
  description: The backup of the previous file, when one was made.
  returned: changed and backup
  type: str
"""
