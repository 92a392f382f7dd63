"""Run one of the collection's playbooks through ansible-runner and collect what it did.

Every run gets its own private data directory under `$AXE_STATE_DIR/runs/`, the newest
AXE_KEEP_RUNS are kept. Only non-secret variables are passed as extra vars (ansible-runner
writes those into its artifacts); env files are suppressed. SSH is the cost of a run, so
pipelining and a persistent control socket are always on, and facts are never gathered
unless a play asks for them.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shlex
import shutil
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import interrupt, pty_close, secret_env, ssh_sockets
from .strategy import strategy_env, strategy_noise
from .errors import AxeError
from .private_files import private_file
from .settings import Settings

COLLECTION = "axelabs.onboard"
TARGET_PLAY = "Check the run's target resolves to customer hosts"  # playbooks/target.yml: bookkeeping on localhost
TRAP_REASON = re.compile(r"^T\d\d: ")  # a reason the product gives starts with its trap id (traps.md)


@dataclass
class HostResult:
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    interrupted: bool = False
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Each failure as the module reported it: task, problem (msg), trap, details, next step; intact for --json.
    errors: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        if self.unreachable:
            return "unreachable"
        if self.failed:
            return "failed"
        return "changed" if self.changed else "ok"


@dataclass
class RunResult:
    playbook: str
    rc: int
    status: str
    artifact_dir: Path
    seconds: float
    hosts: dict[str, HostResult]
    stats: dict  # host -> what the play published with set_stats under `hosts`
    stdout_tail: str = ""
    diffs: list = field(default_factory=list)  # (host, task, diff) of tasks that changed or would
    changes: list = field(default_factory=list)  # (step, host, task) of every task that changed or would
    failures: list = field(default_factory=list)  # (step, host, task) of every task that failed the host
    steps: list = field(default_factory=list)  # the steps started, in order (each published by its play: axe_step)
    interrupted: int = 0  # the signal that stopped the run (0: it ran to its end)

    @property
    def failed(self) -> bool:
        return self.rc != 0 or self.interrupted != 0 or any(
            h.status in ("failed", "unreachable") for h in self.hosts.values())

    def early_error(self) -> str:
        """Why ansible-playbook stopped before any host ran a task (an inventory that failed to parse, a
        playbook error): the trap-coded reasons and ERROR lines it printed, each once."""
        lines = [line.strip() for line in self.stdout_tail.splitlines()]
        keep = [line for line in lines if TRAP_REASON.match(line) or line.startswith(("ERROR", "[ERROR]"))]
        return "\n".join(dict.fromkeys(keep)) or self.stdout_tail.strip()

    def rename_host(self, old: str, new: str) -> None:
        """Controller plays run on `localhost`; the operator reads the customer's name instead."""
        if old in self.hosts:
            self.hosts[new] = self.hosts.pop(old)
        self.diffs = [(new if h == old else h, t, d) for h, t, d in self.diffs]
        self.changes = [(p, new if h == old else h, t) for p, h, t in self.changes]
        self.failures = [(p, new if h == old else h, t) for p, h, t in self.failures]

    def totals(self) -> dict[str, int]:
        return {
            "ok": sum(1 for h in self.hosts.values() if h.status == "ok"),
            "changed": sum(1 for h in self.hosts.values() if h.status == "changed"),
            "failed": sum(1 for h in self.hosts.values() if h.status in ("failed", "unreachable")),
            **({"interrupted": sum(1 for h in self.hosts.values() if h.status == "interrupted")}
               if self.interrupted else {}),
        }


def merge_published(stats: dict, published) -> None:
    """Fold one set_stats result's `hosts` data into `stats` as Ansible aggregates it (dicts merged recursively, any
    other value replaced), so the stats known mid-run equal the recap's at its end (pure: unit-tested)."""
    if not isinstance(published, dict):
        return
    for key, value in published.items():
        if isinstance(value, dict) and isinstance(stats.get(key), dict):
            merge_published(stats[key], value)
        else:
            stats[key] = value


