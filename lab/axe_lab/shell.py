"""Run the lab's commands: one place for timeouts, error messages and bounded waits."""
from __future__ import annotations

import subprocess
import time
from typing import Callable

from .config import LabError


def run(argv: list[str], *, timeout: float = 120, check: bool = True, stdin=None,
        input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(argv, stdin=stdin, input=input_bytes, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"`{' '.join(argv[:4])} ...` did not finish in {timeout:.0f}s") from exc
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]} is not installed: run scripts/setup.sh (it installs the lab's tools)") from exc
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip() or proc.stdout.decode(errors="replace").strip()
        raise LabError(f"`{' '.join(argv[:6])}` failed ({proc.returncode}): {err[-800:]}")
    return proc


def text(argv: list[str], **kw) -> str:
    return run(argv, **kw).stdout.decode().strip()


def ok(argv: list[str], timeout: float = 30) -> bool:
    try:
        return run(argv, check=False, timeout=timeout).returncode == 0
    except LabError:
        return False


def wait_until(what: str, probe: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> None:
    """Poll fast and stop early; give up after `timeout` seconds with a message naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return
        if time.monotonic() >= deadline:
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)
