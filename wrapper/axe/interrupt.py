"""Ctrl-C (SIGINT) and SIGTERM: stop the Ansible run with axe, report "interrupted", exit 130 or 143.

While a playbook runs, a signal only marks the run interrupted: runner.run_playbook sees the mark,
ends ansible-playbook with SIGTERM (it passes that to its workers, which end their own process groups,
SSH included), and returns a result marked interrupted; the command then reports what was reached
and raises Interrupted. Outside a run the signal raises Interrupted at once, so `finally` blocks and
atexit handlers (a `bw serve` axe started, private temp files) still run. The host lock a killed run
held stays marked with that run's pid on this machine: provably stale, the next apply takes it over.
"""
from __future__ import annotations

import contextlib
import signal

from .errors import AxeError

NAMES = {signal.SIGINT: "SIGINT (Ctrl-C)", signal.SIGTERM: "SIGTERM"}

_received: list[int] = []
_running = 0


class Interrupted(AxeError):
    def __init__(self, signum: int, result=None, extra: dict | None = None):
        super().__init__(f"interrupted by {NAMES.get(signum, signum)}",
                         "run the same command again: each step leaves alone what is already done, and a lock "
                         "this run left on the host is taken over (its holder is provably gone)",
                         exit_code=128 + signum)
        self.signum = signum
        self.result = result  # the RunResult reached, when a playbook was running
        self.extra = extra or {}


def _handler(signum, _frame):
    if not _received:
        _received.append(signum)
    if not _running:
        raise Interrupted(signum)


def install() -> None:
    signal.signal(signal.SIGINT, _handler)
    signal.signal(signal.SIGTERM, _handler)


def received() -> int:
    """The first signal received (0 when none)."""
    return _received[0] if _received else 0


@contextlib.contextmanager
def deferred():
    """While a playbook runs: signals mark the run interrupted instead of raising mid-way."""
    global _running
    _running += 1
    try:
        yield
    finally:
        _running -= 1


def check() -> None:
    """Raise Interrupted now if a signal arrived while it was deferred."""
    if _received and not _running:
        raise Interrupted(_received[0])