def collections_path(settings: Settings) -> str:
    """A directory holding ansible_collections/axelabs/onboard: a link to the checkout, or the
    standard search path when the collection is installed."""
    if settings.collection_dir is None:
        return os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    root = settings.state_dir / "collections"
    link = root / "ansible_collections" / "axelabs" / "onboard"
    if not (link.is_symlink() and link.resolve() == settings.collection_dir.resolve()):
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".onboard-{uuid.uuid4().hex[:6]}")
        tmp.symlink_to(settings.collection_dir.resolve())
        tmp.replace(link)
    return str(root)


def ansible_env(settings: Settings) -> dict[str, str]:
    control_dir = ssh_sockets.control_dir(settings.state_dir)
    # ansible-playbook lives beside the Python running axe (the virtualenv), on PATH or not.
    bindir = os.path.dirname(sys.executable)
    return {
        "PATH": os.pathsep.join([bindir, os.environ.get("PATH", "")]),
        "ANSIBLE_COLLECTIONS_PATH": collections_path(settings),
        "ANSIBLE_PIPELINING": "True",
        # A host key is always checked, whatever the operator's own SSH config says (the command line's -o wins
        # over every config file): the Mac mini must be the one the tailnet says it is.
        # The ControlPath is here as well as in ANSIBLE_SSH_CONTROL_PATH_DIR: Mitogen's SSH takes ssh_args but not
        # Ansible's control path, and without one it opened a new SSH connection (0.18 s in the lab, several round
        # trips over Tailscale) on every run. Both strategies now share the one connection kept open per host.
        "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=120s -o %s -o StrictHostKeyChecking=yes"
                            % shlex.quote(f"ControlPath={control_dir}/%C"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control_dir),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_GATHERING": "explicit",
        "ANSIBLE_NOCOLOR": "True",
        "ANSIBLE_LOCAL_TEMP": str(settings.state_dir / "tmp"),
        "ANSIBLE_FORKS": "20",
        "ANSIBLE_INVENTORY_ENABLED": "axelabs.onboard.customers,host_list,script,auto,yaml,ini,toml",
        # An inventory source that fails (customers.yaml unreadable, Tailscale down: T05) fails the run;
        # a warning would let every play match no host and the run end "ok" having done nothing.
        "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
        # ansible-playbook ends itself when axe is gone, even killed with SIGKILL (plugins/callback/tether.py).
        "ANSIBLE_CALLBACKS_ENABLED": "axelabs.onboard.tether",
        **strategy_env(settings.strategy),
        **(ANSIBLE_DEFAULTS if os.environ.get("AXE_ANSIBLE_DEFAULTS") == "1" else {}),
        "AXE_CLI": "1",  # advice printed by plugins names axe's commands (module_utils/lock_owner.py)
        **settings.product_env(),
    }


# AXE_ANSIBLE_DEFAULTS=1: the run as Ansible's defaults would make it (Ansible's linear strategy, a module shipped
# per task with no pipelining, a fresh SSH connection per task). Only for scripts/bench_dday.py's comparison: it is
# never faster, and the host key is checked all the same.
ANSIBLE_DEFAULTS = {"ANSIBLE_STRATEGY": "linear", "ANSIBLE_PIPELINING": "False",
                    "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=no -o StrictHostKeyChecking=yes"}


# A host whose SSH host key is not the one known for it, as ssh says it (Ansible's own connection) and as Mitogen
# says it: one message, the same under either strategy.
HOST_KEY_REFUSED = ("Host key verification failed", "SSH reported an unrecognized or mismatching host key")


def unreachable_reason(msg: str) -> str:
    if any(text in msg for text in HOST_KEY_REFUSED):
        return ("Host key verification failed: the host's SSH key is not the one known for it (a replaced Mac mini, or "
                "not the customer's). Next: confirm with the customer that the Mac mini was replaced, then remove its old "
                "key from the known_hosts file your SSH config names, and run again.")
    return msg


