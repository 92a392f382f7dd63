"""Docker commands for the lab, built as plain argument lists and executed elsewhere.

Nothing here runs anything, so every command the lab issues is unit-tested as a value.
"""
from __future__ import annotations

from .config import INNER_BASE_TAG, LABEL, Lab

# The capabilities a nested Docker engine needs on these machines: `--privileged` fails here
# (one capability is missing from the bounding set), this explicit set works.
NESTED_DOCKER_FLAGS = [
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--cap-add", "MKNOD", "--cap-add", "SYS_PTRACE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--device-cgroup-rule", "a *:* rwm",
    # Its own cgroup namespace, so the inner engine can mount a writable hierarchy of its own.
    "--cgroupns", "private",
]
# The inner engine's CLI lives where Homebrew would put it (trap T07).
INNER_DOCKER = "/opt/homebrew/bin/docker"


def labels(lab: Lab, **extra: str) -> list[str]:
    out = ["--label", f"{LABEL}={lab.name}"]
    for key, value in extra.items():
        out += ["--label", f"axelab.{key}={value}"]
    return out


def network_create(lab: Lab) -> list[str]:
    return ["docker", "network", "create", *labels(lab), lab.network]


def host_run(lab: Lab, host: str, image: str, key_dir: str, hostkey: str = "") -> list[str]:
    return [
        "docker", "run", "--detach", "--name", lab.container(host), "--hostname", host,
        "--network", lab.network, "--network-alias", host,
        *labels(lab, host=host, hostkey=hostkey),
        *NESTED_DOCKER_FLAGS,
        "--volume", f"{lab.volume(host)}:/var/lib/docker",
        "--volume", f"{key_dir}:/etc/ssh/lab-keys:ro",
        "--publish", "127.0.0.1::22",
        "--restart", "no",
        image,
    ]


def volume_create(lab: Lab, host: str) -> list[str]:
    return ["docker", "volume", "create", *labels(lab, host=host), lab.volume(host)]


def inspect_image(image: str) -> list[str]:
    return ["docker", "image", "inspect", "--format", "{{.Id}}", image]


def list_containers(lab: Lab) -> list[str]:
    return ["docker", "ps", "--all", "--filter", f"label={LABEL}={lab.name}",
            "--format", "{{json .}}"]


def inspect_container(lab: Lab, host: str) -> list[str]:
    return ["docker", "container", "inspect", lab.container(host)]


def port_of(lab: Lab, host: str) -> list[str]:
    return ["docker", "port", lab.container(host), "22/tcp"]


def exec_in(lab: Lab, host: str, *argv: str, interactive: bool = False, user: str | None = None) -> list[str]:
    cmd = ["docker", "exec"]
    if interactive:
        cmd.append("--interactive")
    if user:
        cmd += ["--user", user]
    return cmd + [lab.container(host), *argv]


def inner_docker(lab: Lab, host: str, *argv: str, interactive: bool = False) -> list[str]:
    return exec_in(lab, host, INNER_DOCKER, *argv, interactive=interactive)


def inner_load(lab: Lab, host: str) -> list[str]:
    return inner_docker(lab, host, "load", "--quiet", interactive=True)


def inner_tag(lab: Lab, host: str, source: str, target: str = INNER_BASE_TAG) -> list[str]:
    return inner_docker(lab, host, "tag", source, target)


def inner_image_id(lab: Lab, host: str, image: str) -> list[str]:
    return inner_docker(lab, host, "image", "inspect", "--format", "{{.Id}}", image)


def remove_containers(names: list[str]) -> list[str]:
    return ["docker", "rm", "--force", "--volumes", *names]


def remove_volumes(names: list[str]) -> list[str]:
    return ["docker", "volume", "rm", "--force", *names]


def list_volumes(lab: Lab) -> list[str]:
    return ["docker", "volume", "ls", "--quiet", "--filter", f"label={LABEL}={lab.name}"]


def list_networks(lab: Lab) -> list[str]:
    return ["docker", "network", "ls", "--quiet", "--filter", f"label={LABEL}={lab.name}"]


def remove_networks(ids: list[str]) -> list[str]:
    return ["docker", "network", "rm", *ids]


def ssh(lab: Lab, host: str, *argv: str) -> list[str]:
    """The operator's SSH into a lab host, through the ssh_config the lab writes."""
    from .config import magicdns_name
    return ["ssh", "-F", str(lab.ssh_config), magicdns_name(host), "--", *argv]
