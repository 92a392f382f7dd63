"""The lab's operator-side world: the vault (`bw serve`), the Tailscale view, and the operator's
own tools (`bw`, `security`, `tailscale`) as stand-ins in the lab's bin directory.

- vault: a container `{lab}-bw` running the `bw serve` stand-in on a 127.0.0.1 port, unlocked with
  the lab's session, over a server state file in the lab's state dir (shared with any `bw serve`
  the product starts itself through the lab's `bw`).
- tailnet: `tailscale status --json` for the lab's hosts, each online/offline and direct/relayed
  as set with `axe lab tailnet` (traps T05, T06).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shlex
import sys
from pathlib import Path

from . import shell
from .config import LABEL, Lab, LabError
from .files import atomic_write

EMULATORS = Path(__file__).parent / "emulators"
STANDINS = Path(__file__).parent / "images" / "macmini" / "rootfs" / "usr" / "bin"
VAULT_PORT = 8087


def vault_dir(lab: Lab) -> Path:
    return lab.state_dir / "vault"


def bin_dir(lab: Lab) -> Path:
    return lab.state_dir / "bin"


def _code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(EMULATORS.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _secret_file(path: Path, nbytes: int = 32) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(nbytes))
        os.chmod(path, 0o600)
    return path.read_text().strip()


def vault_container(lab: Lab) -> str:
    return f"{lab.name}-bw"


def ensure_vault(lab: Lab, image: str) -> None:
    vdir = vault_dir(lab)
    session = _secret_file(vdir / "session")
    _secret_file(vdir / "password", 18)
    name = vault_container(lab)
    code = _code_hash()
    inspect = shell.run(["docker", "inspect", "--format",
                         '{{.State.Running}} {{index .Config.Labels "axelab.code"}}', name], check=False)
    if inspect.returncode == 0:
        running, _, label = inspect.stdout.decode().strip().partition(" ")
        if running == "true" and label == code:
            return
        shell.run(["docker", "rm", "--force", name])
    shell.run([
        "docker", "run", "--detach", "--name", name, "--network", lab.network,
        "--label", f"{LABEL}={lab.name}", "--label", "axelab.service=vault", "--label", f"axelab.code={code}",
        "--volume", f"{EMULATORS}:/opt/axelab:ro", "--volume", f"{vdir}:/var/lib/axelab-vault",
        "--env", f"BW_SESSION={session}", "--publish", f"127.0.0.1::{VAULT_PORT}",
        "--entrypoint", "python3", image,
        "/opt/axelab/bw_serve.py", "--hostname", "all", "--port", str(VAULT_PORT),
        "--server", "/var/lib/axelab-vault/server.json", "--session-file", "/var/lib/axelab-vault/session",
        "--password-file", "/var/lib/axelab-vault/password", "--lab-knobs",
    ])


def vault_url(lab: Lab) -> str | None:
    proc = shell.run(["docker", "port", vault_container(lab), f"{VAULT_PORT}/tcp"], check=False)
    for line in proc.stdout.decode().splitlines():
        if line.startswith("127.0.0.1:"):
            return f"http://{line.strip()}"
    return None


def wait_vault(lab: Lab) -> None:
    import urllib.request

    def answers() -> bool:
        url = vault_url(lab)
        if not url:
            return False
        try:
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(url + "/status", timeout=2) as resp:
                return json.load(resp).get("success") is True
        except Exception:
            return False
    shell.wait_until("the lab vault (bw serve)", answers, timeout=30, interval=0.2)


# ---- the operator's tools, as stand-ins ------------------------------------------------
def _write_exec(path: Path, text: str) -> None:
    atomic_write(path, text, mode=0o755)


def write_tools(lab: Lab) -> None:
    vdir, bdir = vault_dir(lab), bin_dir(lab)
    py = shlex.quote(sys.executable)
    (bdir).mkdir(parents=True, exist_ok=True)
    version_file = bdir / "bw.version"
    if not version_file.exists():
        version_file.write_text("2025.9.1\n")
    _write_exec(bdir / "bw", f"""#!/bin/sh
# The lab's `bw` (Bitwarden CLI) stand-in: --version (set it in {version_file}), serve.
case "$1" in
  --version) cat {shlex.quote(str(version_file))} ;;
  serve) shift; exec {py} {shlex.quote(str(EMULATORS / 'bw_serve.py'))} --server {shlex.quote(str(vdir / 'server.json'))} \\
           --session-file {shlex.quote(str(vdir / 'session'))} --password-file {shlex.quote(str(vdir / 'password'))} "$@" ;;
  *) echo "lab bw stand-in: only --version and serve" >&2; exit 2 ;;
esac
""")
    _write_exec(bdir / "security", f"""#!/bin/sh
# The operator's Keychain in the lab: the same stand-in as on the hosts, with its own keychain file.
LAB_KEYCHAIN={shlex.quote(str(lab.state_dir / 'operator.keychain-db'))} exec /usr/bin/env python3 {shlex.quote(str(STANDINS / 'security'))} "$@"
""")
    _write_exec(bdir / "tailscale", f"""#!/bin/sh
# The lab's `tailscale` CLI: status --json for the lab's hosts (axe lab tailnet sets online/relay).
exec {py} -m axe_lab.tailnet {shlex.quote(str(lab.state_dir))} "$@"
""")


# ---- the tailnet ---------------------------------------------------------------------------
def tailnet_file(lab: Lab) -> Path:
    return lab.state_dir / "tailnet.json"


def tailscale_ip(host: str) -> str:
    n = int(hashlib.sha256(host.encode()).hexdigest()[:4], 16)
    return f"100.64.{n // 256 % 64}.{n % 256 or 1}"


def set_peer(lab: Lab, host: str, online: bool | None = None, relayed: bool | None = None) -> dict:
    path = tailnet_file(lab)
    data = json.loads(path.read_text()) if path.exists() else {}
    peer = data.setdefault(host, {"online": True, "relayed": False})
    if online is not None:
        peer["online"] = online
    if relayed is not None:
        peer["relayed"] = relayed
    path.write_text(json.dumps(data, indent=1))
    return peer


def forget_peers(lab: Lab, hosts: list[str]) -> None:
    path = tailnet_file(lab)
    if path.exists():
        data = json.loads(path.read_text())
        for host in hosts:
            data.pop(host, None)
        path.write_text(json.dumps(data, indent=1))


def settings(lab: Lab) -> dict[str, str]:
    url = vault_url(lab)
    if url is None:
        raise LabError("the lab vault is not running: run `axe lab up`")
    return {"AXE_VAULT_URL": url, "AXE_BW": str(bin_dir(lab) / "bw"),
            "AXE_SECURITY": str(bin_dir(lab) / "security"), "AXE_TAILSCALE": str(bin_dir(lab) / "tailscale")}
