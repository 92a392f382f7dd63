"""A job as AWX runs it, without AWX: the real receptor daemon, a private data dir as AWX writes one, and the pipeline
`ansible-runner transmit | receptorctl work submit (ansible-runner worker) | ansible-runner process`. No `axe`.

    with receptor_node(base, env=ee_env(home)) as socket:
        job = run_job(socket, pdd, "playbooks/ping.yml", out=tmp / "out", ident="awx-ping", work_dir=base / "work")
        job.status, job.stats, job.events

The receptor binary is Debian's, unpacked into .venv/bin by scripts/setup.sh; receptorctl is the pinned one.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import jinja2.sandbox
import yaml

from helpers.lab import ROOT, VENV_BIN

RECEPTOR = VENV_BIN / "receptor"
RECEPTOR_VERSION = "1.6.9"
CREDENTIAL_TYPES = ROOT / "awx" / "credential_types"


def tool_env() -> dict:
    """The test's own environment, with the virtualenv's tools first on PATH."""
    return {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}


def ee_env(home: Path) -> dict:
    """What an execution environment's process starts with: a PATH (the virtualenv's tools, as the EE's are on its
    PATH), a home of its own, a locale, and nothing of the test's or the operator's settings. What a job needs beyond
    this comes in its private data dir (env/envvars), as AWX gives it."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


