"""The truth under faults, without a host: whose deploy lock is provably stale, the interrupt's bookkeeping,
and the private files an axe killed with SIGKILL leaves behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from axe import interrupt, private_files
from ansible_collections.axelabs.onboard.plugins.module_utils import lock_owner


def test_a_lock_whose_holder_runs_here_is_not_stale():
    details = {"run_id": "r1", "owner": lock_owner.owner(os.getpid())}
    assert lock_owner.stale_reason(details) == ""


def test_a_lock_whose_holder_ended_on_this_machine_is_provably_stale():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    details = {"run_id": "r1", "owner": lock_owner.owner(child.pid)}
    child.wait()
    assert "no longer runs" in lock_owner.stale_reason(details)


def test_a_reused_pid_does_not_make_a_dead_holder_alive():
    # The pid runs, but as another process than the one that took the lock (its start time differs).
    details = {"run_id": "r1", "owner": {**lock_owner.owner(os.getpid()), "started": "ticks:1"}}
    assert lock_owner.stale_reason(details) != ""


@pytest.mark.parametrize("owner", [
    {"machine": "other-laptop/0123456789abcdef", "pid": 999999, "started": "ticks:1"},  # another machine: never
    {},                                                                                # a lock from before owners
])
def test_a_lock_from_elsewhere_or_without_an_owner_is_never_called_stale(owner):
    assert lock_owner.stale_reason({"run_id": "r1", "owner": owner}) == ""


def test_the_advice_names_the_customer_and_the_command_for_who_runs():
    assert lock_owner.release_advice("acme", True) == \
        "axe lock status acme; if its holder is gone: axe lock release acme --apply"
    plain = lock_owner.release_advice("acme", False)
    assert plain.startswith("ansible-playbook axelabs.onboard.lock_release -i inventory/customers.yml -e axe_target=acme")


def test_private_files_of_an_axe_that_is_gone_are_swept_and_live_ones_kept(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead = tmp / f"axe-{child.pid}-secret-abc"
    mine = tmp / f"axe-{os.getpid()}-secret-def"
    other = tmp / "notes.txt"
    for path in (dead, mine, other):
        path.write_text("x")
    dead_ansible, live_ansible = tmp / f"ansible-local-{child.pid}ab_cd3fg", tmp / f"ansible-local-{os.getpid()}xy_z12ab"
    for path in (dead_ansible, live_ansible):
        path.mkdir()
        (path / "AnsiballZ_x.py").write_text("x")
    assert sorted(private_files.sweep(tmp_path)) == sorted([dead.name, dead_ansible.name])
    assert not dead.exists() and not dead_ansible.exists() and mine.exists() and other.exists() and live_ansible.exists()


def test_a_private_file_is_mode_600_named_by_its_owner_and_gone_after(tmp_path):
    with private_files.private_file(tmp_path, "pack-", "s3cret") as path:
        assert os.path.basename(path).startswith(f"axe-{os.getpid()}-pack-")
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert not os.path.exists(path)


def test_a_signal_during_a_run_is_deferred_and_outside_one_raises_with_its_exit_code(monkeypatch):
    monkeypatch.setattr(interrupt, "_received", [])
    with interrupt.deferred():
        interrupt._handler(signal.SIGTERM, None)  # marks only: the run winds down first
        assert interrupt.received() == signal.SIGTERM
    with pytest.raises(interrupt.Interrupted) as caught:
        interrupt.check()
    assert caught.value.exit_code == 143 and "SIGTERM" in caught.value.message
    monkeypatch.setattr(interrupt, "_received", [])
    with pytest.raises(interrupt.Interrupted) as caught:
        interrupt._handler(signal.SIGINT, None)
    assert caught.value.exit_code == 130


def test_secret_bearing_variables_are_withdrawn_from_the_environment_runs_inherit(monkeypatch):
    from axe import secret_env
    monkeypatch.setattr(secret_env, "_held", {})  # this process's own store stays as it was
    environ = {"BW_SESSION": "s1", "BWS_ACCESS_TOKEN": "s2", "CLOUDFLARE_API_TOKEN": "s3", "DB_PASSWORD": "s4",
               "SMTP_PASSWORD_RAW": "s5", "SIGNING_KEY": "s6", "PUSH_SECRET": "s7",
               "ANSIBLE_VAULT_PASSWORD_FILE": "/path", "PATH": "/bin", "HOME": "/root", "AXE_STATE_DIR": "/s"}
    withdrawn = secret_env.withdraw(environ)
    assert withdrawn == sorted(["BW_SESSION", "BWS_ACCESS_TOKEN", "CLOUDFLARE_API_TOKEN", "DB_PASSWORD",
                                "SMTP_PASSWORD_RAW", "SIGNING_KEY", "PUSH_SECRET"])
    assert sorted(environ) == ["ANSIBLE_VAULT_PASSWORD_FILE", "AXE_STATE_DIR", "HOME", "PATH"]
    assert secret_env.get("BWS_ACCESS_TOKEN") == "s2"  # held for where it is needed


@pytest.mark.parametrize("script, words", [
    ("exit 1", "T05: `{cmd} status --json` failed"),                                  # Tailscale down
    ("echo 'Logged out.'", "T05: `{cmd} status --json` answered what is not Tailscale's status"),  # unreadable
    ("echo '[]'", "T05: `{cmd} status --json` answered what is not Tailscale's status"),
])
def test_tailscale_down_or_unreadable_is_an_inventory_error_naming_t05(tmp_path, script, words):
    from ansible.errors import AnsibleParserError
    from ansible_collections.axelabs.onboard.plugins.inventory.customers import tailscale_peers
    cmd = tmp_path / "tailscale"
    cmd.write_text(f"#!/bin/sh\n{script}\n")
    cmd.chmod(0o755)
    with pytest.raises(AnsibleParserError) as caught:
        tailscale_peers(str(cmd))
    assert words.format(cmd=cmd) in str(caught.value)


def test_two_tailscale_peers_with_the_customers_host_name_are_an_error_naming_both(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    from helpers.samples import CUSTOMERS_YAML
    root = Path(__file__).resolve().parents[2]
    status = {"MagicDNSSuffix": "tail.ts.net", "Peer": {
        "n1": {"HostName": "acme-macmini", "DNSName": "acme-macmini.tail.ts.net.", "TailscaleIPs": ["100.64.0.1"],
               "Online": True, "CurAddr": "192.0.2.1:41641"},
        "n2": {"HostName": "ACME-macmini", "DNSName": "acme-macmini-1.tail.ts.net.", "TailscaleIPs": ["100.64.0.2"],
               "Online": False}}}
    fake = tmp_path / "tailscale"
    fake.write_text("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\n" % json.dumps(status))
    fake.chmod(0o755)
    customers = tmp_path / "customers.yaml"
    customers.write_text(CUSTOMERS_YAML)
    env = {**os.environ, "AXE_CUSTOMERS_FILE": str(customers), "AXE_TAILSCALE": str(fake),
           "ANSIBLE_COLLECTIONS_PATH": str(root / ".collections"), "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"}
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(root / "inventory" / "customers.yml"),
                           "--list"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode != 0
    message = " ".join(proc.stderr.split())
    assert "T05: 2 Tailscale peers are named acme-macmini, the Mac mini of acme" in message, proc.stderr
    assert "acme-macmini.tail.ts.net (100.64.0.1, online)" in message
    assert "acme-macmini-1.tail.ts.net (100.64.0.2, offline)" in message
