"""The lab's own customer registry: an entry per lab host, so that a fresh lab can run D-day at once
(`axe deploy customer acme --from-pack PACK --apply`). It is the contract-time stub an operator would
have written with `axe customers add`. The lab's settings file points AXE_CUSTOMERS_FILE at it; an
operator's own settings file, or AXE_CUSTOMERS_FILE in the environment, wins as always.

Entries are added for hosts that have none; an existing entry, edited or not, is never touched.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .config import Lab


def path(lab: Lab) -> Path:
    return lab.state_dir / "customers.yaml"


def stub(customer: str) -> dict:
    entity = f"{customer}-kr"
    return {"legal_name": f"{customer.upper()} Co., Ltd. (lab)", "primary_domain": f"{customer}.example",
            "public_domain": f"{customer}.axelabs.ai", "entities": [entity], "tailscale_host": f"{customer}-macmini",
            "sso": {"provider": "microsoft_entra_id"}, "user_entity_map": {},
            "default_entities_by_domain": {f"{customer}.example": [entity]}}


def ensure(lab: Lab, customers: list[str]) -> Path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
    target = path(lab)
    registry = cf.CustomersFile(str(target)).load(allow_missing=True)
    entries = registry.document.get("customers")
    if entries is None:
        registry.document["customers"] = entries = cf.quoted({})
    for customer in customers:
        if customer not in entries:
            entries[customer] = cf.quoted(stub(customer))
    text = registry.render()
    if not target.exists() or text != registry.text:
        registry.write(text)
    return target
