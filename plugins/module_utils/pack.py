# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The customer IT's bootstrap pack: read it (JSON, or the 8 values as text), validate it, and
derive what it means for customers.yaml and the vault. Pure functions; no I/O but reading the pack.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import (
    PACK_SCHEMA, PACK_SCHEMA_ID, SSO_APPS)
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import (
    ProductError, check_shape, doc_path, line_at, read_regular_file, shown, validate)

# MCP clients whose OAuth callbacks frame_mcp may list besides the customer's own domain.
KNOWN_MCP_CALLBACKS = ("https://claude.ai/api/mcp/auth_callback", "https://claude.com/api/mcp/auth_callback")
# app in the pack -> the service whose manifest holds its client secret
APP_SERVICE = {"blueprint": "blueprint", "vaultwarden": "vault", "frame_mcp": "frame"}
TEXT_KEYS = ["tenant_id"] + ["%s_%s" % (app, field) for app in SSO_APPS for field in ("client_id", "client_secret")] \
    + ["frame_mcp_application_id_uri"]


def secret_env(customer, app):
    """AZURE_{CUSTOMER}_{APP}_CLIENT_SECRET, from a validated id (T25): `acme-kr` -> ACME_KR."""
    return "AZURE_%s_%s_CLIENT_SECRET" % (customer.upper().replace("-", "_"), app.upper())


MAX_PACK_BYTES = 64 * 1024  # a real pack is about 1 KiB
MAX_DEPTH = 32  # a real pack nests 4 levels deep
GIVE_THE_FILE = ("give the path of the file customer IT sent, axelabs-bootstrap-{customer}.json "
                 "(a pipe's or a download's output: save it to a file first)")
RESEND = "ask customer IT to resend axelabs-bootstrap-{customer}.json, or give the 8 values as text (--from-text)"
# Byte order marks customer IT's tools write: Windows PowerShell 5.1's `Out-File -Encoding utf8` and
# Notepad write UTF-8 with a BOM, its plain `Out-File` and `>` write UTF-16 LE with a BOM.
BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def read(path, fmt="json"):
    """The pack at `path` as a dict (fmt `json`), or the 8 values as text made into one (`text`).

    What customer IT's tools really send is read: a byte order mark (UTF-8 or UTF-16) is taken off.
    What no pack is gets a named refusal: not a regular file or larger than 64 KiB (before a byte is
    read), not UTF-8, not JSON, a key twice in one object, nested deeper than a pack nests.
    """
    raw = read_regular_file(path, MAX_PACK_BYTES, "the pack", "a pack is at most %d KiB (a real one is about 1 KiB)"
                            % (MAX_PACK_BYTES // 1024), GIVE_THE_FILE)
    text = decode(raw, path)
    if fmt == "text":
        return parse_text(text, path)
    duplicates = []
    try:
        pack = json.loads(text, object_pairs_hook=lambda pairs: _object(pairs, duplicates))
    except RecursionError:
        raise ProductError("%s: nested more than %d levels deep; a pack nests 4" % (path, MAX_DEPTH), next_step=RESEND)
    except ValueError as exc:
        raise ProductError("%s is not valid JSON: %s" % (path, exc), next_step=RESEND)
    if not isinstance(pack, dict):
        raise ProductError("%s: the pack must be a JSON object, got %s" % (path, type(pack).__name__),
                           next_step=RESEND)
    check_shape(pack, path, MAX_DEPTH, 0, RESEND)
    if duplicates:
        key, where = duplicates[0]
        raise ProductError("%s: %s: the key %r appears twice in one object; which value was meant cannot be told"
                           % (path, doc_path(_path_to(pack, where)), key),
                           next_step="ask customer IT to resend the pack with each key once; nothing was changed")
    return pack


def decode(raw, source):
    """Bytes as text: UTF-8, or UTF-16 with its BOM; a leading BOM is taken off."""
    encoding = "utf-8"
    for bom, name in BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom):], name
            break
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ProductError("%s:%d: byte 0x%02x is not %s: the pack is not UTF-8 text (a Windows code page, such "
                           "as CP949?)" % (source, line_at(raw, exc.start), raw[exc.start], encoding.upper()),
                           next_step="ask customer IT to save the pack as UTF-8 (PowerShell: "
                                     "`Out-File -Encoding utf8`), or give the 8 values as text (--from-text)")


def _object(pairs, duplicates):
    """json's object_pairs_hook: a dict, noting the first key that appears twice (and where)."""
    out = {}
    for key, value in pairs:
        if key in out and not duplicates:
            duplicates.append((key, out))
        out[key] = value
    return out


