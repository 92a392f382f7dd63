"""Kill it anywhere, it converges: SIGKILL `axe deploy customer CUSTOMER --from-pack PACK --apply --yes` at
chosen points of a D-day, then run the same command again and prove the customer converged.

A kill point is data (`KillPoint`): the D-day step, what runs there, and a trigger that says when to kill.
Triggers are seen from outside the product, never from inside it:

- `TaskStart`: a task starts in the apply run. ansible-runner writes every event as a JSON file while the run
  goes (`$AXE_STATE_DIR/runs/<run>/artifacts/<ident>/job_events/`); `playbook_on_task_start` names the play
  and the task. "Kill N seconds after task X starts."
- `HostCommand`: a command appears in the customer host's process table (a watcher in the lab host's
  container scans /proc every 10 ms), optionally followed by a Docker event on that host (`docker events`).
  This is how a point inside one module is hit: "between the proxy reload and saving the release state" is
  `docker exec axe-frame-proxy nginx -s reload` seen, the module that runs it frozen (SIGSTOP) so the reload
  finishes and nothing after it runs, then everything killed.
- `ControllerFile`: a file appears on the operator's machine (inotify): the ingest's temporary
  `.customers.yaml.<pid>.tmp`, i.e. the customers.yaml write has begun.

What is killed: always axe's whole process group (axe is started in a session of its own, so its pgid is its
pid) with SIGKILL, the operator's laptop dying. A module already running on the customer's host does not die
with the operator's machine (SSH gives it no signal; it finishes and only its answer is lost), so for the
points inside a host-side module (`host_kill=True`) the module's SSH session on the host is killed too, the
way a dropped connection with a killed session, or the Mac mini's sshd dying, would leave it: that is the only
way to stop the host between two lines of one module. Both are reported.

After each kill: the controller processes axe had started that outlived it (`orphans`) are reported, given
15 s to end by themselves (ansible-playbook's tether), and then killed by pid; `axe lock status CUSTOMER --json`
says whether the host's deploy lock is held and whether it is provably stale, and only a held lock that is not
stale is released (`axe lock release CUSTOMER --apply --yes`); then the same D-day command runs again (twice at
most) and must converge: exit 0, all four services 200 through the edge.

The checks after convergence (`check`): four services 200 through the edge; no Docker volume on the host lost or
recreated (name and creation time); the vault's data directory and its sentinel file kept; frame's and hive's
entities still registered; no vault item lost, and every generated secret keeps its value; customers.yaml
loads and validates, every other customer's entry is unchanged, and no temporary file is left beside it; the
release state of every blue/green service matches what its proxy serves; no stray container (a candidate, a
renamed half-recreated vault); the host's deploy lock is free; no process of the run is left.

A `Poller` asks every service through the edge all the time. A service that answered 200 just before the kill
must not fail a request after it (`failures`); what failed during the killed run before the kill is the
product's own doing and reported apart (`before_kill`).

The collection never imports this module (it lives in lab/).
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import queue
import re
import secrets as _secrets
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("frame", "blueprint", "hive", "vault")
# Each service's health as an employee reaches it: https://{public_domain}{path} (module_utils/stack.py).
EDGE_PATHS = {"frame": "/frame/health/ready", "blueprint": "/health/ready", "hive": "/hive/health/ready",
              "vault": "/vault/alive"}
HOME = "/Users/axe"
DOCKER = "/opt/homebrew/bin/docker"
ORPHAN_GRACE = 15.0  # ansible-playbook's tether ends it within 10.5 s of axe's death
DRY_RUN = r"--dry-run"


# ---- kill points, as data --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskStart:
    """`after` seconds after a task whose name matches `task` starts in a play whose name matches `play`."""
    task: str
    play: str = ""
    after: float = 0.0

    def describe(self) -> str:
        return f"task '{self.task}' started +{self.after:g}s (job events)"


@dataclass(frozen=True)
class HostCommand:
    """A command matching `command` runs on the host. `event`: then wait for a Docker event on the host,
    (container name regex, action regex). `after`: seconds more. `let_finish`: freeze the module running the
    command but let the command itself end first (the reload happens, what follows it in the module does not);
    otherwise freeze everything in the module's SSH session as it is."""
    command: str
    event: tuple[str, str] | None = None
    after: float = 0.0
    let_finish: bool = False

    def describe(self) -> str:
        what = f"host: `{self.command}` seen"
        if self.event:
            what += f", then docker event {self.event[1]} on {self.event[0]}"
        if self.after:
            what += f" +{self.after:g}s"
        if self.let_finish:
            what += ", it ends, the module is stopped before its next line"
        return what


@dataclass(frozen=True)
class ControllerFile:
    """A file whose name matches `name` is created in the customers file's directory (inotify)."""
    name: str

    def describe(self) -> str:
        return f"controller: {self.name} created (inotify)"


@dataclass(frozen=True)
class KillPoint:
    name: str
    round: str       # "first": a D-day from nothing; "rotate": a D-day with a new pack; "restart": cloudflared's config changed
    step: str        # the D-day step (docs/dday.md)
    what: str        # what runs at this point
    trigger: object
    host_kill: bool = False  # also kill the module's SSH session on the host (see the module's docstring)
    why: str = ""
    # A service the kill catches inside its planned pause, with nothing on the host that could end the pause but
    # a run: it stays down until the next run brings it back. Counted apart, with how long that took.
    down_until_rerun: str = ""

    def describe(self) -> str:
        return self.trigger.describe() + (" + host session killed" if self.host_kill else "")


COMPOSE = r"(^|/)docker compose --project-directory \S+ --file \S+ (--progress json )?"
UP = COMPOSE + r"up --detach .*"
RELOAD = r"(^|/)docker exec {} nginx -s reload$"
TEST = r"(^|/)docker exec {} nginx -t -q$"
INGEST_TMP = r"^\.customers\.yaml\.\d+\.tmp$"

