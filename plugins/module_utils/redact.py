# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masks the values of secret-named settings in configuration text, for diffs an operator reads.

A file the product replaces may hold secrets it did not put there (a compose file written by hand
with SSO_CLIENT_SECRET inline): its diff must show that the line goes, not what it held. A setting is
secret by its name, as compose files, env files and YAML write it:
    SSO_CLIENT_SECRET: "..."     - SSO_CLIENT_SECRET=...     SSO_CLIENT_SECRET=...
and wherever a URL carries a password (DATABASE_URL=postgresql://user:...@db/vw), whatever the setting's name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECRET_WORDS = ("SECRET", "PASSWORD", "PASSPHRASE", "TOKEN", "PRIVATE_KEY", "API_KEY", "ACCESS_KEY", "PASSWD", "PWD")
MASK = "<redacted>"
_SETTING = re.compile(r"^(?P<lead>\s*(?:-\s+)?['\"]?)(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>['\"]?\s*:\s*|=)(?P<value>.*)$")
# A password inside a URL (DATABASE_URL=postgresql://user:PASSWORD@host/db, SMTP or Redis URLs alike).
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)(?P<password>[^\s@'\"]+)(?P<at>@)")
# YAML's block scalars (`KEY: |`, `KEY: >-`): the value is the more-indented lines after.
_BLOCK = re.compile(r"^[|>][-+0-9]*\s*(#.*)?$")


def is_secret_name(name):
    """Secret by its name: the words above, or a key (PUSH_INSTALLATION_KEY, DUO_SKEY; not KEYS or KEYBOARD)."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS) or upper.endswith("KEY")


def redact_line(line):
    line = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), line)
    match = _SETTING.match(line)
    if not match or not is_secret_name(match.group("key")) or not match.group("value").strip():
        return line
    return "%s%s%s%s" % (match.group("lead"), match.group("key"), match.group("sep"), MASK)


def _opens_multiline(value):
    """The value goes on past its line: a block scalar, or a quote opened and not closed on it."""
    value = value.strip()
    if _BLOCK.match(value):
        return "block"
    for quote in ('"', "'"):
        if value.startswith(quote):
            body = value[1:].replace("\\\\", "").replace("\\" + quote, "") if quote == '"' else value[1:].replace("''", "")
            if quote not in body:
                return quote
    return None


def redact_text(text):
    """Every line of `text` with secret-named settings' values masked (line endings kept), values that go on for
    several lines (YAML block scalars, quoted values across lines) included: their further lines become MASK."""
    if not isinstance(text, str):
        return text
    out, inside, indent = [], None, 0
    for raw in text.splitlines(True):
        end = raw[len(raw.rstrip("\r\n")):]
        line = raw[:len(raw) - len(end)]
        if inside == "block":
            if not line.strip() or len(line) - len(line.lstrip()) > indent:
                out.append((" " * (indent + 2) + MASK if line.strip() else line) + end)
                continue
            inside = None
        elif inside:
            closed = inside in line.replace("\\" + inside, "")
            out.append(MASK + (inside if closed else "") + end)
            inside = None if closed else inside
            continue
        match = _SETTING.match(line)
        if match and is_secret_name(match.group("key")):
            inside = _opens_multiline(match.group("value"))
            indent = len(line) - len(line.lstrip())
        out.append(redact_line(line) + end)
    return "".join(out)