def _path_to(document, target):
    """The path (a list of keys) from `document` to the object `target` (by identity)."""
    stack = [(document, [])]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        stack.extend((child, path + [key]) for key, child in items)
    return []


def parse_text(raw, source="text"):
    """The runbook's fallback: the 8 values as `name: value` (or `name = value`) lines.

    Names may use spaces or dots for underscores (`blueprint client_id`, `frame_mcp.client_secret`).
    """
    values, lines = {}, {}
    for number, line in enumerate(raw.split("\n"), 1):
        line = line.strip(" \t\r")
        if not line or line.startswith("#"):
            continue
        # Only spaces and tabs separate: any other character stays in the value for the schema to judge.
        match = re.match(r"^([A-Za-z_. ]+?)[ \t]*[:=][ \t]*([^ \t]+)$", line)
        if not match:
            # Never the line itself: it may hold a secret.
            name = re.match(r"^([A-Za-z_. ]{1,40}?)[ \t]*[:=]", line)
            if name:
                raise ProductError("%s:%d: %s: the value is empty or has a space in it" % (
                    source, number, re.sub(r"[ .]+", "_", name.group(1).strip().lower())),
                    next_step="one value per line, as `name: value`; no value has spaces")
            raise ProductError("%s:%d: expected `name: value`" % (source, number),
                               next_step="one value per line; names: %s" % ", ".join(TEXT_KEYS))
        key = re.sub(r"[ .]+", "_", match.group(1).strip().lower())
        if key not in TEXT_KEYS:
            raise ProductError("%s:%d: unknown name %r" % (source, number, key),
                               next_step="names: %s" % ", ".join(TEXT_KEYS))
        if key in values:
            raise ProductError("%s:%d: %s is given twice (first on line %d); which value was meant cannot be told"
                               % (source, number, key, lines[key]), next_step="give each of the 8 values once")
        values[key], lines[key] = match.group(2).strip("\"'"), number
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
        raise ProductError("%s: unknown pack schema %s; this axe reads %s"
                           % (source, shown(pack.get("schema")), PACK_SCHEMA_ID),
                           next_step="ask customer IT for an %s pack, or upgrade axe" % PACK_SCHEMA_ID)
    pack = dict(pack)
    pack.setdefault("customer", customer)  # the text form names no customer: it is the one given
    errors, warnings = validate(pack, PACK_SCHEMA, source, unknown_fields_are_warnings=True)
    if pack.get("customer") != customer and not errors:
        errors.append("%s: customer: the pack is for %s, not %r" % (source, shown(pack.get("customer")), customer))
    apps = pack.get("apps") if isinstance(pack.get("apps"), dict) else {}
    frame = apps.get("frame_mcp") if isinstance(apps.get("frame_mcp"), dict) else {}
    base = "https://%s" % public_domain
    expected_uri = base + "/frame/mcp"
    if frame.get("application_id_uri") not in (None, expected_uri):
        errors.append("%s: apps.frame_mcp.application_id_uri: %s is not %s (the customer's public domain)"
                      % (source, shown(frame.get("application_id_uri")), expected_uri))
    if frame.get("scope") not in (None, expected_uri + "/mcp.access"):
        errors.append("%s: apps.frame_mcp.scope: %s is not %s/mcp.access"
                      % (source, shown(frame.get("scope")), expected_uri))
    redirect_uris = frame.get("redirect_uris") if isinstance(frame.get("redirect_uris"), list) else []
    for index, uri in enumerate(redirect_uris):
        if isinstance(uri, str) and not (uri.startswith(base + "/") or uri in KNOWN_MCP_CALLBACKS):
            errors.append("%s: apps.frame_mcp.redirect_uris[%d]: %s is neither on %s nor a known MCP client "
                          "callback (%s)" % (source, index, shown(uri), public_domain, ", ".join(KNOWN_MCP_CALLBACKS)))
    # Entra shows a client id in any letter case; the same id twice is one app registration reused.
    by_id = {}
    for app in sorted(apps):
        if isinstance(apps[app], dict) and isinstance(apps[app].get("client_id"), str):
            by_id.setdefault(apps[app]["client_id"].lower(), []).append(app)
    for shared in sorted(names for names in by_id.values() if len(names) > 1):
        errors.append("%s: apps: two apps share a client_id (%s, compared in any letter case); each Entra app registration "
                      "has its own" % (source, " and ".join("apps.%s.client_id" % n for n in shared)))
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
