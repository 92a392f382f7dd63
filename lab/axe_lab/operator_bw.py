"""The lab operator's `bw`: the real Bitwarden CLI (`@bitwarden/cli` from the npm registry), logged in to
the lab's vault server, and the real `bw serve` the product talks to (`AXE_VAULT_URL`).

- Installed pinned, from the package locks in `bw_cli/<version>/` (`npm ci`: the registry's tarballs with
  their integrity hashes), once per machine into the lab tools cache (AXE_LAB_TOOLS_DIR, default
  ~/.cache/axelab), under the machine lock the image builds use.
- PINNED is the version the runbook pins (the product's BW_PIN, named in its T18 error); CURRENT is the newest release, kept to
  show trap T18 for real (it cannot log in to a server that does not send the account's cryptographic state).
- The lab's CLI state is its own (BITWARDENCLI_APPDATA_DIR under the lab's state dir); it trusts the lab's
  CA (NODE_EXTRA_CA_CERTS), never by turning verification off.
- `bw serve` runs on the host as the lab's own process (pid, port and log under `bw/`), with the session
  from the lab's `bw unlock --raw`; `axe lab up` starts it again when it is not answering unlocked, and
  `axe lab down` stops it.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import shell, vault_server
from .config import Lab, LabError
from .files import atomic_write
from .images import machine_lock

from axe.vault_session import BW_PIN as PINNED  # noqa: E402 (the product's pin: one fact, one place)

CURRENT = "2026.9.0"
VERSIONS = (PINNED, CURRENT)
PINS = Path(__file__).parent / "bw_cli"


# ---- install ----------------------------------------------------------------------------------
def tools_dir() -> Path:
    if os.environ.get("AXE_LAB_TOOLS_DIR"):
        return Path(os.environ["AXE_LAB_TOOLS_DIR"]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")) / "axelab"


def node() -> str:
    found = shutil.which("node")
    if not found:
        raise LabError("the lab's Bitwarden CLI needs Node.js 20: run scripts/setup.sh as root (it installs nodejs)")
    return found


def entry(version: str) -> Path:
    return tools_dir() / "bw-cli" / version / "node_modules" / "@bitwarden" / "cli" / "build" / "bw.js"


def _installed(version: str) -> bool:
    package = entry(version).parents[1] / "package.json"
    stamp = tools_dir() / "bw-cli" / version / ".lock-sha"
    try:
        return (json.loads(package.read_text())["version"] == version
                and stamp.read_text() == (PINS / version / "package-lock.json").read_text())
    except (OSError, ValueError, KeyError):
        return False


def install(version: str, log=print) -> Path:
    """The CLI's entry script, installed from its package lock when missing (fast when present)."""
    if _installed(version):
        return entry(version)
    with machine_lock():
        if _installed(version):
            return entry(version)
        npm = shutil.which("npm")
        if not npm:
            raise LabError("the lab's Bitwarden CLI is installed with npm: run scripts/setup.sh as root (it installs npm)")
        node()
        log(f"installing @bitwarden/cli {version} from the npm registry (pinned by lab/axe_lab/bw_cli/{version})")
        target = tools_dir() / "bw-cli" / version
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
        try:
            for name in ("package.json", "package-lock.json"):
                shutil.copy(PINS / version / name, work / name)
            shell.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(work)], timeout=600)
            (work / ".lock-sha").write_text((PINS / version / "package-lock.json").read_text())
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)  # whole or not at all: an interrupted install leaves only a temp dir
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return entry(version)


# ---- the lab's CLI ------------------------------------------------------------------------------
def state(lab: Lab) -> Path:
    return lab.state_dir / "bw"


def appdata(lab: Lab, version: str = PINNED) -> Path:
    """The CLI's state for one version. Versions never share one: a newer CLI migrates the state it starts
    on (even for `--version`), and the older `bw serve` on it then fails to decrypt ("MAC comparison failed")."""
    return state(lab) / ("appdata" if version == PINNED else f"appdata-{version}")


def session_file(lab: Lab) -> Path:
    return vault_server.data_dir(lab) / "session"


