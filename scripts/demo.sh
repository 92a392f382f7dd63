#!/usr/bin/env bash
# The README's demo command: D-day for the lab's demo customer `acme`. Each `--apply` runs check mode
# first and prints the plan, then applies it; at the end, the proof from outside (the public name
# through the lab's edge).
#   0. the lab (hosts, vault, Cloudflare, git server), the demo customer and its IT's pack (made once)
#   1. axe deploy customer acme --from-pack PACK --apply --yes: the whole D-day (ingest, preflight, cloudflared,
#      frame, blueprint, hive, vault, health through the edge), the Ship Log line and the IT reply
#   D+1: axe vault bootstrap (nothing to patch on a stack axe rendered; it says so)
#   the proof: axe health acme (outside through the edge, and on the host)
# Re-running it changes nothing and says so. Its customers.yaml and pack live in the demo's own state
# directory, never in an operator's ~/.axe.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/scripts/setup.sh"
AXE="$ROOT/.venv/bin/axe"
PY="$ROOT/.venv/bin/python"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab: acme-macmini, the vault, Cloudflare and its edge, the service repositories"
"$AXE" lab up --hosts acme
eval "$("$AXE" lab env)"
DEMO="${AXE_STATE_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/axe}/demo"
mkdir -p "$DEMO" && chmod 700 "$DEMO"
export AXE_CUSTOMERS_FILE="$DEMO/customers.yaml"
PACK="$DEMO/axelabs-bootstrap-acme.json"

step "D-day 0: the customer's entry, and the pack customer IT sends back (demo values, made once)"
"$AXE" customers add acme --legal-name "ACME Korea Co., Ltd." --primary-domain acme.co.kr --entity acme-kr --apply --yes
[ -f "$PACK" ] || "$PY" "$ROOT/scripts/demo_pack.py" acme "$PACK"

step "D-day, one command: axe deploy customer (check mode and the plan first, then apply, then the proof)"
# ingest -> preflight (every trap at once) -> cloudflared -> frame -> blueprint -> hive -> vault -> health from outside;
# on success one line in the Ship Log and the reply to the customer's IT (Korean and English).
"$AXE" deploy customer acme --from-pack "$PACK" --ship-log "${AXE_SHIP_LOG:-$DEMO/ship-log.txt}" \
  --reply-file "$DEMO/acme-it-reply.md" --apply --yes

step "D+1: axe vault bootstrap (the four SSO keys and DOMAIN; nothing to patch on a stack axe rendered)"
"$AXE" vault bootstrap acme --apply --yes

step "the proof from outside and from the Mac mini: axe health acme"
"$AXE" health acme
