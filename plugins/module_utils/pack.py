# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer IT's bootstrap pack: read it (JSON, or the 8 values as text), validate it, and
derive what it means for customers.yaml and the vault. Pure functions; no I/O but reading the pack.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import json
import re

from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import (
    PACK_SCHEMA, PACK_SCHEMA_ID, SSO_APPS)
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, validate

# MCP clients whose OAuth callbacks frame_mcp may list besides the customer's own domain.
KNOWN_MCP_CALLBACKS = ("https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback")
# app in the pack -> the service whose manifest holds its client secret
APP_SERVICE = {"blueprint": "blueprint", "vaultwarden": "vault", "frame_mcp": "frame"}
TEXT_KEYS = ["tenant_id"] + ["%s_%s" % (app, field) for app in SSO_APPS for field in ("client_id", "client_secret")] \
    + ["frame_mcp_application_id_uri"]


def secret_env(customer, app):
    """AZURE_{CUSTOMER}_{APP}_CLIENT_SECRET, from a validated id (T25): `acme-kr` -> ACME_KR."""
    return "AZURE_%s_%s_CLIENT_SECRET" % (customer.upper().replace("-", "_"), app.upper())


def read(path, fmt="json"):
    try:
        with io.open(path, encoding="utf-8") as fh:
            raw = fh.read()
    except (IOError, OSError) as exc:
        raise ProductError("cannot read the pack %s: %s" % (path, exc.strerror or exc),
                           next_step="check the path; customer IT sends axelabs-bootstrap-{customer}.json")
    except UnicodeDecodeError as exc:
        raise ProductError("%s is not UTF-8 text (byte %d)" % (path, exc.start),
                           next_step="ask customer IT to resend the pack as UTF-8 JSON")
    if fmt == "text":
        return parse_text(raw, path)
    try:
        pack = json.loads(raw)
    except ValueError as exc:
        raise ProductError("%s is not valid JSON: %s" % (path, exc),
                           next_step="ask customer IT to resend the pack, or give the 8 values as text (--from-text)")
    if not isinstance(pack, dict):
        raise ProductError("%s: the pack must be a JSON object, got %s" % (path, type(pack).__name__),
                           next_step="ask customer IT to resend axelabs-bootstrap-{customer}.json")
    return pack


def parse_text(raw, source="text"):
    """The runbook's fallback: the 8 values as `name: value` (or `name = value`) lines.

    Names may use spaces or dots for underscores (`blueprint client_id`, `frame_mcp.client_secret`).
    """
    values = {}
    for number, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"^([A-Za-z_. ]+?)\s*[:=]\s*(\S+)\s*$", line)
        if not match:
            raise ProductError("%s:%d: expected `name: value`, got %r" % (source, number, line[:40]),
                               next_step="one value per line; names: %s" % ", ".join(TEXT_KEYS))
        key = re.sub(r"[ .]+", "_", match.group(1).strip().lower())
        if key not in TEXT_KEYS:
            raise ProductError("%s:%d: unknown name %r" % (source, number, key),
                               next_step="names: %s" % ", ".join(TEXT_KEYS))
        values[key] = match.group(2).strip("\"'")
    missing = [k for k in TEXT_KEYS if k not in values]
    if missing:
        raise ProductError("%s: missing %s" % (source, ", ".join(missing)),
                           next_step="give all 8 values: %s" % ", ".join(TEXT_KEYS))
    apps = dict((app, {"client_id": values[app + "_client_id"], "client_secret": values[app + "_client_secret"]})
                for app in SSO_APPS)
    app_uri = values["frame_mcp_application_id_uri"]
    apps["frame_mcp"].update(application_id_uri=app_uri, scope=app_uri.rstrip("/") + "/mcp.access",
                             redirect_uris=list(KNOWN_MCP_CALLBACKS))
    return {"schema": PACK_SCHEMA_ID, "tenant_id": values["tenant_id"], "apps": apps}


