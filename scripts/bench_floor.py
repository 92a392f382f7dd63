#!/usr/bin/env python3
"""The floor under the D-day: the same Cloudflare and vault calls, compose ups and health waits, made directly by
this script with no Ansible, so `shipped / floor` says how much of a D-day is overhead (scripts/bench_dday.py).

Each phase asks or does what the D-day must, once, over one SSH connection (a ControlMaster, as axe keeps one):
  plan   the reads: every secret of the customer from the vault, the zone, the tunnel and the DNS record at the
         public name from Cloudflare, and on the host each service's checkout and what compose would change
  first  the writes on a fresh host: the customer's secrets into the vault, a tunnel and its DNS record, then per
         service a clone at the ref, its .env and .env.local, compose build and up, and the health wait
  noop   the plan's reads again, on the host the shipped D-day deployed (cloudflared and all), then each service's
         health on the host and from outside through the edge
What the floor leaves out, and the D-day does not: cloudflared's files and LaunchAgent, the Vaultwarden patch
(the vault's compose file is copied from the shipped host), the release state file, the host lock, the reports.
The files a service needs (.env.local's values, the vault's compose file) are read from a host the shipped D-day
deployed, before the clock starts; no value is printed.
"""
from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue, compose_commands  # noqa: E402
from ansible_collections.axelabs.onboard.plugins.module_utils import vault as vault_utils  # noqa: E402
from ansible_collections.axelabs.onboard.plugins.module_utils.cloudflare import CloudflareClient, tunnel_target  # noqa: E402

SERVICES_DIR = ".axe/services"
VAULT_DIR = ".axe/vault"
HEALTH_WAIT_S = 120  # bounded, as the product's health waits are


class Host:
    """One lab host over one SSH connection (ControlMaster), commands as argv lists joined for the remote shell."""

    def __init__(self, ssh_config: Path, host: str, control_dir: Path):
        control_dir.mkdir(parents=True, exist_ok=True)
        self.base = ["ssh", "-F", str(ssh_config), "-o", "ControlMaster=auto", "-o", "ControlPersist=60s",
                     "-o", f"ControlPath={control_dir}/%C", host]

    def run(self, command: str | list, *, stdin: str | None = None, check: bool = True) -> str:
        line = command if isinstance(command, str) else " ".join(shlex.quote(a) for a in command)
        # A Mac mini's non-login SSH session lacks Homebrew's bin (T07): the product finds docker there, so must this.
        proc = subprocess.run(self.base + ["PATH=/opt/homebrew/bin:/usr/local/bin:$PATH; " + line], input=stdin, capture_output=True, text=True, timeout=900)
        if check and proc.returncode != 0:
            raise SystemExit(f"floor: {line[:120]} -> {proc.returncode}: {proc.stderr[-800:]}")
        return proc.stdout

    def close(self) -> None:
        subprocess.run(self.base[:-1] + ["-O", "exit", self.base[-1]], capture_output=True)


