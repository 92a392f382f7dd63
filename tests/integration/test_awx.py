"""The project as AWX takes it, without AWX: the execution environment's definition and its build context
(`ansible-builder create`, offline), the collection's own EE metadata (`ansible-builder introspect`), the project's
collections/requirements.yml, and the customers inventory plugin as an AWX inventory source.

Only the last needs the lab. The job itself, through the real receptor daemon: tests/lab/test_receptor.py.
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from helpers.lab import ROOT, VENV_BIN
from helpers.samples import CUSTOMERS_YAML

EE_FILE = ROOT / "execution-environment.yml"
COLLECTION_EE_FILE = ROOT / "meta" / "execution-environment.yml"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
# Packages the collection's EE list names though no plugin imports them: ruamel.yaml's loader in C, which ruamel
# uses when it is installed (pyproject.toml says why the product wants it).
NOT_IMPORTED = {"ruamel-yaml-clib"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[norm(name)] = version.strip()
    return pins


def ee() -> dict:
    return yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))


def collection_requirements() -> list[Requirement]:
    """The Python requirements the collection's meta/execution-environment.yml names."""
    meta = yaml.safe_load(COLLECTION_EE_FILE.read_text(encoding="utf-8"))
    lines = (ROOT / meta["dependencies"]["python"]).read_text(encoding="utf-8").splitlines()
    return [Requirement(re.sub(r"(^|\s+)#.*$", "", ln)) for ln in lines if re.sub(r"(^|\s+)#.*$", "", ln).strip()]


def _env(**extra) -> dict:
    env = {**os.environ, **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    env.pop("ANSIBLE_CONFIG", None)
    return env


def run(args, *, cwd, timeout=300, **env) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(VENV_BIN / args[0]), *map(str, args[1:])], cwd=cwd, env=_env(**env), capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"$ {' '.join(map(str, args))} -> {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def build_collection(dest: Path) -> Path:
    run(["ansible-galaxy", "collection", "build", "--output-path", dest, "--force"], cwd=ROOT, timeout=180)
    return next(dest.glob(f"{GALAXY['namespace']}-{GALAXY['name']}-*.tar.gz"))


# ---- one fact in one place: the pins --------------------------------------------------------------------------------
def test_every_pin_of_the_execution_environment_is_the_projects():
    pins = constraints()
    deps = ee()["dependencies"]
    named = [Requirement(deps[k]["package_pip"]) for k in ("ansible_core", "ansible_runner")] + collection_requirements()
    assert {norm(r.name) for r in named} >= {"ansible-core", "ansible-runner", "cloudflare", "bitwarden-sdk",
                                              "ruamel-yaml", "jsonschema"}
    for req in named:
        [spec] = list(req.specifier)  # exactly one ==VERSION
        assert spec.operator == "==", req
        assert pins.get(norm(req.name)) == spec.version, (
            f"{req}: requirements/constraints.txt pins {norm(req.name)}=={pins.get(norm(req.name))}")
    # The top-level EE reads the collection's own lists, not copies of them.
    meta = yaml.safe_load(COLLECTION_EE_FILE.read_text(encoding="utf-8"))["dependencies"]
    assert (deps["python"], deps["system"]) == (meta["python"], meta["system"])
    assert deps["galaxy"] == "collections/requirements.yml"


