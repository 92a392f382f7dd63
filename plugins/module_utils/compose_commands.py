# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every git, docker and compose command a service deploy runs, built as plain argv lists.

Nothing here executes (module_utils/service_host.py does): so each command is unit-tested as a
value, with no host. Compose commands never pull (there is no registry on a customer's host
that the product relies on) and never touch services they do not name (`--no-deps`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


# ---- git ---------------------------------------------------------------------------------
def git_ls_remote(repo, ref):
    return ["git", "ls-remote", "--", repo, ref, ref + "^{}"]


def git_clone(repo, dest):
    return ["git", "clone", "--quiet", "--no-checkout", "--", repo, dest]


def git_fetch(dest):
    return ["git", "-C", dest, "fetch", "--quiet", "--force", "--tags", "origin"]


def git_checkout(dest, commit):
    return ["git", "-C", dest, "checkout", "--quiet", "--force", "--detach", commit]


def git_submodules(dest):
    return ["git", "-C", dest, "submodule", "update", "--quiet", "--init", "--recursive", "--force"]


def git_head(dest):
    return ["git", "-C", dest, "rev-parse", "--verify", "--quiet", "HEAD"]


def git_dirty(dest):
    """Tracked files changed on the host (untracked ones, like .env.local, are the deploy's own)."""
    return ["git", "-C", dest, "status", "--porcelain", "--untracked-files=no", "--ignore-submodules=none"]


def git_submodule_status(dest):
    return ["git", "-C", dest, "submodule", "status", "--recursive"]


# ---- compose -----------------------------------------------------------------------------
def compose(project_dir, compose_file, *argv):
    """compose resolves --file against the working directory, not the project's: join them here."""
    path = compose_file if compose_file.startswith("/") else project_dir.rstrip("/") + "/" + compose_file
    return ["docker", "compose", "--project-directory", project_dir, "--file", path] + list(argv)


def compose_config(project_dir, compose_file):
    return compose(project_dir, compose_file, "config", "--format", "json")


def compose_build(project_dir, compose_file, services):
    return compose(project_dir, compose_file, "build", "--quiet", "--pull=false") + list(services)


def compose_up(project_dir, compose_file, services, dry_run=False, recreate=False, pull="never"):
    """pull: "never" for images built on the host from the checkout; "missing" for a published
    image (the customer's Vaultwarden) the host fetches once."""
    cmd = compose(project_dir, compose_file, "--progress", "json")
    if dry_run:
        cmd.append("--dry-run")
    cmd += ["up", "--detach", "--no-build", "--pull", pull, "--no-deps"]
    if recreate:
        cmd.append("--force-recreate")
    return cmd + list(services)


def compose_stop(project_dir, compose_file, services, timeout=10):
    return compose(project_dir, compose_file, "stop", "--timeout", str(timeout)) + list(services)


def compose_run_candidate(project_dir, compose_file, service, name, publish):
    """A one-off container of `service` beside the live one, on another host port, to prove a new
    release before it replaces the live container (single-container services)."""
    return compose(project_dir, compose_file, "run", "--detach", "--no-deps", "--pull", "never",
                   "--name", name, "--publish", publish, service)


# ---- docker ------------------------------------------------------------------------------
def image_exists(image):
    return ["docker", "image", "inspect", "--format", "{{.Id}}", image]


def container_state(names):
    return ["docker", "container", "inspect", "--format",
            "{{.Name}} {{.State.Status}} {{.Config.Image}}"] + list(names)


def remove_container(name):
    return ["docker", "rm", "--force", name]


def logs_tail(container, lines):
    return ["docker", "logs", "--tail", str(int(lines)), container]


def volume_exists(name):
    return ["docker", "volume", "inspect", "--format", "{{.Name}}", name]


def volume_create(name):
    return ["docker", "volume", "create", "--label", "ai.axelabs.created-by=axe", name]


def network_exists(name):
    return ["docker", "network", "inspect", "--format", "{{.Name}}", name]


def network_create(name):
    return ["docker", "network", "create", "--label", "ai.axelabs.created-by=axe", name]


def proxy_reload(container):
    """nginx re-reads its upstream gracefully: old workers finish the requests they hold."""
    return ["docker", "exec", container, "nginx", "-s", "reload"]


def proxy_test(container):
    return ["docker", "exec", container, "nginx", "-t", "-q"]


def exec_in(container, argv):
    return ["docker", "exec", container] + list(argv)


# ---- reading compose's answers -------------------------------------------------------------
UNCHANGED_STATUSES = ("Running", "Up-to-date")


def dry_run_changes(output):
    """What `compose --progress json --dry-run up` says it would do: {container: [statuses]} for
    every container it would create, recreate or start. Empty means nothing would change."""
    import json
    changes = {}
    for line in (output or "").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        ident, status = event.get("id") or "", event.get("status") or ""
        if not ident.startswith("Container ") or status in UNCHANGED_STATUSES:
            continue
        name = ident[len("Container "):]
        # Dry runs name the would-be replacement "<id>_<name>": it is the same container.
        if "_" in name and len(name.split("_", 1)[0]) == 12:
            name = name.split("_", 1)[1]
        changes.setdefault(name, [])
        if status not in changes[name]:
            changes[name].append(status)
    return changes


def external_resources(config):
    """The external volumes and networks a compose file declares (trap T22): {kind: [names]}."""
    out = {"volumes": [], "networks": []}
    for kind in out:
        for key, spec in sorted((config.get(kind) or {}).items()):
            if isinstance(spec, dict) and spec.get("external"):
                out[kind].append(spec.get("name") or key)
    return out


def parse_ls_remote(output, ref):
    """The commit a ref names on the remote: the peeled tag when there is one."""
    found = {}
    for line in (output or "").splitlines():
        parts = line.split()
        if len(parts) == 2:
            found[parts[1]] = parts[0]
    for name in ("refs/tags/%s^{}" % ref, "refs/tags/%s" % ref, "refs/heads/%s" % ref, ref):
        if name in found:
            return found[name]
    return None