POINTS: tuple[KillPoint, ...] = (
    # ---- a D-day from nothing (one fresh lab host each in the full run) ----
    KillPoint("ingest.vault", "first", "ingest", "the pack's client secrets going into the vault",
              TaskStart(r"^Ingest the pack into customers\.yaml and the vault$", after=0.4)),
    KillPoint("ingest.write", "first", "ingest", "customers.yaml being written (temp file, fsync, rename)",
              ControllerFile(INGEST_TMP),
              why="the registry of every customer: a torn write loses them all"),
    KillPoint("preflight.sleep", "first", "preflight", "the T04 fix (pmset sleep 0) on the host",
              TaskStart(r"^Keep the Mac mini awake", after=0.1)),
    KillPoint("cloudflared.tunnel", "first", "cloudflared",
              "tunnel just created at Cloudflare; its credentials exist only in the run's memory",
              TaskStart(r"^Name the tunnel for the steps after it")),
    KillPoint("cloudflared.dns", "first", "cloudflared", "the CNAME to the tunnel being written",
              TaskStart(r"^Point the public name at the tunnel", after=0.3)),
    KillPoint("cloudflared.boot", "first", "cloudflared", "launchctl bootstrap of the LaunchAgent",
              HostCommand(r"(^|/)launchctl bootstrap gui/\d+ \S+cloudflared\S*\.plist$"), host_kill=True),
    KillPoint("cloudflared.restart", "first", "cloudflared",
              "the handler's restart: bootout done, bootstrap not yet",
              HostCommand(r"(^|/)launchctl bootout gui/\d+/\S+$", let_finish=True), host_kill=True,
              why="the tunnel is down until something boots cloudflared again"),
    KillPoint("frame.clone", "first", "frame", "git clone of frame on the host",
              HostCommand(r"(^|/)git clone --quiet --no-checkout -- \S+/frame\S* \S+$", after=0.05), host_kill=True),
    KillPoint("frame.secrets", "first", "frame", "generating frame's secrets into the vault",
              TaskStart(r"^Secrets bootstrap - generate", play=r"frame", after=0.5)),
    KillPoint("frame.up", "first", "frame", "compose up of the first release (postgres, then blue)",
              HostCommand(UP + r"frame-mcp-(blue|green)$", event=(r"frame-mcp-(blue|green)$", r"^create$")),
              host_kill=True),
    # A first release has no reload to stop after (the proxy push already points the new proxy at the staged
    # colour): the nearest moment is the promote starting, with the proxy serving blue and no release state.
    KillPoint("frame.promote", "first", "frame", "first release: the proxy serves blue, the release state is empty",
              TaskStart(r"^Ingress swap", play=r"frame")),
    KillPoint("blueprint.candidate", "first", "blueprint", "the candidate container starting",
              HostCommand(COMPOSE + r"run --detach .*blueprint-app-candidate",
                          event=(r"^blueprint-app-candidate$", r"^create$")), host_kill=True),
    KillPoint("hive.entities", "first", "hive", "registering the entity in the staged colour",
              HostCommand(r"(^|/)docker exec hive-mcp-(blue|green) python3 -m hive\.cli register-entity "), host_kill=True),
    KillPoint("vault.up", "first", "vault", "compose up of axe-vaultwarden: created, not started",
              HostCommand(UP + r"axe-vaultwarden$", event=(r"axe-vaultwarden$", r"^create$")), host_kill=True),
    KillPoint("health.edge", "first", "health", "the proof from outside",
              TaskStart(r"^Every service answers 200", after=0.0)),
    # ---- a D-day with a rotated pack on a customer that is live: every service serves ----
    KillPoint("rotate.ingest.write", "rotate", "ingest", "customers.yaml being rewritten with the new client ids",
              ControllerFile(INGEST_TMP)),
    KillPoint("rotate.frame.up", "rotate", "frame",
              "compose up of the idle colour while the live one serves: created, not started",
              HostCommand(UP + r"frame-mcp-(blue|green)$", event=(r"frame-mcp-(blue|green)$", r"^create$")),
              host_kill=True),
    KillPoint("rotate.frame.switch", "rotate", "frame",
              "blue/green switch: proxy reloaded to the new colour, release state not saved",
              HostCommand(RELOAD.format("axe-frame-proxy"), let_finish=True), host_kill=True,
              why="the proxy serves a colour the state does not name: the next release goes to the serving colour"),
    KillPoint("rotate.frame.written", "rotate", "frame",
              "blue/green switch: the proxy's upstream file names the new colour, nginx not yet reloaded",
              HostCommand(TEST.format("axe-frame-proxy")), host_kill=True,
              why="the file and what nginx serves disagree: the next run must make nginx serve the file before "
                  "it stops the old colour"),
    KillPoint("rotate.frame.switch.laptop", "rotate", "frame",
              "the same moment, only the operator's machine dies (the module on the host goes on)",
              HostCommand(RELOAD.format("axe-frame-proxy"))),
    KillPoint("rotate.frame.drain", "rotate", "frame", "stopping the old colour after the drain",
              HostCommand(COMPOSE + r"stop --timeout \d+ frame-mcp-(blue|green)"), host_kill=True),
    KillPoint("rotate.blueprint.swap", "rotate", "blueprint",
              "blueprint's live container being recreated (the candidate serves): the old one stopped and renamed",
              HostCommand(UP + r"blueprint-app$", event=(r"blueprint-app$", r"^rename$")), host_kill=True),
    KillPoint("rotate.hive.switch", "rotate", "hive", "blue/green switch of hive, release state not saved",
              HostCommand(RELOAD.format("axe-hive-proxy"), let_finish=True), host_kill=True),
    KillPoint("rotate.vault.recreate", "rotate", "vault",
              "axe-vaultwarden's recreate: the old container stopped and renamed, the new one not there",
              HostCommand(UP + r"--force-recreate .*axe-vaultwarden", event=(r"axe-vaultwarden", r"^rename$")),
              host_kill=True, why="the customer's passwords: the container must come back on the same data",
              down_until_rerun="vault"),  # compose stopped the old container; only a run creates the new one
    # ---- cloudflared's config changed on a live customer ----
    KillPoint("restart.cloudflared", "restart", "cloudflared",
              "the handler's restart of a serving tunnel: launchctl kickstart -k sent, its answer not read",
              HostCommand(r"(^|/)launchctl kickstart -k gui/\d+/\S+$", let_finish=True), host_kill=True),
)
BY_NAME = {p.name: p for p in POINTS}


