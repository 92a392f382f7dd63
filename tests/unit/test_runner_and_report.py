"""The wrapper's bookkeeping around ansible-runner: inventory, run retention, per-host results."""
from pathlib import Path

import pytest

from axe import inventory, report
from axe.errors import AxeError
from axe.runner import HostResult, RunResult, ansible_env, collections_path, prune_runs
from axe.settings import Settings


def settings(tmp_path, ssh_config=None, keep=3):
    return Settings(state_dir=tmp_path, ssh_config=ssh_config, keep_runs=keep,
                    collection_dir=Path(__file__).resolve().parents[2])


def test_inventory_one_host_per_customer_through_the_ssh_config(tmp_path):
    inv = inventory.by_convention(settings(tmp_path, ssh_config=tmp_path / "ssh_config"), ["acme", "beta"])
    group = inv["all"]["children"]["customers"]
    assert group["hosts"]["acme"] == {"ansible_host": "acme-macmini", "axe_customer": "acme"}
    assert group["vars"]["ansible_ssh_common_args"] == f"-F {tmp_path / 'ssh_config'}"
    assert group["vars"]["ansible_python_interpreter"] == "/usr/bin/python3"


def test_inventory_without_ssh_config_leaves_ssh_to_its_defaults(tmp_path):
    inv = inventory.by_convention(settings(tmp_path), ["acme"])
    assert "ansible_ssh_common_args" not in inv["all"]["children"]["customers"]["vars"]


@pytest.mark.parametrize("bad", ["ACME", "a", "acme corp", "-acme", "acme/../x"])
def test_inventory_refuses_unsafe_ids(tmp_path, bad):
    with pytest.raises(AxeError, match="T25"):
        inventory.for_customers(settings(tmp_path), [bad])


def test_prune_keeps_the_newest_runs(tmp_path):
    for name in ["20260101T000000-a", "20260102T000000-b", "20260103T000000-c", "20260104T000000-d"]:
        (tmp_path / name).mkdir()
    prune_runs(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["20260103T000000-c", "20260104T000000-d"]


def test_collections_path_links_the_checkout_as_axelabs_onboard(tmp_path):
    s = settings(tmp_path)
    root = Path(collections_path(s))
    link = root / "ansible_collections" / "axelabs" / "onboard"
    assert link.resolve() == s.collection_dir.resolve()
    assert collections_path(s) == str(root)  # idempotent


def test_ansible_env_keeps_host_key_checking_and_pipelining(tmp_path):
    env = ansible_env(settings(tmp_path))
    assert env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
    assert env["ANSIBLE_PIPELINING"] == "True"
    assert "ControlPersist" in env["ANSIBLE_SSH_ARGS"]
    assert env["ANSIBLE_GATHERING"] == "explicit"


def test_both_strategies_keep_one_ssh_connection_per_host_in_one_place(tmp_path):
    """Mitogen's SSH reads ssh_args, Ansible's own reads the control path dir and ansible.cfg's control_path
    (%(directory)s/%%C): the two name the same socket, one per real endpoint (%C), even in a dir with a space."""
    import shlex

    s = settings(tmp_path / "state dir")
    env = ansible_env(s)
    args = shlex.split(env["ANSIBLE_SSH_ARGS"])
    paths = [a.split("=", 1)[1] for a in args if a.startswith("ControlPath=")]
    assert paths == [env["ANSIBLE_SSH_CONTROL_PATH_DIR"] + "/%C"]
    assert "ControlMaster=auto" in args and "StrictHostKeyChecking=yes" in args


def test_the_ssh_sockets_fit_a_socket_path_wherever_the_state_dir_is(tmp_path):
    """ssh cannot make a socket longer than 104 bytes (macOS), and Mitogen's connection fails when it cannot: a
    state dir deep in a temporary tree gets a short private directory of its own, never another state dir's."""
    import os
    import stat

    from axe import ssh_sockets

    import shutil
    import tempfile

    short = Path(tempfile.mkdtemp(prefix="axs-"))  # /tmp/axs-XXXXXXXX: its cp/ fits
    assert ssh_sockets.control_dir(short) == short / "cp"
    shutil.rmtree(short)
    deep = [tmp_path / ("x" * 40) / name for name in ("state-a", "state-b")]
    dirs = [ssh_sockets.control_dir(d) for d in deep]
    assert dirs[0] != dirs[1] and all(ssh_sockets.fits(d) for d in dirs)
    assert ssh_sockets.control_dir(deep[0]) == dirs[0]  # the same state dir, the same sockets
    for d in dirs:
        info = d.lstat()
        assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    os.chmod(dirs[0], 0o755)  # someone else's, or opened up: refused with the next step
    with pytest.raises(AxeError, match="not a private directory"):
        ssh_sockets.control_dir(deep[0])
    for d in dirs:
        d.rmdir()


def test_host_status_and_totals():
    hosts = {"a": HostResult(ok=3), "b": HostResult(ok=3, changed=1), "c": HostResult(ok=1, failed=1),
             "d": HostResult(unreachable=1)}
    assert [h.status for h in hosts.values()] == ["ok", "changed", "failed", "unreachable"]
    result = RunResult(playbook="p", rc=2, status="failed", artifact_dir=Path("/x"), seconds=1.0,
                       hosts=hosts, stats={"a": {"ping": {"compose": "2.40.3"}}})
    assert result.totals() == {"ok": 1, "changed": 1, "failed": 2}
    assert result.failed
    payload = report.as_json(result)
    assert (payload["ok"], payload["changed"], payload["failed"]) == (1, 1, 2)
    assert payload["hosts"]["a"]["ping"] == {"compose": "2.40.3"}
    assert payload["hosts"]["d"]["status"] == "unreachable"


@pytest.mark.parametrize("prefix", ["/tmp/p-9", "/tmp/p-10", "/tmp/pytest-of-root/pytest-100/a-longer-test-name0"])
def test_a_failure_message_is_printed_whole_whatever_its_length(prefix, capsys):
    # A table cell would wrap it where the column ends, which moves with the message's length.
    from axe import report
    message = (f"Ingest: {prefix}/axelabs-bootstrap-ingest1.json: tenant_id: 'not-a-uuid' does not have the "
               "expected form (a UUID)\n  next: fix the pack, then run again")
    result = RunResult(playbook="p", rc=2, status="failed", artifact_dir=Path("/x"), seconds=1.0,
                       hosts={"ingest1": HostResult(ok=1, failed=1, messages=[message])}, stats={})
    report.summary(result, "t")
    printed = capsys.readouterr().out
    assert f"ingest1: {message}" in printed


def test_a_finished_childs_pty_closes_without_ptyprocess_pause_a_running_one_keeps_it():
    import pexpect

    from axe import pty_close

    pty_close.install()
    done = pexpect.spawn("true")
    done.expect(pexpect.EOF)
    done.wait()  # it has exited (ansible-runner closes after EOF, by when ansible-playbook has, or nearly)
    done.close()
    assert done.ptyproc.delayafterclose == 0 and done.exitstatus == 0
    running = pexpect.spawn("sleep", ["30"])
    running.close(force=True)
    assert running.ptyproc.delayafterclose == 0.1 and running.signalstatus is not None