def wrapper_text(lab: Lab, version: str) -> str:
    """A `bw` for the lab operator: the real CLI, the lab's state and CA. BITWARDENCLI_APPDATA_DIR set by the
    caller wins (a second operator's CLI state)."""
    appdir, ca = shlex.quote(str(appdata(lab, version))), shlex.quote(str(vault_server.ca_file(lab)))
    return f"""#!/bin/sh
# The lab operator's Bitwarden CLI: the real @bitwarden/cli {version}, logged in to the lab's vault server.
BITWARDENCLI_APPDATA_DIR="${{BITWARDENCLI_APPDATA_DIR:-{appdir}}}"
NODE_EXTRA_CA_CERTS={ca}
export BITWARDENCLI_APPDATA_DIR NODE_EXTRA_CA_CERTS
exec {shlex.quote(node())} {shlex.quote(str(entry(version)))} "$@"
"""


def write_wrappers(lab: Lab, bin_dir: Path, log=print) -> None:
    """bin/bw (the pinned CLI, AXE_BW) and bin/bw-<version> for each version the lab installs."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for version in VERSIONS:
        install(version, log)
        atomic_write(bin_dir / f"bw-{version}", wrapper_text(lab, version), mode=0o755)
    atomic_write(bin_dir / "bw", wrapper_text(lab, PINNED), mode=0o755)
    (bin_dir / "bw.version").unlink(missing_ok=True)  # the retired stand-in's version file


def run_bw(bw: Path, *args: str, session: str | None = None, check: bool = True, appdir: Path | None = None,
           timeout: int = 120) -> subprocess.CompletedProcess:
    """The CLI with its secrets in files or the environment, never on its command line."""
    env = {k: v for k, v in os.environ.items() if k != "BW_SESSION"}
    if session:
        env["BW_SESSION"] = session
    if appdir:
        env["BITWARDENCLI_APPDATA_DIR"] = str(appdir)
    proc = subprocess.run([str(bw), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise LabError(f"`bw {args[0]}` failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return proc


HICCUP_TRIES = 3


def answered(bw: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """run_bw for a command that always prints (create, list). The real CLI (2025.7.0) exits 0
    having printed nothing and done nothing now and then on a busy machine - measured: 4 of 24 `bw create item`
    with three such loops at once, the item not made in each - so such a run is made again, HICCUP_TRIES times at
    most. (A write that did happen without printing would show as a duplicate, loudly, not be hidden.) A login it
    ended that way is another matter - every unlock after it prints nothing until a logout: log_in handles that."""
    for _ in range(HICCUP_TRIES):
        proc = run_bw(bw, *args, **kwargs)
        if proc.returncode != 0 or proc.stdout.strip():
            return proc
    raise LabError(f"`bw {args[0]}` exited 0 without printing anything {HICCUP_TRIES} times")


def status(bw: Path, session: str | None = None, appdir: Path | None = None) -> dict:
    proc = run_bw(bw, "status", session=session, check=False, appdir=appdir)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}


def preconfigure(appdir: Path, server: str) -> None:
    """A new CLI state that already names the lab's server: a first run does not look up Bitwarden's cloud
    (the CLI fetches its default server's config at start; the lab sends no traffic off this machine)."""
    data = appdir / "data.json"
    if not data.exists():
        appdir.mkdir(parents=True, exist_ok=True)
        atomic_write(data, json.dumps({"global_environment_environment": {
            "region": "Self-hosted", "urls": {"base": server}}}), mode=0o600)


def log_in(lab: Lab, bw: Path, server: str, appdir: Path | None = None, attempts: int = 3) -> str:
    """A session for the lab's operator account in `appdir` (the lab's own by default): logs in (again when
    the server's address changed) and unlocks; the master password goes through a file. A session is
    returned only once `bw status` with it says unlocked. The real CLI was seen (once, in the suite, under
    load) to end a login with exit 0 before its first sync, printing no session, after which `unlock --raw`
    printed nothing either: such a half-done login is logged out and made again, `attempts` times at most."""
    appdir = appdir or appdata(lab)
    preconfigure(appdir, server)
    pwfile = vault_server.data_dir(lab) / "password"
    vault_server.password(lab)
    said = ""
    for _ in range(attempts):
        current = status(bw, appdir=appdir)
        if current.get("status") != "unauthenticated" and current.get("serverUrl") != server:
            run_bw(bw, "logout", check=False, appdir=appdir)
            current = {"status": "unauthenticated"}
        if current.get("status") in (None, "unauthenticated"):
            run_bw(bw, "config", "server", server, appdir=appdir)
            proc = run_bw(bw, "login", vault_server.EMAIL, "--passwordfile", str(pwfile), "--raw", appdir=appdir)
        else:
            proc = run_bw(bw, "unlock", "--passwordfile", str(pwfile), "--raw", appdir=appdir)
        session = proc.stdout.strip()
        if session and status(bw, session, appdir=appdir).get("status") == "unlocked":
            return session
        said = proc.stderr.strip()[-400:]
        run_bw(bw, "logout", check=False, appdir=appdir)
    raise LabError(f"the lab's bw could not log in to {server} in {attempts} attempts (last said: {said or 'nothing'})")


def _serve_files(lab: Lab) -> dict[str, Path]:
    return {"pid": state(lab) / "serve.pid", "port": state(lab) / "serve.port", "log": state(lab) / "serve.log"}


def serve_url(lab: Lab) -> str | None:
    port = _serve_files(lab)["port"]
    return f"http://127.0.0.1:{port.read_text().strip()}" if port.exists() else None


def serve_status(url: str | None) -> dict:
    """`bw serve`'s own status (status: unlocked, locked or unauthenticated; serverUrl); {} when nothing answers."""
    if not url:
        return {}
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url + "/status", timeout=5) as resp:
            return json.load(resp)["data"]["template"]
    except (OSError, ValueError, KeyError, TypeError, urllib.error.URLError):
        return {}


