"""What the product needs to reach the lab, as settings: `axe lab env` prints them.

The same names point the product at the real world (an operator's own SSH config, the real
Cloudflare API, the real vault); nothing here tells the product it is in a lab.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path

from .config import Lab
from .files import atomic_write

MARKER = "# axe operator settings written by `axe lab up` (points axe at the lab; `axe lab down` removes it)"


def settings(lab: Lab) -> dict[str, str]:
    from . import services
    return {"AXE_SSH_CONFIG": str(lab.ssh_config), **services.settings(lab)}


def exports(lab: Lab) -> str:
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in settings(lab).items())


def operator_config_path() -> Path:
    if os.environ.get("AXE_CONFIG"):
        return Path(os.environ["AXE_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "axe" / "config.env"


def write_operator_config(lab: Lab) -> Path | None:
    """Point axe at the lab, as `kind` writes a kubeconfig context, unless the operator has
    a settings file of their own: that one is never touched (returns None)."""
    path = operator_config_path()
    if path.exists() and not path.read_text().startswith(MARKER):
        return None
    from . import customers
    # The lab's registry (an entry per lab host) is the settings file's, not `axe lab env`'s: tests and
    # scripts that bring their own customers.yaml export it, and the environment wins over this file.
    values = {**settings(lab), "AXE_CUSTOMERS_FILE": str(customers.path(lab))}
    atomic_write(path, MARKER + "\n" + "".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()))
    return path


def remove_operator_config() -> None:
    path = operator_config_path()
    if path.exists() and path.read_text().startswith(MARKER):
        path.unlink()
