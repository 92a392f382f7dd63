"""A customer after D-day steps 1 and 2 (`axe customers ingest`, `axe onboard`) on a lab host of
its own: what `axe deploy` starts from. Shared by the deploy and vault integration tests."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

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
        self.settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
        self.edge = self.settings["AXE_LAB_EDGE_URL"]
        self.outputs: list[str] = []
        self.since = 0.0  # wait_for_step looks only at events newer than this

    def axe(self, *args, timeout=600, env=None, input_text=None):
        run = self.lab.axe(*args, env={**self.env, **(env or {})}, timeout=timeout, input_text=input_text)
        self.outputs.append(run.stdout + run.stderr)
        return run

    def axe_json(self, *args, timeout=600, env=None):
        run = self.axe(*args, "--json", timeout=timeout, env=env)
        try:
            return run, json.loads(run.stdout)
        except ValueError:
            raise AssertionError(run.stdout + run.stderr)

    def deploy(self, service, *extra, apply=True):
        return self.axe_json("deploy", service, self.customer, *(["--apply", "--yes"] if apply else []), *extra)

    def ansible(self, program, *argv, env=None):
        """ansible-playbook or ansible as plain commands (how AWX would run them), with the lab's settings."""
        env = {**os.environ, **self.settings, **self.env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
               "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
               **(env or {})}
        run = subprocess.run([str(VENV_BIN / program), "-i", "inventory/customers.yml", *argv],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        self.outputs.append(run.stdout + run.stderr)
        return run

    def playbook(self, playbook, *extra, env=None):
        return self.ansible("ansible-playbook", f"playbooks/{playbook}.yml", "-e", f"axe_target={self.customer}", *extra,
                            env=env)

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

    def start(self, *args) -> subprocess.Popen:
        """`axe ARGS` in a session of its own, as an operator's terminal runs it, to be signalled mid-way."""
        env = {**os.environ, **self.env, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.Popen([str(VENV_BIN / "axe"), *args], cwd=self.base, env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def new_events(self, label: str):
        """The job events, newer than `since`, that runs labelled `label` (runs/*-LABEL-XXXXXX) have written so far:
        ansible-runner writes each event to a file the moment it happens."""
        runs = Path(os.environ["AXE_STATE_DIR"]) / "runs"
        for event in (e for run in runs.glob(f"*-{label}-*") if re.search(rf"-{label}-[0-9a-f]{{6}}$", run.name)
                      for e in run.glob("artifacts/*/job_events/*.json")):
            # The display callback drops each event's data as UUID-partial.json (no counter) before ansible-runner
            # writes it whole as COUNTER-UUID.json and removes the partial: only the whole event counts.
            if event.name.endswith("-partial.json"):
                continue
            with contextlib.suppress(OSError, ValueError):  # gone or half written: read again on the next pass
                if event.stat().st_mtime > self.since:
                    yield json.loads(event.read_text())

    def wait_for_step(self, label: str, step: str, task: str | None = None, timeout: float = 300) -> None:
        """Until a run labelled `label` has entered the D-day step `step` (the task that publishes it has run) and,
        with `task`, has started a task of that step whose name holds it."""
        deadline = time.monotonic() + timeout
        entered = None  # the counter of the event that published the step; the task's start comes after it
        while time.monotonic() < deadline:
            for data in self.new_events(label):
                published = (((data.get("event_data") or {}).get("res") or {}).get("ansible_stats") or {}).get("data") or {}
                if data.get("event") == "runner_on_ok" and published.get("axe_step") == step:
                    if task is None:
                        return
                    entered = data["counter"] if entered is None else min(entered, data["counter"])
                if entered is not None and data.get("event") == "runner_on_start" and data["counter"] > entered \
                        and task in (data.get("event_data") or {}).get("task", ""):
                    return
            time.sleep(0.2)
        raise AssertionError(f"no run {label} entered step {step!r}{f' and started {task!r}' if task else ''} in {timeout} s")

    def wait_for_task(self, label: str, task: str, hosts=None, timeout: float = 600) -> str:
        """Until a run labelled `label` has started, on a host (of `hosts`, when given), a task whose name holds
        `task`; returns that host."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.new_events(label):
                host = (data.get("event_data") or {}).get("host")
                if data.get("event") == "runner_on_start" and task in data["event_data"].get("task", "") \
                        and (hosts is None or host in hosts):
                    return host
            time.sleep(0.2)
        raise AssertionError(f"no run {label} started {task!r}{f' on one of {sorted(hosts)}' if hosts else ''} in {timeout} s")

    def docker(self, command):
        return self.host.ssh(f"PATH=/opt/homebrew/bin:$PATH; {command}").stdout


class Poller(threading.Thread):
    """A client polling a path through the edge (as `dday`, a DDay, asks it), counting answers by version and every failure."""

    def __init__(self, dday, path):
        super().__init__(daemon=True)
        self.dday, self.path, self.stop, self.seen = dday, path, threading.Event(), Counter()

    def run(self):
        deadline = time.monotonic() + 300
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                status, body = self.dday.get(self.path, timeout=5)
                self.seen[json.loads(body)["version"] if status == 200 else f"HTTP {status}"] += 1
            except Exception as exc:  # a refused or reset connection is a failed request too
                self.seen[f"error {type(exc).__name__}"] += 1
            time.sleep(0.02)

    def failures(self):
        return {k: v for k, v in self.seen.items() if not k[0].isdigit()}


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
