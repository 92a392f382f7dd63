"""`axe rollout SERVICE --ref REF (--customers A,B,... | --all)`: one version of one service across customers.

The plan (always): what each customer runs now (playbooks/status.yml, one round trip per host) and what the rollout
would do there (playbooks/rollout.yml in check mode, every customer at once). The apply: the same playbook on the
customers the plan would change, in Ansible's own batches (serial: the canary customers, then --batch), stopping once
more than --max-failed customers failed. A customer whose release fails keeps its old version serving. Re-running the
same command resumes: customers already on REF plan "already live" and are left out. Sovereignty customers (T24) are
left out and listed. One Ship Log line per customer shipped; customers.yaml records REF only for those that reached it
(the service engine, per customer)."""
from __future__ import annotations

import re
from pathlib import Path

from .. import apply_flow, fleet, interrupt, inventory, report, shipped, vault_session
from ..errors import AxeError
from ..runner import run_playbook
from ..settings import Settings
from .status import read_hosts

BATCH = re.compile(r"^([1-9][0-9]{0,3})(%?)$")


def serial(canary: int, batch: str, hosts: int) -> list:
    """Ansible's serial list for the apply: the canary batch, then the batch size (Ansible repeats the last one).
    Pure: unit-tested."""
    m = BATCH.fullmatch(batch)
    if not m or (m.group(2) and int(m.group(1)) > 100):
        raise AxeError(f"--batch {batch!r} is not a size", "give a number of customers (2) or a percentage (25%)")
    size = batch if m.group(2) else int(m.group(1))
    if canary <= 0 or canary >= hosts:
        return [size]
    return [canary, size]


def check_args(args, released: list[str]) -> None:
    if args.service not in released:
        raise AxeError(f"{args.service!r} is not a service the engine releases (one of {', '.join(released)})",
                       f"axe rollout {released[0]} --ref REF --all")
    from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import GIT_REF  # the schema's own pattern
    if not re.match(GIT_REF, args.ref):
        raise AxeError(f"--ref {args.ref!r} is not one git ref word", "give a tag, a branch or a commit: --ref v2")
    if bool(args.all) == bool(args.customers):
        raise AxeError("give the customers with --customers A,B,... or --all (one of the two)",
                       f"axe rollout {args.service} --ref {args.ref} --all")
    if args.canary < 0 or args.max_failed < 0:
        raise AxeError("--canary and --max-failed are counts of customers (0 or more)",
                       f"axe rollout {args.service} --ref {args.ref} --all --canary 1")
    if args.health_timeout is not None and not 1 <= args.health_timeout <= 3600:
        raise AxeError(f"--health-timeout {args.health_timeout} is out of range", "give 1 to 3600 seconds")
    serial(args.canary, args.batch, 2)  # the batch's form, before anything runs


def plan_rows(customers: dict, seen: dict, plan, ref: str, service: str) -> dict:
    """Per customer: now (ref, commit, colour), wanted, and what the rollout does there (pure: unit-tested)."""
    rows = {}
    for customer, info in customers.items():
        if not info["managed"]:
            rows[customer] = {"now": None, "wanted": None, "plan": "left out: sovereignty customer (T24)"}
            continue
        live = (((seen.get(customer) or {}).get("status") or {}).get(service) or {}).get("live")
        host = plan.hosts.get(customer)
        deploy = ((plan.stats.get(customer) or {}).get("deploys") or {}).get(service) or {}
        if host is None or host.status in ("failed", "unreachable"):
            what = "cannot plan: " + ("; ".join(host.messages) if host and host.messages else "not reached")
        elif deploy.get("action") == "release" or host.status == "changed":
            what = f"release {ref} ({deploy.get('reason') or 'configuration'})"
        else:
            what = f"already on {ref}"
        rows[customer] = {"now": live, "wanted": ref, "plan": what, "ship": what.startswith("release")}
    return rows


