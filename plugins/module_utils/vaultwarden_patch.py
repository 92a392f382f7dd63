# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Vaultwarden bootstrap patch (D-ops-33), computed as a pure function of the compose file's text.

Four environment keys the customer's Vaultwarden needs for Entra SSO, and DOMAIN with its /vault path:

    SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION "true"  T12  else the first SSO login is refused
    SIGNUPS_ALLOWED                      "true"  T13  else the first JIT signup fails
    SSO_ONLY                             "false" T14  keep the master-password fallback when Entra is down
    ORGANIZATION_INVITE_AUTO_ACCEPT      "true"       employees' invites accepted automatically
    DOMAIN   https://{public_domain}/vault       T21  else SSO redirects and vault links break

Only the lines that must change are touched: a wrong value is rewritten on its own line, a missing key
is inserted right after the `SSO_SIGNUPS_MATCH_EMAIL` line in the style of that line (mapping
`KEY: "value"` or list `- KEY=value`); every other byte stays. INVITATIONS_ALLOWED is never touched.
The patched text is parsed again and must give the service exactly the wanted values, or nothing is
returned but an error.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.axelabs.onboard.plugins.module_utils.redact import redact_line
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

ANCHOR = "SSO_SIGNUPS_MATCH_EMAIL"
KEYS = (("SSO_ALLOW_UNKNOWN_EMAIL_VERIFICATION", "true", "T12"), ("SIGNUPS_ALLOWED", "true", "T13"),
        ("SSO_ONLY", "false", "T14"), ("ORGANIZATION_INVITE_AUTO_ACCEPT", "true", None))
UNTOUCHED = ("INVITATIONS_ALLOWED",)

_MAP_LINE = re.compile(r"^(?P<indent>\s*)(?P<q>['\"]?)(?P<key>[A-Z][A-Z0-9_]*)(?P=q)\s*:\s*(?P<value>.*?)(?P<comment>\s+#.*)?$")
_LIST_LINE = re.compile(r"^(?P<indent>\s*)-\s+(?P<q>['\"]?)(?P<key>[A-Z][A-Z0-9_]*)=(?P<value>.*?)(?P=q)(?P<comment>\s+#.*)?$")


def wanted(public_domain):
    return list(KEYS) + [("DOMAIN", "https://%s/vault" % public_domain, "T21")]


def _yaml():
    from ruamel.yaml import YAML
    return YAML(typ="rt")


def _load(text):
    """The compose file, or an error naming where it breaks: never ruamel's own message, which quotes the lines
    around the fault (a compose file written by hand may hold the client secret inline)."""
    from ruamel.yaml.error import YAMLError
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = "line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else "somewhere"
        problem = (getattr(exc, "problem", None) or "not valid YAML").strip()
        raise ProductError("the compose file is not valid YAML at %s: %s" % (where, problem),
                           next_step="fix that line (its text is not shown: it may hold a secret), then run again")


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _environment(document, service):
    services = (document or {}).get("services") or {}
    if service not in services:
        raise ProductError("no service %r in the compose file (services: %s)" % (service, ", ".join(sorted(services)) or "none"),
                           next_step="give the Vaultwarden service's name (vault_service), or fix the file")
    env = (services[service] or {}).get("environment")
    if env is None:
        raise ProductError("service %r has no environment" % service,
                           next_step="the stack is not the one axe renders for the vault: redeploy it "
                                     "(axe deploy vault CUSTOMER --apply), or add its environment")
    return env


def effective_env(text, service):
    """{KEY: value} of the service's environment, anchors and merges resolved, either form."""
    env = _environment(_load(text), service)
    if isinstance(env, dict):
        return dict((str(k), _scalar(v)) for k, v in env.items())
    out = {}
    for item in env:
        key, sep, value = str(item).partition("=")
        out[key] = value if sep else ""
    return out