def check(pack, customer, public_domain, source):
    """Validate a pack for a customer. Returns the warnings; raises ProductError with every error."""
    if pack.get("schema") not in (None, PACK_SCHEMA_ID):
        raise ProductError("%s: unknown pack schema %r; this axe reads %s" % (source, pack.get("schema"), PACK_SCHEMA_ID),
                           next_step="ask customer IT for an %s pack, or upgrade axe" % PACK_SCHEMA_ID)
    pack = dict(pack)
    pack.setdefault("customer", customer)  # the text form names no customer: it is the one given
    errors, warnings = validate(pack, PACK_SCHEMA, source, unknown_fields_are_warnings=True)
    if pack.get("customer") != customer and not errors:
        errors.append("%s: customer: the pack is for %r, not %r" % (source, pack.get("customer"), customer))
    apps = pack.get("apps") if isinstance(pack.get("apps"), dict) else {}
    frame = apps.get("frame_mcp") if isinstance(apps.get("frame_mcp"), dict) else {}
    base = "https://%s" % public_domain
    expected_uri = base + "/frame/mcp"
    if frame.get("application_id_uri") not in (None, expected_uri):
        errors.append("%s: apps.frame_mcp.application_id_uri: %r is not %s (the customer's public domain)"
                      % (source, frame.get("application_id_uri"), expected_uri))
    if frame.get("scope") not in (None, expected_uri + "/mcp.access"):
        errors.append("%s: apps.frame_mcp.scope: %r is not %s/mcp.access" % (source, frame.get("scope"), expected_uri))
    redirect_uris = frame.get("redirect_uris") if isinstance(frame.get("redirect_uris"), list) else []
    for index, uri in enumerate(redirect_uris):
        if isinstance(uri, str) and not (uri.startswith(base + "/") or uri in KNOWN_MCP_CALLBACKS):
            errors.append("%s: apps.frame_mcp.redirect_uris[%d]: %r is neither on %s nor a known MCP client "
                          "callback (%s)" % (source, index, uri, public_domain, ", ".join(KNOWN_MCP_CALLBACKS)))
    ids = [a.get("client_id") for a in apps.values() if isinstance(a, dict) and isinstance(a.get("client_id"), str)]
    if len(ids) != len(set(ids)):
        errors.append("%s: apps: two apps share a client_id; each Entra app registration has its own" % source)
    if errors:
        raise ProductError("the pack %s cannot be ingested" % source, details=errors,
                           next_step="ask customer IT to correct these and resend; nothing was changed")
    return warnings


def sso_entry(pack, customer, public_domain):
    """customers.yaml's `sso` for this pack (no secret values: only their env names)."""
    base = "https://%s" % public_domain
    frame = pack["apps"]["frame_mcp"]
    apps = {
        "blueprint": {"client_id": pack["apps"]["blueprint"]["client_id"],
                      "client_secret_env": secret_env(customer, "blueprint"),
                      "redirect_uri": base + "/api/auth/callback/azure-ad"},
        "vaultwarden": {"client_id": pack["apps"]["vaultwarden"]["client_id"],
                        "client_secret_env": secret_env(customer, "vaultwarden"),
                        "redirect_uri": base + "/vault/identity/connect/oidc-signin"},
        "frame_mcp": {"client_id": frame["client_id"],
                      "client_secret_env": secret_env(customer, "frame_mcp"),
                      "application_id_uri": frame["application_id_uri"],
                      "redirect_uris": list(frame.get("redirect_uris") or KNOWN_MCP_CALLBACKS),
                      "scopes": ["openid", "profile", "email",
                                 frame.get("scope") or frame["application_id_uri"] + "/mcp.access"]},
    }
    return {"provider": "microsoft_entra_id", "tenant_id": pack["tenant_id"], "apps": apps}


def secrets(pack, customer):
    """[(service, env name, value)] for the three client secrets: what goes to the vault."""
    return [(APP_SERVICE[app], secret_env(customer, app), pack["apps"][app]["client_secret"]) for app in SSO_APPS]
