"""A fifth service is one new role of data (issue 15): the toy below is added to a copy of the collection as
`roles/toy/` and nothing else, and then it is deployed, routed by cloudflared, checked by `axe health` from the
host and from outside, given its secret in the vault and its manifest slot, and made a step of the D-day.

The toy's source is a repository of its own on the lab's git server, built here like the lab's stand-ins
(blue/green behind the nginx proxy every stand-in uses)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.dday import customer_after_onboard
from helpers.lab import ROOT

pytestmark = pytest.mark.lab

CUSTOMER = "toyco"
SOURCES = ROOT / "lab" / "axe_lab" / "sources"

ROLE = {
    "vars/main.yml": {"toy_definition": {
        "name": "toy", "order": 5, "repo": "toy", "compose_file": "compose.yaml", "require": ["Dockerfile", "compose.yaml"],
        "slots": {"blue": {"service": "toy-blue", "port": 18096}, "green": {"service": "toy-green", "port": 18097}},
        "support": [], "proxy": {"service": "axe-toy-proxy", "upstream_port": 8000, "config_dir": ".axe/proxy", "port": 18084},
        "health_path": "/health/ready", "external_path": "/toy/health/ready", "ingress_path": "^/toy/",
        "secrets": [{"env": "TOY_{CUSTOMER}_TOKEN", "as": "TOY_TOKEN", "auto_generate": True}],
        "env": {"TOY_PUBLIC_URL": "https://{public_domain}/toy"}, "entities": None}},
    "tasks/main.yml": [{"name": "Deploy toy with the service engine",
                        "ansible.builtin.include_role": {"name": "axelabs.onboard.service"},
                        "vars": {"service_definition": "{{ toy_definition }}"}}],
    "meta/main.yml": {"galaxy_info": {"author": "AXE Labs", "description": "A toy service (test)", "license": "GPL-3.0-or-later",
                                      "min_ansible_version": "2.19"}, "dependencies": []},
    "meta/argument_specs.yml": {"argument_specs": {"main": {"short_description": "Deploy the toy service", "options": {}}}},
}

COMPOSE = """name: toy
services:
  toy-blue:
    container_name: toy-blue
    build: .
    image: toy:${AXE_RELEASE_BLUE:-none}
    env_file: .env.local
    environment: {AXE_COLOUR: blue}
    ports: ["127.0.0.1:18096:8000"]
    networks: [axe]
  toy-green:
    container_name: toy-green
    build: .
    image: toy:${AXE_RELEASE_GREEN:-none}
    env_file: .env.local
    environment: {AXE_COLOUR: green}
    ports: ["127.0.0.1:18097:8000"]
    networks: [axe]
  axe-toy-proxy:
    container_name: axe-toy-proxy
    build: ./proxy
    image: axe-toy-proxy:1
    volumes: ["./.axe/proxy:/etc/nginx/axe:ro"]
    ports: ["127.0.0.1:18084:8080"]
    networks: [axe]
networks:
  axe:
    external: true
"""
SERVER = """import os
import standin

if __name__ == "__main__":
    standin.serve("toy", 8000, {"/hello": lambda: (200, dict(standin.identity(), url=os.environ.get("TOY_PUBLIC_URL")))},
                  lambda: standin.missing_env(["TOY_TOKEN", "TOY_PUBLIC_URL"]), base_path="/toy")