def outcome_rows(rows: dict, result, ref: str, service: str) -> dict:
    """Per customer after the apply: shipped, failed (old version serving), not reached (the rollout stopped first),
    unchanged (already on REF) or left out (pure: unit-tested)."""
    out = {}
    for customer, row in rows.items():
        if not row.get("ship"):
            out[customer] = dict(row, result="left out" if row["now"] is None and row["wanted"] is None else "unchanged")
            continue
        host = result.hosts.get(customer)
        stats = result.stats.get(customer) or {}
        deploy = (stats.get("deploys") or {}).get(service) or {}
        # The play's last word for a customer is its check from outside: published, the customer's part is over, even
        # when the rollout was interrupted later, in another customer's batch.
        finished = host is not None and host.status == "interrupted" and "edge" in stats
        # An interrupted run has no recap: a customer that failed before the interruption is known by its failed task.
        failed = host is not None and (host.status in ("failed", "unreachable") or bool(host.errors) or
                                       any(m.startswith("unreachable:") for m in host.messages))
        if host is None:
            out[customer] = dict(row, result="not reached: the rollout stopped before its batch")
        elif failed:
            status = host.status if host.status in ("failed", "unreachable") else "failed" if host.errors else "unreachable"
            out[customer] = dict(row, result=f"{status}: " + ("; ".join(host.messages) or "see the artifacts"),
                                 errors=host.errors)
        elif host.status == "interrupted" and not finished:
            out[customer] = dict(row, result=f"interrupted: {ref} went live, not checked from outside yet: "
                                             f"axe health {customer}" if deploy.get("action") == "release" else
                                 f"interrupted in its deploy: axe status {customer} says what serves now",
                                 deploy=deploy, errors=host.errors)
        else:
            out[customer] = dict(row, result=f"shipped {ref}" if deploy.get("action") == "release" else f"already on {ref}",
                                 deploy=deploy, edge=stats.get("edge") or {})
    return out


def log_shipped(done: dict, customers: dict, service: str, ship_log: Path, run_id: str) -> tuple[list[str], list[str]]:
    """One Ship Log line per customer the rollout shipped: (those customers, the lines)."""
    shipped_now = [c for c, row in done.items() if row["result"].startswith("shipped")]
    lines = []
    for customer in shipped_now:
        row = done[customer]
        line = shipped.ship_log_line(customer, customers[customer]["public_domain"], {service: row["deploy"]},
                                     row["edge"], run_id)
        shipped.append_line(ship_log, line)
        lines.append(line)
    return shipped_now, lines