def _third_party_imports() -> dict[str, set[str]]:
    """{top-level module: {files}} for every import in plugins/ that is neither the standard library nor Ansible."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top and top not in sys.stdlib_module_names and top not in ("ansible", "ansible_collections", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_collections_ee_list_covers_every_import_of_its_plugins():
    imports = _third_party_imports()
    assert "cloudflare" in imports and "ruamel" in imports  # the tree was read
    provided = importlib.metadata.packages_distributions()
    core = {norm(Requirement(r).name) for r in importlib.metadata.requires("ansible-core") or []}
    listed = {norm(r.name) for r in collection_requirements()}
    needed = {}
    for module, files in imports.items():
        dists = {norm(d) for d in provided.get(module, [])}
        assert dists, f"{module} (imported by {sorted(files)}) comes from no installed distribution"
        needed[module] = dists
    missing = {m: sorted(f) for m, f in imports.items() if not needed[m] & (listed | core)}
    assert not missing, f"imported by plugins/ but neither in meta/ee-requirements.txt nor ansible-core's: {missing}"
    unused = listed - set().union(*needed.values()) - NOT_IMPORTED
    assert not unused, f"meta/ee-requirements.txt lists what no plugin imports: {sorted(unused)}"


# ---- collections/requirements.yml ------------------------------------------------------------------------------------
def test_collections_requirements_are_galaxy_ymls_dependencies_and_install_offline(tmp_path):
    requirements = yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    assert set(requirements) == {"collections"}
    listed = {(c["name"] if isinstance(c, dict) else c) for c in requirements["collections"] or []}
    assert listed == set(GALAXY["dependencies"] or {}), "collections/requirements.yml says what galaxy.yml depends on"
    # What AWX's project update runs (here offline: nothing to fetch).
    run(["ansible-galaxy", "collection", "install", "-r", ROOT / "collections" / "requirements.yml", "-p",
         tmp_path / "collections", "--offline"], cwd=tmp_path, timeout=120, HOME=str(tmp_path))


# ---- ansible-builder -------------------------------------------------------------------------------------------------
def _ee_project(tmp_path: Path) -> Path:
    """A copy of what execution-environment.yml reads, laid out as in the checkout, with the collection's tarball
    where `ansible-galaxy collection build --output-path build/ee` writes it (nothing is written into the checkout)."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(EE_FILE, project / EE_FILE.name)
    definition = ee()
    for key in ("python", "system", "galaxy"):
        (project / definition["dependencies"][key]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / definition["dependencies"][key], project / definition["dependencies"][key])
    [collection] = definition["additional_build_files"]
    assert collection["src"] == "build/ee/axelabs-onboard-*.tar.gz"
    build_collection(project / "build" / "ee")
    return project


