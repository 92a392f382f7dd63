"""Where the kept-open SSH connections' sockets live: one per real endpoint (ssh's %C), shared by both strategies.

A Unix socket's path has a hard limit (104 bytes on macOS, 108 on Linux), and ssh makes the socket under a
temporary name first (the path plus 17 characters). In the state dir when that fits; otherwise (a state dir deep
in a temporary tree) in a short private directory named after the state dir, so two state dirs never share a
connection (a test that changes a host's key starts with a state dir of its own for that reason).
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

from .errors import AxeError

SOCKET_PATH_MAX = 104  # the smaller of macOS's and Linux's
SOCKET_NAME = 40 + 17  # ssh's %C (a SHA-1 in hex), then its temporary suffix


def fits(directory: Path) -> bool:
    return len(os.fsencode(str(directory))) + 1 + SOCKET_NAME < SOCKET_PATH_MAX


def control_dir(state_dir: Path) -> Path:
    preferred = state_dir / "cp"
    if fits(preferred):
        preferred.mkdir(parents=True, exist_ok=True, mode=0o700)
        return preferred
    tag = hashlib.sha256(os.fsencode(str(state_dir.resolve()))).hexdigest()[:12]
    short = Path(tempfile.gettempdir()) / f"axe-cp-{os.getuid()}-{tag}"
    short.mkdir(exist_ok=True, mode=0o700)
    info = short.lstat()
    # A shared temporary directory: use it only when it is this user's own, private directory.
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise AxeError(f"{short} (the SSH sockets' directory) is not a private directory of this user",
                       "remove it, or set AXE_STATE_DIR to a shorter path (its cp/ must fit a socket path)")
    return short
