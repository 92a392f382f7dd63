# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The file formats the product owns, as JSON Schemas: customers.yaml and the bootstrap pack.

These dicts are the source; `schemas/*.schema.json` in the repository are exported from them
(scripts/export_schemas.py) for editors and other tools, and a test keeps the two identical.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Characters no id, secret, URI or name in these files may hold: C0 and C1 control characters and
# DEL (NUL, ESC, a trailing newline), zero-width characters and bidi marks (U+200B-U+200F), line and
# paragraph separators with the bidi embeddings and overrides (U+2028-U+202E), the word joiner,
# invisible operators and bidi isolates (U+2060-U+206F), the Arabic letter mark (U+061C), a byte
# order mark inside a value (U+FEFF) and lone surrogates (U+D800-U+DFFF). Each looks like nothing,
# or like something else, on an operator's screen.
UNSAFE_CHARS = r"\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ud800-\udfff"
# Put first in every string pattern: "none of UNSAFE_CHARS anywhere". `[\s\S]` and the lookahead
# mean the same in Python's re (what jsonschema runs) and in ECMA-262 (what editors run); it also
# closes Python's `$`, which matches before a trailing newline, so "acme\n" matched `^[a-z]+$`.
NO_UNSAFE_CHARS = r"(?![\s\S]*[" + UNSAFE_CHARS + r"])"


def safe(pattern=r"^"):
    """`pattern` (anchored with ^) that also refuses every UNSAFE_CHARS character; no argument: any safe text."""
    if not pattern.startswith("^"):
        raise ValueError("an anchored pattern is expected: %r" % pattern)
    return "^" + NO_UNSAFE_CHARS + pattern[1:]


def unsafe_form(pattern):
    """The pattern as written, without the NO_UNSAFE_CHARS guard (for error messages)."""
    return pattern.replace(NO_UNSAFE_CHARS, "", 1)


