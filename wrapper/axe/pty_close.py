"""Close ansible-playbook's pty without ptyprocess's pause once the process has exited.

ansible-runner reads ansible-playbook's output through a pty (pexpect), waits for its end (EOF), then closes the
pty. ptyprocess's close() always sleeps `delayafterclose` (0.1 s) first, to give a child that may still be running
time to exit before it checks. After EOF the child has usually exited already, and the pause is a tenth of a second
added to every axe command for nothing (scripts/bench_dday.py). A child that is still running when closed keeps
ptyprocess's own pause and its checks.
"""
from __future__ import annotations

import ptyprocess

_close = ptyprocess.PtyProcess.close


def _close_without_pause_after_exit(self, force=True):
    if not self.isalive():  # reaps an exited child: nothing left to wait for
        self.delayafterclose = 0
    return _close(self, force)


def install() -> None:
    """Idempotent; axe's own process only (ansible-runner runs in it)."""
    ptyprocess.PtyProcess.close = _close_without_pause_after_exit
