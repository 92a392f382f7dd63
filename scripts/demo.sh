#!/usr/bin/env bash
# The README's demo command: the D-day flow against the lab's demo customer, `acme`.
# Today (the foundation): bring the lab host acme-macmini up and prove the whole chain with
# `axe ping acme` (inventory -> SSH -> become -> remote Docker Compose, platform facts).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
AXE="$ROOT/.venv/bin/axe"
"$AXE" lab up --hosts acme
"$AXE" ping acme
