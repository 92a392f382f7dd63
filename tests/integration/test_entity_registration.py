"""A failed registration never reports the entity as registered (issue 14, item 1).

`service_entities` against a real container through `docker exec`, with a service CLI that accepts the first entity,
refuses the second and would accept the third: the module fails naming the second, lists only the first under
`registered`, and never tries the third. Names go as argv words, Hangul and quotes included.
"""
from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from helpers.lab import ROOT, VENV_BIN

pytestmark = pytest.mark.lab

# $1 is the command, $3 the id (register-entity --id ID --legal-name NAME); the log keeps each name as received.
CLI = ["sh", "-c", 'case "$1" in list-entities) echo \'{"entities": []}\';; '
       'register-entity) printf "%s\\n" "$5" >> /tmp/names; [ "$3" = bad-2 ] && { echo \'{"error": "refused"}\'; exit 1; }; '
       'echo \'{"created": true}\';; esac', "cli"]


def test_only_what_the_service_confirmed_is_registered(lab):
    lab.host("acme")  # the lab's images are built
    name = f"axe-entities-{uuid.uuid4().hex[:6]}"
    subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "axelab/base:bookworm", "sleep", "300"],
                   check=True, capture_output=True, timeout=60)
    try:
        entities = [{"id": "ok-1", "legal_name": "제타 \"주식\" 회사 (주) & 'Co' 🚀"},
                    {"id": "bad-2", "legal_name": "Bad"}, {"id": "ok-3", "legal_name": "Never tried"}]
        args = json.dumps({"container": name, "cli": CLI, "entities": entities})
        env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")}
        proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", "axelabs.onboard.service_entities",
                               "-a", args, "-e", "ansible_python_interpreter=" + str(VENV_BIN / "python")],
                              capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode != 0
        result = json.loads(proc.stdout.split(" => ", 1)[1])
        assert "registering entity bad-2 in %s failed: refused" % name in result["msg"]
        assert result["registered"] == ["ok-1"]
        names = subprocess.run(["docker", "exec", name, "cat", "/tmp/names"], capture_output=True, text=True,
                               check=True, timeout=30).stdout.splitlines()
        assert names == [entities[0]["legal_name"], "Bad"]  # exactly as given; the third was never tried
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