def run(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    from .. import collection
    collection.importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue
    check_args(args, catalogue.released(catalogue.load()))
    names = [n.strip() for n in (args.customers or "").split(",") if n.strip()]
    customers = fleet.select(settings, names, args.all, f"axe rollout {args.service} --ref {args.ref} --all")
    managed = [c for c, info in customers.items() if info["managed"]]
    if not managed:
        raise AxeError("no managed customer among those given: sovereignty customers (T24) run their own stack",
                       f"axe status {' '.join(customers)}", exit_code=1)
    settings, how = vault_session.ensure(settings)  # the deploys read the services' secrets from the vault
    report.err.print(f"[dim]{how}[/dim]")
    base = {"axe_service": args.service, "service_ref": args.ref, "axe_lock_wait": args.lock_wait}
    if args.health_timeout is not None:
        base["service_health_timeout"] = args.health_timeout

    seen, _ = read_hosts(settings, managed)
    progress = report.Progress(not args.json)
    plan = run_playbook(settings, "rollout", inventory.for_customers(settings, managed), check=True,
                        extravars={**base, "axe_target": ",".join(managed), "axe_rollout_serial": ["100%"],
                                   "axe_rollout_max_failed": len(managed)}, label=f"rollout-{args.service}-check",
                        on_event=progress)
    rows = plan_rows(customers, seen, plan, args.ref, args.service)
    ship = [c for c, row in rows.items() if row.get("ship")]
    blocked = [c for c, row in rows.items() if row["plan"].startswith("cannot plan")]
    title = f"axe rollout {args.service} --ref {args.ref}"
    if blocked or not args.apply or not ship:
        if args.json:
            report.emit_json({"mode": "plan", "applied": False, "customers": rows, "ok": not blocked,
                              "artifacts": str(plan.artifact_dir)})
        else:
            _print(rows, f"{title}: plan (check mode, nothing changed)", "plan")
            if blocked:
                report.out.print(f"cannot plan {', '.join(blocked)}: nothing was applied. Fix what is named above, or "
                                 f"leave them out with --customers.")
            elif not ship:
                report.out.print(f"nothing to change: every customer given runs {args.service} {args.ref}.")
            else:
                report.out.print("dry run: nothing was changed. Run again with --apply to apply this plan.")
        return 1 if blocked else 0
    if not args.json:
        _print(rows, f"{title}: plan (check mode, nothing changed)", "plan")
    apply_flow.confirm(args, f"Roll {args.service} {args.ref} out to {len(ship)} customer(s), canary first?")
    batches = serial(args.canary, args.batch, len(ship))
    ship_log = Path(args.ship_log).expanduser() if args.ship_log else settings.ship_log or settings.state_dir / "ship-log.txt"
    # The same command resumes a rollout that stopped: customers already on REF plan "already on" and are left alone.
    again = f"axe rollout {args.service} --ref {args.ref} " + ("--all" if args.all else f"--customers {args.customers}") + \
        " --apply"
    try:
        applied = run_playbook(settings, "rollout", inventory.for_customers(settings, ship), diff=True,
                               extravars={**base, "axe_target": ",".join(ship), "axe_rollout_serial": batches,
                                          "axe_rollout_max_failed": args.max_failed},
                               label=f"rollout-{args.service}", on_event=progress)
    except interrupt.Interrupted as exc:
        # Ctrl-C or SIGTERM between batches or in one: what each customer reached (shipped, interrupted, not reached),
        # and the Ship Log line of every customer shipped before it.
        exc.next_step = again
        if exc.result is not None:
            done = outcome_rows(rows, exc.result, args.ref, args.service)
            shipped_now, lines = log_shipped(done, customers, args.service, ship_log, exc.result.artifact_dir.name)
            exc.extra.update(mode="apply", applied=True, customers=done, serial=batches, ship_log=str(ship_log),
                             ship_log_lines=lines, reported=True)
            if not args.json:
                _print(done, f"{title}: interrupted", "result")
                report.out.print(f"{len(shipped_now)} shipped before the interruption; Ship Log: {ship_log} "
                                 f"({len(lines)} line(s) added)", soft_wrap=True)
        raise
    done = outcome_rows(rows, applied, args.ref, args.service)
    shipped_now, lines = log_shipped(done, customers, args.service, ship_log, applied.artifact_dir.name)
    stopped = [c for c, row in done.items() if row["result"].startswith(("not reached", "failed", "unreachable",
                                                                          "interrupted"))]
    if args.json:
        report.emit_json({"mode": "apply", "applied": True, "ok": not stopped, "customers": done, "serial": batches,
                          "ship_log": str(ship_log), "ship_log_lines": lines, "seconds": round(applied.seconds, 2),
                          "artifacts": str(applied.artifact_dir), **({"next": again} if stopped else {})})
    else:
        _print(done, f"{title}: applied in batches {batches}", "result")
        report.out.print(f"{len(shipped_now)} shipped, {len(stopped)} not on {args.ref} in {applied.seconds:.1f}s; "
                         f"Ship Log: {ship_log} ({len(lines)} line(s) added)", soft_wrap=True)
        if stopped:
            report.out.print(f"next: fix what is named above, then resume with the same command: {again}", soft_wrap=True)
    return 1 if stopped or applied.failed else 0


def _print(rows: dict, title: str, column: str) -> None:
    from rich.table import Table
    t = Table(title=title, title_justify="left")
    for name in ("customer", "now", "wanted", column):
        t.add_column(name)
    for customer, row in rows.items():
        now = row.get("now") or {}
        now_text = f"{now.get('ref') or '?'} ({str(now.get('commit', ''))[:12]}, {now.get('colour')})" if now else "-"
        t.add_row(customer, now_text, row.get("wanted") or "-", row.get(column) or row.get("plan") or "-")
    report.out.print(t)


def register(sub) -> None:
    p = sub.add_parser("rollout", help="one version of one service across customers: canary first, then batches; "
                                       "stops after --max-failed failures; re-run to resume")
    p.add_argument("service", metavar="SERVICE", help="a service the engine releases: frame, blueprint, hive")
    p.add_argument("--ref", required=True, help="the git ref to roll out: a tag (v2), a branch or a commit")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--customers", metavar="A,B,...", help="these customers, in customers.yaml's order")
    who.add_argument("--all", action="store_true", help="every customer in customers.yaml (sovereignty ones left out)")
    p.add_argument("--canary", type=int, default=1, metavar="N",
                   help="customers released first, on their own, before any batch (default 1; 0: no canary)")
    p.add_argument("--batch", default="100%", metavar="N|P%",
                   help="customers per batch after the canary: a number or a percentage of the rollout (default 100%%)")
    p.add_argument("--max-failed", type=int, default=0, metavar="N",
                   help="stop before the next batch once more than N customers failed (default 0: at the first). "
                        "Ansible also stops when every customer of a batch failed")
    p.add_argument("--health-timeout", type=int, metavar="SECONDS",
                   help="how long each new release may take to answer its health check (default: 60)")
    p.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on each host (default: that customer fails at once)")
    p.add_argument("--ship-log", metavar="PATH",
                   help="the Ship Log to add a line to per customer shipped (default: AXE_SHIP_LOG, else "
                        "$AXE_STATE_DIR/ship-log.txt)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=run)
