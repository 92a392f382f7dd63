"""Host keys are identities, and a fleet of five comes up and goes away cleanly."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

pytestmark = pytest.mark.lab


def test_changed_host_key_stops_ssh_and_the_run(lab, tmp_path):
    host = lab.host("acme")
    # The operator's known_hosts holds a different key for the host: SSH must refuse.
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = other.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"acme-macmini.tail-lab.ts.net {kind} {key}\n")
    config = tmp_path / "ssh_config"
    config.write_text(lab.ssh_config.read_text().replace(str(lab.lab.known_hosts), str(known)))
    refused = host.ssh("true", check=False, ssh_config=config)
    assert refused.returncode == 255
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused.stderr

    # A state dir of its own: no SSH master an earlier test left open to this host (ControlPersist) is reused, so the
    # run makes a new connection and checks the key, as it does whenever it reaches a host anew.
    run = lab.axe("ping", "acme", "--json", env={"AXE_SSH_CONFIG": str(config), "AXE_STATE_DIR": str(tmp_path / "state")})
    assert run.returncode == 1
    report = json.loads(run.stdout)
    assert report["failed"] == 1 and report["hosts"]["acme"]["status"] == "unreachable"
    assert "Host key verification failed" in " ".join(report["hosts"]["acme"]["messages"])


def test_recreated_host_keeps_its_host_key(lab):
    with lab.fresh("rekey") as host:
        known_before = lab.lab.known_hosts.read_text()
        subprocess.run(["docker", "rm", "--force", lab.lab.container("rekey-macmini")], check=True,
                       capture_output=True)
        result = lab.up("rekey")
        assert result["started"] == ["rekey-macmini"]
        # Same key, known_hosts unchanged, SSH with strict checking still works.
        rekey_line = [ln for ln in known_before.splitlines() if ln.startswith("rekey-macmini.")]
        assert rekey_line and rekey_line[0] in lab.lab.known_hosts.read_text()
        assert host.ssh("hostname").stdout.strip() == "rekey-macmini"


def _labelled(kind: str, lab_name: str) -> list[str]:
    cmd = {"container": ["docker", "ps", "-a", "-q"], "volume": ["docker", "volume", "ls", "-q"],
           "network": ["docker", "network", "ls", "-q"]}[kind]
    out = subprocess.run(cmd + ["--filter", f"label=axelab.lab={lab_name}"], capture_output=True, text=True)
    return out.stdout.split()


@pytest.mark.slow
def test_five_hosts_at_once_then_down_leaves_nothing(lab, tmp_path):
    from axe_lab import config, hosts

    fleet = config.Lab(name="axefleet", state_dir=tmp_path / "state" / "lab" / "axefleet")
    customers = ["fa", "fb", "fc", "fd", "fe"]
    try:
        started = time.monotonic()
        result = hosts.up(fleet, customers, log=lambda m: None)
        print(f"five hosts up (cold) in {time.monotonic() - started:.1f}s")
        assert sorted(result["started"]) == [f"{c}-macmini" for c in customers]
        again = hosts.up(fleet, customers, log=lambda m: None)
        assert again["started"] == [] and len(again["unchanged"]) == 5

        # All five answer one `axe ping`, in parallel, through the fleet's own SSH config.
        run = lab.axe("ping", *customers, "--json", env={"AXE_SSH_CONFIG": str(fleet.ssh_config)})
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert (report["ok"], report["changed"], report["failed"]) == (5, 0, 0)
        assert {h: report["hosts"][h]["ping"]["platform"]["hostname"] for h in customers} == \
            {c: f"{c}-macmini" for c in customers}
    finally:
        hosts.down(fleet)
    for kind in ("container", "volume", "network"):
        assert _labelled(kind, "axefleet") == [], f"{kind}s left behind"
    assert not fleet.state_dir.exists()
