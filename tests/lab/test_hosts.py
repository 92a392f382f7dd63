"""The lab's customer hosts keep the contract the product relies on."""
from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = pytest.mark.lab


def test_host_answers_over_ssh_as_the_operator_with_sudo(lab):
    host = lab.host("acme")
    out = host.ssh("id -un; id -u; hostname; echo $HOME; sudo -n id -u").stdout.split()
    assert out == ["axe", "501", "acme-macmini", "/Users/axe", "0"]


def test_non_login_path_lacks_homebrew_and_login_shell_has_it(lab):
    """Trap T07, as a real Mac mini shows it."""
    host = lab.host("acme")
    assert host.ssh("echo $PATH").stdout.strip() == "/usr/bin:/bin:/usr/sbin:/sbin"
    missing = host.ssh("docker version", check=False)
    assert missing.returncode == 127 and "command not found" in missing.stderr
    assert host.ssh("bash -lc 'command -v docker'").stdout.strip() == "/opt/homebrew/bin/docker"
    assert host.ssh("command -v git python3").stdout.split() == ["/usr/bin/git", "/usr/bin/python3"]
    assert {"docker", "git-lfs"} <= set(host.ssh("ls /opt/homebrew/bin").stdout.split())


def test_inner_docker_runs_a_compose_project(lab):
    host = lab.host("acme")
    # The base image every host has: what `FROM debian:bookworm` finds without a registry.
    compose = (
        "services:\n"
        "  web:\n"
        "    image: debian:bookworm\n"
        "    command: [sh, -c, 'echo ready > /tmp/ok; sleep 300']\n"
        "    healthcheck: {test: [CMD, test, -f, /tmp/ok], interval: 1s, retries: 20}\n"
    )
    d = "/tmp/lab-compose-test"
    host.ssh(f"rm -rf {d} && mkdir -p {d} && cat > {d}/compose.yml", input_text=compose)
    try:
        host.ssh(f"cd {d} && /opt/homebrew/bin/docker compose up -d --wait --wait-timeout 60", timeout=180)
        ps = host.ssh(f"cd {d} && /opt/homebrew/bin/docker compose ps --format json").stdout
        rows = [json.loads(line) for line in ps.splitlines() if line.strip()]
        assert [(r["Service"], r["State"], r["Health"]) for r in rows] == [("web", "running", "healthy")]
    finally:
        host.ssh(f"cd {d} && /opt/homebrew/bin/docker compose down --timeout 1; rm -rf {d}", check=False)


PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>{label}</string>
  <key>ProgramArguments</key>
  <array><string>/bin/sh</string><string>-c</string><string>echo "PATH=$PATH FOO=$FOO"; exec sleep 1000</string></array>
  <key>EnvironmentVariables</key><dict><key>FOO</key><string>bar</string></dict>
  <key>KeepAlive</key><true/>
  <key>ThrottleInterval</key><integer>1</integer>
  <key>StandardOutPath</key><string>/tmp/{label}.log</string>
