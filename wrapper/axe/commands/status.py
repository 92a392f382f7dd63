"""`axe status [CUSTOMER... | --all]`: per customer and service, the live version and colour, since when, the version
customers.yaml wants, and the drift - read from each host's release state (playbooks/status.yml: one round trip per
host, the hosts in parallel). `axe audit CUSTOMER`: the host's audit log. Both read only."""
from __future__ import annotations

from .. import fleet, inventory, report
from ..errors import AxeError
from ..runner import run_playbook
from ..settings import Settings


def read_hosts(settings: Settings, customers: list[str], audit_lines: int = 0):
    """The status playbook's run for `customers` (managed ones): {customer: {"status", "audit"}} and the run."""
    result = run_playbook(settings, "status", inventory.for_customers(settings, customers),
                          extravars={"axe_target": ",".join(customers), "service_audit_lines": audit_lines},
                          label="status", one_round_trip=True)
    return {c: result.stats.get(c) or {} for c in customers}, result


def rows(customers: dict, seen: dict, result) -> tuple[dict, bool]:
    """{customer: {"state", "services": {service: {...}}}} and whether every host answered with nothing drifting
    (pure over the run's data: unit-tested)."""
    table, clean = {}, True
    for customer, info in customers.items():
        if not info["managed"]:
            table[customer] = {"state": "sovereign", "services": {},
                               "note": "T24: runs its own stack; nothing of it is ours to read"}
            continue
        host = result.hosts.get(customer) if result else None
        services = (seen.get(customer) or {}).get("status")
        if services is None:
            clean = False
            why = "; ".join(host.messages) if host and host.messages else (host.status if host else "not reached")
            table[customer] = {"state": host.status if host else "not reached", "services": {}, "note": why}
            continue
        drifting = [s for s, row in services.items() if row.get("drift")]
        clean = clean and not drifting
        table[customer] = {"state": "drift" if drifting else "in sync", "services": services, "note": ""}
    return table, clean


def run(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    customers = fleet.select(settings, args.customers, args.all, "axe status CUSTOMER [CUSTOMER...] or axe status --all")
    managed = [c for c, info in customers.items() if info["managed"]]
    seen, result = read_hosts(settings, managed) if managed else ({}, None)
    table, clean = rows(customers, seen, result)
    if args.json:
        report.emit_json({"ok": clean, "customers": table, "artifacts": str(result.artifact_dir) if result else None})
    else:
        _print(table)
    return 0 if clean else 1


def _live(row: dict) -> str:
    live = row.get("live")
    if not live:
        return "-"
    return f"{live.get('ref') or '?'} ({str(live.get('commit', ''))[:12]})"


def _print(table: dict) -> None:
    from rich.table import Table
    t = Table(title="axe status", title_justify="left")
    for column in ("customer", "service", "live", "colour", "since", "wanted", "drift"):
        t.add_column(column)
    for customer, entry in table.items():
        if not entry["services"]:
            t.add_row(customer, "-", "-", "-", "-", "-", f"[red]{entry['state']}[/]: {entry['note']}"
                      if entry["state"] != "sovereign" else f"sovereign ({entry['note']})")
        for service, row in entry["services"].items():
            live = row.get("live") or {}
            drift = row.get("drift") or ""
            t.add_row(customer, service, _live(row), live.get("colour") or "-", live.get("since") or "-",
                      row.get("wanted") or "-", f"[yellow]{drift}[/]" if drift else "[green]none[/]")
    report.out.print(t)
    drifting = [c for c, e in table.items() if e["state"] not in ("in sync", "sovereign")]
    report.out.print(f"{len(table)} customer(s): " + ("every managed one runs what customers.yaml wants" if not drifting
                                                      else f"{len(drifting)} not as wanted: {', '.join(drifting)}"))


def run_audit(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    if not 1 <= args.lines <= 1000:
        raise AxeError(f"--lines {args.lines} is out of range", "give 1 to 1000")
    customers = fleet.select(settings, [args.customer], False, "axe audit CUSTOMER")
    if not customers[args.customer]["managed"]:
        raise AxeError(f"T24: {args.customer} runs its own stack; the product changes nothing there, so it keeps no "
                       "audit log there", f"axe status {args.customer}", exit_code=1)
    seen, result = read_hosts(settings, [args.customer], args.lines)
    entries = (seen.get(args.customer) or {}).get("audit")
    if entries is None:
        host = result.hosts.get(args.customer)
        raise AxeError(f"{args.customer}'s host did not answer: " + ("; ".join(host.messages) if host else "not reached"),
                       f"axe ping {args.customer}", exit_code=1)
    if args.json:
        report.emit_json({"customer": args.customer, "entries": entries, "artifacts": str(result.artifact_dir)})
        return 0
    from rich.table import Table
    t = Table(title=f"axe audit {args.customer} (the host's ~/.axe/audit.jsonl, newest last)", title_justify="left")
    for column in ("when", "who", "what", "run"):
        t.add_column(column)
    for e in entries:
        t.add_row(e.get("at", ""), e.get("who", ""), e.get("what", ""), f"{e.get('run_id', '')} {e.get('purpose', '')}".strip())
    report.out.print(t)
    report.out.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("status", help="what each customer runs: per service the live version and colour, since when, "
                                      "the wanted version (customers.yaml) and drift; exit 1 on drift or a host not read")
    p.add_argument("customers", nargs="*", metavar="CUSTOMER")
    p.add_argument("--all", action="store_true", help="every customer in customers.yaml")
    p.add_argument("--customers-file", help="customers.yaml to use (default: AXE_CUSTOMERS_FILE or ~/.axe/customers.yaml)")
    p.set_defaults(func=run)
    a = sub.add_parser("audit", help="the customer host's audit log: every change the product made there (who, when, "
                                     "what, run id)")
    a.add_argument("customer")
    a.add_argument("--lines", type=int, default=50, metavar="N", help="the newest N entries (default 50)")
    a.add_argument("--customers-file", help="customers.yaml to use (default: AXE_CUSTOMERS_FILE or ~/.axe/customers.yaml)")
    a.set_defaults(func=run_audit)
