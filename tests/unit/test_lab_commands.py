"""The lab's Docker commands are values: checked here with no Docker at all."""
from pathlib import Path

import pytest

from axe_lab import commands
from axe_lab.config import Lab, LabError, host_name, magicdns_name

LAB = Lab(name="axetest", state_dir=Path("/state/lab/axetest"))


def test_names_derive_from_lab_and_host():
    assert LAB.network == "axetest-net"
    assert LAB.container("acme-macmini") == "axetest-acme-macmini"
    assert LAB.volume("acme-macmini") == "axetest-acme-macmini-docker"
    assert host_name("acme") == "acme-macmini"
    assert magicdns_name("acme-macmini") == "acme-macmini.tail-lab.ts.net"


@pytest.mark.parametrize("bad", ["Acme", "a", "acme;rm", "1acme", "acme_corp", "x" * 40])
def test_host_names_only_from_safe_customer_ids(bad):
    with pytest.raises(LabError, match="not a customer id"):
        host_name(bad)


def test_host_run_uses_the_nested_docker_recipe_not_privileged():
    argv = commands.host_run(LAB, "acme-macmini", "axelab/macmini:abc", "/keys")
    assert "--privileged" not in argv
    for cap in ("SYS_ADMIN", "NET_ADMIN", "MKNOD", "SYS_PTRACE"):
        assert argv[argv.index(cap) - 1] == "--cap-add"
    assert ["--cgroupns", "private"] == argv[argv.index("--cgroupns"):argv.index("--cgroupns") + 2]
    assert "seccomp=unconfined" in argv and "apparmor=unconfined" in argv
    assert "axetest-acme-macmini-docker:/var/lib/docker" in argv
    assert "/keys:/etc/ssh/lab-keys:ro" in argv
    # sshd is published on loopback only, on a port Docker picks.
    assert argv[argv.index("--publish") + 1] == "127.0.0.1::22"
    assert argv[-1] == "axelab/macmini:abc"
    assert "axelab.lab=axetest" in argv and "axelab.host=acme-macmini" in argv


def test_inner_docker_is_the_homebrew_cli_inside_the_host():
    assert commands.inner_docker(LAB, "acme-macmini", "info") == [
        "docker", "exec", "axetest-acme-macmini", "/opt/homebrew/bin/docker", "info"]
    assert commands.inner_load(LAB, "acme-macmini")[:3] == ["docker", "exec", "--interactive"]


def test_ssh_goes_through_the_lab_ssh_config_by_magicdns_name():
    assert commands.ssh(LAB, "acme-macmini", "uname", "-a") == [
        "ssh", "-F", "/state/lab/axetest/ssh_config", "acme-macmini.tail-lab.ts.net", "--", "uname", "-a"]


def test_cleanup_commands_are_scoped_to_the_lab_label():
    assert "label=axelab.lab=axetest" in commands.list_volumes(LAB)
    assert "label=axelab.lab=axetest" in commands.list_networks(LAB)
    assert "label=axelab.lab=axetest" in commands.list_containers(LAB)
    assert commands.remove_containers(["a", "b"]) == ["docker", "rm", "--force", "--volumes", "a", "b"]


def test_lab_name_from_env_is_validated(monkeypatch):
    monkeypatch.setenv("AXE_LAB_NAME", "Bad-Name")
    with pytest.raises(LabError, match="AXE_LAB_NAME"):
        Lab.from_env()
    monkeypatch.setenv("AXE_LAB_NAME", "demo")
    monkeypatch.setenv("AXE_STATE_DIR", "/s")
    assert Lab.from_env().state_dir == Path("/s/lab/demo")
