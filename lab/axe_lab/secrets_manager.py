"""The lab's Bitwarden Secrets Manager (the `secrets_manager` vault backend's world): one organization,
its key, three machine accounts, a test CA, and the emulator container `{lab}-secrets-manager` serving
identity and API over HTTPS on a 127.0.0.1 port.

Machine accounts (their access tokens in `accounts.json`, mode 600, for tests; the operator's also in the
lab operator's Keychain item `axe.secrets-manager.token`, where the product finds it):
  operator           reads and writes every project (the account the product runs as)
  no-project-access  logs in, but may see or make no project
  expired            refused at login as expired
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import uuid
from pathlib import Path

from . import sm_crypto, tls
from .config import Lab
from .files import atomic_write

PORT = 8444
KEYCHAIN_SERVICE = "axe.secrets-manager.token"
ACCOUNTS = (("operator", "all", False), ("no-project-access", "none", False), ("expired", "all", True))


def data_dir(lab: Lab) -> Path:
    return lab.state_dir / "secrets-manager"


def container(lab: Lab) -> str:
    return f"{lab.name}-secrets-manager"


def accounts(lab: Lab) -> dict:
    """{organization_id, organization_key (base64), tokens: {account: access token}}, made once."""
    path = data_dir(lab) / "accounts.json"
    if path.is_file():
        return json.loads(path.read_text())
    organization, org_key = str(uuid.uuid4()), os.urandom(64)
    clients, tokens = {}, {}
    for name, access, expired in ACCOUNTS:
        client_id, secret, key = str(uuid.uuid4()), secrets.token_urlsafe(24), os.urandom(16)
        clients[client_id] = {"name": name, "secret": secret, "organization": organization, "access": access,
                              "expired": expired, "encrypted_payload": sm_crypto.encrypted_payload(key, org_key)}
        tokens[name] = sm_crypto.access_token(client_id, secret, key)
    atomic_write(data_dir(lab) / "clients.json", json.dumps(clients))
    made = {"organization_id": organization, "organization_key": base64.b64encode(org_key).decode(), "tokens": tokens}
    atomic_write(path, json.dumps(made))
    return made


def ensure(lab: Lab, image: str, ensure_container) -> None:
    directory = data_dir(lab)
    certs = tls.ensure(directory / "tls", ["localhost", "secrets-manager"])
    accounts(lab)
    ensure_container(lab, image, container(lab), "secrets-manager", directory, [PORT], [
        "/opt/axelab/secrets_manager.py", "--port", str(PORT), "--state", "/var/lib/axelab/state.json",
        "--clients", "/var/lib/axelab/clients.json", "--cert", f"/var/lib/axelab/tls/{certs['cert'].name}",
        "--key", f"/var/lib/axelab/tls/{certs['key'].name}"])


def base_url(lab: Lab, published) -> str | None:
    address = published(container(lab), PORT)
    return f"https://{address}" if address else None


def settings(lab: Lab, published) -> dict[str, str]:
    base = base_url(lab, published) or ""
    return {"AXE_SM_API_URL": f"{base}/api" if base else "", "AXE_SM_IDENTITY_URL": f"{base}/identity" if base else "",
            "AXE_SM_ORGANIZATION_ID": accounts(lab)["organization_id"],
            "AXE_SM_CA_FILE": str(data_dir(lab) / "tls" / "ca.pem")}


def answers(lab: Lab, published) -> bool:
    """The identity endpoint answers over TLS the lab's CA vouches for (any HTTP status counts)."""
    return tls.answers(base_url(lab, published), data_dir(lab) / "tls" / "ca.pem", "/api/")


def keep_token_in_keychain(lab: Lab, security: Path) -> None:
    """The operator's access token in the lab operator's Keychain (value on stdin, never on a command line)."""
    token = accounts(lab)["tokens"]["operator"]
    read = subprocess.run([str(security), "find-generic-password", "-s", KEYCHAIN_SERVICE, "-w"],
                          capture_output=True, text=True, timeout=30)
    if read.returncode == 0 and read.stdout.strip() == token:
        return
    subprocess.run([str(security), "add-generic-password", "-U", "-a", "axe", "-s", KEYCHAIN_SERVICE, "-w"],
                   input=token + "\n", capture_output=True, text=True, timeout=30, check=True)
