"""How ansible-playbook runs a play's tasks: Mitogen's linear strategy by default, Ansible's own on request.

SSH round trips are the cost of a run. Under Ansible's own strategy every task ships its module over SSH
and starts a fresh Python on the host; Mitogen keeps one Python per host for the whole run and sends it
each module once, which halves a no-op D-day (scripts/bench_dday.py). AXE_STRATEGY=linear turns it off.

Mitogen takes over only a connection named by its short name (`ssh`, `local`): the inventory plugin and
the playbooks say `ssh` / `local`, never `ansible.builtin.ssh`, or Mitogen silently steps aside. Whether it
did take over is reported by the host itself (host_preflight's `mitogen`).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from .errors import AxeError

# ansible-core warns once per run that a strategy from outside ansible.builtin carries no compatibility
# promise, and adds how to turn every deprecation warning off. That is a note for whoever pins the versions
# (pyproject.toml pins both; CI runs the suite under both strategies), not for the operator: what axe shows
# drops those two lines and no other. The run's artifacts keep ansible-playbook's output as it was.
NOISE = ("[DEPRECATION WARNING]: Use of strategy plugins not included in ansible.builtin are deprecated",
         "[WARNING]: Deprecation warnings can be disabled by setting")


def strategy_noise(line: str) -> bool:
    return line.lstrip().startswith(NOISE)


def mitogen_strategy_dir() -> Path:
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        raise AxeError("Mitogen (the `mitogen` package) is not installed in the Python that runs axe",
                       "run scripts/setup.sh, or set AXE_STRATEGY=linear to use Ansible's own strategy")
    return Path(spec.origin).parent / "plugins" / "strategy"


def strategy_env(strategy: str) -> dict[str, str]:
    """The environment that selects `strategy` for ansible-playbook (ansible-runner passes it through)."""
    if strategy == "linear":
        return {"ANSIBLE_STRATEGY": "linear"}
    return {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(mitogen_strategy_dir())}