def _pid(lab: Lab) -> int | None:
    try:
        pid = int(_serve_files(lab)["pid"].read_text())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def stop_serve(lab: Lab) -> None:
    pid = _pid(lab)
    if pid:
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _pid(lab):
            time.sleep(0.1)
    _serve_files(lab)["pid"].unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_serve(lab: Lab, bin_dir: Path, server: str) -> str:
    """The real `bw serve`, unlocked, on a 127.0.0.1 port: its URL. Kept when it answers unlocked for this
    server (no CLI started: a second `axe lab up` is fast); otherwise the session is renewed when it no longer
    unlocks and bw serve is started afresh."""
    bw = bin_dir / "bw"
    url = serve_url(lab)
    answer = serve_status(url) if _pid(lab) else {}
    if answer.get("status") == "unlocked" and answer.get("serverUrl") == server:
        return url
    stop_serve(lab)
    session = session_file(lab).read_text().strip() if session_file(lab).exists() else None
    current = status(bw, session) if session else {}
    if current.get("status") != "unlocked" or current.get("serverUrl") != server:
        session = log_in(lab, bw, server)
        atomic_write(session_file(lab), session, mode=0o600)
    files = _serve_files(lab)
    try:
        proc, url = start_serve(bw, session, files["log"])
    except LabError:
        # A session `bw status` called unlocked that bw serve does not unlock with: a new one, once.
        session = log_in(lab, bw, server)
        atomic_write(session_file(lab), session, mode=0o600)
        proc, url = start_serve(bw, session, files["log"])
    atomic_write(files["pid"], str(proc.pid))
    atomic_write(files["port"], url.rsplit(":", 1)[1])
    return url


def start_serve(bw: Path, session: str, log_path: Path, appdir: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`bw serve` on a free 127.0.0.1 port in a session of its own, waited for until it answers unlocked:
    (the process, its URL). The session reaches it through the environment only."""
    env = {**os.environ, "BW_SESSION": session}
    if appdir:
        env["BITWARDENCLI_APPDATA_DIR"] = str(appdir)
    port = _free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([str(bw), "serve", "--hostname", "127.0.0.1", "--port", str(port)], env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    seen = {}

    def ready():
        seen.update(serve_status(url) or {"status": "not answering"})
        return seen.get("status") == "unlocked" or proc.poll() is not None
    try:
        shell.wait_until(f"bw serve ({bw.name}) at {url}", ready, timeout=45, interval=0.2)
    except LabError as exc:
        stop(proc)
        tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
        raise LabError(f"{exc}: it answered {seen.get('status')!r}; its log ends: {tail}") from exc
    if proc.poll() is not None:
        raise LabError(f"bw serve exited ({proc.returncode}): see {log_path}")
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    """Stop a `bw serve` start_serve started (its whole process group), bounded in time."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
