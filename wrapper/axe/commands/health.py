"""`axe health CUSTOMER... | --all`: each customer's stack from outside (https://{public_domain} through the
edge, as an employee reaches it) and from its Mac mini (containers, local health), customers in
parallel, as one table: playbooks/health.yml, the same run an AWX schedule makes. Reads only; exits 0 only
when everything answers."""
from __future__ import annotations

from .. import fleet, inventory, report
from ..runner import run_playbook
from ..settings import Settings

TIMEOUT = 10  # seconds per outside request; each is made once


def run(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    customers = fleet.select(settings, args.customers, args.all, "axe health CUSTOMER [CUSTOMER...] or axe health --all")
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    entries = catalogue.stack(catalogue.load())
    # One playbook for both views (playbooks/health.yml): outside through the edge with axelabs.onboard.edge_health on
    # the controller, the host's with stack_health; in check mode, so a service that does not answer is reported here.
    names = list(customers)
    result = run_playbook(settings, "health", inventory.for_customers(settings, names), check=True,
                          extravars={"axe_target": ",".join(names), "axe_edge_timeout": TIMEOUT}, label="health",
                          one_round_trip=True)
    table, all_ok = {}, True
    for customer, info in customers.items():
        host = result.hosts.get(customer)
        stats = result.stats.get(customer) or {}
        outside, seen = stats.get("outside") or {}, stats.get("health") or {}
        rows = {}
        for entry in entries:
            service = entry["service"]
            if not info["managed"] and service != "cloudflared":
                continue  # T24: a sovereignty customer's services are its own
            row = {"outside": outside.get(service, 0)}
            if info["managed"] and entry["local_url"]:
                row["host"] = seen.get(service) or {"ok": False, "http": 0, "containers": {},
                                                    "error": f"host {host.status if host else 'not reached'}"}
            row["ok"] = row["outside"] == 200 and row.get("host", {"ok": True})["ok"]
            all_ok = all_ok and row["ok"]
            rows[service] = row
        table[customer] = rows
    if args.json:
        report.emit_json({"ok": all_ok, "customers": table, "artifacts": str(result.artifact_dir)})
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