def as_data(value) -> str:
    """`value` as YAML in which every string is tagged !unsafe: what an operator typed or customer IT sent is
    handed to Ansible as data and is never rendered as a template (`{{ lookup('pipe', ...) }}` in a legal name or a
    pack's path stays those characters). Flow style, strings as JSON (a subset of YAML's double-quoted form)."""
    import json
    if isinstance(value, str):
        return "!unsafe " + json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join("%s: %s" % (json.dumps(str(k), ensure_ascii=False), as_data(v)) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(as_data(v) for v in value) + "]"
    return json.dumps(value)


def write_extravars(private: Path, extravars: dict) -> None:
    """The run's extra vars as ansible-runner's env/extravars (passed as `-e @file`), never on the command line."""
    env = private / "env"
    env.mkdir(exist_ok=True, mode=0o700)
    (env / "extravars").write_text(as_data(extravars) + "\n", encoding="utf-8")


def prune_runs(runs_dir: Path, keep: int) -> None:
    if not runs_dir.is_dir():
        return
    runs = sorted((p for p in runs_dir.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in runs[:-keep] if len(runs) > keep else []:
        shutil.rmtree(old, ignore_errors=True)


def run_playbook(settings: Settings, playbook: str, inventory: dict | str, *, check: bool = False,
                 diff: bool = False, extravars: dict | None = None, limit: str | None = None,
                 on_event: Callable[[dict], None] | None = None, label: str = "run",
                 one_round_trip: bool = False) -> RunResult:
    """`one_round_trip`: the run makes one module call per host (axe health, axe lock status). Mitogen's start on a
    host (its own SSH connection and Python) costs more than it saves on one call, so such a run uses Ansible's own
    strategy over the SSH connection axe keeps open; every other run uses the configured one (AXE_STRATEGY)."""
    try:
        import ansible_runner
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise AxeError("ansible-runner is not installed", "run scripts/setup.sh") from exc

    ident = time.strftime("%Y%m%dT%H%M%S") + f"-{label}-{uuid.uuid4().hex[:6]}"
    private = settings.runs_dir / ident
    private.mkdir(parents=True, mode=0o700)
    fqcn = playbook if "." in playbook else f"{COLLECTION}.{playbook}"
    cmdline = []
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    hosts: dict[str, HostResult] = {}
    stats: dict = {}
    diffs: list = []
    changes: list = []
    failures: list = []
    steps: list = []
    step_of: dict[str, str] = {}  # host -> the step it is in: the last axe_step it published (set_stats)
    playbook_pid: list[int] = []
    acting: set = set()  # hosts that did more than the target check

    def handler(event: dict) -> bool:
        data = event.get("event_data", {})
        host = data.get("host")
        kind = event.get("event", "")
        if kind == "playbook_on_start" and event.get("pid"):
            playbook_pid.append(int(event["pid"]))
        if host and kind.startswith("runner_on_"):
            if not data.get("play", "").startswith(TARGET_PLAY) or kind not in ("runner_on_ok", "runner_on_skipped", "runner_on_start"):
                acting.add(host)
            result = hosts.setdefault(host, HostResult())
            res = data.get("res") or {}
            published = ((res.get("ansible_stats") or {}).get("data") or {}).get("axe_step") if kind == "runner_on_ok" else None
            if kind == "runner_on_ok":
                # What a play publishes per host (set_stats under `hosts`), as each set_stats task runs: a run that is
                # interrupted before its recap still says what its hosts finished (a rollout's canary shipped).
                merge_published(stats, ((res.get("ansible_stats") or {}).get("data") or {}).get("hosts"))
            if published:
                step_of[host] = published
                if published not in steps:
                    steps.append(published)
            result.warnings.extend(w for w in res.get("warnings") or [] if w not in result.warnings)
            if kind == "runner_on_ok" and res.get("changed"):
                changes.append((step_of.get(host, ""), host, data.get("task", "")))
                if res.get("diff"):
                    diffs.append((host, data.get("task", ""), res["diff"]))
            if kind in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
                failures.append((step_of.get(host, ""), host, data.get("task", "")))
            if kind in ("runner_on_failed",) and not data.get("ignore_errors"):
                result.errors.append({"task": data.get("task", ""), "problem": res.get("msg", "") or res.get("stderr", ""),
                                      "trap": res.get("trap"), "details": list(res.get("details") or []),
                                      "next": res.get("next_step")})
                result.messages.append(f"{data.get('task', '')}: {res.get('msg', '') or res.get('stderr', '')}".strip())
                for detail in res.get("details") or []:
                    result.messages.append(f"  - {detail}")
                if res.get("next_step") and "next:" not in (res.get("msg") or ""):
                    result.messages.append(f"  next: {res['next_step']}")
            if kind == "runner_on_unreachable":
                result.messages.append(f"unreachable: {unreachable_reason(res.get('msg', ''))}".strip())
        if kind == "playbook_on_stats":
            for name, counts in (("ok", "ok"), ("changed", "changed"), ("failed", "failures"),
                                 ("unreachable", "dark"), ("skipped", "skipped")):
                for h, n in (data.get(counts) or {}).items():
                    setattr(hosts.setdefault(h, HostResult()), name, n)
            # Plays publish per-host results as aggregated set_stats under `hosts`: the recap's aggregate is the word.
            stats.update((data.get("artifact_data") or {}).get("hosts") or {})
        if on_event:
            on_event(event)
        return True

    stopping: dict = {}

    def cancel() -> bool:
        """Polled by ansible-runner while the run goes on: on a signal, end ansible-playbook gracefully
        (SIGTERM reaches its workers and their SSH); only one that has not ended 15 s later is killed."""
        if not interrupt.received():
            return False
        if not stopping:
            stopping["at"] = time.monotonic()
            if playbook_pid:
                with contextlib.suppress(OSError):
                    os.kill(playbook_pid[0], signal.SIGTERM)
                return False
            return True  # not started yet: nothing on a host to wind down
        return time.monotonic() - stopping["at"] > 15

    pty_close.install()
    started = time.monotonic()
    envvars = ansible_env(dataclasses.replace(settings, strategy="linear") if one_round_trip else settings)
    token = secret_env.get("BWS_ACCESS_TOKEN")
    with interrupt.deferred(), \
            (private_file(settings.state_dir, "bws-", token) if token else contextlib.nullcontext()) as token_file:
        if token_file:
            envvars["AXE_SM_TOKEN_FILE"] = token_file  # the path travels, the token does not (secret_env.py)
        write_extravars(private, {"axe_run_id": ident, **(extravars or {})})
        runner = ansible_runner.run(
            private_data_dir=str(private),
            playbook=fqcn,
            inventory=inventory,
            envvars=envvars,
            cmdline=" ".join(cmdline) or None,
            limit=limit,
            quiet=True,
            event_handler=handler,
            cancel_callback=cancel,
            suppress_env_files=True,
            settings={"suppress_ansible_output": True, "pexpect_timeout": 0.5},
        )
    seconds = time.monotonic() - started
    tail = ""
    if runner.rc != 0 or interrupt.received():
        try:
            tail = "\n".join([line for line in runner.stdout.read().splitlines() if not strategy_noise(line)][-40:])
        except Exception:  # the stdout file may be missing when ansible never started
            tail = ""
    prune_runs(settings.runs_dir, settings.keep_runs)
    for name in [h for h in hosts if h not in acting]:
        del hosts[name]  # localhost checked the target and did nothing else: not a host the operator asked about
    if interrupt.received():
        for host_result in hosts.values():
            host_result.interrupted = True  # no recap came: what each host did past its last event is unknown
    result = RunResult(playbook=fqcn, rc=runner.rc if isinstance(runner.rc, int) else 1, status=runner.status,
                       artifact_dir=private, seconds=seconds, hosts=hosts, stats=stats, stdout_tail=tail, diffs=diffs,
                       changes=changes, failures=failures, steps=steps, interrupted=interrupt.received())
    if result.interrupted:
        raise interrupt.Interrupted(result.interrupted, result)
    return result
