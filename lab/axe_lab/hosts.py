"""The lab's customer hosts: bring them up, describe them, tear them down.

Each host is a container named `{lab}-{customer}-macmini` on the lab's network with its own
Docker engine (a volume for /var/lib/docker), sshd published on a 127.0.0.1 port, and an SSH
host key the lab keeps, so a host recreated later still presents the same key (as a Mac mini
does) and a changed key is a real finding, not noise.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import commands, images, operator_bw, repos, secrets_manager, services, shell, tailnet
from . import customers as lab_customers
from .files import atomic_write
from .config import BASE_IMAGE, INNER_BASE_TAG, INNER_RUNTIME_TAG, INNER_VAULTWARDEN_TAG, SSH_USER, Lab, LabError, host_name, magicdns_name

SSH_READY_TIMEOUT = 90
DOCKER_READY_TIMEOUT = 90


@dataclass
class HostState:
    host: str
    container: str
    running: bool
    port: int | None
    image: str
    hostkey: str | None = None  # fingerprint of the host key it was started with (a label)

    def as_dict(self) -> dict:
        return {"host": self.host, "container": self.container, "running": self.running,
                "ssh": f"127.0.0.1:{self.port}" if self.port else None,
                "magicdns": magicdns_name(self.host), "image": self.image}


def _keygen(path: Path, comment: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    shell.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def ensure_keys(lab: Lab, host: str) -> Path:
    """The operator's key (one per lab) and the host's own host key; returns the host's key dir."""
    lab.state_dir.mkdir(parents=True, exist_ok=True)
    _keygen(lab.operator_key, f"operator@{lab.name}")
    key_dir = lab.host_dir(host) / "keys"
    _keygen(key_dir / "ssh_host_ed25519_key", f"root@{host}")
    (key_dir / "authorized_keys").write_text(Path(str(lab.operator_key) + ".pub").read_text())
    os.chmod(key_dir / "authorized_keys", 0o644)
    return key_dir


def host_public_key(lab: Lab, host: str) -> str:
    return (lab.host_dir(host) / "keys" / "ssh_host_ed25519_key.pub").read_text().split()[:2]


def states(lab: Lab) -> dict[str, HostState]:
    out = {}
    for line in shell.text(commands.list_containers(lab)).splitlines():
        row = json.loads(line)
        host = _label(row.get("Labels", ""), "axelab.host")
        if not host:
            continue
        port = None
        for mapping in (row.get("Ports") or "").split(","):
            if "->22/tcp" in mapping and "127.0.0.1:" in mapping:
                port = int(mapping.split("127.0.0.1:")[1].split("->")[0])
        out[host] = HostState(host=host, container=row["Names"], running=row["State"] == "running",
                              port=port, image=row["Image"], hostkey=_label(row.get("Labels", ""), "axelab.hostkey"))
    return out


def _fingerprint(public_key: Path) -> str:
    import hashlib
    return hashlib.sha256(public_key.read_text().split()[1].encode()).hexdigest()[:16]


def _label(labels: str, key: str) -> str | None:
    for item in labels.split(","):
        k, _, v = item.partition("=")
        if k == key:
            return v
    return None


def write_ssh_files(lab: Lab, current: dict[str, HostState]) -> None:
    """ssh_config and known_hosts for every running host: what the product's SSH reads."""
    config = ["# Written by `axe lab up`: how the operator's SSH reaches the lab's Mac minis.",
              "# Host keys are checked against known_hosts beside this file; a changed key stops SSH.", ""]
    known = []
    for host, st in sorted(current.items()):
        if not st.running or not st.port:
            continue
        alias = magicdns_name(host)
        config += [f"Host {host} {alias} {tailnet.tailscale_ip(host)}",
                   "  HostName 127.0.0.1",
                   f"  Port {st.port}",
                   f"  User {SSH_USER}",
                   f"  HostKeyAlias {alias}",
                   f"  IdentityFile {lab.operator_key}",
                   "  IdentitiesOnly yes",
                   f"  UserKnownHostsFile {lab.known_hosts}",
                   "  StrictHostKeyChecking yes",
                   "  BatchMode yes",
                   ""]
        kind, key = host_public_key(lab, host)
        known.append(f"{alias} {kind} {key}")
    atomic_write(lab.ssh_config, "\n".join(config) + "\n")
    atomic_write(lab.known_hosts, "\n".join(known) + ("\n" if known else ""))


def _ensure_network(lab: Lab) -> None:
    if not shell.ok(["docker", "network", "inspect", lab.network]):
        proc = shell.run(commands.network_create(lab), check=False)
        if proc.returncode != 0 and b"already exists" not in proc.stderr:
            raise LabError(f"cannot create network {lab.network}: {proc.stderr.decode().strip()}")