def _lines_of(env):
    """{KEY: line index} where each key of the environment is written (for merged keys: the anchor's line)."""
    found = {}
    if isinstance(env, dict):
        for key in env:
            try:
                found[str(key)] = env.lc.key(key)[0]
            except (AttributeError, KeyError, TypeError):
                pass
        # Keys merged in from an anchor (`<<: *vaultwarden-env`) are recorded on the anchor's mapping.
        for merged in getattr(env, "merge", None) or []:
            source = merged[1] if isinstance(merged, tuple) else merged   # ruamel's shape changed over versions
            for key, line in _lines_of(source).items():
                found.setdefault(key, line)
    else:
        for index, item in enumerate(env):
            try:
                found[str(item).partition("=")[0]] = env.lc.item(index)[0]
            except (AttributeError, KeyError, TypeError):
                pass
    return found


def _render(style_line, key, value):
    """A new line for `key` in the style of the anchor line (its indent, form and quoting)."""
    m = _LIST_LINE.match(style_line)
    if m:
        q = m.group("q")
        return "%s- %s%s=%s%s" % (m.group("indent"), q, key, value, q)
    m = _MAP_LINE.match(style_line)
    if m:
        return '%s%s: "%s"' % (m.group("indent"), key, value)
    raise ProductError("cannot read the %s line's style: %r" % (ANCHOR, redact_line(style_line.strip())),
                       next_step="write it as `%s: \"true\"` or `- %s=true`" % (ANCHOR, ANCHOR))


def _rewrite(line, key, value):
    m = _LIST_LINE.match(line)
    if m and m.group("key") == key:
        q = m.group("q")
        return "%s- %s%s=%s%s%s" % (m.group("indent"), q, key, value, q, m.group("comment") or "")
    m = _MAP_LINE.match(line)
    if m and m.group("key") == key:
        return '%s%s%s%s: "%s"%s' % (m.group("indent"), m.group("q"), key, m.group("q"), value, m.group("comment") or "")
    raise ProductError("%s is written in a way the patch cannot rewrite safely: %r" % (key, redact_line(line.strip())),
                       next_step="write it on one line as `%s: \"%s\"` and run again" % (key, value))


def plan(text, public_domain, service="axe-vaultwarden"):
    """{"findings": [(key, now, wanted, trap, action)], "text": patched text} — action is ok, set or add."""
    document = _load(text)
    env = _environment(document, service)
    current = effective_env(text, service)
    where = _lines_of(env)
    lines = text.split("\n")
    findings, edits, inserts = [], {}, []
    for key, value, trap in wanted(public_domain):
        now = current.get(key)
        same = now is not None and (now == value if key == "DOMAIN" else now.strip().lower() == value)
        if same:
            findings.append((key, now, value, trap, "ok"))
        elif now is not None and key in where:
            findings.append((key, now, value, trap, "set"))
            edits[where[key]] = _rewrite(lines[where[key]], key, value)
        else:
            findings.append((key, now, value, trap, "add"))
            inserts.append((key, value))
    if inserts:
        if ANCHOR not in where:
            raise ProductError("%s has no %s line to patch after (missing: %s)" % (service, ANCHOR, ", ".join(k for k, v in inserts)),
                               trap="T12", next_step="add `%s: \"true\"` to the service's environment (the runbook's stack has "
                                                     "it) and run again; nothing was changed" % ANCHOR)
        anchor_line = where[ANCHOR]
        edits[anchor_line] = "\n".join([edits.get(anchor_line, lines[anchor_line])] +
                                       [_render(lines[anchor_line], k, v) for k, v in inserts])
    patched = "\n".join(edits.get(i, line) for i, line in enumerate(lines))
    if patched != text:
        after = effective_env(patched, service)
        wrong = [k for k, v, t in wanted(public_domain) if (after.get(k) or "").lower() != v.lower()]
        untouched = [k for k in current if after.get(k) != current.get(k) and k not in dict((w[0], 1) for w in wanted(public_domain))]
        if wrong or untouched or set(current) - set(after):
            raise ProductError("the patch would not give %s the wanted environment (%s)" % (service, ", ".join(wrong + untouched)),
                               next_step="patch the file by hand (see the four keys in the runbook); nothing was changed")
    return {"findings": findings, "text": patched}
