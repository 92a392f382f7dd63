#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: service_entities
short_description: Register a customer's entities in a running service (frame, hive), each only once
version_added: 0.1.0
description:
  - Lists the entities the service knows (C(<cli> list-entities)) and registers the missing ones
    (C(<cli> register-entity --id ID --legal-name NAME ...)) inside O(container). Re-registering changes nothing.
  - Trap T16 - before registering an entity, checks that the container has each of the entity's C(env) of each of O(entities)
    (its two PII passphrases) set, and refuses the entity otherwise, naming what is missing. Only the names are
    checked and reported, never the values.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
options:
  container:
    description: The running container to register in (the staged colour, before the ingress swap).
    type: str
    required: true
  cli:
    description: The service's entity command line inside the container.
    type: list
    elements: str
    required: true
  entities:
    description:
      - C(id), C(legal_name), optional C(args) (extra CLI arguments), C(settings) (the entity's own values for the
        placeholders in C(args)) and C(env) (env names that must be set).
    type: list
    elements: dict
    required: true
  list_in:
    description:
      - In check mode, where O(container) does not run yet (the release is not staged), the container whose entities
        stand for it - the live release, which shares the service's database - so the plan lists only the new ones.
    type: str
  defaults:
    description:
      - Values for the placeholders in an entity's C(args) (C({kind}) in C(--kind {kind})) where its C(settings) have
        none - the service's data (frame's C(kind) is C(corporate)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Register acme's entities in frame
  axelabs.onboard.service_entities:
    container: frame-mcp-green
    cli: [python3, -m, frame.cli]
    entities:
      - {id: acme-kr, legal_name: ACME Korea, args: [--kind, corporate], env: [PII_ACME_KR_PASSPHRASE_1, PII_ACME_KR_PASSPHRASE_2]}
"""

RETURN = r"""
registered:
  description:
    - Entity ids registered by this call (in check mode, that would be). On failure, only those the service confirmed
      before the failing one; the failing entity is never listed.
  returned: always
  type: list
  elements: str
existing:
  description: Entity ids the service already had.
  returned: success
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail

# Prints the names (never the values) of the variables that are unset or empty in the container.
MISSING_ENV = ["sh", "-c", 'for n in "$@"; do [ -n "$(printenv "$n")" ] || echo "$n"; done', "sh"]


def last_json(text):
    for line in reversed((text or "").splitlines()):
        if line.strip().startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return {}


def entity_args(entity, defaults):
    """The entity's extra CLI words, each placeholder filled from its settings, else the service's defaults. Only the
    template is formatted (a legal name with braces is never a template)."""
    values = dict(defaults or {}, **(entity.get("settings") or {}))
    try:
        return [str(arg).format(**values) for arg in entity.get("args") or []]
    except (KeyError, IndexError, ValueError) as exc:
        raise ProductError("entity %s: no value for %s in the service's entity arguments" % (entity["id"], exc),
                           next_step="give it in customers.yaml's entity_settings or the service's entities.defaults")


def main():
    module = AnsibleModule(
        argument_spec=dict(container=dict(type="str", required=True), cli=dict(type="list", elements="str", required=True),
                           entities=dict(type="list", elements="dict", required=True), defaults=dict(type="dict", default={}),
                           list_in=dict(type="str")),
        supports_check_mode=True,
    )
    p = module.params
    host = ServiceHost(module)
    registered, existing = [], []
    try:
        rc, out, err = host.run(cc.exec_in(p["container"], p["cli"] + ["list-entities"]), check=False)
        if rc != 0 and module.check_mode and p["list_in"]:
            rc, out, err = host.run(cc.exec_in(p["list_in"], p["cli"] + ["list-entities"]), check=False)
        if rc != 0 and not module.check_mode:
            raise ProductError("cannot list entities in %s: %s" % (p["container"], (err or out).strip()[-400:]),
                               next_step="check the container runs (`docker ps`) and deploy again")
        known = set(e.get("id") if isinstance(e, dict) else e for e in last_json(out).get("entities", [])) if rc == 0 else set()
        for entity in p["entities"]:
            if entity["id"] in known:
                existing.append(entity["id"])
                continue
            if module.check_mode:
                registered.append(entity["id"])  # would be
                continue
            names = list(entity.get("env") or [])
            if names:
                dummy, out, dummy = host.run(cc.exec_in(p["container"], MISSING_ENV + names))
                missing = out.split()
                if missing:
                    raise ProductError("entity %s has no PII passphrases in %s: %s" % (entity["id"], p["container"], ", ".join(missing)),
                                       trap="T16", next_step="deploy again: secrets_bootstrap generates them into the vault and "
                                                             ".env.local before any entity is registered")
            argv = p["cli"] + ["register-entity", "--id", entity["id"], "--legal-name", entity["legal_name"]]
            rc, out, err = host.run(cc.exec_in(p["container"], argv + entity_args(entity, p["defaults"])), check=False)
            if rc != 0:
                why = (last_json(out).get("error") or err or out).strip()[-400:]
                raise ProductError("registering entity %s in %s failed: %s" % (entity["id"], p["container"], why),
                                   trap="T16" if rc == 3 else None, next_step="fix the cause and deploy again (registration is idempotent)")
            registered.append(entity["id"])  # only once the service said so
    except ProductError as exc:
        fail(module, exc, registered=registered, commands=host.commands)
    module.exit_json(changed=bool(registered), registered=registered, existing=existing, commands=host.commands,
                     diff=dict(before="".join("%s\n" % e for e in sorted(existing)),
                               after="".join("%s\n" % e for e in sorted(existing + registered))))


if __name__ == "__main__":
    main()