def _start_host(lab: Lab, host: str, image: str, current: HostState | None) -> bool:
    """Start one host; returns True when something was created or started."""
    key = lab.host_dir(host) / "keys" / "ssh_host_ed25519_key.pub"
    if current and current.running and current.image == image and key.exists() and current.hostkey == _fingerprint(key):
        return False
    # Recreated when stopped, built from an older image, or started with a host key this lab state
    # does not hold (another state dir's lab of the same name): its identity could not be checked.
    # Its Docker volume goes too: a host is one machine, and an engine that kept its containers while
    # the home directory they bind-mount from was new would recreate those sources as root.
    if current:
        shell.run(["docker", "rm", "--force", lab.container(host)])
        shell.run(commands.remove_volumes([lab.volume(host)]), check=False, timeout=180)
    key_dir = ensure_keys(lab, host)
    shell.run(commands.volume_create(lab, host))
    shell.run(commands.host_run(lab, host, image, str(key_dir), _fingerprint(key_dir / "ssh_host_ed25519_key.pub")))
    return True


def _wait_ready(lab: Lab, host: str, inner_tar: Path, inner_id: str) -> None:
    shell.wait_until(f"{host}: sshd", lambda: shell.ok(commands.ssh(lab, host, "true"), timeout=10),
                     timeout=SSH_READY_TIMEOUT, interval=0.3)
    shell.wait_until(f"{host}: its Docker engine",
                     lambda: shell.ok(commands.inner_docker(lab, host, "info", "--format", "{{.ID}}")),
                     timeout=DOCKER_READY_TIMEOUT, interval=0.3)
    # The images the stand-in services build FROM and the Vaultwarden stand-in (no registry inside
    # either): loaded once per host, again only when one of them changed (vaultwarden is built
    # FROM runtime FROM base, so its id changes with any of them).
    present = shell.run(commands.inner_image_id(lab, host, INNER_VAULTWARDEN_TAG), check=False).stdout.decode().strip()
    if present != inner_id:
        with open(inner_tar, "rb") as fh:
            shell.run(commands.inner_load(lab, host), stdin=fh, timeout=300)
        shell.run(commands.inner_tag(lab, host, BASE_IMAGE, INNER_BASE_TAG))
        shell.run(commands.inner_tag(lab, host, images.runtime_image_tag(), INNER_RUNTIME_TAG))
        shell.run(commands.inner_tag(lab, host, images.vaultwarden_image_tag(), INNER_VAULTWARDEN_TAG))


def up(lab: Lab, customers: list[str], log=print) -> dict:
    hosts = [host_name(c) for c in customers]
    image = images.ensure_host_image(log)
    inner_tar, inner_id = images.saved_inner_images(images.images_dir(lab.state_dir.parent / "images"), log)
    _ensure_network(lab)
    services.ensure_vault(lab, image)
    services.ensure_cloudflare(lab, image)
    secrets_manager.ensure(lab, image, services.ensure_container)
    repos.ensure_repos(lab, log)
    repos.ensure_server(lab, image)
    services.write_tools(lab, log)
    lab_customers.ensure(lab, customers)
    for host in hosts:
        services.set_peer(lab, host)
    before = states(lab)
    started = []
    for host in hosts:
        if _start_host(lab, host, image, before.get(host)):
            started.append(host)
    # sshd's port is known only after the container runs: write SSH files before waiting.
    write_ssh_files(lab, states(lab))
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        list(pool.map(lambda h: _wait_ready(lab, h, inner_tar, inner_id), hosts))
    services.wait_emulators(lab)
    services.ensure_bw_serve(lab)
    services.seed_vault_token(lab)
    return {"started": started, "unchanged": [h for h in hosts if h not in started],
            "hosts": {h: s.as_dict() for h, s in states(lab).items() if h in hosts}}


def down(lab: Lab, customers: list[str] | None = None) -> dict:
    """Remove hosts (all of this lab's when none are named), their volumes, and the network."""
    current = states(lab)
    targets = [host_name(c) for c in customers] if customers else list(current)
    names = [current[h].container for h in targets if h in current]
    if names:
        shell.run(commands.remove_containers(names), timeout=180)
    volumes = [lab.volume(h) for h in targets]
    existing = set(shell.text(commands.list_volumes(lab)).split())
    doomed = [v for v in volumes if v in existing] if customers else sorted(existing)
    if doomed:
        shell.run(commands.remove_volumes(doomed), timeout=180)
    remaining = states(lab)
    services.forget_peers(lab, targets)
    if not remaining:
        # The last host is gone: the lab's own services (the vault) go too.
        others = [json.loads(line)["Names"] for line in shell.text(commands.list_containers(lab)).splitlines()]
        if others:
            shell.run(commands.remove_containers(others), timeout=180)
        nets = shell.text(commands.list_networks(lab)).split()
        if nets:
            shell.run(commands.remove_networks(nets))
    if remaining:
        for host in targets:
            shutil.rmtree(lab.host_dir(host), ignore_errors=True)
        write_ssh_files(lab, remaining)
    else:
        # The whole lab is gone: its bw serve, keys, known_hosts and ssh_config go with it.
        operator_bw.stop_serve(lab)
        shutil.rmtree(lab.state_dir, ignore_errors=True)
    return {"removed": [h for h in targets if h in current]}


def run_ssh(lab: Lab, host: str, argv: list[str]) -> int:
    """`axe lab ssh HOST -- CMD`: the operator's SSH, with its stdio, returning its exit code."""
    return subprocess.call(commands.ssh(lab, host, *argv))
