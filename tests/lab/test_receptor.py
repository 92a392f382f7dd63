"""A job as AWX runs it, without AWX: the private data dir streamed by `ansible-runner transmit`, run by the real
receptor daemon as a work unit of `ansible-runner worker`, its results turned back into artifacts by
`ansible-runner process`. The project is the checkout's playbooks (and its ansible.cfg, as AWX runs from the
project's root); the collection is found on ANSIBLE_COLLECTIONS_PATH, as in the execution environment. No `axe`.

The pipeline and the receptor node are tests/helpers/receptor.py's (shared with test_receptor_dday.py).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from helpers.lab import ROOT
from helpers.receptor import copy_project, linked_collection, receptor_base, receptor_node, run_job

pytestmark = pytest.mark.lab

PING_TASK = "Report what the ping found, for the operator and for `axe --json`"


def private_data_dir(base: Path, lab, collections: Path) -> Path:
    """What AWX hands ansible-runner: the project (the checkout's playbooks and its ansible.cfg), the inventory, the
    job's environment and extra vars. Copies: transmit streams the files themselves."""
    pdd = base / "private"
    copy_project(pdd)
    (pdd / "inventory").mkdir(parents=True)
    shutil.copy(ROOT / "inventory" / "lab.yml", pdd / "inventory" / "lab.yml")
    (pdd / "env").mkdir()
    (pdd / "env" / "envvars").write_text(yaml.safe_dump({
        "ANSIBLE_COLLECTIONS_PATH": str(collections),  # the execution environment's collection, here the checkout
        "AXE_SSH_CONFIG": str(lab.ssh_config),  # how the lab's inventory reaches the host
    }))
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({"axe_target": "acme"}))
    return pdd


def test_ping_playbook_runs_as_a_receptor_work_unit(lab, tmp_path):
    lab.host("acme")
    pdd = private_data_dir(tmp_path, lab, linked_collection(tmp_path))
    with receptor_base() as base, receptor_node(base) as socket:
        # the worker unpacks the stream into work/; --delete removes it when done
        job = run_job(socket, pdd, "playbooks/ping.yml", out=tmp_path / "out", ident="awx-ping", work_dir=base / "work")

    # ansible-runner process: the job's artifacts, as AWX keeps them.
    assert job.status == "successful" and job.rc == 0
    ok = [e for e in job.events if e.get("event") == "runner_on_ok" and e["event_data"].get("host") == "acme"]
    assert any(e["event_data"].get("task") == PING_TASK for e in ok), sorted({e["event_data"].get("task") for e in ok})
    data = job.stats
    assert data["ok"].get("acme", 0) > 0 and not data.get("failures") and not data.get("dark"), data
    # The play's published result, as `axe ping` reads it: the lab host, reached through SSH and become.
    ping = data["artifact_data"]["hosts"]["acme"]["ping"]
    assert ping["platform"]["hostname"] == "acme-macmini" and ping["become_uid"] == "0"
    assert ping["runner"] == "ansible"  # Ansible's own strategy: AWX runs no Mitogen
