"""Hand a secret to a playbook as a file, never as a variable: mode 600 under $AXE_STATE_DIR/tmp,
removed when the run is over (ansible-runner records extra vars in its artifacts; a path is harmless).
Each file's name carries the pid of the axe that made it, so one left by an axe killed with SIGKILL
is removed by the next axe (sweep)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

OWNER = re.compile(r"^axe-(\d+)-")
# ansible-playbook's local temp dirs (ANSIBLE_LOCAL_TEMP is $AXE_STATE_DIR/tmp): its pid, then mkdtemp's 8 characters.
ANSIBLE_LOCAL = re.compile(r"^ansible-local-(\d+)[a-z0-9_]{8}$")


@contextlib.contextmanager
def private_file(state_dir: Path, prefix: str, content: str, suffix: str = ""):
    directory = state_dir / "tmp"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(prefix=f"axe-{os.getpid()}-{prefix}", suffix=suffix, dir=directory)  # mode 600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        yield path
    finally:
        os.unlink(path)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(state_dir: Path) -> list[str]:
    """Remove the private files of axe processes, and the local temp dirs of ansible-playbook processes,
    that no longer run (killed with SIGKILL); returns their names."""
    directory = state_dir / "tmp"
    removed = []
    if not directory.is_dir():
        return removed
    for entry in directory.iterdir():
        match = OWNER.match(entry.name) if entry.is_file() else ANSIBLE_LOCAL.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _running(int(match.group(1))):
            with contextlib.suppress(OSError):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                removed.append(entry.name)
    return removed
