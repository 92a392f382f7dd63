#!/usr/bin/env bash
# The README's demo command: D-day for the lab's demo customer `acme`. Each `--apply` runs check mode
# first and prints the plan, then applies it; at the end, the proof from outside (the public name
# through the lab's edge).
#   0. the lab (hosts, vault, Cloudflare, git server), the demo customer and its IT's pack (made once)
#   1. axe customers ingest   2. axe onboard   4. axe deploy frame | blueprint | hive | vault
#   D+1: axe vault bootstrap (nothing to patch on a stack axe rendered; it says so)
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

step "D-day 1: axe customers ingest"
"$AXE" customers ingest acme "$PACK" --apply --yes

step "D-day 2: axe onboard (Cloudflare tunnel, DNS, cloudflared)"
"$AXE" onboard acme --apply --yes

for service in frame blueprint hive vault; do
  step "D-day 4: axe deploy $service"
  "$AXE" deploy "$service" acme --apply --yes
done

step "D+1: axe vault bootstrap (the four SSO keys and DOMAIN)"
"$AXE" vault bootstrap acme --apply --yes

step "the proof from outside: https://acme.axelabs.ai through the edge"
"$PY" - <<'PY'
import json, os, sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
bad = 0
for path in ("/cdn-cgi/trace", "/frame/health/ready", "/hive/health/ready", "/health/ready", "/vault/alive"):
    req = urllib.request.Request(os.environ["AXE_EDGE_URL"] + path, headers={"Host": "acme.axelabs.ai"})
    try:
        with opener.open(req, timeout=10) as resp:
            status, body = resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    if path == "/cdn-cgi/trace":
        what = body.split("\n")[0]
    elif path == "/vault/alive":
        what = f"vaultwarden {json.loads(body)}"
    else:
        what = (lambda d: f"{d.get('service')} {d.get('version')} {d.get('colour') or ''}".strip())(json.loads(body))
    print(f"  https://acme.axelabs.ai{path:<22} {status}  {what}")
    bad += status != 200
sys.exit(1 if bad else 0)
PY
