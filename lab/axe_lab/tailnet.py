"""`tailscale status --json` for the lab: the real command's JSON shape, for the lab's hosts.

Run as `python -m axe_lab.tailnet STATE_DIR status --json` (the lab's bin/tailscale does).
A peer is online or offline, and reached directly (CurAddr set) or through a DERP relay
(CurAddr empty, Relay set), as `axe lab tailnet` sets it.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .config import TAILNET


def tailscale_ip(host: str) -> str:
    """The host's address on the lab's tailnet (stable per name). This module imports nothing heavier than this:
    it runs as the lab's `tailscale` CLI, once in every ansible-playbook run, where the real CLI takes ~30 ms."""
    n = int(hashlib.sha256(host.encode()).hexdigest()[:4], 16)
    return f"100.64.{n // 256 % 64}.{n % 256 or 1}"


def status(state_dir: Path) -> dict:
    path = state_dir / "tailnet.json"
    peers = json.loads(path.read_text()) if path.exists() else {}
    out = {}
    for index, (host, flags) in enumerate(sorted(peers.items()), 2):
        ip = tailscale_ip(host)
        key = "nodekey:%064x" % index
        out[key] = {
            "ID": f"n{index}CNTRL", "PublicKey": key, "HostName": host, "DNSName": f"{host}.{TAILNET}.",
            "OS": "macOS", "UserID": 1, "TailscaleIPs": [ip, f"fd7a:115c:a1e0::{index:x}"],
            "Online": bool(flags.get("online", True)), "Active": bool(flags.get("online", True)),
            "Relay": "tok", "CurAddr": "" if flags.get("relayed") else f"203.0.113.{index}:41641",
            "ExitNode": False, "LastSeen": "2026-11-24T00:00:00Z",
        }
    return {
        "Version": "1.76.1-lab", "TUN": True, "BackendState": "Running",
        "Self": {"ID": "n1CNTRL", "HostName": "operator", "DNSName": f"operator.{TAILNET}.", "OS": "linux",
                 "TailscaleIPs": ["100.64.0.1"], "Online": True},
        "MagicDNSSuffix": TAILNET,
        "CurrentTailnet": {"Name": "axelabs.ai", "MagicDNSSuffix": TAILNET, "MagicDNSEnabled": True},
        "Peer": out,
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1:] != ["status", "--json"]:
        sys.stderr.write("lab tailscale stand-in: only `tailscale status --json`\n")
        return 2
    print(json.dumps(status(Path(argv[0])), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
