"""A customer after D-day steps 1 and 2 (`axe customers ingest`, `axe onboard`) on a lab host of
its own: what `axe deploy` starts from. Shared by the deploy and vault integration tests."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import urllib.error
import urllib.request

from helpers.lab import ROOT, VENV_BIN
from helpers.samples import CUSTOMERS_YAML, PACK

EXTERNAL = {"frame": "/frame/mcp", "blueprint": "/health/ready", "hive": "/hive/mcp", "vault": "/vault/alive"}


class DDay:
    """The customer after `axe customers ingest` and `axe onboard`: what step 4 starts from."""

    def __init__(self, lab, host, base, customer):
        self.lab, self.host, self.base, self.customer = lab, host, base, customer
        self.domain = f"{customer}.axelabs.ai"
        self.customers = base / "customers.yaml"
        self.env = {"AXE_CUSTOMERS_FILE": str(self.customers)}
        self.settings = dict(l.removeprefix("export ").split("=", 1) for l in lab.axe("lab", "env").stdout.splitlines())
        self.edge = self.settings["AXE_LAB_EDGE_URL"]
        self.outputs: list[str] = []

    def axe(self, *args, timeout=600):
        run = self.lab.axe(*args, env=self.env, timeout=timeout)
        self.outputs.append(run.stdout + run.stderr)
        return run

    def axe_json(self, *args, timeout=600):
        run = self.axe(*args, "--json", timeout=timeout)
        try:
            return run, json.loads(run.stdout)
        except ValueError:
            raise AssertionError(run.stdout + run.stderr)

    def deploy(self, service, *extra, apply=True):
        return self.axe_json("deploy", service, self.customer, *(["--apply", "--yes"] if apply else []), *extra)

    def ansible(self, program, *argv):
        """ansible-playbook or ansible as plain commands (how AWX would run them), with the lab's settings."""
        env = {**os.environ, **self.settings, **self.env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
               "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"}
        run = subprocess.run([str(VENV_BIN / program), "-i", "inventory/customers.yml", *argv],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        self.outputs.append(run.stdout + run.stderr)
        return run

    def playbook(self, playbook, *extra):
        return self.ansible("ansible-playbook", f"playbooks/{playbook}.yml", "-e", f"axe_target={self.customer}", *extra)

    def get(self, path, timeout=10):
        req = urllib.request.Request(self.edge + path, headers={"Host": self.domain})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def version(self, service):
        status, body = self.get(EXTERNAL[service])
        assert status == 200, (status, body)
        return json.loads(body)["version"]

    def docker(self, command):
        return self.host.ssh(f"PATH=/opt/homebrew/bin:$PATH; {command}").stdout


@contextlib.contextmanager
def customer_after_onboard(lab, base, customer, env=None, onboard=True):
    """`env`: settings for every command of the customer's (AXE_VAULT_BACKEND=secrets_manager);
    `onboard=False`: only the ingest (a service deploy needs no tunnel; its view from outside does)."""
    lab.host("acme")  # the lab's emulators and git server are up
    with lab.fresh(customer) as host:
        d = DDay(lab, host, base, customer)
        d.env.update(env or {})
        d.customers.write_text(CUSTOMERS_YAML.replace("acme", customer))
        pack = base / "pack.json"
        pack.write_text(json.dumps(PACK).replace("acme", customer))
        for step in (("customers", "ingest", customer, str(pack)), ("onboard", customer))[:2 if onboard else 1]:
            run = d.axe(*step, "--apply", "--yes")
            assert run.returncode == 0, run.stdout + run.stderr
        yield d
