"""The lab's operator-side world: the vault, the Cloudflare API, the Tailscale view, and the operator's
own tools in the lab's bin directory.

- vault: the Bitwarden-protocol server in the container `{lab}-vault` (vault_server.py), and the real
  Bitwarden CLI logged in to it, whose `bw serve` is the product's AXE_VAULT_URL (operator_bw.py). `bw`
  in the bin directory is that real CLI (pinned); `bw-<version>` each version the lab installs.
- `security`: the operator's Keychain, the same stand-in as on the hosts (macOS has no Linux build).
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

from . import operator_bw, secrets_manager, shell, vault_server
from .config import INNER_VAULTWARDEN_TAG, LABEL, Lab, LabError
from .files import atomic_write
from .repos import repo_base

EMULATORS = Path(__file__).parent / "emulators"
STANDINS = Path(__file__).parent / "images" / "macmini" / "rootfs" / "usr" / "bin"
CLOUDFLARE_PORT = 8443
EDGE_PORT = 8080
ZONE = "axelabs.ai"


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


def cloudflare_container(lab: Lab) -> str:
    return f"{lab.name}-cloudflare"


def ensure_container(lab: Lab, image: str, name: str, service: str, data_dir: Path, ports: list[int],
                     argv: list[str], env: dict[str, str] | None = None, entrypoint: str = "python3") -> None:
    """One lab service container (an emulator, the git server): the lab's emulator code mounted
    read-only, its state in `data_dir`, its ports published on 127.0.0.1. Recreated when the
    emulator code or the image changed."""
    code = _code_hash() + "-" + image.rsplit(":", 1)[-1]
    inspect = shell.run(["docker", "inspect", "--format",
                         '{{.State.Running}} {{index .Config.Labels "axelab.code"}}', name], check=False)
    if inspect.returncode == 0:
        running, _, label = inspect.stdout.decode().strip().partition(" ")
        if running == "true" and label == code:
            return
        shell.run(["docker", "rm", "--force", name])
    env_flags = [flag for k, v in (env or {}).items() for flag in ("--env", f"{k}={v}")]
    shell.run([
        "docker", "run", "--detach", "--name", name, "--network", lab.network, "--network-alias", service,
        "--label", f"{LABEL}={lab.name}", "--label", f"axelab.service={service}", "--label", f"axelab.code={code}",
        "--volume", f"{EMULATORS}:/opt/axelab:ro", "--volume", f"{data_dir}:/var/lib/axelab",
        *env_flags, *[flag for port in ports for flag in ("--publish", f"127.0.0.1::{port}")],
        "--entrypoint", entrypoint, image, *argv,
    ])


def ensure_vault(lab: Lab, image: str) -> None:
    vault_server.remove_retired(lab, shell.run)
    vault_server.ensure(lab, image, ensure_container)


def cloudflare_tokens(lab: Lab) -> dict[str, str]:
    """The lab's API tokens: one with every permission the product needs, one without DNS (T09 tests)."""
    cdir = lab.state_dir / "cloudflare"
    return {"full": _secret_file(cdir / "token-full", 30), "no_dns": _secret_file(cdir / "token-no-dns", 30)}


def ensure_cloudflare(lab: Lab, image: str) -> None:
    cdir = lab.state_dir / "cloudflare"
    tokens = cloudflare_tokens(lab)
    atomic_write(cdir / "tokens.json", json.dumps({
        tokens["full"]: ["zone:read", "dns:read", "dns:edit", "tunnel:read", "tunnel:edit"],
        tokens["no_dns"]: ["zone:read", "tunnel:read", "tunnel:edit"]}))
    ensure_container(lab, image, cloudflare_container(lab), "cloudflare", cdir, [CLOUDFLARE_PORT, EDGE_PORT], [
        "/opt/axelab/cloudflare.py", "--port", str(CLOUDFLARE_PORT), "--edge-port", str(EDGE_PORT),
        "--state", "/var/lib/axelab/state.json",
        "--zone", ZONE, "--tokens", "/var/lib/axelab/tokens.json"])


def published(container: str, port: int) -> str | None:
    proc = shell.run(["docker", "port", container, f"{port}/tcp"], check=False)
    for line in proc.stdout.decode().splitlines():
        if line.startswith("127.0.0.1:"):
            return line.strip()
    return None