"""
DOCKERFILE = """FROM axelab/runtime:bookworm
WORKDIR /app
COPY standin.py VERSION ./
COPY toy ./toy
CMD ["python3", "-m", "toy.server"]
"""


def _git(cwd, *argv):
    env = {**os.environ, "GIT_AUTHOR_NAME": "lab", "GIT_AUTHOR_EMAIL": "lab@axelabs.invalid", "GIT_COMMITTER_NAME": "lab",
           "GIT_COMMITTER_EMAIL": "lab@axelabs.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def _publish_toy_repo(repos: Path, work: Path) -> Path:
    (work / "toy").mkdir(parents=True)
    (work / "toy" / "__init__.py").write_text("")
    (work / "toy" / "server.py").write_text(SERVER)
    (work / "compose.yaml").write_text(COMPOSE)
    (work / "Dockerfile").write_text(DOCKERFILE)
    (work / "VERSION").write_text("1.0.0\n")
    shutil.copy2(SOURCES / "_common" / "standin.py", work / "standin.py")
    shutil.copytree(SOURCES / "_common" / "proxy", work / "proxy")
    _git(work, "init", "--quiet", "--initial-branch", "main")
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "--message", "toy 1.0.0")
    _git(work, "tag", "v1")
    bare = repos / "toy.git"
    _git(repos, "init", "--quiet", "--bare", "--initial-branch", "main", str(bare))
    _git(work, "push", "--quiet", "--tags", str(bare), "main")
    (bare / "git-daemon-export-ok").touch()
    return bare


def _collection_with_toy(dest: Path) -> list[str]:
    """A copy of this checkout's collection plus roles/toy/; returns the paths that differ from the checkout."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        if (ROOT / rel).is_file() and not rel.startswith(("tests/", "lab/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    for rel, content in ROLE.items():
        path = dest / "roles" / "toy" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("---\n" + yaml.safe_dump(content, sort_keys=False))
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*")
                  if p.is_file() and (not (ROOT / p.relative_to(dest)).is_file()
                                      or (ROOT / p.relative_to(dest)).read_bytes() != p.read_bytes()))


@pytest.fixture(scope="module")
def toy(lab, tmp_path_factory):
    from axe_lab import repos
    base = tmp_path_factory.mktemp("toy")
    collection = base / "collection"
    added = _collection_with_toy(collection)
    lab.host("acme")  # the lab's git server is up
    bare = _publish_toy_repo(repos.repos_dir(lab.lab), base / "toy-src")
    try:
        with customer_after_onboard(lab, base, CUSTOMER, env={"AXE_COLLECTION_DIR": str(collection)}) as d:
            yield d, added
    finally:
        shutil.rmtree(bare, ignore_errors=True)


def test_the_toy_is_one_new_role_and_nothing_else(toy):
    _d, added = toy
    assert added == ["roles/toy/meta/argument_specs.yml", "roles/toy/meta/main.yml", "roles/toy/tasks/main.yml",
                     "roles/toy/vars/main.yml"]


def test_the_toy_deploys_check_apply_check_and_answers_through_cloudflared(toy):
    d, _added = toy
    run, plan = d.deploy("toy", apply=False)
    assert run.returncode == 0 and plan["changed"] == 1, run.stdout + run.stderr
    assert d.host.ssh("test -e ~/.axe/services/toy", check=False).returncode != 0  # the plan changed nothing

    run, applied = d.deploy("toy")
    assert run.returncode == 0, run.stdout + run.stderr
    report = applied["hosts"][CUSTOMER]["deploys"]["toy"]
    assert report["action"] == "release" and report["slot"] == "blue" and report["generated"] == ["TOY_TOYCO_TOKEN"]
    # cloudflared's ingress (written by `axe onboard` from the same catalogue) routes ^/toy/ to the toy's proxy.
    status, body = d.get("/toy/hello")
    assert status == 200 and json.loads(body)["url"] == "https://toyco.axelabs.ai/toy", (status, body)
    # Its secret is in the vault and its slot in the customer's manifest, like any service's.
    slots = yaml.safe_load(d.customers.read_text())["services"]["toy"][CUSTOMER]["secrets"]
    assert [s["env"] for s in slots] == ["TOY_TOYCO_TOKEN"]

    run, again = d.deploy("toy", apply=False)
    assert run.returncode == 0 and again["changed"] == 0, run.stdout + run.stderr


def test_axe_health_and_the_d_day_know_the_toy(toy):
    d, _added = toy
    run, health = d.axe_json("health", CUSTOMER)
    toy_row = health["customers"][CUSTOMER]["toy"]
    assert toy_row["outside"] == 200 and toy_row["host"]["ok"], toy_row
    assert set(toy_row["host"]["containers"]) == {"axe-toy-proxy", "toy-blue", "toy-green"}
    # The D-day's plan has the toy as a step of its own, after the vault.
    run, plan = d.axe_json("deploy", "customer", CUSTOMER)
    steps = [step for step, _outcome, _what in plan["steps"]]
    assert steps == ["ingest", "preflight", "cloudflared", "frame", "blueprint", "hive", "vault", "toy", "backup", "health"], plan
    outcomes = dict((step, outcome) for step, outcome, _what in plan["steps"])
    assert outcomes["toy"] == "no change" and outcomes["frame"] == "would change", plan["steps"]
