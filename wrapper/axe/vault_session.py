"""Reach the vault for a run: a `bw serve` that answers, or one axe starts with the operator's session.

Trap T17: the session (from `bw unlock --raw`) lives in BW_SESSION, or in the Keychain item
`axe.vault.session`. axe looks in both, keeps them in step (a session found only in the
environment is written to the Keychain), and says which one it used. Trap T18: the `bw` CLI's
version is checked against the range known to crash against the vault server.
"""
from __future__ import annotations

import atexit
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from . import secret_env
from .errors import AxeError
from .settings import Settings

KEYCHAIN_SERVICE = "axe.vault.session"
# bw CLI releases that cannot log in to the customers' vault server (Vaultwarden 1.34, which sends no account
# cryptographic state) and crash with "TypeError: Cannot read properties of null (reading
# 'toWrappedAccountCryptographicState')" (trap T18), and the pin the runbook installs. Measured with the real CLIs
# against the lab's vault server answering as Vaultwarden 1.34: 2025.7.0 to 2026.1.0 log in, 2026.3.0 and every
# later release tried (2026.4.1, 2026.5.0, 2026.9.0) do not. No upper bound: every newer release needs the state.
KNOWN_BAD_BW = ((2026, 3, 0), None)  # [from, to); None: no release after it is known to work
BW_PIN = "2025.7.0"


def _version_cache(settings: Settings) -> Path:
    return settings.state_dir / "bw-version.json"


def _read_version(settings: Settings, exe: str) -> str:
    """`bw --version`, remembered per executable file: the real CLI takes 0.5 to 2 s to start (node loading
    its bundle), and every vault-touching command asks. The file is the one the name resolves to (npm's `bw`
    is a link to the package's bw.js, which an upgrade replaces), known by path, size and mtime."""
    target = os.path.realpath(exe)
    try:
        st = os.stat(target)
        key = f"{target}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        key = None
    try:
        cached = json.loads(_version_cache(settings).read_text())
        if key and cached.get("key") == key:
            return cached["version"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    # stdin from /dev/null: node makes an inherited stdin non-blocking, which breaks the next ansible-playbook
    # that shares it ("Ansible requires blocking IO on stdin"; seen in the suite).
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL).stdout.strip()
    if key and re.match(r"^\d+\.\d+\.\d+", out):
        try:
            settings.state_dir.mkdir(parents=True, exist_ok=True)
            tmp = _version_cache(settings).with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "version": out}))
            os.replace(tmp, _version_cache(settings))
        except OSError:
            pass  # only a cache
    return out


def check_bw_version(settings: Settings) -> str | None:
    """The bw version, or None when no bw is installed; refuses a known-bad one (T18)."""
    exe = shutil.which(settings.bw)
    if not exe:
        return None
    out = _read_version(settings, exe)
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", out)
    if not match:
        raise AxeError(f"T18: cannot read the bw version from {out!r}", f"check `{exe} --version`")
    version = tuple(int(x) for x in match.groups())
    low, high = KNOWN_BAD_BW
    if low <= version and (high is None or version < high):
        upto = f"to before {'.'.join(map(str, high))}" if high else "and later"
        raise AxeError(f"T18: bw {out} is in the range known to crash against the vault server "
                       f"({'.'.join(map(str, low))} {upto}: it needs account keys Vaultwarden 1.34 does not send)",
                       f"install the pinned CLI: npm install -g @bitwarden/cli@{BW_PIN}")
    return out


