"""Sample documents for tests: a customers.yaml in the runbook's style and the example pack."""
import copy
import json

from helpers.lab import SHARED_DIR

SHARED = SHARED_DIR / "design"

CUSTOMERS_YAML = '''\
# AXE Labs customers (operator-maintained; `axe customers` edits it in place)
customers:
  # D-day 2026-11-24
  acme:
    legal_name: "ACME Korea Co., Ltd."
    primary_domain: "acme.co.kr"
    public_domain: "acme.axelabs.ai"
    entities: ["acme-kr"]
    tailscale_host: "acme-macmini"
    sso:
      provider: "microsoft_entra_id"
    user_entity_map: {}
    default_entities_by_domain: {"acme.co.kr": ["acme-kr"]}

  # graduated to self-deploy (D-ops-40): no services manifest on purpose
  realchoice:
    legal_name: 'RealChoice Inc.'
    primary_domain: realchoice.kr
    public_domain: realchoice.axelabs.ai
    entities:
    - rc-main       # the only entity
    tailscale_host: realchoice-macmini
    sso: {provider: microsoft_entra_id, tenant_id: "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}

  beta:
    legal_name: "Beta"
    primary_domain: "beta.example"
    public_domain: "beta.axelabs.ai"
    entities:
      - "beta-1"
      - "beta-2"
    tailscale_host: "beta-macmini"
# what a new customer's D-day deploys (a customer's own services.SERVICE.CUSTOMER.ref wins)
releases: {frame: v1, blueprint: v1, hive: v1}
services:
  frame:
    beta:
      secrets:
        - {env: "FRAME_BETA_DB_PASSWORD", auto_generate: true}
'''

PACK = {
    "schema": "axelabs-bootstrap/v1",
    "customer": "acme",
    "generated_at": "2026-11-17T10:42:00+09:00",
    "tenant_id": "3f2b8c1e-5d4a-4e7b-9c21-7a6d5e4f3b2a",
    "apps": {
        "blueprint": {"client_id": "0c9e1d2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
                      "client_secret": "bp~Q8s7R6t5U4v3W2x1Y0zA9bC8dE7fG6hI5jK4"},
        "vaultwarden": {"client_id": "1d0f2e3a-4b5c-4d6e-9f70-8a9b0c1d2e3f",
                        "client_secret": "vw~L3m2N1o0P9q8R7s6T5u4V3w2X1y0Z9aB8cD7"},
        "frame_mcp": {"client_id": "2e1a3f4b-5c6d-4e7f-a081-9b0c1d2e3f4a",
                      "client_secret": "fm~E6f5G4h3I2j1K0l9M8n7O6p5Q4r3S2t1U0v9",
                      "application_id_uri": "https://acme.axelabs.ai/frame/mcp",
                      "scope": "https://acme.axelabs.ai/frame/mcp/mcp.access",
                      "redirect_uris": ["https://claude.ai/api/mcp/auth_callback",
                                        "https://claude.com/api/mcp/auth_callback"]},
    },
}
SECRETS = [PACK["apps"][a]["client_secret"] for a in ("blueprint", "vaultwarden", "frame_mcp")]


def pack(**changes):
    """The example pack with dotted-path changes: pack(**{"apps.blueprint.client_id": "x"})."""
    out = copy.deepcopy(PACK)
    for path, value in changes.items():
        node = out
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return out


DELETE = object()


def write_pack(path, data):
    path.write_text(json.dumps(data, indent=2))
    return path
