"""`axe health CUSTOMER... | --all`: each customer's stack from outside (https://{public_domain} through the
edge, as an employee reaches it) and from its Mac mini (containers, local health), customers in
parallel, as one table. Reads only; exits 0 only when everything answers."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .. import fleet, inventory, report
from ..runner import run_playbook
from ..settings import Settings

TIMEOUT = 10  # seconds per outside request; each is made once


def run(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    customers = fleet.select(settings, args.customers, args.all, "axe health CUSTOMER [CUSTOMER...] or axe health --all")
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue, stack
    entries = catalogue.stack(catalogue.load())

    # Sovereignty customers (T24) run their own stack: only their tunnel is ours to look at.
    probes = [(c, e["service"], e["external_path"]) for c, info in customers.items() for e in entries
              if info["managed"] or e["service"] == "cloudflared"]
    with ThreadPoolExecutor(max_workers=min(16, len(probes))) as pool:
        statuses = list(pool.map(lambda p: stack.outside_status(settings.edge_url, customers[p[0]]["public_domain"],
                                                                  p[2], TIMEOUT), probes))
    outside = {(c, s): code for (c, s, _path), code in zip(probes, statuses)}

    managed = [c for c, info in customers.items() if info["managed"]]
    host_result = None
    if managed:
        host_result = run_playbook(settings, "health", inventory.for_customers(settings, managed), check=True,
                                   extravars={"axe_target": ",".join(managed)}, label="health",
                                   one_round_trip=True)

    table, all_ok = {}, True
    for customer, info in customers.items():
        host_status = host_result.hosts.get(customer).status if host_result and customer in host_result.hosts else None
        seen = ((host_result.stats.get(customer) or {}).get("health") or {}) if host_result else {}
        rows = {}
        for entry in entries:
            service = entry["service"]
            if (customer, service) not in outside:
                continue
            row = {"outside": outside[(customer, service)]}
            if info["managed"] and entry["local_url"]:
                row["host"] = seen.get(service) or {"ok": False, "http": 0, "containers": {},
                                                    "error": f"host {host_status or 'not reached'}"}
            row["ok"] = row["outside"] == 200 and row.get("host", {"ok": True})["ok"]
            all_ok = all_ok and row["ok"]
            rows[service] = row
        table[customer] = rows
    if args.json:
        report.emit_json({"ok": all_ok, "customers": table,
                          "artifacts": str(host_result.artifact_dir) if host_result else None})
    else:
        _print(table, customers)
    return 0 if all_ok else 1


def _print(table: dict, customers: dict) -> None:
    from rich.table import Table
    t = Table(title="axe health", title_justify="left")
    for column in ("customer", "service", "outside", "host", "containers"):
        t.add_column(column)
    for customer, rows in table.items():
        for service, row in rows.items():
            host = row.get("host")
            style = "green" if row["ok"] else "red"
            t.add_row(customer, service, f"[{style}]{row['outside'] or 'no answer'}[/]",
                      "-" if host is None else (str(host.get("http") or host.get("error") or "no answer")),
                      "-" if host is None else ", ".join(f"{n} {s}" for n, s in host.get("containers", {}).items()
                                                          if s != "missing") or "none")
    report.out.print(t)
    bad = sum(1 for rows in table.values() for row in rows.values() if not row["ok"])
    report.out.print(f"{len(customers)} customer(s): " + ("all healthy" if not bad else f"{bad} service(s) not healthy"))


def register(sub) -> None:
    p = sub.add_parser("health", help="each customer's stack from outside (https://PUBLIC_DOMAIN) and from its Mac mini")
    p.add_argument("customers", nargs="*", metavar="CUSTOMER")
    p.add_argument("--all", action="store_true", help="every customer in customers.yaml")
    p.add_argument("--customers-file", help="customers.yaml to use (default: AXE_CUSTOMERS_FILE or ~/.axe/customers.yaml)")
    p.set_defaults(func=run)
