# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masks the values of secret-named settings in configuration text, for diffs an operator reads.

A file the product replaces may hold secrets it did not put there (a compose file written by hand
with SSO_CLIENT_SECRET inline): its diff must show that the line goes, not what it held. A setting is
secret by its name, as compose files, env files and YAML write it:
    SSO_CLIENT_SECRET: "..."     - SSO_CLIENT_SECRET=...     SSO_CLIENT_SECRET=...
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECRET_WORDS = ("SECRET", "PASSWORD", "PASSPHRASE", "TOKEN", "PRIVATE_KEY", "API_KEY", "ACCESS_KEY")
MASK = "<redacted>"
_SETTING = re.compile(r"^(?P<lead>\s*(?:-\s+)?['\"]?)(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?P<sep>['\"]?\s*:\s*|=)(?P<value>.*)$")


def is_secret_name(name):
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def redact_line(line):
    match = _SETTING.match(line)
    if not match or not is_secret_name(match.group("key")) or not match.group("value").strip():
        return line
    return "%s%s%s%s" % (match.group("lead"), match.group("key"), match.group("sep"), MASK)


def redact_text(text):
    """Every line of `text` with secret-named settings' values masked (line endings kept)."""
    if not isinstance(text, str):
        return text
    return "".join(redact_line(line[:-1]) + "\n" if line.endswith("\n") else redact_line(line)
                   for line in text.splitlines(True))