@contextlib.contextmanager
def receptor_node(base: Path, env: dict | None = None):
    """A receptor node of its own: local only, its control service on a unix socket, one work type running
    ansible-runner (`worker` always; the rest of its command line given by each job). `env`: the daemon's
    environment, which its work units inherit (default: the test's). Stopped at the end; yields the socket."""
    assert RECEPTOR.is_file(), f"{RECEPTOR} is missing: scripts/setup.sh installs it (Debian's receptor {RECEPTOR_VERSION})"
    version = subprocess.run([str(RECEPTOR), "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    assert version == RECEPTOR_VERSION, version
    socket = base / "receptor.sock"  # base is short: a unix socket's path has at most 107 bytes
    config = base / "receptor.yml"
    config.write_text(yaml.safe_dump([
        {"node": {"id": "local", "datadir": str(base / "data")}},
        {"log-level": "info"},
        {"local-only": {}},
        {"control-service": {"service": "control", "filename": str(socket)}},
        {"work-command": {"worktype": "ansible-runner", "command": str(VENV_BIN / "ansible-runner"), "params": "worker",
                          "allowruntimeparams": True}},
    ], sort_keys=False))
    log = (base / "receptor.log").open("w")
    proc = subprocess.Popen([str(RECEPTOR), "--config", str(config)], stdout=log, stderr=subprocess.STDOUT,
                            env=env if env is not None else tool_env(), start_new_session=True)
    try:
        status = None
        for _ in range(100):  # 20 s at most
            if proc.poll() is not None:
                break
            if socket.exists():
                status = receptorctl(socket, "status", "--json")
                if status.returncode == 0:
                    break
            time.sleep(0.2)
        assert status is not None and status.returncode == 0, (base / "receptor.log").read_text()
        assert json.loads(status.stdout)["NodeID"] == "local"
        yield socket
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@contextlib.contextmanager
def receptor_base():
    """A short directory under /tmp for a node (its socket's path must be short), removed at the end."""
    base = Path(tempfile.mkdtemp(prefix="axe-rcpt-", dir="/tmp"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def receptorctl(socket: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "receptorctl"), "--socket", str(socket), *args], capture_output=True,
                          text=True, timeout=30, env=tool_env())


def linked_collection(base: Path) -> Path:
    """A collections path holding the checkout as axelabs.onboard: the execution environment's collection."""
    collections = base / "collections"
    (collections / "ansible_collections" / "axelabs").mkdir(parents=True, exist_ok=True)
    link = collections / "ansible_collections" / "axelabs" / "onboard"
    if not link.is_symlink():
        link.symlink_to(ROOT)
    return collections


def copy_project(pdd: Path) -> Path:
    """The project, as AWX's project update leaves it for a job: the checkout's playbooks and its ansible.cfg
    (AWX runs from the project's root). Copies: transmit streams the files themselves."""
    project = pdd / "project"
    shutil.copytree(ROOT / "playbooks", project / "playbooks")
    shutil.copy(ROOT / "ansible.cfg", project / "ansible.cfg")
    return project


def awx_inject(credential_type: str, inputs: dict, pdd: Path, worker_pdd: Path) -> dict:
    """A credential of awx/credential_types/CREDENTIAL_TYPE.yml, injected as AWX injects it into a job: each file
    template rendered into a file of its own under the private data dir's env/ (mode 600; it travels in the
    transmitted stream), `tower.filename` naming it where the worker unpacks it (AWX: /runner/env/tmpXXXX in the
    EE), and the env templates rendered. Returns the environment variables, for env/envvars."""
    definition = yaml.safe_load((CREDENTIAL_TYPES / f"{credential_type}.yml").read_text(encoding="utf-8"))
    values = {**{f["id"]: f.get("default", "") for f in definition["inputs"].get("fields", [])}, **inputs}
    render = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    (pdd / "env").mkdir(parents=True, exist_ok=True)
    files = {}
    for key, template in (definition["injectors"].get("file") or {}).items():
        handle, path = tempfile.mkstemp(dir=pdd / "env")  # AWX's own: a tmpXXXX file in env/
        with os.fdopen(handle, "w") as fh:
            fh.write(render.from_string(template).render(values))
        os.chmod(path, 0o600)
        files[key] = str(worker_pdd / "env" / Path(path).name)
    filename = files.get("template") or SimpleNamespace(**{k.split(".", 1)[1]: v for k, v in files.items()})
    return {name: render.from_string(t).render({**values, "tower": SimpleNamespace(filename=filename)})
            for name, t in (definition["injectors"].get("env") or {}).items()}


@dataclass
class Job:
    """What `ansible-runner process` left for one job in OUT: its artifacts dir, status, rc and events (in order)."""
    out: Path
    artifacts: Path
    status: str
    rc: int
    events: list = field(repr=False)

    @classmethod
    def read(cls, out: Path) -> Job:
        [artifacts] = {p.parent for p in out.glob("**/status")}
        events = [json.loads(p.read_text()) for p in (artifacts / "job_events").glob("*.json")
                  if not p.name.endswith("-partial.json")]  # the display callback's drafts of events written whole
        return cls(out, artifacts, (artifacts / "status").read_text().strip(), int((artifacts / "rc").read_text().strip()),
                   sorted(events, key=lambda e: e["counter"]))

    @property
    def stats(self) -> dict:
        """The play recap's event data: ok, changed, failures, dark, ... by host, and set_stats' artifact_data."""
        [stats] = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        return stats["event_data"]

    def stdout(self) -> str:
        return "\n".join(e.get("stdout", "") for e in self.events if e.get("stdout"))

    def failed(self) -> list:
        """(host, task, message) of every failed task result not ignored, for an assertion's message."""
        return [(e["event_data"].get("host"), e["event_data"].get("task"), (e["event_data"].get("res") or {}).get("msg"))
                for e in self.events if e.get("event") in ("runner_on_failed", "runner_on_unreachable")
                and not e["event_data"].get("ignore_errors")]

    def results(self, kind: str = "runner_on_ok") -> list[dict]:
        """The event data of every task result of this kind, in order."""
        return [e["event_data"] for e in self.events if e.get("event") == kind]


def run_job(socket: Path, pdd: Path, playbook: str, *, out: Path, ident: str, work_dir: Path,
            cmdline: str | None = None, timeout: float = 600) -> Job:
    """One job through the pipeline AWX uses: `ansible-runner transmit PDD -p PLAYBOOK | receptorctl work submit
    ansible-runner --payload - --follow --rm --param params="--private-data-dir=WORK_DIR --delete" | ansible-runner
    process OUT`. `cmdline`: ansible-playbook's own options (AWX's job type "check" gives --check). Checks the
    pipeline itself (every stage ended well, the unit was released, the worker's dir deleted); the job's own
    outcome is the caller's to check. Every wait is bounded by `timeout`."""
    transmit = subprocess.Popen([str(VENV_BIN / "ansible-runner"), "transmit", str(pdd), "-p", playbook, "--ident", ident,
                                 *([f"--cmdline={cmdline}"] if cmdline else [])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tool_env())
    submit = subprocess.Popen([str(VENV_BIN / "receptorctl"), "--socket", str(socket), "work", "submit",
                               "ansible-runner", "--node", "local", "--payload", "-", "--follow", "--rm",
                               "--param", f"params=--private-data-dir={work_dir} --delete"],
                              stdin=transmit.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tool_env())
    transmit.stdout.close()  # submit holds it now: transmit sees a closed pipe if submit ends first
    process = subprocess.Popen([str(VENV_BIN / "ansible-runner"), "process", str(out)], stdin=submit.stdout,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=tool_env())
    submit.stdout.close()
    try:
        shown, process_err = process.communicate(timeout=timeout)
        submit_err = submit.communicate(timeout=60)[1]
        transmit_err = transmit.communicate(timeout=60)[1]
    finally:
        for proc in (transmit, submit, process):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=15)
    assert transmit.returncode == 0, transmit_err.decode()
    assert process.returncode == 0, process_err.decode() + shown.decode()[-3000:]
    # receptorctl prints "(UNIT, released)" on its stdout after the results; when `ansible-runner process` has
    # already read the end of the stream and exited, that write fails (EPIPE) and receptorctl exits 1 although
    # the unit was released. Anything else is a failure.
    err = submit_err.decode()
    assert submit.returncode == 0 or (submit.returncode == 1 and re.fullmatch(
        r"(?s)\s*ERROR: \S+: ERROR: \[Errno 32\] Broken pipe\s*", err)), (submit.returncode, err)
    listed = receptorctl(socket, "work", "list")
    assert listed.returncode == 0 and json.loads(listed.stdout) == {}, listed.stdout  # --rm released the unit
    assert not work_dir.exists(), "the worker's --delete removed its private data dir"
    return Job.read(out)