def vault_url(lab: Lab) -> str | None:
    """The real `bw serve`'s URL (what the product talks to), when the lab has started it."""
    return operator_bw.serve_url(lab)


def vault_server_url(lab: Lab) -> str | None:
    return vault_server.url(lab, published)


def cloudflare_url(lab: Lab) -> str | None:
    address = published(cloudflare_container(lab), CLOUDFLARE_PORT)
    return f"http://{address}/client/v4" if address else None


def edge_url(lab: Lab) -> str | None:
    address = published(cloudflare_container(lab), EDGE_PORT)
    return f"http://{address}" if address else None


def seed_vault_token(lab: Lab) -> None:
    """The operator keeps the Cloudflare token in the vault (trap T09); the lab's operator does too, in
    both backends' vaults (the Secrets Manager's through the real SDK, with the lab's CA)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault, vault_sm
    vault.backend("bw_serve", url=vault_url(lab)).put("operator", "cloudflare", "CLOUDFLARE_API_TOKEN",
                                                       cloudflare_tokens(lab)["full"])
    secrets_manager.keep_token_in_keychain(lab, bin_dir(lab) / "security")
    sm = secrets_manager.settings(lab, published)
    backend = vault_sm.SecretsManagerBackend(
        api_url=sm["AXE_SM_API_URL"], identity_url=sm["AXE_SM_IDENTITY_URL"], organization_id=sm["AXE_SM_ORGANIZATION_ID"],
        ca_file=sm["AXE_SM_CA_FILE"], token=secrets_manager.accounts(lab)["tokens"]["operator"])
    backend.put("operator", "cloudflare", "CLOUDFLARE_API_TOKEN", cloudflare_tokens(lab)["full"])


def _answers(url: str | None) -> bool:
    """Any HTTP answer (an error envelope included) means the emulator is up."""
    import urllib.error
    import urllib.request
    if not url:
        return False
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except Exception:
        return False


def wait_emulators(lab: Lab) -> None:
    shell.wait_until("the lab's vault server (HTTPS)", lambda: vault_server.answers(lab, published), timeout=30, interval=0.2)
    shell.wait_until("the lab Cloudflare API", lambda: _answers((cloudflare_url(lab) or "") + "/user/tokens/verify"),
                     timeout=30, interval=0.2)
    shell.wait_until("the lab Secrets Manager (HTTPS)", lambda: secrets_manager.answers(lab, published),
                     timeout=30, interval=0.2)


def ensure_bw_serve(lab: Lab) -> str:
    """The lab operator's real CLI logged in to the vault server, and its `bw serve` answering unlocked."""
    return operator_bw.ensure_serve(lab, bin_dir(lab), vault_server_url(lab))


# ---- the operator's tools, as stand-ins ------------------------------------------------
def _write_exec(path: Path, text: str) -> None:
    atomic_write(path, text, mode=0o755)


def write_tools(lab: Lab, log=print) -> None:
    bdir = bin_dir(lab)
    py = shlex.quote(sys.executable)
    bdir.mkdir(parents=True, exist_ok=True)
    operator_bw.write_wrappers(lab, bdir, log)
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
        raise LabError("the lab's bw serve is not running: run `axe lab up`")
    return {"AXE_VAULT_URL": url, "AXE_BW": str(bin_dir(lab) / "bw"),
            "AXE_SECURITY": str(bin_dir(lab) / "security"), "AXE_TAILSCALE": str(bin_dir(lab) / "tailscale"),
            "AXE_LAB_CLOUDFLARE_URL": cloudflare_url(lab) or "", "AXE_LAB_CLOUDFLARE_TOKEN": cloudflare_tokens(lab)["full"],
            "AXE_LAB_ZONE": ZONE, "AXE_LAB_EDGE_URL": edge_url(lab) or "",
            # The product's own settings, pointed at the lab (the token itself is in the vault).
            "CLOUDFLARE_BASE_URL": cloudflare_url(lab) or "", "AXE_CLOUDFLARE_ZONE": ZONE, "AXE_EDGE_URL": edge_url(lab) or "",
            "AXE_REPO_BASE": repo_base(lab), "AXE_VAULT_IMAGE": INNER_VAULTWARDEN_TAG,
            # The secrets_manager backend's (AXE_VAULT_BACKEND=secrets_manager); its token is in the Keychain.
            **secrets_manager.settings(lab, published)}
