"""The lab's vault server: the Bitwarden server protocol (what Vaultwarden implements) in the container
`{lab}-vault`, over HTTPS with the lab's test CA, on a 127.0.0.1 port.

The lab's tooling makes its operator account once (axe_lab/bw_account.py: Bitwarden's key derivation
and encryption): the account, its keys, the organization "AXE Labs" with its key shared to the account,
and a first collection. The master password is kept in `vault/password` (mode 600) for the lab's own
`bw login`/`bw unlock` and the tests; the server holds only its hash and the encrypted keys.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from . import bw_account, tls
from .config import Lab
from .files import atomic_write

PORT = 8443
EMAIL = "ops@axelabs.ai"
ORGANIZATION = "AXE Labs"


def data_dir(lab: Lab) -> Path:
    return lab.state_dir / "vault"


def container(lab: Lab) -> str:
    return f"{lab.name}-vault"


def ca_file(lab: Lab) -> Path:
    return data_dir(lab) / "tls" / "ca.pem"


def password(lab: Lab) -> str:
    path = data_dir(lab) / "password"
    if not path.exists():
        atomic_write(path, secrets.token_urlsafe(18), mode=0o600)
    return path.read_text().strip()


def accounts(lab: Lab) -> dict:
    """{accounts: [the operator's], organizations: [AXE Labs]}: made once, as the server's seed."""
    path = data_dir(lab) / "accounts.json"
    if path.is_file():
        return json.loads(path.read_text())
    record, _user_key = bw_account.new_account(EMAIL, password(lab))
    made = {"accounts": [record], "organizations": [bw_account.new_organization(ORGANIZATION, record, ["Default collection"])]}
    # The API key's secret is in here: the file is the server's, readable by the lab's user only.
    atomic_write(path, json.dumps(made), mode=0o600)
    return made


def api_key(lab: Lab) -> dict:
    """The operator account's personal API key (`bw login --apikey`): clientId, clientSecret."""
    return accounts(lab)["accounts"][0]["apiKey"]


def ensure(lab: Lab, image: str, ensure_container) -> None:
    directory = data_dir(lab)
    certs = tls.ensure(directory / "tls", ["localhost", "vault"])
    accounts(lab)
    ensure_container(lab, image, container(lab), "vault", directory, [PORT], [
        "/opt/axelab/bitwarden_server.py", "--port", str(PORT), "--state", "/var/lib/axelab/bitwarden-server.json",
        "--accounts", "/var/lib/axelab/accounts.json", "--cert", f"/var/lib/axelab/tls/{certs['cert'].name}",
        "--key", f"/var/lib/axelab/tls/{certs['key'].name}", "--log", "/var/lib/axelab/requests.log", "--lab-knobs"])


def url(lab: Lab, published) -> str | None:
    address = published(container(lab), PORT)
    return f"https://{address}" if address else None


def answers(lab: Lab, published) -> bool:
    """The server answers over TLS that the lab's CA vouches for."""
    return tls.answers(url(lab, published), ca_file(lab), "/alive", want=200)


def knob(lab: Lab, published, **values) -> dict:
    """Set how the server answers (lab knobs; see emulators/bitwarden_server.py)."""
    _status, body = tls.request(url(lab, published), ca_file(lab), "POST", "/_lab/server", body=json.dumps(values).encode(),
                                headers={"Content-Type": "application/json"}, timeout=10)
    return json.loads(body)


def requests_seen(lab: Lab) -> list[str]:
    """`METHOD path status` for every request the server got, oldest first."""
    path = data_dir(lab) / "requests.log"
    return path.read_text().splitlines() if path.exists() else []


def remove_retired(lab: Lab, run) -> None:
    """The `bw serve` emulator container of earlier labs (`{lab}-bw`) is gone: the real CLI serves now."""
    if run(["docker", "inspect", f"{lab.name}-bw"], check=False).returncode == 0:
        run(["docker", "rm", "--force", f"{lab.name}-bw"])
    os.makedirs(data_dir(lab), exist_ok=True)


def add_customer_account(lab: Lab, host: str, email: str, master_password: str, port: int = 18082,
                         path: str = "/vault") -> list[str]:
    """An account on a customer's Vaultwarden (the lab's stand-in on `host`), as customer IT makes theirs by
    signing up in the web vault: made here with Bitwarden's key derivation, handed to the stand-in's lab-only
    route over the operator's SSH (the JSON on stdin). Returns the emails the stand-in now holds."""
    import shlex

    from . import commands, shell
    record, _user_key = bw_account.new_account(email, master_password, name=email.split("@")[0])
    made = {"accounts": [record], "organizations": []}
    post = shlex.join(["curl", "-sf", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-",
                       f"http://127.0.0.1:{port}{path}/lab/accounts"])
    proc = shell.run(commands.ssh(lab, host, post), input_bytes=json.dumps(made).encode())
    return json.loads(proc.stdout)["accounts"]
