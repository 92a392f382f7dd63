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

mkdir -p "$ROOT/.collections/ansible_collections/axelabs"
ln -sfn ../../.. "$ROOT/.collections/ansible_collections/axelabs/onboard"
export PATH="$ROOT/.venv/bin:$PATH"