class Floor:
    def __init__(self, host: Host, customer: str, public_domain: str, settings: dict, ref: str = "v1"):
        self.host, self.customer, self.public_domain, self.ref = host, customer, public_domain, ref
        self.settings = settings
        self.definitions = catalogue.load(str(ROOT))
        self.vault = vault_utils.backend(settings.get("AXE_VAULT_BACKEND", "bw_serve"), settings.get("AXE_VAULT_URL"),
                                         settings.get("AXE_VAULT_ORGANIZATION"))
        self.cloudflare_token = self.vault.get("operator", "cloudflare", "CLOUDFLARE_API_TOKEN")

    def services(self) -> list[dict]:
        return [d for d in self.definitions if d.get("slots")]

    def _cloudflare(self) -> CloudflareClient:
        return CloudflareClient(self.cloudflare_token, self.settings.get("AXE_CLOUDFLARE_ZONE", "axelabs.ai"),
                                self.settings.get("CLOUDFLARE_BASE_URL") or None)

    def _dir(self, definition: dict) -> str:
        return f"~/{SERVICES_DIR}/{definition['name']}"

    # the phases ---------------------------------------------------------------------------
    def plan(self) -> None:
        self._reads(deployed=False)

    def first(self, files: dict[str, dict[str, str]], secrets: dict[tuple, str]) -> None:
        for (service, env), value in secrets.items():
            self.vault.put(self.customer, service, env, value)
        cf = self._cloudflare()
        tunnel = cf.create_tunnel(f"axe-{self.customer}", base64.b64encode(os.urandom(32)).decode())
        cf.create_cname(self.public_domain, tunnel_target(tunnel["id"]), "floor bench")
        for d in self.services():
            where = self._dir(d)
            self.host.run(f"mkdir -p ~/{SERVICES_DIR} && git clone -q {shlex.quote(self._repo(d))} {where} "
                          f"&& git -C {where} checkout -q {shlex.quote(self.ref)} && git -C {where} submodule -q update --init")
            for name, text in files[d["name"]].items():
                if name == "proxy.tgz":  # the proxy's upstream config (.axe/proxy), as the product pushed it
                    self.host.run(f"mkdir -p {where}/.axe && base64 -d | tar -C {where} -xzf -", stdin=text)
                else:
                    self.host.run(f"umask 077 && cat > {where}/{name}", stdin=text)
            slot = next(iter(d["slots"]))
            services = [d["slots"][slot]["service"], *d.get("support", [])] + ([d["proxy"]["service"]] if d.get("proxy") else [])
            # The compose file's external network and volumes (T22), made when missing, as compose_resources does.
            config = json.loads(self.host.run(" ".join(shlex.quote(a) for a in compose_commands.compose_config(
                "DIR", d["compose_file"])).replace("DIR", f"$HOME/{SERVICES_DIR}/{d['name']}")))
            external = compose_commands.external_resources(config)
            for network in external["networks"]:
                self.host.run(f"docker network inspect {network} >/dev/null 2>&1 || docker network create {network}")
            for volume in external["volumes"]:
                self.host.run(f"docker volume inspect {volume} >/dev/null 2>&1 || docker volume create {volume}")
            self._on_host(d, compose_commands.compose_build("DIR", d["compose_file"], services))
            self._on_host(d, compose_commands.compose_up("DIR", d["compose_file"], services))
            self._wait(d["slots"][slot]["port"], d["health_path"])
        vault = files["vault"]
        self.host.run(f"mkdir -p ~/{VAULT_DIR}/data")
        for name, text in vault.items():
            self.host.run(f"umask 077 && cat > ~/{VAULT_DIR}/{name}", stdin=text)
        self.host.run(f"cd ~/{VAULT_DIR} && docker compose up --detach --pull never")
        vd = next(d for d in self.definitions if d["name"] == "vault")
        self._wait(vd["port"], "/vault/alive")

    def noop(self) -> None:
        self._reads(deployed=True)
        for d in self.services():
            slot = next(iter(d["slots"]))
            self._wait(d["slots"][slot]["port"], d["health_path"])
        for d in self.definitions:
            self._edge(d["external_path"])

    # what both ask -----------------------------------------------------------------------------
    def _reads(self, deployed: bool) -> None:
        """On a host with nothing deployed (the plan) the checkout and compose's dry run fail, as they do for the
        D-day's plan; on a deployed one (the no-op) they must succeed."""
        for service, env in self.vault.list(self.customer):
            self.vault.get(self.customer, service, env)
        cf = self._cloudflare()
        cf.zone()
        cf.tunnels_named(f"axe-{self.customer}")
        cf.records_at(self.public_domain)
        for d in self.services():
            where = self._dir(d)
            self.host.run(f"git -C {where} rev-parse HEAD && git ls-remote {shlex.quote(self._repo(d))} {self.ref}",
                          check=deployed)
            slot = next(iter(d["slots"]))
            self._on_host(d, compose_commands.compose_up("DIR", d["compose_file"], [d["slots"][slot]["service"],
                                                         *d.get("support", [])], dry_run=True), check=deployed)

    def _repo(self, d: dict) -> str:
        return f"{self.settings['AXE_REPO_BASE']}/{d['repo']}.git"

    def _on_host(self, d: dict, argv: list, check: bool = True) -> None:
        """The product's own command (compose_commands: commands as values), in the service's directory."""
        line = " ".join(shlex.quote(a) for a in argv).replace("DIR", f"$HOME/{SERVICES_DIR}/{d['name']}")
        self.host.run(line, check=check)

    def _wait(self, port: int, path: str) -> None:
        deadline = time.monotonic() + HEALTH_WAIT_S
        while time.monotonic() < deadline:
            if self.host.run(f"curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{port}{path}", check=False) == "200":
                return
            time.sleep(0.5)
        raise SystemExit(f"floor: 127.0.0.1:{port}{path} never answered 200 within {HEALTH_WAIT_S} s")

    def _edge(self, path: str) -> None:
        edge = self.settings.get("AXE_EDGE_URL") or f"https://{self.public_domain}"
        request = urllib.request.Request(edge.rstrip("/") + path, headers={"Host": self.public_domain})
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the lab's edge, 127.0.0.1
            answer.read()


def files_from(host: Host, definitions: list[dict]) -> dict[str, dict[str, str]]:
    """What a service needs beside its checkout, as the shipped D-day wrote it on `host` (read before timing)."""
    out = {}
    for d in definitions:
        if d.get("slots"):
            where = f"~/{SERVICES_DIR}/{d['name']}"
            out[d["name"]] = {name: host.run(f"cat {where}/{name}") for name in (".env", ".env.local")}
            if d.get("proxy"):
                out[d["name"]]["proxy.tgz"] = host.run(f"tar -C {where} -czf - .axe/proxy | base64 -w0")
    out["vault"] = {name: host.run(f"cat ~/{VAULT_DIR}/{name}") for name in ("docker-compose.yml", ".env.local")}
    return out