def _security(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess | None:
    exe = shutil.which(settings.security)
    if not exe:
        return None
    return subprocess.run([exe, *args], capture_output=True, text=True, input=stdin, timeout=30)


def find_session(settings: Settings) -> tuple[str, str]:
    """(session, where it came from). Keeps env and Keychain in step (T17)."""
    env_session = secret_env.get("BW_SESSION")
    read = _security(settings, "find-generic-password", "-s", KEYCHAIN_SERVICE, "-w")
    keychain = read.stdout.strip() if read is not None and read.returncode == 0 else ""
    if env_session:
        if env_session != keychain and read is not None:
            # -w last: the value comes on stdin, never on a command line.
            _security(settings, "add-generic-password", "-U", "-s", KEYCHAIN_SERVICE, "-a",
                      os.environ.get("USER", "axe"), "-w", stdin=env_session + "\n")
            return env_session, "the environment (BW_SESSION; the Keychain item axe.vault.session updated to match)"
        return env_session, "the environment (BW_SESSION)"
    if keychain:
        return keychain, "the Keychain item axe.vault.session"
    raise AxeError("T17: no vault session: BW_SESSION is unset and the Keychain has no axe.vault.session",
                   'export BW_SESSION="$(bw unlock --raw)" && security add-generic-password -U '
                   f'-s {KEYCHAIN_SERVICE} -a "$USER" -w   (then paste it at the prompt)')


def client(settings: Settings):
    """The vault backend the settings name, as the wrapper itself uses it (axe secret get)."""
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault, vault_sm
    if settings.vault_backend == "secrets_manager":
        return vault_sm.SecretsManagerBackend.from_env(
            {**os.environ, "BWS_ACCESS_TOKEN": secret_env.get("BWS_ACCESS_TOKEN"), **settings.secrets_manager_env(),
             "AXE_STATE_DIR": str(settings.state_dir)})
    return vault.backend(settings.vault_backend, url=settings.vault_url, organization=settings.vault_organization)


def secrets_manager_status(settings: Settings) -> str:
    """Log in to Bitwarden Secrets Manager as the modules will (same settings), and say how."""
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault_sm
    backend = client(settings)
    try:
        backend.status()
    except vault_sm.SecretsManagerError as exc:
        raise AxeError.from_product(exc) from exc
    source = "BWS_ACCESS_TOKEN" if secret_env.get("BWS_ACCESS_TOKEN") else \
        f"the Keychain item {vault_sm.KEYCHAIN_SERVICE}"
    return f"vault: Bitwarden Secrets Manager at {backend.api_url} (organization {backend.organization_id}, token from {source})"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def for_command(args, quiet: bool = False) -> Settings:
    """The settings a vault-touching command runs with: its customer id checked, the collection's
    vault client importable, and a vault that answers unlocked (how, printed on stderr unless quiet)."""
    from . import collection, report
    from .inventory import check_customer_id
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    check_customer_id(args.customer)
    collection.importable(settings)
    settings, how = ensure(settings)
    if not quiet:
        report.err.print(f"[dim]{how}[/dim]")
    return settings


def ensure(settings: Settings) -> tuple[Settings, str]:
    """Settings whose vault_url answers unlocked, and a line saying how."""
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault  # noqa: E402 (collection path)

    if settings.vault_backend == "secrets_manager":
        return settings, secrets_manager_status(settings)
    bw_version = check_bw_version(settings)
    client = vault.backend(settings.vault_backend, url=settings.vault_url, organization=settings.vault_organization)
    try:
        client.status()
        return settings, f"vault: bw serve at {settings.vault_url}" + (f" (bw {bw_version})" if bw_version else "")
    except vault.VaultError as exc:
        if "does not answer" not in exc.message:
            raise AxeError.from_product(exc) from exc
    if not bw_version:
        raise AxeError(f"T17: the vault (bw serve) at {settings.vault_url} does not answer and no `bw` is installed",
                       "install the Bitwarden CLI, or start bw serve and set AXE_VAULT_URL")
    session, source = find_session(settings)
    port = _free_port()
    proc = subprocess.Popen([shutil.which(settings.bw), "serve", "--hostname", "127.0.0.1", "--port", str(port)],
                            env={**os.environ, "BW_SESSION": session}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    atexit.register(lambda: proc.poll() is None and proc.terminate())
    url = f"http://127.0.0.1:{port}"
    started = dataclasses.replace(settings, vault_url=url)
    deadline = time.monotonic() + 20
    last = None
    while time.monotonic() < deadline:
        try:
            vault.backend(settings.vault_backend, url=url, organization=settings.vault_organization).status()
            return started, f"vault: started bw serve at {url} with the session from {source}"
        except vault.VaultError as exc:
            last = exc
            if "locked" in exc.message:
                break
            time.sleep(0.2)
    proc.terminate()
    raise AxeError(f"T17: bw serve started with the session from {source} but {last}",
                   'the session is stale: export BW_SESSION="$(bw unlock --raw)" and run again')
