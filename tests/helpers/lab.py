"""The lab for tests: one shared set of lab hosts per test session, fresh ones on request.

Every integration test that needs a customer host asks for it here:

    def test_something(lab):
        host = lab.host("acme")            # shared for the session, brought up once
        host.ssh("docker ps")              # the operator's SSH, through the lab's ssh_config
        lab.axe("ping", "acme")            # the CLI, with the lab's settings

    def test_destructive(lab):
        with lab.fresh("wipe") as host:    # a host of its own, removed afterwards
            ...

The session uses its own lab name (AXE_LAB_NAME=axetest) and state directory, so it never touches
an operator's or the demo's lab. Under pytest-xdist (scripts/test.sh runs the suite in parallel) each
worker has a lab of its own, named after it (axetestgw0, axetestgw1, ...): tests on different workers never
share a host; the lab images and their saved tar are shared (AXE_LAB_IMAGES_DIR). Hosts are removed at the end of the session unless
AXE_TEST_KEEP_LAB=1 (handy while iterating: the next session reuses them).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _shared_dir() -> Path:
    """The project's shared/ (design notes, vendor API specs): beside the checkout, as CI lays it out; for a
    clone made elsewhere (`git clone . /tmp/x/clean`), beside the repository it was cloned from. AXE_SHARED_DIR
    overrides both."""
    if os.environ.get("AXE_SHARED_DIR"):
        return Path(os.environ["AXE_SHARED_DIR"])
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    origin = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=ROOT, capture_output=True,
                            text=True, timeout=10).stdout.strip()
    if origin and "://" not in origin and ":" not in origin.split("/")[0] and (Path(origin).parent / "shared").is_dir():
        return Path(origin).resolve().parent / "shared"
    return beside  # missing: the test reading it fails naming this path


SHARED_DIR = _shared_dir()


def lab_name() -> str:
    """AXE_TEST_LAB_NAME (default axetest), and the xdist worker's id when there are workers."""
    return os.environ.get("AXE_TEST_LAB_NAME", "axetest") + os.environ.get("PYTEST_XDIST_WORKER", "")


@dataclass
class LabHost:
    customer: str
    host: str
    ssh_config: Path

    def ssh(self, command: str, *, check: bool = True, timeout: float = 120,
            input_text: str | None = None, ssh_config: Path | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(["ssh", "-F", str(ssh_config or self.ssh_config), self.host, command],
                              capture_output=True, text=True, timeout=timeout, input=input_text)
        if check and proc.returncode != 0:
            raise AssertionError(f"ssh {self.host} {command!r} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc


class LabSession:
    def __init__(self, base: Path, images_dir: Path):
        from axe_lab import config, images

        self.base = base
        self.env = {
            "AXE_LAB_NAME": lab_name(),
            "AXE_LAB_IMAGES_DIR": str(images_dir),
            "AXE_STATE_DIR": str(base / "state"),
            "AXE_CONFIG": str(base / "config.env"),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        self._saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        self.lab = config.Lab.from_env()
        self.image = images.ensure_host_image(log=lambda m: print(f"lab: {m}", file=sys.stderr))
        self._lock = threading.Lock()
        self._shared: dict[str, LabHost] = {}

    @property
    def ssh_config(self) -> Path:
        return self.lab.ssh_config

    def up(self, *customers: str) -> dict:
        from axe_lab import env, hosts
        result = hosts.up(self.lab, list(customers), log=lambda m: None)
        env.write_operator_config(self.lab)
        return result

    def host(self, customer: str) -> LabHost:
        """A host shared by the whole session: tests must leave it as they found it."""
        with self._lock:
            if customer not in self._shared:
                self.up(customer)
                self._shared[customer] = LabHost(customer, f"{customer}-macmini", self.ssh_config)
            return self._shared[customer]

    @contextlib.contextmanager
    def fresh(self, customer: str):
        """A host of the test's own, removed when the test is done."""
        from axe_lab import hosts
        self.up(customer)
        try:
            yield LabHost(customer, f"{customer}-macmini", self.ssh_config)
        finally:
            hosts.down(self.lab, [customer])

    def axe(self, *args: str, env: dict | None = None, timeout: float = 600,
            input_text: str | None = None, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        """Run the `axe` CLI as an operator would, in a subprocess, with the lab's settings."""
        run_env = {k: v for k, v in os.environ.items() if k not in drop}
        run_env.update(env or {})
        return subprocess.run([str(VENV_BIN / "axe"), *args], capture_output=True, text=True,
                              timeout=timeout, env=run_env, input=input_text, cwd=self.base)

    def close(self) -> None:
        from axe_lab import hosts
        if os.environ.get("AXE_TEST_KEEP_LAB") != "1":
            hosts.down(self.lab)
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
