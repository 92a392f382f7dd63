# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What secrets a service deploy needs for one customer, and which of them are missing: pure.

A service definition (the frame, blueprint and hive roles' data) lists its secrets as templates:

    {env: "FRAME_{CUSTOMER}_DB_PASSWORD", as: FRAME_DB_PASSWORD, auto_generate: true}
    {env: "AZURE_{CUSTOMER}_BLUEPRINT_CLIENT_SECRET", as: AZURE_AD_CLIENT_SECRET, source: pack}
    {env: "FRAME_{CUSTOMER}_MCP_TOKEN", as: FRAME_MCP_TOKEN, owner: frame, auto_generate: true}
    {env: "PII_{ENTITY}_PASSPHRASE_1", owner: frame, per_entity: true, auto_generate: true}

`env` is the vault name (item `axe/{customer}/{owner}/{env}`) and the slot in customers.yaml's
services manifest; `as` is the name in the container's .env.local (default: env); `owner` is the
service whose manifest holds it (default: the service deployed), so a secret two services share
(frame's MCP token in blueprint, an entity's PII passphrases in hive) has one home.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{1,127}$")


def stem(value):
    """An id as it appears in an env name: acme-kr -> ACME_KR."""
    return re.sub(r"[^A-Z0-9]", "_", value.upper())


def pii_env(entity):
    """Trap T16: the two passphrases that seal an entity's PII."""
    return ["PII_%s_PASSPHRASE_1" % stem(entity), "PII_%s_PASSPHRASE_2" % stem(entity)]


def entities(customer_entry):
    """The customer's entities as [{id, legal_name, env, settings}], legal names from `entity_names` (or the
    customer's legal name), env the PII passphrase names each must have, settings from `entity_settings` (how
    frame registers it, where not its default)."""
    names = customer_entry.get("entity_names") or {}
    settings = customer_entry.get("entity_settings") or {}
    return [{"id": e, "legal_name": names.get(e) or customer_entry["legal_name"], "env": pii_env(e),
             "settings": dict(settings.get(e) or {})}
            for e in customer_entry.get("entities") or []]


def expand(definitions, service, customer, entity_ids):
    """Concrete secrets: [{env, as, owner, auto_generate, source, entity}], in definition order."""
    out, seen = [], {}
    for spec in definitions:
        targets = entity_ids if spec.get("per_entity") else [None]
        for entity in targets:
            fill = {"CUSTOMER": stem(customer), "ENTITY": stem(entity) if entity else ""}
            env = spec["env"].format(**fill)
            alias = (spec.get("as") or spec["env"]).format(**fill)
            for name in (env, alias):
                if not ENV_NAME.match(name):
                    raise ProductError("%r is not an env name (from %r)" % (name, spec["env"]),
                                       next_step="fix the service definition's secrets")
            if alias in seen:
                raise ProductError("%s and %s both become %s in .env.local" % (seen[alias], env, alias),
                                   next_step="entity ids that differ only in '-' and '_' cannot share a customer")
            seen[alias] = env
            out.append({"env": env, "as": alias, "owner": spec.get("owner") or service,
                        "auto_generate": bool(spec.get("auto_generate")), "source": spec.get("source") or
                        ("generated" if spec.get("auto_generate") else "operator"), "entity": entity})
    return out


def slot_listed(manifest, secret):
    return secret["env"] in [s.get("env") for s in manifest.get(secret["owner"], [])]


def missing(secrets, manifest, in_vault, customer):
    """The secrets a deploy cannot make itself: [(env, why, next step)], all of them at once (T08)."""
    out = []
    for secret in secrets:
        if secret["auto_generate"] or in_vault.get(secret["env"]):
            continue
        listed = slot_listed(manifest, secret)
        if secret["source"] == "pack":
            step = "axe customers ingest %s PACK.json --apply (the customer IT's pack carries it)" % customer
        elif listed:
            step = "axe secret push %s --service %s --customer %s" % (secret["env"], secret["owner"], customer)
        else:
            step = ("add {env: %s} to services.%s.%s.secrets in customers.yaml, then axe secret push %s --service %s "
                    "--customer %s" % (secret["env"], secret["owner"], customer, secret["env"], secret["owner"], customer))
        why = "in the manifest, not in the vault" if listed else "no slot in services.%s.%s" % (secret["owner"], customer)
        out.append((secret["env"], why, step))
    return out


def check_needs(vault, customer, service, entry, manifest, secret_specs, env_templates, will_exist=()):
    """What `service` needs for `customer`, against the vault and customers.yaml: (secrets with `present`,
    rendered env, env names customers.yaml has no value for, missing secrets as (env, why, next step)).
    `will_exist`: (owner, env) pairs an earlier step of the same plan writes (check mode)."""
    secrets = expand(secret_specs, service, customer, [e["id"] for e in entities(entry)])
    env, env_missing = render_env(env_templates, entry)
    stored = set(vault.list(customer)) if secrets else set()  # the customer's item names, in one call
    in_vault = dict((s["env"], (s["owner"], s["env"]) in will_exist or (s["owner"], s["env"]) in stored)
                    for s in secrets)
    for s in secrets:
        s["present"] = in_vault[s["env"]]
    return secrets, env, env_missing, missing(secrets, manifest, in_vault, customer)


def slots_to_add(secrets, manifest):
    """Generated secrets whose slot the manifest lacks: {owner: [env]} (the deploy writes them)."""
    out = {}
    for secret in secrets:
        if secret["auto_generate"] and not slot_listed(manifest, secret):
            out.setdefault(secret["owner"], [])
            if secret["env"] not in out[secret["owner"]]:
                out[secret["owner"]].append(secret["env"])
    return out


class _Missing(Exception):
    pass


class _Lookup(dict):
    """str.format_map over a customer entry: a missing key is recorded, not a KeyError."""

    def __missing__(self, key):
        raise _Missing(key)


def _wrap(value):
    if isinstance(value, dict):
        return _Lookup((k, _wrap(v)) for k, v in value.items())
    return value


def render_env(templates, entry):
    """The service's non-secret settings for .env.local: ({name: value}, [names whose value the entry lacks]).
    Templates use the entry's fields: "https://{public_domain}/frame/mcp", "{sso[apps][blueprint][client_id]}"."""
    data, env, missing = _wrap(entry), {}, []
    for name, template in sorted((templates or {}).items()):
        try:
            value = str(template).format_map(data)
        except (_Missing, KeyError, IndexError, TypeError):
            value = ""
        if not value:
            missing.append(name)
        env[name] = value  # any value: .env.local quotes it (module_utils/env_file.py)
    return env, missing
