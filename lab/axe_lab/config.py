"""Where a lab lives: the names of its Docker objects and the files it writes for the operator."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Lab host names come from customer ids (`{customer}-macmini`); keep them to what the product
# accepts as an id (trap T25) so every name derived from them is safe for Docker and DNS.
CUSTOMER_ID = re.compile(r"^[a-z][a-z0-9-]{1,30}$")

TAILNET = "tail-lab.ts.net"
SSH_USER = "axe"
BASE_IMAGE = "axelab/base:bookworm"
HOST_IMAGE_REPO = "axelab/macmini"
RUNTIME_IMAGE_REPO = "axelab/runtime"
VAULTWARDEN_IMAGE_REPO = "axelab/vaultwarden"
# Inside each host the images are known by the names a Dockerfile would use.
INNER_BASE_TAG = "debian:bookworm"
INNER_RUNTIME_TAG = "axelab/runtime:bookworm"
# The customer's Vaultwarden image in the lab (`AXE_VAULT_IMAGE` in `axe lab env`).
INNER_VAULTWARDEN_TAG = "axelab/vaultwarden:lab"
LABEL = "axelab.lab"


class LabError(RuntimeError):
    """A lab operation failed; the message says what and what to do next."""


def default_state_dir() -> Path:
    if os.environ.get("AXE_STATE_DIR"):
        return Path(os.environ["AXE_STATE_DIR"]).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "axe"


@dataclass(frozen=True)
class Lab:
    """One named lab. Two labs (the demo's and the tests') can run side by side."""

    name: str
    state_dir: Path

    @classmethod
    def from_env(cls) -> "Lab":
        name = os.environ.get("AXE_LAB_NAME", "axelab")
        if not re.fullmatch(r"[a-z][a-z0-9]{1,15}", name):
            raise LabError(f"AXE_LAB_NAME={name!r} is not a lab name: use 2-16 lowercase letters and digits")
        return cls(name=name, state_dir=default_state_dir() / "lab" / name)

    # Docker object names -------------------------------------------------------------
    @property
    def network(self) -> str:
        return f"{self.name}-net"

    def container(self, host: str) -> str:
        return f"{self.name}-{host}"

    def volume(self, host: str) -> str:
        return f"{self.name}-{host}-docker"

    # Files the operator side uses ------------------------------------------------------
    @property
    def operator_key(self) -> Path:
        return self.state_dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.state_dir / "ssh_config"

    def host_dir(self, host: str) -> Path:
        return self.state_dir / "hosts" / host


def host_name(customer: str) -> str:
    """The runbook's convention: a customer's Mac mini is `{customer}-macmini`."""
    if not CUSTOMER_ID.fullmatch(customer):
        raise LabError(f"{customer!r} is not a customer id: use ^[a-z][a-z0-9-]{{1,30}}$ (e.g. acme)")
    return f"{customer}-macmini"


def magicdns_name(host: str) -> str:
    return f"{host}.{TAILNET}"