</dict>
</plist>
"""


def _pid(host, label):
    out = host.ssh(f"launchctl print gui/501/{label}").stdout
    return int(next(line.split("=")[1] for line in out.splitlines() if line.strip().startswith("pid =")))


def test_launchctl_bootstrap_print_kickstart_bootout_contract(lab):
    host = lab.host("acme")
    label = "ai.axelabs.labtest"
    plist = f"~/Library/LaunchAgents/{label}.plist"
    host.ssh(f"cat > {plist}", input_text=PLIST.format(label=label))
    try:
        # Not loaded: print and bootout fail with the real codes and messages.
        absent = host.ssh(f"launchctl print gui/501/{label}", check=False)
        assert absent.returncode == 113 and f'Could not find service "{label}"' in absent.stderr
        gone = host.ssh(f"launchctl bootout gui/501/{label}", check=False)
        assert gone.returncode == 3 and "No such process" in gone.stderr

        host.ssh(f"launchctl bootstrap gui/501 {plist}")
        again = host.ssh(f"launchctl bootstrap gui/501 {plist}", check=False)
        assert again.returncode == 5 and "Bootstrap failed: 5: Input/output error" in again.stderr

        printed = host.ssh(f"launchctl print gui/501/{label}").stdout
        assert f"gui/501/{label} = {{" in printed and "state = running" in printed
        pid = _pid(host, label)
        # launchd's environment, not the SSH session's: minimal PATH plus the plist's variables.
        log = host.ssh(f"cat /tmp/{label}.log").stdout
        assert "PATH=/usr/bin:/bin:/usr/sbin:/sbin FOO=bar" in log

        # KeepAlive: a crashed program comes back (after ThrottleInterval).
        host.ssh(f"kill {pid}")
        host.ssh(f"for i in $(seq 50); do launchctl print gui/501/{label} | grep -q 'pid = ' && "
                 f"! launchctl print gui/501/{label} | grep -q 'pid = {pid}$' && exit 0; sleep 0.1; done; exit 1")
        respawned = _pid(host, label)
        assert respawned != pid

        host.ssh(f"launchctl kickstart -k gui/501/{label}")
        assert _pid(host, label) not in (pid, respawned)

        last = _pid(host, label)
        host.ssh(f"launchctl bootout gui/501/{label}")
        assert host.ssh(f"kill -0 {last}", check=False).returncode != 0
        assert host.ssh(f"launchctl print gui/501/{label}", check=False).returncode == 113
        # Another user's domain, and the system domain, are root's.
        denied = host.ssh(f"launchctl bootstrap system {plist}", check=False)
        assert denied.returncode == 1
    finally:
        host.ssh(f"launchctl bootout gui/501/{label} 2>/dev/null; rm -f {plist} /tmp/{label}.log", check=False)


def test_security_generic_passwords_and_partition_list(lab):
    """security keeps the contract of trap T17/T20: items, duplicates, and the partition list."""
    host = lab.host("acme")
    svc = "ai.axelabs.labtest.secret"
    try:
        host.ssh(f"security add-generic-password -a ops -s {svc} -w first")
        dup = host.ssh(f"security add-generic-password -a ops -s {svc} -w second", check=False)
        assert dup.returncode == 45 and "already exists" in dup.stderr
        host.ssh(f"security add-generic-password -U -a ops -s {svc} -w second")
        assert host.ssh(f"security find-generic-password -a ops -s {svc} -w").stdout == "second\n"
        missing = host.ssh("security find-generic-password -s no.such.item -w", check=False)
        assert missing.returncode == 44 and "could not be found" in missing.stderr
        # An app-created item (no apple-tool: partition) cannot be read over non-interactive SSH...
        host.ssh(f"security delete-generic-password -a ops -s {svc}")
        host.ssh(f"LAB_KEYCHAIN_CREATOR=teamid:LAB123 security add-generic-password -a ops -s {svc} -w third")
        blocked = host.ssh(f"security find-generic-password -a ops -s {svc} -w", check=False)
        assert blocked.returncode == 36 and "User interaction is not allowed." in blocked.stderr
        # ...until its partition list names the security tool.
        host.ssh(f"security set-generic-password-partition-list -S apple-tool:,apple: -a ops -s {svc} -k pw")
        assert host.ssh(f"security find-generic-password -a ops -s {svc} -w").stdout == "third\n"
    finally:
        host.ssh(f"security delete-generic-password -a ops -s {svc}", check=False)


def test_pmset_reads_and_sets_as_root_only(lab):
    """pmset keeps the contract of trap T04: readable by anyone, settable by root."""
    host = lab.host("acme")
    before = host.ssh("pmset -g").stdout
    assert before.startswith("System-wide power settings:") and " sleep " in before
    refused = host.ssh("pmset -a displaysleep 5", check=False)
    assert refused.returncode == 1 and "must be run as root" in refused.stderr
    original = next(line.split()[1] for line in before.splitlines() if line.split()[:1] == ["displaysleep"])
    try:
        host.ssh("sudo -n pmset -a displaysleep 5")
        assert " displaysleep         5" in host.ssh("pmset -g custom").stdout
    finally:
        host.ssh(f"sudo -n pmset -a displaysleep {original}")


def test_up_twice_is_a_no_op(lab):
    lab.host("acme")
    before = subprocess.run(["docker", "inspect", "--format", "{{.Id}} {{.State.StartedAt}}",
                             lab.lab.container("acme-macmini")], capture_output=True, text=True).stdout
    result = lab.up("acme")
    after = subprocess.run(["docker", "inspect", "--format", "{{.Id}} {{.State.StartedAt}}",
                            lab.lab.container("acme-macmini")], capture_output=True, text=True).stdout
    assert result["started"] == [] and result["unchanged"] == ["acme-macmini"]
    assert before == after


def test_cli_lab_status_and_env(lab):
    lab.host("acme")
    up = lab.axe("lab", "up", "--hosts", "acme", "--json")
    assert up.returncode == 0, up.stderr
    summary = json.loads(up.stdout)
    assert (summary["ok"], summary["changed"], summary["failed"]) == (1, 0, 0)
    assert summary["hosts"]["acme-macmini"]["status"] == "ok"
    status = lab.axe("lab", "status", "--json")
    assert status.returncode == 0, status.stderr
    hosts = json.loads(status.stdout)["hosts"]
    assert hosts["acme-macmini"]["running"] is True
    assert hosts["acme-macmini"]["ssh"].startswith("127.0.0.1:")
    env = lab.axe("lab", "env")
    assert env.returncode == 0
    assert f"export AXE_SSH_CONFIG={lab.ssh_config}\n" in env.stdout
    ran = lab.axe("lab", "ssh", "acme", "--", "uname", "-n")
    assert ran.returncode == 0 and ran.stdout.strip() == "acme-macmini"
