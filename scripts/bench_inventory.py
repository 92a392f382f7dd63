#!/usr/bin/env python3
"""Time the customers inventory for a large registry (default 1,000 customers). Figures only.

    .venv/bin/python scripts/bench_inventory.py [N]

Writes N customers (each with a services manifest) and a `tailscale` that lists N peers into a
temporary directory, then times `ansible-inventory --list` over inventory/customers.yml, and the
load + validation of customers.yaml alone (the round-trip load a writer does, and the read-only one the
inventory does). The floor: `ansible-inventory --list` over a static YAML inventory holding the very hosts,
groups and variables ours produced, which is what ansible-inventory costs with no plugin of ours at all.
Each time is the median of three.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def main(n: int) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="axe-inv-bench-"))
    lines = ["customers:"]
    services = ["services:", "  frame:"]
    peers = {}
    for i in range(n):
        c = f"c{i:04d}"
        lines += [f"  {c}:", f'    legal_name: "Customer {i}"', f'    primary_domain: "{c}.example"',
                  f'    public_domain: "{c}.axelabs.ai"', f'    entities: ["{c}-main"]', f'    tailscale_host: "{c}-macmini"',
                  "    sso:", '      provider: "microsoft_entra_id"', f'      tenant_id: "3f2b8c1e-5d4a-4e7b-9c21-{i:012d}"']
        services += [f"    {c}:", "      secrets:", f'        - {{env: "FRAME_{c.upper()}_DB_PASSWORD", auto_generate: true}}']
        peers[f"nodekey:{i}"] = {"HostName": f"{c}-macmini", "DNSName": f"{c}-macmini.tail-lab.ts.net.",
                                 "TailscaleIPs": [f"100.64.{i // 250}.{i % 250 + 1}"], "Online": True,
                                 "CurAddr": "203.0.113.1:41641", "Relay": "tok"}
    (tmp / "customers.yaml").write_text("\n".join(lines + services) + "\n")
    (tmp / "status.json").write_text(json.dumps({"MagicDNSSuffix": "tail-lab.ts.net", "Peer": peers}))
    ts = tmp / "tailscale"
    ts.write_text(f"#!/bin/sh\ncat {tmp / 'status.json'}\n")
    ts.chmod(0o755)
    env = {**os.environ, "AXE_CUSTOMERS_FILE": str(tmp / "customers.yaml"), "AXE_TAILSCALE": str(ts)}

    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile

    def median(fn) -> float:
        times = []
        for _ in range(3):
            started = time.monotonic()
            fn()
            times.append(time.monotonic() - started)
        return round(statistics.median(times), 2)

    load_s = median(lambda: CustomersFile(str(tmp / "customers.yaml")).load())
    read_s = median(lambda: CustomersFile(str(tmp / "customers.yaml")).load(readonly=True))

    def inventory(source: str) -> dict:
        run = subprocess.run([str(BIN / "ansible-inventory"), "-i", source, "--list"], cwd=ROOT,
                             env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    listed = inventory("inventory/customers.yml")
    inventory_s = median(lambda: inventory("inventory/customers.yml"))
    # The same hosts, groups and variables as a static inventory: ansible-inventory's own cost for them.
    static = {"all": {"children": {}}}
    for group, body in listed.items():
        if group in ("_meta", "all"):
            continue
        static["all"]["children"][group] = {"hosts": {h: (listed["_meta"]["hostvars"].get(h, {}) if group == "customers" else None)
                                                      for h in body.get("hosts", [])}}
    (tmp / "static.json").write_text(json.dumps(static))
    floor = inventory(str(tmp / "static.json"))
    assert floor["_meta"]["hostvars"] == listed["_meta"]["hostvars"], "the static copy must list the same"
    floor_s = median(lambda: inventory(str(tmp / "static.json")))
    print(json.dumps({"customers": n, "hosts": len(listed["_meta"]["hostvars"]), "load_and_validate_s": load_s,
                      "read_only_load_s": read_s, "ansible_inventory_list_s": inventory_s,
                      "floor_static_inventory_s": floor_s, "ratio": round(inventory_s / floor_s, 2)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
