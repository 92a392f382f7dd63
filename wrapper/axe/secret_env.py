"""Secret-bearing environment variables stay in axe's memory, never in a run's environment.

ansible-runner writes the whole environment of every run into its artifacts (`artifacts/*/command`),
so a BW_SESSION, BWS_ACCESS_TOKEN or CLOUDFLARE_API_TOKEN in the operator's shell would be written to
disk for every run, check runs included. axe withdraws such variables from its own environment when
it starts (so nothing it starts inherits them) and hands each on only where it is needed: the session
to the `bw serve` it starts, the Secrets Manager token to a run as a private file (AXE_SM_TOKEN_FILE).
"""
from __future__ import annotations

import os
import re

# A name that says it holds a secret; *_FILE names a path (ANSIBLE_VAULT_PASSWORD_FILE), not a secret.
SECRET_NAME = re.compile(r"^BW_SESSION$|_TOKEN$|_SECRET$|_PASSWORD$|_KEY$|PASSWORD")
NOT_SECRET = re.compile(r"_FILE$|_PATH$|_DIR$")

_held: dict[str, str] = {}


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_SECRET.search(name)


def withdraw(environ=None) -> list[str]:
    """Move every secret-bearing variable out of the environment into axe's memory; returns their names."""
    environ = os.environ if environ is None else environ
    names = sorted(name for name in environ if is_secret_name(name))
    for name in names:
        _held[name] = environ.pop(name)
    return names


def get(name: str) -> str:
    return (_held.get(name) or os.environ.get(name) or "").strip()
