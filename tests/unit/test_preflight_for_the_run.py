"""The D-day checks the host once, in its step 2 (preflight_for_the_run), and its later steps skip their own
preflight include. That is only right while step 2 checks at least what each of those includes would: every
binary, and become, Compose and sleep wherever a step asks for them."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ("preflight_check_become", "preflight_check_compose", "preflight_check_sleep")


def preflight_includes(path: Path):
    """(vars, when) of every include_role of axelabs.onboard.preflight in a task or play file, blocks included."""
    def walk(tasks):
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("name") == "axelabs.onboard.preflight":
                yield task.get("vars") or {}, task.get("when")
            for key in ("block", "rescue", "always", "tasks"):
                yield from walk(task.get(key))
    yield from walk(yaml.safe_load(path.read_text()))


def test_the_dday_step_2_checks_everything_the_steps_after_it_skip():
    defaults = yaml.safe_load((ROOT / "roles/preflight/defaults/main.yml").read_text())
    (dday, dday_when), = preflight_includes(ROOT / "playbooks/onboard.yml")
    assert dday["preflight_for_the_run"] is True and dday_when is None
    covered = {k: dday.get(k, defaults[k]) for k in ("preflight_binaries", *CHECKS)}
    skipping = {path: found for path in (ROOT / "roles").glob("*/tasks/*.yml")
                for found in preflight_includes(path)}
    assert {p.relative_to(ROOT).as_posix() for p in skipping} == {
        "roles/backup/tasks/agent.yml", "roles/backup/tasks/main.yml", "roles/cloudflared/tasks/main.yml",
        "roles/service/tasks/preflight.yml", "roles/vault/tasks/main.yml"}
    for path, (asks, when) in skipping.items():
        assert when == "not preflight_checked_for_the_run | default(false)", path
        wanted = {k: asks.get(k, defaults[k]) for k in ("preflight_binaries", *CHECKS)}
        assert set(wanted["preflight_binaries"]) <= set(covered["preflight_binaries"]), path
        assert all(covered[k] or not wanted[k] for k in CHECKS), path
