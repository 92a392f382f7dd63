"""The host's half of the trap preflight as findings (module_utils/host_checks.py), without a host: what the Mac
mini answered in, findings of the one shape out (the host_preflight module makes the calls, in one round trip)."""
import pytest

from ansible_collections.axelabs.onboard.plugins.module_utils import host_checks as checks

PMSET = """System-wide power settings:
Currently in use:
 standby              1
 sleep                1 (sleep prevented by sharingd)
 disksleep            10
 displaysleep         10
"""


@pytest.mark.parametrize("ts, allowed, problem", [
    (None, False, None),
    ({"known": True, "online": True, "direct": True}, False, None),
    ({"known": False, "online": False, "direct": False}, False, "acme-macmini is not on the tailnet"),
    ({"known": True, "online": False, "direct": False}, False, "acme-macmini is offline"),
    ({"known": True, "online": True, "direct": False, "relay": "tok"}, False,
     "acme-macmini is reached only through the DERP relay tok (slow, not direct)"),
    ({"known": True, "online": True, "direct": False, "relay": "tok"}, True, None),
])
def test_t05_from_the_inventory_s_tailscale_facts(ts, allowed, problem):
    found = checks.tailscale(ts, "acme-macmini", allowed)
    assert [f["problem"] for f in found] == ([problem] if problem else [])
    assert all(f["trap"] == "T05" and f["blocking"] and f["next_step"] for f in found)
    assert checks.reachable(ts, allowed) is (problem is None)


def test_sleep_minutes_are_read_from_pmset_g():
    assert checks.sleep_minutes(PMSET) == "1"
    assert checks.sleep_minutes(" sleep                0\n") == "0"
    assert checks.sleep_minutes("displaysleep 10\n") == ""


def test_t04_is_a_note_in_check_mode_a_fix_in_apply_and_blocks_only_when_the_fix_failed():
    [planned] = checks.sleep(0, "", "1", check_mode=True)
    assert planned == {"trap": "T04", "problem": "the Mac mini sleeps after 1 min; apply sets sleep 0", "next_step": "",
                       "blocking": False}
    [fixed] = checks.sleep(0, "", "1", check_mode=False, fix_rc=0)
    assert not fixed["blocking"] and "set to sleep 0" in fixed["problem"]
    [failed] = checks.sleep(0, "", "1", check_mode=False, fix_rc=1, fix_stderr="sudo: a password is required\n")
    assert failed["blocking"] and "sudo: a password is required" in failed["problem"] and "pmset -a sleep 0" in failed["next_step"]
    assert checks.sleep(0, "", "0", check_mode=False) == []
    [unreadable] = checks.sleep(127, "pmset: command not found", "", check_mode=True)
    assert unreadable["blocking"] and "preflight_check_sleep false" in unreadable["next_step"]


def test_missing_binaries_sudo_and_compose_are_named_with_their_next_step():
    [t07] = checks.binaries("/opt/homebrew/bin:/usr/bin", ["cloudflared", "docker"])
    assert t07["problem"] == "not found on /opt/homebrew/bin:/usr/bin: cloudflared, docker"
    assert "brew install cloudflared docker" in t07["next_step"]
    assert checks.binaries("/usr/bin", []) == []
    [sudo] = checks.become(1, "sudo: a password is required\n")
    assert "without a prompt: sudo: a password is required" in sudo["problem"]
    [engine] = checks.compose(1, "")
    assert engine["problem"].endswith(": exit 1") and "Compose v2" in engine["next_step"]
    assert checks.become(0, "") == checks.compose(0, "") == []