# Trap T25: everything derived from a customer id (paths, host names, env names) is built from
# an id that matches this.
CUSTOMER_ID = safe(r"^[a-z][a-z0-9-]{1,30}$")
UUID = safe(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
HOSTNAME = safe(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ENV_NAME = safe(r"^[A-Z][A-Z0-9_]{1,127}$")
ENTITY_ID = safe(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# A value frame takes as one CLI word (an entity's kind, its accounting standard): lowercase, no spaces.
SETTING_WORD = safe(r"^[a-z][a-z0-9_-]{0,31}$")
SAFE_TEXT = safe()
# An Entra client secret: printable ASCII without spaces (Entra's are 40 of [A-Za-z0-9~._-]).
CLIENT_SECRET = safe(r"^[\x21-\x7e]+$")
# A service is a role of the collection (module_utils/catalogue.py) and a path segment of its vault items.
SERVICE_NAME = safe(r"^[a-z][a-z0-9_]{1,30}$")
SSO_APPS = ["blueprint", "vaultwarden", "frame_mcp"]
# A git ref a service is deployed at (a tag, a branch or a commit): one word, as `git ls-remote` takes it.
GIT_REF = safe(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
PACK_SCHEMA_ID = "axelabs-bootstrap/v1"

_HTTPS_URI = {"type": "string", "pattern": safe(r"^https://[^\s/$.?#][^\s]*$")}
_TEXT = {"type": "string", "minLength": 1, "pattern": SAFE_TEXT}

CUSTOMERS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://axelabs.ai/schemas/customers.schema.json",
    "title": "AXE Labs customer registry (customers.yaml)",
    "description": "Every customer the operator onboards, and the services manifest: which secrets each "
                   "service needs per customer. Secrets themselves live in the vault, never here.",
    "type": "object",
    "additionalProperties": False,
    "required": ["customers"],
    "properties": {
        "customers": {
            "type": "object",
            "propertyNames": {"pattern": CUSTOMER_ID},
            "additionalProperties": {"$ref": "#/$defs/customer"},
        },
        "releases": {
            "description": ("releases.{service}: the ref a customer is deployed at when its own slot names none "
                            "(services.{service}.{customer}.ref): what a new customer's D-day gets."),
            "type": "object",
            "propertyNames": {"pattern": SERVICE_NAME},
            "additionalProperties": {"type": "string", "pattern": GIT_REF},
        },
        "services": {
            "description": "services.{service}.{customer}: the manifest. A customer with no slot under any "
                           "service is a sovereignty customer (trap T24): deploys refuse it.",
            "type": "object",
            "propertyNames": {"pattern": SERVICE_NAME},
            "additionalProperties": {
                "type": "object",
                "propertyNames": {"pattern": CUSTOMER_ID},
                "additionalProperties": {"$ref": "#/$defs/manifest"},
            },
        },
    },
    "$defs": {
        "customer": {
            "type": "object",
            "additionalProperties": False,
            "required": ["legal_name", "primary_domain", "public_domain", "entities", "tailscale_host"],
            "properties": {
                "legal_name": _TEXT,
                "primary_domain": {"type": "string", "pattern": HOSTNAME},
                "public_domain": {"type": "string", "pattern": HOSTNAME},
                "entities": {"type": "array", "minItems": 1, "uniqueItems": True,
                             "items": {"type": "string", "pattern": ENTITY_ID}},
                "entity_names": {"description": "Legal name per entity id, for entity registration "
                                                "(default: the customer's legal_name)",
                                 "type": "object", "propertyNames": {"pattern": ENTITY_ID},
                                 "additionalProperties": _TEXT},
                "entity_settings": {"description": "How frame registers an entity, per entity id, where it is not the "
                                                   "default (kind corporate, accounting standard ksme)",
                                    "type": "object", "propertyNames": {"pattern": ENTITY_ID},
                                    "additionalProperties": {
                                        "type": "object", "additionalProperties": False,
                                        "properties": {"kind": {"type": "string", "pattern": SETTING_WORD},
                                                       "accounting_standard": {"type": "string",
                                                                               "pattern": SETTING_WORD}}}},
                "tailscale_host": {"type": "string", "pattern": safe(r"^[a-z0-9][a-z0-9-]{0,62}$")},
                "ssh_user": {"type": "string", "pattern": safe(r"^[a-z_][a-z0-9_-]{0,31}$")},
                "sso": {"$ref": "#/$defs/sso"},
                "user_entity_map": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string", "pattern": ENTITY_ID}}},
                "default_entities_by_domain": {"type": "object", "additionalProperties": {
                    "type": "array", "items": {"type": "string", "pattern": ENTITY_ID}}},
                "onboarded": {"type": "string", "pattern": safe(r"^\d{4}-\d{2}-\d{2}$")},
            },
        },
        "sso": {
            "type": "object",
            "additionalProperties": False,
            "required": ["provider"],
            "properties": {
                "provider": {"enum": ["microsoft_entra_id"]},
                "tenant_id": {"type": "string", "pattern": UUID},
                "apps": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "blueprint": {"$ref": "#/$defs/sso_app"},
                        "vaultwarden": {"$ref": "#/$defs/sso_app"},
                        "frame_mcp": {"$ref": "#/$defs/sso_app"},
                    },
                },
            },
        },
        "sso_app": {
            "type": "object",
            "additionalProperties": False,
            "required": ["client_id", "client_secret_env"],
            "properties": {
                "client_id": {"type": "string", "pattern": UUID},
                "client_secret_env": {"type": "string", "pattern": safe(r"^AZURE_[A-Z0-9_]+_CLIENT_SECRET$")},
                "redirect_uri": _HTTPS_URI,
                "application_id_uri": _HTTPS_URI,
                "redirect_uris": {"type": "array", "items": _HTTPS_URI},
                "scopes": {"type": "array", "items": _TEXT},
            },
        },
        "manifest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["secrets"],
            "properties": {
                "ref": {"description": "The version the customer should run (a tag, a branch or a commit): what a "
                                       "deploy without --ref deploys. Written by a deploy or a rollout once the "
                                       "customer runs it.",
                        "type": "string", "pattern": GIT_REF},
                "secrets": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["env"],
                        "properties": {
                            "env": {"type": "string", "pattern": ENV_NAME},
                            "auto_generate": {"type": "boolean"},
                            "source": {"enum": ["pack", "generated", "operator"]},
                            "description": {"type": "string", "pattern": SAFE_TEXT},
                        },
                    },
                },
            },
        },
    },
}

_PACK_APP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["client_id", "client_secret"],
    "properties": {
        "client_id": {"type": "string", "pattern": UUID},
        "client_secret": {"type": "string", "writeOnly": True, "minLength": 8, "maxLength": 512, "pattern": CLIENT_SECRET,
                          "description": "Never shown: errors name the field and the fault, not the value."},
    },
}

PACK_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://axelabs.ai/schemas/axelabs-bootstrap-v1.schema.json",
    "title": "Customer IT's bootstrap pack (axelabs-bootstrap-{customer}.json, schema axelabs-bootstrap/v1)",
    "description": "The Entra ID app registrations customer IT made for the customer: tenant, three apps' "
                   "client ids and secrets, and frame_mcp's application id URI. Fields not listed here are "
                   "reported as warnings, not errors.",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "customer", "tenant_id", "apps"],
    "properties": {
        "schema": {"const": PACK_SCHEMA_ID},
        "customer": {"type": "string", "pattern": CUSTOMER_ID},
        "generated_at": {"type": "string", "pattern": SAFE_TEXT},
        "tenant_id": {"type": "string", "pattern": UUID},
        "apps": {
            "type": "object",
            "additionalProperties": False,
            "required": SSO_APPS,
            "properties": {
                "blueprint": _PACK_APP,
                "vaultwarden": _PACK_APP,
                "frame_mcp": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["client_id", "client_secret", "application_id_uri"],
                    "properties": dict(_PACK_APP["properties"], **{
                        "application_id_uri": _HTTPS_URI,
                        "scope": _TEXT,
                        "redirect_uris": {"type": "array", "minItems": 1, "items": _HTTPS_URI},
                    }),
                },
            },
        },
    },
}