# ---- the world the harness works in ------------------------------------------------------------------------
class World:
    """One customer on one lab host, and how to reach everything: axe, the edge, the host, the vault."""

    def __init__(self, lab_name: str, customer: str, env: dict[str, str], *, log=None):
        self.lab_name, self.customer, self.env = lab_name, customer, dict(env)
        self.container = f"{lab_name}-{customer}-macmini"
        self.domain = f"{customer}.axelabs.ai"
        self.state_dir = Path(self.env["AXE_STATE_DIR"])
        self.runs = self.state_dir / "runs"
        self.customers_file = Path(self.env["AXE_CUSTOMERS_FILE"])
        self.edge = self.env["AXE_EDGE_URL"]
        self.vault_url = self.env["AXE_VAULT_URL"]
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.axe_bin = str(Path(sys.executable).parent / "axe")

    # axe ----------------------------------------------------------------------------------------------------
    def axe(self, *args: str, timeout: float = 900, input_text: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.axe_bin, *args], capture_output=True, text=True, timeout=timeout,
                              env=self.env, input=input_text, cwd=self.state_dir)

    def dday_argv(self, pack: Path, json_out: bool = False) -> list[str]:
        return [self.axe_bin, "deploy", "customer", self.customer, "--from-pack", str(pack), "--apply", "--yes",
                *(["--json"] if json_out else [])]

    # the edge -----------------------------------------------------------------------------------------------
    def get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        req = urllib.request.Request(self.edge + path, headers={"Host": self.domain})
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def edge_codes(self) -> dict[str, int]:
        codes = {}
        for service, path in EDGE_PATHS.items():
            try:
                codes[service] = self.get(path)[0]
            except Exception:  # noqa: BLE001 - no answer is an answer here
                codes[service] = 0
        return codes

    # the host -----------------------------------------------------------------------------------------------
    def host(self, script: str, timeout: float = 60, check: bool = True) -> str:
        """A shell script on the lab host, as root, with the Homebrew prefix on PATH."""
        proc = subprocess.run(["docker", "exec", "-i", self.container, "sh", "-c",
                               f"PATH=/opt/homebrew/bin:$PATH; {script}"],
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"on {self.container}: {script!r} -> {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return proc.stdout

    # the vault ----------------------------------------------------------------------------------------------
    def vault(self):
        if str(ROOT / ".collections") not in sys.path:
            sys.path.insert(0, str(ROOT / ".collections"))
        from ansible_collections.axelabs.onboard.plugins.module_utils import vault
        return vault.backend("bw_serve", url=self.vault_url)

    def vault_items(self) -> dict[tuple[str, str], str]:
        backend = self.vault()
        return {(service, env): backend.get(self.customer, service, env)
                for service, env in sorted(backend.list(self.customer))}


# ---- packs and the work a D-day does -----------------------------------------------------------------------
def new_pack(customer: str, path: Path, tenant_id: str | None = None) -> dict:
    """An axelabs-bootstrap/v1 pack as customer IT sends it (scripts/demo_pack.py's shape), mode 600.
    The same tenant with new client ids and secrets is a rotation: every step but cloudflared has work."""
    domain = f"{customer}.axelabs.ai"

    def app():
        return {"client_id": str(uuid.uuid4()), "client_secret": _secrets.token_urlsafe(30)}

    pack = {"schema": "axelabs-bootstrap/v1", "customer": customer, "tenant_id": tenant_id or str(uuid.uuid4()),
            "apps": {"blueprint": app(), "vaultwarden": app(),
                     "frame_mcp": dict(app(), application_id_uri=f"https://{domain}/frame/mcp",
                                       scope=f"https://{domain}/frame/mcp/mcp.access",
                                       redirect_uris=["https://claude.ai/api/mcp/auth_callback",
                                                      "https://claude.com/api/mcp/auth_callback"])}}
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(pack, fh, indent=2)
    return pack


def rotate(world: World, pack_path: Path, previous: dict) -> tuple[dict, set]:
    """Work for every service on a live customer: a pack with new client ids and secrets (ingest, frame,
    blueprint, the vault) and frame's MCP token rotated in the vault (frame, blueprint and hive use it).
    Returns the new pack and the vault items this changed on purpose."""
    pack = new_pack(world.customer, pack_path, tenant_id=previous["tenant_id"])
    env = f"FRAME_{world.customer.upper().replace('-', '_')}_MCP_TOKEN"
    world.vault().put(world.customer, "frame", env, _secrets.token_urlsafe(32))
    return pack, {("frame", env)}


def touch_cloudflared_config(world: World) -> None:
    """Work for cloudflared alone: its config.yml edited on the host (the D-day writes it back, then restarts)."""
    world.host(f"printf '# edited by hand\\n' >> {HOME}/.cloudflared/config.yml")


def put_sentinels(world: World) -> None:
    """A file in every Docker volume on the host and in the vault's data directory (the customer's passwords):
    each must still be there after any kill. Postgres ignores a stray file in its data directory."""
    world.host("for v in $(docker volume ls -q); do d=/var/lib/docker/volumes/$v/_data; "
               "[ -e $d/.chaos-sentinel ] || echo $v > $d/.chaos-sentinel; done; "
               f"d={HOME}/.axe/vault/data; [ ! -d $d ] || [ -e $d/chaos-sentinel ] || echo vault > $d/chaos-sentinel")


# ---- the poller ------------------------------------------------------------------------------------------------
class Poller:
    """Every service through the edge, all the time; each answer timestamped (time.monotonic())."""

    def __init__(self, world: World, interval: float = 0.1, limit: float = 3600):
        self.world, self.interval, self.limit = world, interval, limit
        self.stop = threading.Event()
        self.answers: dict[str, list[tuple[float, bool, str]]] = {s: [] for s in SERVICES}
        self.threads = [threading.Thread(target=self._run, args=(s,), daemon=True) for s in SERVICES]

    def start(self) -> "Poller":
        for t in self.threads:
            t.start()
        return self

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def _run(self, service: str) -> None:
        deadline = time.monotonic() + self.limit
        while not self.stop.is_set() and time.monotonic() < deadline:
            t = time.monotonic()
            try:
                status, _body = self.world.get(EDGE_PATHS[service], timeout=5)
                self.answers[service].append((t, status == 200, str(status)))
            except Exception as exc:  # noqa: BLE001 - a refused or reset connection is a failed request
                self.answers[service].append((t, False, type(exc).__name__))
            self.stop.wait(self.interval)

    def serving_at(self, at: float, window: float = 3.0) -> set[str]:
        """Services whose last answer before `at` was 200, with that answer at most `window` s old."""
        serving = set()
        for service, answers in self.answers.items():
            before = [a for a in list(answers) if a[0] <= at]
            if before and before[-1][1] and at - before[-1][0] <= window:
                serving.add(service)
        return serving

    def failures(self, start: float, end: float) -> dict[str, dict[str, int]]:
        """{service: {answer: count}} of the failed requests sent between start and end."""
        out: dict[str, dict[str, int]] = {}
        for service, answers in self.answers.items():
            for t, ok, label in list(answers):
                if start <= t <= end and not ok:
                    out.setdefault(service, {}).setdefault(label, 0)
                    out[service][label] += 1
        return out

    def when(self, service: str, start: float, end: float, origin: float) -> str:
        """When `service` failed between start and end, in seconds from `origin` ("+3.1..+4.0")."""
        times = [t for t, ok, _ in list(self.answers[service]) if start <= t <= end and not ok]
        return f"{times[0] - origin:+.1f}..{times[-1] - origin:+.1f}s" if times else ""


# ---- watching the apply run's job events --------------------------------------------------------------------
class RunWatch(threading.Thread):
    """Follows the newest apply run (`*-dday-XXXXXX`, not the check run) that starts after `since`: the task
    that runs now, and the TaskStart trigger (calls `fire(description)` once)."""

    def __init__(self, runs: Path, since: float, trigger: TaskStart | None, fire, seen=None, limit: float = 1800):
        super().__init__(daemon=True)
        self.runs, self.since, self.trigger, self.fire, self.limit = runs, since, trigger, fire, limit
        self.seen = seen or (lambda at: None)
        self.stop = threading.Event()
        self.run_dir: Path | None = None
        self.apply_started = threading.Event()
        self.apply_started_at = 0.0
        self.current = ""  # "play | task" of the last task started
        self.tasks: list[tuple[float, str, str]] = []
        self.fired = False

    def _find_run(self) -> Path | None:
        if not self.runs.is_dir():
            return None
        for entry in sorted(self.runs.iterdir(), reverse=True):
            if re.search(r"-dday-[0-9a-f]{6}$", entry.name) and entry.stat().st_mtime >= self.since - 1:
                return entry
        return None

    def run(self) -> None:
        deadline = time.monotonic() + self.limit
        seen: set[str] = set()
        pending_fire: float | None = None
        pending_what = ""
        step = ""  # the D-day step the run is in, as its plays publish it
        while not self.stop.is_set() and time.monotonic() < deadline:
            if self.run_dir is None:
                self.run_dir = self._find_run()
                if self.run_dir is not None:
                    self.apply_started_at = time.monotonic()
                    self.apply_started.set()
            if self.run_dir is not None:
                # In the run's order: a job event's file name starts with its counter.
                for path in sorted(self.run_dir.glob("artifacts/*/job_events/*.json"),
                                   key=lambda p: (int(p.name.split("-", 1)[0]) if p.name.split("-", 1)[0].isdigit() else 0, p.name)):
                    if path.name in seen or path.name.endswith("-partial.json"):
                        continue  # a partial is the display callback's draft of an event ansible-runner then writes whole
                    try:
                        event = json.loads(path.read_text())
                    except (OSError, ValueError):
                        continue  # half written: read it next time
                    seen.add(path.name)
                    if event.get("event") != "playbook_on_task_start":
                        continue
                    data = event.get("event_data") or {}
                    task = data.get("task", "")
                    # Each play's first task publishes the D-day step the tasks after it belong to
                    # (playbooks/onboard.yml); the step stands for the play here, as `axe` reads it.
                    published = re.match(r"^Publish the step: (\S+)$", task)
                    if published:
                        step = published.group(1)
                    play = step or data.get("play", "")
                    self.current = f"{play} | {task}"
                    self.tasks.append((time.monotonic(), play, task))
                    trig = self.trigger
                    if (trig and not self.fired and pending_fire is None and re.search(trig.task, task)
                            and re.search(trig.play, play)):
                        pending_fire = time.monotonic() + trig.after
                        self.seen(time.monotonic())
                        pending_what = f"task '{task}' started, +{trig.after:g}s"
            if pending_fire is not None and time.monotonic() >= pending_fire and not self.fired:
                self.fired = True
                self.fire(pending_what)
            self.stop.wait(0.02)


# ---- watching the customer's host ------------------------------------------------------------------------------
HOST_WATCHER = r'''
import json, os, re, select, signal, subprocess, sys, time
spec = json.loads(sys.argv[1])
pattern = re.compile(spec["command"])
exclude = re.compile(spec["exclude"])
deadline = time.monotonic() + spec["timeout"]
me = os.getpid()

def say(**kw):
    kw["t"] = time.time()
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()

def stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
        return {"state": rest[0], "ppid": int(rest[1]), "sid": int(rest[3])}
    except (OSError, IndexError, ValueError):
        return None

def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""

def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]

def alive(pid):
    s = stat(pid)
    return bool(s) and s["state"] != "Z"

def members(sid):
    out = []
    for p in pids():
        s = stat(p)
        if s and s["sid"] == sid and s["state"] != "Z":
            out.append(p)
    return out

events = None
if spec.get("event"):
    events = subprocess.Popen([spec["docker"], "events", "--format", "{{json .}}", "--filter", "type=container"],
                              stdout=subprocess.PIPE, text=True, bufsize=1)
say(ready=True)

def gone():
    """The harness closed our stdin (the run ended without the trigger): stop watching."""
    ready, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(ready) and sys.stdin.readline() == ""

# Phase 1: the command appears. A pid is read again for 0.5 s after it is first seen (fork, then exec).
first = {}
match = None
while match is None and time.monotonic() < deadline and not gone():
    now = time.monotonic()
    for pid in pids():
        if pid == me:
            continue
        if pid in first and now - first[pid] > 0.5:
            continue
        first.setdefault(pid, now)
        c = cmdline(pid)
        if c and pattern.search(c) and not exclude.search(c):
            match, matched = pid, c
            break
    if match is None:
        time.sleep(0.01)
if match is None:
    if events is not None:
        events.terminate()
    say(timeout=True)
    sys.exit(0)
seen_at = time.time()
st = stat(match) or {"sid": -1, "ppid": 1}
sid = st["sid"]
ancestors = []
p = st["ppid"]
while p > 1:
    s = stat(p)
    if not s or s["sid"] != sid:
        break
    ancestors.append(p)
    p = s["ppid"]
say(seen=matched, pid=match, sid=sid, ancestors=[cmdline(a)[:120] for a in ancestors])

# Phase 2: a Docker event on the host, after the command was seen.
if events is not None:
    name_re, action_re = re.compile(spec["event"][0]), re.compile(spec["event"][1])
    found = None
    while found is None and time.monotonic() < deadline:
        ready, _, _ = select.select([events.stdout, sys.stdin], [], [], 0.5)
        if sys.stdin in ready and sys.stdin.readline() == "":
            break
        if events.stdout not in ready:
            continue
        line = events.stdout.readline()
        if not line:
            break
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        attrs = (ev.get("Actor") or {}).get("Attributes") or {}
        names = [attrs.get("name", ""), attrs.get("oldName", "").lstrip("/")]
        if ev.get("timeNano", 0) / 1e9 >= seen_at - 0.05 and action_re.search(ev.get("Action", "")) and \
                any(name_re.search(n) for n in names if n):
            found = ev
    events.terminate()
    if found is None:
        say(timeout=True, seen_only=True)
        sys.exit(0)
    say(event=found.get("Action"), name=((found.get("Actor") or {}).get("Attributes") or {}).get("name"))

time.sleep(spec["after"])

if spec["mode"] == "observe":
    # The operator's machine dies here; the host side is left alone: does it go on, and for how long?
    say(hit=True, frozen=[], finished=not alive(match))
    t0 = time.monotonic()
    while members(sid) and time.monotonic() - t0 < spec["observe"]:
        time.sleep(0.05)
    say(ended=not members(sid), seconds=round(time.monotonic() - t0, 2))
    sys.exit(0)

if spec["let_finish"]:
    frozen = list(ancestors)
    for p in frozen:
        os.kill(p, signal.SIGSTOP)
    t0 = time.monotonic()
    while alive(match) and time.monotonic() - t0 < 60:
        time.sleep(0.005)
    finished = not alive(match)
else:
    frozen = sorted(members(sid))
    for p in frozen:
        try:
            os.kill(p, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    finished = not alive(match)
say(hit=True, frozen=[cmdline(p)[:120] for p in frozen], finished=finished)

line = sys.stdin.readline().strip()
if line == "kill":
    doomed = members(sid)
    which = [cmdline(p)[:120] for p in doomed]
    for p in doomed:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    say(killed=len(doomed), which=which)
else:
    for p in frozen:
        try:
            os.kill(p, signal.SIGCONT)
        except ProcessLookupError:
            pass
    say(released=True)
'''


class HostWatch:
    """The watcher above, running in the lab host's container (as root) while the apply runs."""

    def __init__(self, world: World, trigger: HostCommand, host_kill: bool, timeout: float = 1500):
        spec = {"command": trigger.command, "exclude": DRY_RUN, "timeout": timeout, "after": trigger.after,
                "event": list(trigger.event) if trigger.event else None, "let_finish": trigger.let_finish,
                "mode": "kill" if host_kill else "observe", "observe": 120, "docker": DOCKER}
        self.proc = subprocess.Popen(["docker", "exec", "-i", world.container, "python3", "-u", "-c", HOST_WATCHER,
                                      json.dumps(spec)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: queue.Queue = queue.Queue()
        self.said: list[dict] = []
        self.hit = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            self.said.append(msg)
            self.lines.put(msg)
            if msg.get("hit"):
                self.hit.set()

    def wait_for(self, key: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        for msg in list(self.said):
            if key in msg:
                return msg
        while time.monotonic() < deadline:
            try:
                msg = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if key in msg:
                return msg
        return next((m for m in self.said if key in m), None)

    def send(self, word: str) -> None:
        try:
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def close(self) -> None:
        try:
            self.proc.stdin.close()  # an EOF lets frozen processes go on (never leave them stopped)
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def message(self, key: str) -> dict | None:
        return next((m for m in self.said if key in m), None)


# ---- watching a file on the controller (inotify) --------------------------------------------------------------
IN_CREATE, IN_MOVED_TO = 0x100, 0x80


class FileWatch(threading.Thread):
    """inotify on a directory: a created file whose name matches calls `fire(name)` once, from this thread."""

    def __init__(self, directory: Path, name_re: str, fire, limit: float = 1800):
        super().__init__(daemon=True)
        self.directory, self.name_re, self.fire, self.limit = directory, re.compile(name_re), fire, limit
        self.stop = threading.Event()
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if self.libc.inotify_add_watch(self.fd, str(directory).encode(), IN_CREATE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory}")
        self.fired = False

    def run(self) -> None:
        deadline = time.monotonic() + self.limit
        try:
            while not self.stop.is_set() and not self.fired and time.monotonic() < deadline:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                try:
                    data = os.read(self.fd, 65536)
                except BlockingIOError:
                    continue
                offset = 0
                while offset + 16 <= len(data):
                    _wd, _mask, _cookie, length = (int.from_bytes(data[offset + i:offset + i + 4], sys.byteorder)
                                                   for i in (0, 4, 8, 12))
                    name = data[offset + 16:offset + 16 + length].split(b"\0", 1)[0].decode(errors="replace")
                    offset += 16 + length
                    if self.name_re.search(name) and not self.fired:
                        self.fired = True
                        self.fire(name)
                        break
        finally:
            os.close(self.fd)


# ---- processes on the controller ---------------------------------------------------------------------------------
def _proc_stat(pid: int) -> tuple[int, str, str] | None:
    """(ppid, state, start time) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            rest = fh.read().rsplit(")", 1)[1].split()
        return int(rest[1]), rest[0], rest[19]
    except (OSError, IndexError, ValueError):
        return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def descendants(root: int) -> dict[int, str]:
    """{pid: start time} of every process below `root` now."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _proc_stat(int(entry))
        if st:
            children.setdefault(st[0], []).append(int(entry))
            starts[int(entry)] = st[2]
    out, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out[child] = starts[child]
                todo.append(child)
    return out


def still_running(procs: dict[int, str]) -> dict[int, str]:
    """Those of `procs` that run (not zombies, not a reused pid): {pid: command line}."""
    out = {}
    for pid, start in procs.items():
        st = _proc_stat(pid)
        if st and st[1] != "Z" and st[2] == start:
            out[pid] = _cmdline(pid)
    return out


# ---- the host's deploy lock ----------------------------------------------------------------------------------
def _find_lock(value) -> dict | None:
    if isinstance(value, dict):
        if "held" in value and ("stale" in value or "holder" in value):
            return value
        for item in value.values():
            found = _find_lock(item)
            if found is not None:
                return found
    return None


def lock_status(world: World) -> dict:
    """`axe lock status CUSTOMER --json` as {held, holder, stale, ...}; {"error": ...} when it answers nothing
    usable."""
    run = world.axe("lock", "status", world.customer, "--json", timeout=300)
    try:
        found = _find_lock(json.loads(run.stdout))
    except ValueError:
        found = None
    if found is None:
        return {"error": f"axe lock status -> {run.returncode}: {(run.stdout + run.stderr).strip()[-300:]}"}
    return found


def lock_release(world: World) -> str:
    run = world.axe("lock", "release", world.customer, "--apply", "--yes", timeout=300)
    return "released" if run.returncode == 0 else f"release failed ({run.returncode}): {run.stdout[-300:]}"


def handle_lock(world: World) -> tuple[str, bool]:
    """After a kill: (what the lock was, whether we released it). Held and stale: left to the next apply."""
    status = lock_status(world)
    if "error" in status:
        return status["error"], False
    if not status.get("held"):
        return "free", False
    holder = status.get("holder") or {}
    who = f"run {holder.get('run_id')} owner {json.dumps(holder.get('owner'))}"
    if status.get("stale"):
        return f"held, stale (the next apply takes it over): {who}", False
    return f"held, NOT stale ({who}): " + lock_release(world), True


# ---- a snapshot of everything a D-day must not lose, and the checks ------------------------------------------
HOST_SNAPSHOT = r'''
import json, os, subprocess
D = "/opt/homebrew/bin/docker"
H = "/Users/axe/.axe"
def sh(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True)
    return p.stdout
def read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None
# A volume's CreatedAt is its directory's mtime (it moves as postgres writes): a sentinel file tells instead.
volumes = {}
for name in sh(D, "volume", "ls", "-q").split():
    volumes[name] = read("/var/lib/docker/volumes/%s/_data/.chaos-sentinel" % name)
containers = {}
for line in sh(D, "ps", "-a", "--format", "{{.Names}}\t{{.State}}").splitlines():
    name, _, state = line.partition("\t")
    containers[name] = state
services = {}
for s in ("frame", "blueprint", "hive"):
    d = "%s/services/%s" % (H, s)
    services[s] = {"state": read(d + "/.axe/release.json"), "upstream": read(d + "/.axe/proxy/upstream.conf"),
                   "tmp": sorted(f for f in os.listdir(d) if f.startswith(".axe-")) if os.path.isdir(d) else []}
vault_dir = H + "/vault"
print(json.dumps({
    "volumes": volumes, "containers": containers, "services": services,
    "lock": read(H + "/lock/details.json") if os.path.isdir(H + "/lock") else None,
    "sentinel": read(vault_dir + "/data/chaos-sentinel"),
    "vault_files": sorted(os.listdir(vault_dir)) if os.path.isdir(vault_dir) else [],
}))
'''


def snapshot(world: World) -> dict:
    out = subprocess.run(["docker", "exec", world.container, "python3", "-c", HOST_SNAPSHOT],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"snapshot of {world.container}: {out.stderr[-500:]}")
    host = json.loads(out.stdout)
    host["vault_items"] = world.vault_items()
    host["customers_text"] = world.customers_file.read_text() if world.customers_file.exists() else ""
    host["litter"] = sorted(p.name for p in world.customers_file.parent.glob(".customers.yaml*.tmp"))
    ship_log = Path(world.env.get("AXE_SHIP_LOG") or world.state_dir / "ship-log.txt")
    host["shipped"] = sum(1 for line in (ship_log.read_text().splitlines() if ship_log.exists() else [])
                          if f" shipped {world.customer} " in line)
    return host


def _entries(text: str) -> dict:
    if str(ROOT / ".collections") not in sys.path:
        sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile, plain
    f = CustomersFile("/nonexistent/customers.yaml")
    return plain(f.load(text=text).document.get("customers") or {})


def _upstream_colour(text: str | None) -> str | None:
    found = re.search(r"^set \$axe_upstream ([^\s:;]+):\d+;", text or "", re.M)
    return found.group(1) if found else None


def check(world: World, before: dict, after: dict, pack: dict, rotated: set = frozenset()) -> tuple[list[str], list[str]]:
    """(problems, notes) after convergence, compared with before the killed run: problems must not happen."""
    problems = []
    codes = world.edge_codes()
    if any(c != 200 for c in codes.values()):
        problems.append(f"edge: {codes}")
    # Docker volumes: none lost, none emptied or recreated (the sentinel file put_sentinels left in each).
    for name, sentinel in before["volumes"].items():
        if name not in after["volumes"]:
            problems.append(f"volume {name} lost")
        elif sentinel and after["volumes"][name] != sentinel:
            problems.append(f"volume {name} recreated or emptied (its sentinel file is gone)")
    if before.get("sentinel") and after.get("sentinel") != before["sentinel"]:
        problems.append("the vault's data directory lost its sentinel file")
    for service in ("frame", "hive"):
        status, body = world.get(f"/{service}/entities")
        try:
            entities = json.loads(body).get("entities")
        except ValueError:
            entities = None
        if status != 200 or f"{world.customer}-kr" not in (entities or []):
            problems.append(f"{service} entities: {status} {body[:120]}")
    # The vault: no item lost; generated secrets keep their values; the pack's are the pack's.
    pack_values = {a["client_secret"] for a in pack["apps"].values()}
    for key, value in before["vault_items"].items():
        if key not in after["vault_items"]:
            problems.append(f"vault item {key[0]}/{key[1]} lost")
        elif key not in rotated and after["vault_items"][key] != value and after["vault_items"][key] not in pack_values:
            problems.append(f"vault item {key[0]}/{key[1]} changed value")
    got = {v for k, v in after["vault_items"].items() if "CLIENT_SECRET" in k[1]}
    if not pack_values <= got:
        problems.append("the pack's client secrets are not all in the vault")
    # customers.yaml: loads and validates, this customer has the pack's values, the others are as they were.
    try:
        now = _entries(after["customers_text"])
        was = _entries(before["customers_text"]) if before["customers_text"] else {}
        for name, entry in was.items():
            if name != world.customer and now.get(name) != entry:
                problems.append(f"customers.yaml: {name}'s entry changed or went")
        sso = (now.get(world.customer) or {}).get("sso") or {}
        if sso.get("tenant_id") != pack["tenant_id"] or \
                (sso.get("apps") or {}).get("blueprint", {}).get("client_id") != pack["apps"]["blueprint"]["client_id"]:
            problems.append(f"customers.yaml: {world.customer}'s sso is not the pack's")
    except Exception as exc:  # noqa: BLE001 - an unreadable registry is the finding
        problems.append(f"customers.yaml does not load: {exc}")
    # Release state against what the proxy serves; no stray container; the lock free.
    for service in ("frame", "hive"):
        s = after["services"].get(service) or {}
        try:
            active = json.loads(s.get("state") or "{}").get("active")
        except ValueError:
            problems.append(f"{service}: release.json does not parse")
            continue
        pointed = _upstream_colour(s.get("upstream"))
        if active and pointed != f"{service}-mcp-{active}":
            problems.append(f"{service}: release state says {active}, the proxy serves {pointed}")
        if active and after["containers"].get(f"{service}-mcp-{active}") != "running":
            problems.append(f"{service}: the live colour {active} is {after['containers'].get(f'{service}-mcp-{active}')}")
        if s.get("tmp"):
            problems.append(f"{service}: temporary files left: {s['tmp']}")
    strays = sorted(n for n in after["containers"] if re.match(r"^[0-9a-f]{12}_", n) or n.endswith("-candidate"))
    if strays:
        problems.append(f"stray containers: {strays}")
    notes = []
    if after.get("shipped", 0) == before.get("shipped", 0):
        notes.append("no Ship Log line for this D-day (the run that did the work was killed; the one after it had "
                     "nothing left to change, so it shipped nothing)")
    litter = sorted(set(after.get("litter", [])) - set(before.get("litter", [])))
    if litter:
        notes.append(f"temporary files left beside customers.yaml: {litter}")
    if after.get("lock"):
        try:
            run_id = json.loads(after["lock"]).get("run_id")
        except ValueError:
            run_id = after["lock"][:80]
        notes.append(f"the host's deploy lock is still held after convergence, by run {run_id} (the next apply takes "
                     "it over if its holder is gone)")
    leftovers = [f for f in after.get("vault_files", []) if f.startswith(".env.local") and f != ".env.local"
                 and f not in before.get("vault_files", [])]
    if leftovers:
        notes.append(f"copies of the vault's .env.local (mode 600, they hold the SSO client secret) left in "
                     f"~/.axe/vault: {leftovers}")
    return problems, notes


# ---- one D-day attempt, killed at a point or not -----------------------------------------------------------
@dataclass
class Attempt:
    point: KillPoint | None
    started: float
    ended: float = 0.0
    rc: int | None = None
    result: dict | None = None
    hit: bool = False
    kill_at: str = ""
    killed_at: float = 0.0
    trigger_at: float = 0.0   # when the trigger's condition was first seen (before any `after` delay)
    into_apply: float = 0.0   # seconds from the apply run's start to the kill
    running: str = ""         # the task that ran when the kill came
    orphans: list[str] = field(default_factory=list)
    orphans_note: str = ""
    host_side: str = ""
    output: str = ""
    tasks: list = field(default_factory=list)  # (monotonic, play, task) of every task the apply run started


# axe runs under this small init: it reaps whatever axe leaves (as launchd or systemd does on an operator's machine).
# Where PID 1 reaps nothing (this lab's VM), a killed run's ansible-playbook would stay a zombie, and a zombie's pid
# still "runs" for kill(pid, 0): no lock it held could ever be proven stale.
REAPER = r"""
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
with open(sys.argv[1], "w") as out:
    axe = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           start_new_session=True)
print(json.dumps({"pid": axe.pid}), flush=True)
rc, ended = None, None
while True:
    try:
        pid, status = os.waitpid(-1, 0 if rc is None else os.WNOHANG)
    except ChildProcessError:
        break
    if pid == axe.pid:
        rc, ended = os.waitstatus_to_exitcode(status), time.monotonic()
        print(json.dumps({"rc": rc}), flush=True)
    if pid == 0:
        if time.monotonic() - ended > 20:
            break  # what is left (SSH control masters) lives on; nothing more to wait for
        time.sleep(0.1)
"""


def attempt(world: World, pack: Path, point: KillPoint | None = None, timeout: float = 900) -> Attempt:
    """Run the D-day once. With a point, kill axe's process group when its trigger fires."""
    started = time.monotonic()
    att = Attempt(point, started)
    argv = world.dday_argv(pack, json_out=point is None)
    out_path = world.state_dir / f"attempt-{int(time.time() * 1000)}.out"
    reaper = subprocess.Popen([sys.executable, "-c", REAPER, str(out_path), *argv], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, env=world.env, cwd=world.state_dir, text=True)
    axe_pid = json.loads(reaper.stdout.readline())["pid"]
    pgid = axe_pid  # axe leads a session of its own
    said: dict = {}

    def read_rc() -> None:
        for line in reaper.stdout:
            with contextlib.suppress(ValueError):
                said.update(json.loads(line))
    threading.Thread(target=read_rc, daemon=True).start()
    lock = threading.Lock()
    tree: dict[int, str] = {}
    clock = time.time() - time.monotonic()  # wall clock (the host's too) -> monotonic

    def seen(at: float) -> None:
        if not att.trigger_at:
            att.trigger_at = at

    def kill(what: str) -> None:
        with lock:
            if att.hit or "rc" in said:
                return
            tree.update(descendants(axe_pid))
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                return  # it had ended by itself: not a kill
            att.hit, att.killed_at, att.kill_at = True, time.monotonic(), what
            seen(att.killed_at)
            att.running = runwatch.current
            if runwatch.apply_started.is_set():
                att.into_apply = round(att.killed_at - runwatch.apply_started_at, 1)

    trig = point.trigger if point else None
    runwatch = RunWatch(world.runs, time.time(), trig if isinstance(trig, TaskStart) else None, kill, seen)
    runwatch.start()
    filewatch = hostwatch = None
    if isinstance(trig, ControllerFile):
        def on_file(name: str) -> None:
            # The module's pid is in the temporary file's name: it dies first, with the write under way.
            found = re.search(r"\.(\d+)\.tmp$", name)
            if found:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(found.group(1)), signal.SIGKILL)
            kill(f"{name} created (inotify); its writer, pid {found.group(1) if found else '?'}, killed first")
        filewatch = FileWatch(world.customers_file.parent, trig.name, on_file)
        filewatch.start()
    try:
        deadline = started + timeout
        while "rc" not in said and time.monotonic() < deadline:
            if isinstance(trig, HostCommand) and hostwatch is None and runwatch.apply_started.is_set():
                hostwatch = HostWatch(world, trig, point.host_kill)
                if not hostwatch.wait_for("ready", 30):
                    raise RuntimeError(f"the host watcher did not start: {hostwatch.proc.stderr.read()[-500:]}")
            if hostwatch is not None and hostwatch.hit.is_set() and not att.hit:
                first = hostwatch.message("seen") or {}
                if first.get("t"):
                    seen(first["t"] - clock)
                kill(trig.describe() + (f" [{first.get('seen', '')[:90]}]" if first else ""))
                if point.host_kill:
                    hostwatch.send("kill")
                    killed = hostwatch.wait_for("killed", 30)
                    hit = hostwatch.message("hit") or {}
                    att.host_side = (f"module stopped ({'its command had ended' if hit.get('finished') else 'mid-command'}),"
                                     f" {killed.get('killed') if killed else '?'} processes of its SSH session killed")
            time.sleep(0.01)
        if "rc" not in said and not att.hit:
            kill(f"timeout after {timeout:.0f}s")
        reaper.wait(60)
    finally:
        runwatch.stop.set()
        if filewatch:
            filewatch.stop.set()
        if reaper.poll() is None:
            reaper.kill()
            reaper.wait(10)
    att.rc = said.get("rc")
    att.ended = time.monotonic()
    att.tasks = list(runwatch.tasks)
    if att.hit:
        # What axe had started and outlived it: the tether should end it within ~10 s; then we end it.
        left = still_running(tree)
        att.orphans = [c[:100] for c in left.values()]
        if left:
            t0 = time.monotonic()
            while still_running(tree) and time.monotonic() - t0 < ORPHAN_GRACE:
                time.sleep(0.1)
            rest = still_running(tree)
            for pid in rest:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            att.orphans_note = (f"{len(left)} outlived the kill ({'; '.join(sorted(set(att.orphans)))[:160]}); " +
                                (f"{len(rest)} still ran after {ORPHAN_GRACE:g}s and were killed" if rest
                                 else f"all gone by themselves within {time.monotonic() - t0:.1f}s"))
        if hostwatch is not None and not point.host_kill:
            ended = hostwatch.wait_for("ended", 130)
            att.host_side = (f"the module on the host went on and ended {ended['seconds']}s after the kill"
                             if ended and ended.get("ended") else "the module on the host still ran 120s after")
    if hostwatch is not None:
        hostwatch.close()
    att.output = out_path.read_text(errors="replace")
    if point is None:
        try:
            att.result = json.loads(att.output[att.output.index("{"):])
        except ValueError:
            att.result = None
    return att


def converged(att: Attempt) -> bool:
    r = att.result or {}
    return att.rc == 0 and r.get("health") == {s: 200 for s in SERVICES}


# ---- a kill point, end to end ---------------------------------------------------------------------------------
# Outages the product makes on purpose, as windows of the apply run's tasks: from the task's start to the next task's
# start (or to the kill, when the run died inside it), plus a few seconds for the edge to see it back. A failure of
# a listed service (or of every service: "*") inside such a window is the product's own doing, not the kill's.
# "@play": the service whose step ran the task (each play publishes its step: "Publish the step: frame").
PLANNED = (("vault", r"^(Bring up axe-vaultwarden|Wait for /vault/alive)"),  # recreated when its files changed,
                                                                           # until it is alive again
           ("*", r"^(Restart cloudflared|Reload cloudflared)"),  # one process carries all four services
           ("@play", r"^Support services - recreate"))  # postgres behind both colours, when its .env.local changed
PLANNED_GRACE = 3.0
# An outage that began inside a planned window is the product's until the service first answers again (a
# restarted cloudflared reconnects in its own time), bounded: past this, a failure counts whatever came before.
PLANNED_TAIL = 30.0


def planned_windows(attempts: list[Attempt]) -> list[tuple[str, float, float, str]]:
    windows = []
    for att in attempts:
        tasks = att.tasks
        for i, (t, play, task) in enumerate(tasks):
            for service, pattern in PLANNED:
                if re.search(pattern, task):
                    if service == "@play":
                        service = play  # the step stands for the play (Runwatch)
                    end = tasks[i + 1][0] if i + 1 < len(tasks) else (att.killed_at or att.ended)
                    windows.append((service, t, end + PLANNED_GRACE, task))
    return windows


def _in_planned(answers: list, t: float, service: str, windows) -> bool:
    """Failure at `t` is planned: inside a window of its service, or after one with no success in between (the
    same outage, still not over), within PLANNED_TAIL of the window's end."""
    for w in windows:
        if w[0] not in ("*", service) or t < w[1]:
            continue
        if t <= w[2]:
            return True
        at_end = [ok for at, ok, _ in answers if w[1] <= at <= w[2]]
        if (t <= w[2] + PLANNED_TAIL and at_end and not at_end[-1]
                and not any(ok and w[2] < at < t for at, ok, _ in answers)):
            return True
    return False


def unplanned(poller: Poller, start: float, end: float, services: set, windows) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for service in services:
        answers = list(poller.answers[service])
        for t, ok, label in answers:
            if ok or not start <= t <= end:
                continue
            if _in_planned(answers, t, service, windows):
                continue
            out.setdefault(service, {}).setdefault(label, 0)
            out[service][label] += 1
    return out


@dataclass
class Outcome:
    point: KillPoint
    killed: Attempt
    lock: str = ""
    lock_released: bool = False
    reruns: int = 0                 # runs of the same command after the kill until it converged (0: chained)
    recovery: float = 0.0           # seconds from the kill to the end of the run that converged
    converged: bool | None = None   # None: a chained point, the next segment was killed too
    serving: set = field(default_factory=set)
    failures: dict = field(default_factory=dict)      # after the kill, of services that served before it, unplanned
    planned: dict = field(default_factory=dict)       # after the kill, inside the product's own planned outages
    before_kill: dict = field(default_factory=dict)   # during the killed run, before the kill
    failure_times: dict = field(default_factory=dict)  # service -> "+a..+b s" from the kill
    problems: list[str] = field(default_factory=list)  # what must not happen
    notes: list[str] = field(default_factory=list)     # worth knowing
    rerun_notes: list[str] = field(default_factory=list)
    attempts: list = field(default_factory=list)       # the runs after the kill


def recover(world: World, pack: Path, outcome: Outcome, max_runs: int = 2, timeout: float = 600) -> None:
    """The lock as the brief says, then the same D-day command until it converges (max_runs at most)."""
    outcome.lock, outcome.lock_released = handle_lock(world)
    outcome.converged = False
    for n in range(1, max_runs + 1):
        att = attempt(world, pack, None, timeout=timeout)
        outcome.attempts.append(att)
        outcome.reruns = n
        r = att.result or {}
        outcome.notes += [f"re-run {n}: {w}" for h in (r.get("hosts") or {}).values() for w in h.get("warnings", [])
                          if "lock" in w]
        if converged(att):
            outcome.converged = True
            break
        messages = [m for h in (r.get("hosts") or {}).values() for m in h.get("messages", [])] or \
            [r[k] for k in ("error", "next") if r.get(k)]
        outcome.rerun_notes.append(f"re-run {n} rc={att.rc}: " +
                                   (" | ".join(messages)[:600] or " ".join(att.output[-600:].split())))
        if n < max_runs:
            more, released = handle_lock(world)
            outcome.lock += f"; before re-run {n + 1}: {more}"
            outcome.lock_released |= released


def _after_kill(o: Outcome, poller: Poller, end: float) -> None:
    """The poller's verdict on one kill: from the trigger (what the product's step took down between the trigger
    and the kill stays down because of the kill) to `end`."""
    k = o.killed
    at = k.killed_at if k.hit else k.ended
    since = k.trigger_at or at
    o.serving = poller.serving_at(since)
    # The product's own failures before the kill, of services that served when the killed run began.
    windows = planned_windows([k, *o.attempts])
    o.before_kill = unplanned(poller, k.started, since, poller.serving_at(k.started), windows)
    if o.point.down_until_rerun and k.hit:
        service = o.point.down_until_rerun
        back = next((t for t, ok, _ in list(poller.answers[service]) if ok and t > at), end)
        windows.append((service, since, back, "down until the next run"))
        if any(not ok and at < t < back for t, ok, _ in list(poller.answers[service])):
            o.notes.append(f"{service} was down from the kill until a run brought it back: {back - at:.1f}s "
                           f"(its planned pause, which only a run can end)")
    raw = {s: f for s, f in poller.failures(since, end).items() if s in o.serving}
    o.failures = unplanned(poller, since, end, o.serving, windows)
    o.planned = {s: {label: n - o.failures.get(s, {}).get(label, 0) for label, n in f.items()
                     if n - o.failures.get(s, {}).get(label, 0)} for s, f in raw.items()}
    o.planned = {s: f for s, f in o.planned.items() if f}
    o.failure_times = {s: poller.when(s, since, end, at) for s in raw}


def _killed_notes(o: Outcome) -> None:
    k = o.killed
    if not k.hit:
        o.problems.append(f"the kill point was not reached (the run ended rc={k.rc})")
    if "were killed" in k.orphans_note:
        o.problems.append(f"processes outlived axe's kill: {k.orphans_note}")


def run_point(world: World, pack_path: Path, pack: dict, point: KillPoint, poller: Poller,
              rotated: set = frozenset(), timeout: float = 600) -> Outcome:
    """Apply, kill at `point`, recover, check. The caller made the work the point needs."""
    before = snapshot(world)
    killed = attempt(world, pack_path, point, timeout=timeout)
    outcome = Outcome(point, killed)
    _killed_notes(outcome)
    outcome.problems += registry_problems(world, before)
    recover(world, pack_path, outcome, timeout=timeout)
    end = time.monotonic()
    outcome.recovery = round(end - (killed.killed_at or killed.ended), 1)
    _after_kill(outcome, poller, end)
    problems, notes = check(world, before, snapshot(world), pack, rotated)
    outcome.problems += problems
    outcome.notes += notes
    return outcome


def run_chain(world: World, pack_path: Path, pack: dict, points: list[KillPoint], poller: Poller,
              rotated: set = frozenset(), timeout: float = 600) -> list[Outcome]:
    """Points in D-day order along ONE D-day: each run resumes what the killed one left and is killed at the next
    point; after the last, the same command must converge. The checks run once, at the end (on the last outcome)."""
    before = snapshot(world)
    outcomes: list[Outcome] = []
    for point in points:
        killed = attempt(world, pack_path, point, timeout=timeout)
        if outcomes:
            outcomes[-1].attempts.append(killed)  # the run after a kill is the next segment
        o = Outcome(point, killed)
        _killed_notes(o)
        o.problems += registry_problems(world, before)
        o.lock, o.lock_released = handle_lock(world)
        outcomes.append(o)
    last = outcomes[-1]
    lock, released = last.lock, last.lock_released
    recover(world, pack_path, last, timeout=timeout)
    last.lock, last.lock_released = f"{lock}; {last.lock}", released or last.lock_released
    end = time.monotonic()
    last.recovery = round(end - (last.killed.killed_at or last.killed.ended), 1)
    for i, o in enumerate(outcomes):
        nxt = outcomes[i + 1].killed if i + 1 < len(outcomes) else None
        _after_kill(o, poller, (nxt.trigger_at or nxt.killed_at or nxt.ended) if nxt else end)
    problems, notes = check(world, before, snapshot(world), pack, rotated)
    last.problems += problems
    last.notes += notes
    return outcomes


def registry_problems(world: World, before: dict) -> list[str]:
    """Right after a kill, before anything runs again: customers.yaml is whole and valid, and every other customer's
    entry is as it was."""
    try:
        now = _entries(world.customers_file.read_text())
    except Exception as exc:  # noqa: BLE001 - an unreadable registry is the finding
        return [f"right after the kill customers.yaml does not load: {exc}"]
    was = _entries(before["customers_text"]) if before["customers_text"] else {}
    return [f"right after the kill customers.yaml lost or changed {name}'s entry"
            for name, entry in was.items() if name != world.customer and now.get(name) != entry]


# ---- the table ----------------------------------------------------------------------------------------------------
def _fails(d: dict, times: dict | None = None) -> str:
    return ", ".join(f"{s} {sum(v.values())} ({', '.join(sorted(v))}{' at ' + times[s] if times and times.get(s) else ''})"
                     for s, v in sorted(d.items())) or "0"


def row(o: Outcome) -> dict:
    k = o.killed
    return {
        "point": o.point.name, "round": o.point.round, "step": o.point.step, "what": o.point.what,
        "running": k.running, "trigger": o.point.describe(), "kill_at": k.kill_at if k.hit else "NOT HIT",
        "into_apply_s": k.into_apply, "host_side": k.host_side, "orphans": k.orphans_note,
        "serving_before": sorted(o.serving),
        "failed_after_kill": {s: sum(v.values()) for s, v in o.failures.items()},
        "failed_after_kill_detail": o.failures, "failed_when_from_kill": o.failure_times,
        "failed_in_planned_outage": o.planned, "failed_before_kill": o.before_kill,
        "lock": o.lock, "lock_released_by_harness": o.lock_released,
        "reruns": o.reruns, "recovery_s": o.recovery, "converged": o.converged,
        "problems": o.problems, "notes": o.notes, "rerun_notes": o.rerun_notes,
    }


def table(outcomes: list[Outcome]) -> str:
    head = (f"{'point':<27} {'kill at':>8} {'recover':>8}  {'lock':<22} {'converged':<10} "
            "failed requests after the kill [services serving before it]")
    lines = [head, "-" * len(head)]
    for o in outcomes:
        k = o.killed
        lock = ("released by harness" if o.lock_released else
                "free" if o.lock.startswith("free") else "stale, taken over" if "stale (" in o.lock else o.lock)[:22]
        conv = "-" if o.converged is None else f"{'yes' if o.converged else 'NO'} ({o.reruns} run{'s' * (o.reruns != 1)})"
        kill_at = f"+{k.into_apply:.1f}s" if k.hit else "NOT HIT"
        lines.append(f"{o.point.name:<27} {kill_at:>8} {str(o.recovery) + 's' if o.recovery else '-':>8}  {lock:<22} "
                     f"{conv:<10} {_fails(o.failures, o.failure_times)} [{','.join(sorted(o.serving)) or 'none'}]")
        lines.append(f"    running: {k.running or '?'} -- {o.point.what}")
        lines.append(f"    kill at: {k.kill_at or o.point.describe()}")
        for label, value in (("host side", k.host_side), ("orphans", k.orphans_note)):
            if value:
                lines.append(f"    {label}: {value}")
        if o.planned:
            lines.append(f"    in the product's planned outages (not counted): {_fails(o.planned)}")
        if o.before_kill:
            lines.append(f"    failed during the killed run before the trigger (the product's own, outside its planned pauses): {_fails(o.before_kill)}")
        lines += [f"    {n[:400]}" for n in o.rerun_notes]
        lines += [f"    PROBLEM: {p}" for p in o.problems]
        lines += [f"    note: {n[:400]}" for n in o.notes]
    return "\n".join(lines)
