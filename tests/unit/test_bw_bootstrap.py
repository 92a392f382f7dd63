"""bw-bootstrap.sh's own logic (roles/vault/files), run by bash with a stand-in `bw` on PATH: the CLI is what sits
below the helper here (the lab's integration tests run it with the real CLI on the lab Mac mini). The stand-in
plays T26: a login that exits 0 without finishing, after which every unlock prints no key until a logout."""
from __future__ import annotations

import os
import stat

import pexpect

from helpers.keyboard import answer_the_prompts
from helpers.lab import ROOT

HELPER = ROOT / "roles/vault/files/bw-bootstrap.sh"
URL, EMAIL = "https://127.0.0.1:18443/vault", "ai@acme.co.kr"

FAKE_BW = r"""#!/bin/bash
# A stand-in for the Bitwarden CLI: state in $FAKE_BW_DIR. `half` = the next login ends without finishing (T26).
d=$FAKE_BW_DIR; state=$(cat "$d/state" 2>/dev/null || echo unauthenticated)
echo "$*" >> "$d/calls"
ask() { printf '? Master password: [input is hidden] ' >&2; read -r answer; printf '\n' >&2; }
case "$1" in
  status) if [ -n "$BW_SESSION" ] && [ "$BW_SESSION" = "$(cat "$d/session" 2>/dev/null)" ]; then s=unlocked; else s=$state; fi
          printf '{"serverUrl":"x","status":"%s"}\n' "$s" ;;
  config) ;;
  login) ask; echo locked > "$d/state"
         if [ -e "$d/half" ]; then rm "$d/half"; touch "$d/broken"; exit 0; fi
         echo "You are logged in!" ;;
  logout) echo unauthenticated > "$d/state"; rm -f "$d/broken" ;;
  unlock) ask; [ -e "$d/broken" ] && exit 0
          echo "sessionkey-$RANDOM$RANDOM" | tee "$d/session" | tr -d '\n' ;;
esac
"""


def run_helper(tmp_path, half_done_login):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bw").write_text(FAKE_BW)
    (fake / "bw").chmod(stat.S_IRWXU)
    state = tmp_path / "bw-state"
    state.mkdir()
    if half_done_login:
        (state / "half").touch()
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{fake}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "FAKE_BW_DIR": str(state)}
    child = pexpect.spawn("bash", [str(HELPER), URL, EMAIL], env=env, encoding="utf-8", timeout=30)
    answer_the_prompts(child, "correct horse battery", 2)
    return child, home, (state / "calls").read_text().split("\n")


def test_a_login_and_an_unlock_store_the_session_mode_600(tmp_path):
    child, home, calls = run_helper(tmp_path, half_done_login=False)
    assert child.exitstatus == 0, child.before
    assert "Done: the vault session works" in child.before
    assert oct((home / ".bw-session").stat().st_mode & 0o777) == "0o600"
    assert [c.split()[0] for c in calls if c] == ["status", "config", "login", "status", "unlock", "status"]


def test_an_unlock_that_prints_no_key_logs_out_and_in_once_more_t26(tmp_path):
    child, home, calls = run_helper(tmp_path, half_done_login=True)
    assert child.exitstatus == 0, child.before
    assert (home / ".bw-session").read_text().startswith("sessionkey-")
    words = [c.split()[0] for c in calls if c]
    assert words.count("login") == 2 and words.count("unlock") == 2 and "logout" in words
    assert words.index("logout") > words.index("unlock")  # only after the unlock printed nothing
