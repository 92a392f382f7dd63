#!/usr/bin/env bash
# Make this machine ready for axe and its lab; fast when it already is.
#   - Debian packages the lab needs (debootstrap, ssh, git, Node.js and npm for the real Bitwarden CLI;
#     Docker Engine from docker.io when no engine answers), installed only when missing;
#   - a Docker engine that answers (dockerd started here when none runs);
#   - the virtualenv .venv with axe and the pinned stack, reinstalled only when the pins change;
#   - .collections/, so playbooks in this checkout find the collection as axelabs.onboard.
# Source it (`. scripts/setup.sh`) or run it; it never asks questions.
# AXE_SETUP=venv: only the virtualenv and .collections/ (what the unit tests need; no packages, no engine).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[setup] %s\n' "$*" >&2; }

if [ "${AXE_SETUP:-machine}" != venv ]; then
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need_pkgs+=(openssh-client)
command -v git >/dev/null || need_pkgs+=(git)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v node >/dev/null || need_pkgs+=(nodejs)
command -v npm >/dev/null || need_pkgs+=(npm)
if ! command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then need_pkgs+=(docker.io); fi
if ! command -v python3.11 >/dev/null; then need_pkgs+=(python3.11 python3.11-venv); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "need root to install: ${need_pkgs[*]}"; exit 1; }
  log "installing Debian packages: ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers: starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/axe-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not answer in 60 s: see /var/log/axe-dockerd.log"; exit 1; }
fi
fi  # AXE_SETUP

PY=$(command -v python3.11) || { log "python3.11 is needed (run scripts/setup.sh as root once)"; exit 1; }
STAMP="$ROOT/.venv/.axe-installed"
want=$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -c1-16)
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  log "creating .venv ($("$PY" --version))"
  "$PY" -m venv "$ROOT/.venv"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  log "installing axe and the pinned stack into .venv"
  "$ROOT/.venv/bin/pip" install -q --disable-pip-version-check -c "$ROOT/requirements/constraints.txt" -e "$ROOT[test]"
  echo "$want" > "$STAMP"
fi

# The real receptor daemon, AWX's job runner, for tests/lab/test_receptor.py: Debian's build from sid (bookworm has
# none; the binary needs only glibc 2.34 or later), unpacked into .venv/bin once, beside the pinned receptorctl.
# The package is checked against its pinned sha256 before anything is unpacked. A failed download is not fatal
# here: only the receptor test needs it, and it fails naming this step.
RECEPTOR_VERSION=1.6.9
RECEPTOR_DEB_URL=http://deb.debian.org/debian/pool/main/r/receptor/receptor_1.6.9-1_amd64.deb
RECEPTOR_DEB_SHA256=2d09c3b78334872e0352e3ba3f4f624a5f22cc1690dcd2ce0823253afcaffec1
if [ "${AXE_SETUP:-machine}" != venv ] \
    && [ "$("$ROOT/.venv/bin/receptor" --version 2>/dev/null)" != "$RECEPTOR_VERSION" ]; then
  log "installing receptor $RECEPTOR_VERSION into .venv/bin (Debian's package, $RECEPTOR_DEB_URL)"
  receptor_tmp=$(mktemp -d)
  if "$ROOT/.venv/bin/python" - "$RECEPTOR_DEB_URL" "$receptor_tmp/receptor.deb" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 300  # about 10 MB: each read waits 60 s at most, the whole download 300 s
with urllib.request.urlopen(sys.argv[1], timeout=60) as resp, open(sys.argv[2], "wb") as out:
    while chunk := resp.read(1 << 20):
        out.write(chunk)
        if time.monotonic() > deadline:
            sys.exit("receptor: the download took more than 300 s")
PY
  then
    if echo "$RECEPTOR_DEB_SHA256  $receptor_tmp/receptor.deb" | sha256sum -c --status; then
      dpkg-deb -x "$receptor_tmp/receptor.deb" "$receptor_tmp/root"
      install -m 0755 "$receptor_tmp/root/usr/bin/receptor" "$ROOT/.venv/bin/receptor"
    else
      log "receptor: $RECEPTOR_DEB_URL does not match its pinned sha256; not installed"
    fi
  else
    log "receptor: could not download $RECEPTOR_DEB_URL; not installed (tests/lab/test_receptor.py needs it)"
  fi
  rm -rf "$receptor_tmp"
  unset receptor_tmp
fi

mkdir -p "$ROOT/.collections/ansible_collections/axelabs"
ln -sfn ../../.. "$ROOT/.collections/ansible_collections/axelabs/onboard"
export PATH="$ROOT/.venv/bin:$PATH"