def test_ansible_builder_create_writes_the_context_with_our_pins_and_the_collection(tmp_path):
    project = _ee_project(tmp_path)
    context = tmp_path / "context"
    run(["ansible-builder", "create", "-f", project / EE_FILE.name, "-c", context, "--output-filename", "Containerfile"],
        cwd=project, timeout=120)
    containerfile = (context / "Containerfile").read_text()
    definition = ee()
    deps = definition["dependencies"]
    # The base image is a build argument whose default is the generic image the file names.
    assert f'ARG EE_BASE_IMAGE="{definition["images"]["base_image"]["name"]}"' in containerfile
    assert "FROM $EE_BASE_IMAGE AS base" in containerfile
    assert f'ARG ANSIBLE_INSTALL_REFS="{deps["ansible_core"]["package_pip"]} {deps["ansible_runner"]["package_pip"]}"' \
        in containerfile
    assert f'ARG PYCMD="{deps["python_interpreter"]["python_path"]}"' in containerfile
    build = context / "_build"
    assert (build / "requirements.txt").read_text() == (ROOT / deps["python"]).read_text()
    assert (build / "bindep.txt").read_text() == (ROOT / deps["system"]).read_text()
    assert yaml.safe_load((build / "requirements.yml").read_text()) == \
        yaml.safe_load((ROOT / "collections" / "requirements.yml").read_text())
    [tarball] = (build / "collection").glob("*.tar.gz")
    assert tarball.name == f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    with tarfile.open(tarball) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == \
        (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    assert {"meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt",
            "plugins/modules/cloudflare_tunnel.py", "playbooks/ping.yml"} <= names
    assert not [n for n in names if n.split("/")[0] in ("awx", "collections", "execution-environment.yml", "build")]

    # The galaxy stage's steps, run here with the image's collections path in tmp: the project's requirements
    # (none), then the collection from the context, offline.
    installed = tmp_path / "usr-share-ansible" / "collections"
    steps = [ln[len("RUN "):] for ln in containerfile.splitlines() if ln.startswith("RUN ") and "ansible-galaxy collection install" in ln]
    assert len(steps) == 2 and any("--offline" in s and "collection/axelabs-onboard-*.tar.gz" in s for s in steps), steps
    for step in steps:
        command = step.replace("/usr/share/ansible/collections", str(installed)).replace("$ANSIBLE_GALAXY_CLI_COLLECTION_OPTS", "")
        proc = subprocess.run(["bash", "-c", command], cwd=build, env=_env(HOME=str(tmp_path)), capture_output=True,
                              text=True, timeout=180, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    assert (installed / "ansible_collections" / "axelabs" / "onboard" / "meta" / "execution-environment.yml").is_file()
    # The builder stage's introspection over it, with the user's lists, as the Containerfile runs it.
    [introspect] = [ln for ln in containerfile.splitlines() if "introspect.py introspect" in ln]
    assert "--user-pip=requirements.txt" in introspect and "--user-bindep=bindep.txt" in introspect
    proc = subprocess.run([sys.executable, build / "scripts" / "introspect.py", "introspect", "--user-pip=requirements.txt",
                           "--user-bindep=bindep.txt", "--write-pip", tmp_path / "pip.txt", "--write-bindep",
                           tmp_path / "bindep.txt", installed], cwd=build, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pip_lines = (tmp_path / "pip.txt").read_text().splitlines()
    for req in collection_requirements():
        for source in ("axelabs.onboard", "user"):
            assert any(ln.startswith(f"{req}  ") and ln.endswith(f"# from collection {source}") for ln in pip_lines), \
                (str(req), source, pip_lines)
    assert any(ln.startswith("openssh-clients [platform:rpm]") for ln in (tmp_path / "bindep.txt").read_text().splitlines())


def test_ansible_builder_introspect_reads_the_collections_meta(tmp_path):
    namespace = tmp_path / "ansible_collections" / "axelabs"
    namespace.mkdir(parents=True)
    (namespace / "onboard").symlink_to(ROOT)
    proc = run(["ansible-builder", "introspect", tmp_path], cwd=tmp_path, timeout=120)
    data = yaml.safe_load(proc.stdout[proc.stdout.index("---"):])
    assert data["python"] == [f"{req}  # from collection axelabs.onboard" for req in collection_requirements()]
    assert "openssh-clients [platform:rpm]  # from collection axelabs.onboard" in data["system"]


# ---- the inventory source ---------------------------------------------------------------------------------------------
def unsafe(value):
    return value["__ansible_unsafe"] if isinstance(value, dict) and "__ansible_unsafe" in value else value


@pytest.mark.lab
def test_customers_inventory_plugin_as_an_awx_inventory_source(lab, tmp_path):
    """What an AWX inventory update runs (`ansible-inventory --list --export -i SOURCE`), outside the checkout and its
    ansible.cfg, with the collection on ANSIBLE_COLLECTIONS_PATH (as in the execution environment), and the plugin's
    settings given only as environment variables naming files and commands."""
    lab.host("acme")
    settings = dict(ln.removeprefix("export ").split("=", 1) for ln in lab.axe("lab", "env").stdout.splitlines())
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    collections = tmp_path / "collections"
    (collections / "ansible_collections" / "axelabs").mkdir(parents=True)
    (collections / "ansible_collections" / "axelabs" / "onboard").symlink_to(ROOT)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
           "AXE_CUSTOMERS_FILE": str(customers), "AXE_TAILSCALE": settings["AXE_TAILSCALE"],
           "AXE_SSH_CONFIG": str(lab.ssh_config)}
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(ROOT / "inventory" / "customers.yml"), "--list",
                           "--export"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    inv = json.loads(proc.stdout)
    assert set(inv["customers"]["hosts"]) == {"acme", "realchoice", "beta"}
    assert set(inv["managed"]["hosts"]) == {"beta"} and set(inv["sovereign"]["hosts"]) == {"acme", "realchoice"}
    assert set(inv["tailscale_unknown"]["hosts"]) == {"realchoice", "beta"}  # not on the lab's tailnet
    assert "tailscale_offline" not in inv or not inv["tailscale_offline"].get("hosts")
    # --export keeps group vars on their group: how to reach the hosts, from AXE_SSH_CONFIG.
    assert unsafe(inv["customers"]["vars"]["ansible_ssh_common_args"]) == f"-F {lab.ssh_config}"
    acme = inv["_meta"]["hostvars"]["acme"]
    assert unsafe(acme["ansible_host"]) == "acme-macmini.tail-lab.ts.net"  # resolved through the lab's tailscale
    assert acme["axe_tailscale"]["known"] and acme["axe_tailscale"]["online"] and acme["axe_tailscale"]["direct"]
    assert (unsafe(acme["axe_customer"]), unsafe(acme["axe_public_domain"])) == ("acme", "acme.axelabs.ai")
    assert unsafe(inv["_meta"]["hostvars"]["beta"]["ansible_host"]).startswith("beta-macmini")
