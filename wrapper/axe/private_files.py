"""Hand a secret to a playbook as a file, never as a variable: mode 600 under $AXE_STATE_DIR/tmp,
removed when the run is over (ansible-runner records extra vars in its artifacts; a path is harmless)."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


@contextlib.contextmanager
def private_file(state_dir: Path, prefix: str, content: str, suffix: str = ""):
    directory = state_dir / "tmp"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)  # mkstemp: mode 600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(content)
        yield path
    finally:
        os.unlink(path)
