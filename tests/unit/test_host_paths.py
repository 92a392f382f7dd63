"""Trap T07: the PATH every remote task runs with, and finding binaries on it."""
from ansible_collections.axelabs.onboard.plugins.module_utils.host_paths import (
    HOMEBREW_PREFIXES, find_binaries, remote_path)


def test_homebrew_prefixes_come_first_then_session_then_system_without_repeats():
    path = remote_path("/usr/bin:/bin:/usr/sbin:/sbin")
    assert path.split(":") == list(HOMEBREW_PREFIXES) + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]


def test_custom_session_entries_are_kept_in_order():
    assert remote_path("/custom/bin:/usr/bin").split(":")[4:6] == ["/custom/bin", "/usr/bin"]


def test_empty_session_path_still_gets_system_dirs():
    assert remote_path("").endswith("/usr/bin:/bin:/usr/sbin:/sbin")
    assert remote_path(None).startswith("/opt/homebrew/bin:")


def test_find_binaries_first_match_wins_and_all_missing_are_named():
    present = {"/opt/homebrew/bin/docker", "/usr/bin/git", "/usr/local/bin/git"}
    found, missing = find_binaries(["docker", "git", "bw", "cloudflared"], remote_path("/usr/bin"),
                                   is_executable=present.__contains__)
    assert found == {"docker": "/opt/homebrew/bin/docker", "git": "/usr/local/bin/git"}
    assert missing == ["bw", "cloudflared"]
