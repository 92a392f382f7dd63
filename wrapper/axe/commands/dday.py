"""`axe deploy customer CUSTOMER --from-pack PACK`: the whole D-day in one command (goal B-onboard-1shot).

playbooks/onboard.yml runs ingest -> preflight -> cloudflared -> each service of the catalogue (frame ->
blueprint -> hive -> vault) -> external health; each play publishes its step (set_stats axe_step). The
check run comes first and its plan is shown step by step; `--apply` then asks (or takes `--yes`) and applies. After a successful apply: the proof from outside (all four 200), the
Ship Log line, and the reply to the customer's IT.
"""
from __future__ import annotations

import os
from pathlib import Path

from .. import apply_flow, collection, interrupt, inventory, later_days, report, shipped, vault_session
from ..errors import AxeError
from ..runner import RunResult, run_playbook
from ..settings import Settings
from .backup import _setup_details as _backup_details
from .customers import _ingest_details
from .deploy import describe
from .onboard import _details as _tunnel_details

CONTROLLER = "controller"  # the ingest play runs on localhost; the operator reads "controller"


def steps(services: list[str]) -> list[str]:
    """The D-day's steps, in order: before the services, each service of the catalogue, the proof after."""
    return ["ingest", "preflight", "cloudflared", *services, "backup", "health"]


def step_report(result: RunResult, customer: str, planning: bool, services: list[str]) -> list[tuple[str, str, str]]:
    """[(step, outcome, what)] for every step, from the plays' reports and the tasks that changed, each task
    attributed to the step its play published (pure)."""
    stats = result.stats.get(customer) or {}
    order = steps(services)
    changed: dict[str, list[str]] = {}
    for step, _host, task in result.changes:
        if step and task not in changed.setdefault(step, []):
            changed[step].append(task)
    failed_steps = [step for step, _host, _task in result.failures]
    started = [step for step in result.steps if step in order]
    if result.interrupted:
        # The step that started last is where the run stopped; nothing after it ran.
        failed_steps = started[-1:] or order[:1]
    failed_at = next((i for i, step in enumerate(order) if step in failed_steps), len(order))
    sovereign = set((stats.get("health") or {}).keys()) == {"cloudflared"}
    ingest_pending = planning and "ingest" in changed
    rows = []
    for index, step in enumerate(order):
        tasks = changed.get(step, [])
        what: list[str] = []
        if step == "ingest":
            # Without the ingest's report, the step either had no pack to read or stopped before its report.
            what.append(_ingest_details(customer, stats) if stats.get("ingest") else
                        "" if index == failed_at else "no pack given: skipped")
        elif step == "preflight":
            findings = (stats.get("preflight") or {}).get("findings") or []
            what.extend(f"{f['trap'] + ': ' if f['trap'] else ''}{f['problem']}" for f in findings)
            if stats.get("preflight") and not findings:
                what.append("every trap that can be seen before acting: none found")
        elif step == "cloudflared" and stats.get("onboard"):
            what.append(_tunnel_details(customer, stats))
        elif step in services:
            d = (stats.get("deploys") or {}).get(step)
            what.append(describe(d) if d else "not ours to deploy (sovereignty customer, T24)" if sovereign else "")
        elif step == "backup":
            what.append(_backup_details(customer, stats) if stats.get("backup") else
                        "not ours to back up (sovereignty customer, T24)" if sovereign else "")
        elif step == "health" and stats.get("health"):
            codes = stats["health"]
            what.append(", ".join(f"{s} {c or 'no answer'}" for s, c in sorted(codes.items())))
            if planning and any(c != 200 for c in codes.values()):
                what.append("(as it answers now; the apply run must see 200 from each)")
        if ingest_pending and (step == "preflight" or step in services) and index < failed_at:
            what.append("planned with the pack's values, as customers.yaml and the vault will hold them after step 1")
        if tasks:
            what.append(("would change: " if planning else "changed: ") + "; ".join(tasks))
        if index == failed_at:
            outcome = "interrupted" if result.interrupted else "failed"
        elif index > failed_at or step not in started:
            # A step whose play never started did nothing: never "no change" (an inventory that failed, a stop).
            outcome, what = "not reached", []
        elif tasks:
            outcome = "would change" if planning else "changed"
        else:
            outcome = "no change"
        rows.append((step, outcome, "\n".join(w for w in what if w)))
    return rows


def print_plan(result: RunResult, customer: str, title: str, planning: bool, services: list[str]) -> None:
    from rich.table import Table
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("step")
    table.add_column("result")
    table.add_column("what")
    style = {"would change": "yellow", "changed": "yellow", "no change": "green", "failed": "red", "not reached": "dim",
             "interrupted": "red"}
    for number, (step, outcome, what) in enumerate(step_report(result, customer, planning, services), 1):
        table.add_row(str(number), step, f"[{style.get(outcome, 'white')}]{outcome}[/]", what)
    report.out.print(table)


def _customer_entry(settings: Settings, customer: str) -> dict:
    collection.importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils.customers_file import CustomersFile, plain
    return plain(CustomersFile(str(settings.customers_file)).load(readonly=True).entry(customer))


def proven(stats: dict, services: list[str]) -> tuple[bool, str]:
    """Did this run itself see every service of the catalogue answer 200 from outside? (pure) An empty or
    partial health never ships: no Ship Log line and no reply without it."""
    health = stats.get("health") or {}
    sovereign = set(health) == {"cloudflared"}
    wanted = ["cloudflared"] if sovereign else services
    missing = [s for s in wanted if s not in health]
    failing = [f"{s} {health[s] or 'no answer'}" for s in wanted if s in health and health[s] != 200]
    if missing:
        return False, "this run did not check " + ", ".join(missing) + " from outside"
    if failing:
        return False, "not every service answers 200 from outside: " + ", ".join(failing)
    return True, ""


def _finish(args, settings: Settings, result: RunResult, applied: bool, catalogue: list[dict]) -> int:
    """After a successful run: the proof, the Ship Log (when something shipped), the reply to customer IT."""
    customer = args.customer
    services = [d["name"] for d in catalogue]
    stats = result.stats.get(customer) or {}
    health = stats.get("health") or {}
    ok, why = proven(stats, services)
    if not ok:
        raise AxeError(f"{why}: nothing shipped, no Ship Log line and no reply to customer IT were written",
                       f"axe health {customer} shows the host's side; then run the same command again",
                       exit_code=1)
    entry = _customer_entry(settings, customer)
    reply = Path(args.reply_file).expanduser() if args.reply_file else \
        settings.state_dir / "replies" / f"{customer}-it-reply.md"
    reply_changed = shipped.write_atomically(reply, shipped.reply_text(customer, entry, health, collection.public_links(catalogue)))
    ship_log = Path(args.ship_log).expanduser() if args.ship_log else \
        settings.ship_log or settings.state_dir / "ship-log.txt"
    line = ""
    if applied:
        line = shipped.ship_log_line(customer, entry["public_domain"], stats.get("deploys") or {}, health,
                                     result.artifact_dir.name)
        shipped.append_line(ship_log, line)
    if args.json:
        report.emit_json(report.as_json(result, {"mode": "apply", "applied": applied, "health": health,
                                                 "steps": step_report(result, customer, False, services),
                                                 "legal_name": entry.get("legal_name") or customer,
                                                 "reply_file": str(reply), "ship_log": str(ship_log),
                                                 "ship_log_line": line,
                                                 "later_days": later_days.operator_steps(customer)}))
        return 0
    report.out.print(f"health from outside: {', '.join(f'{s} {c}' for s, c in sorted(health.items()))}")
    report.out.print(f"reply to {customer}'s IT: {reply} ({'written' if reply_changed else 'unchanged'})", soft_wrap=True)
    report.out.print(f"Ship Log: {ship_log} " + ("(one line added)" if line else "(nothing shipped, no line added)"),
                     soft_wrap=True)
    print_later_days(customer)
    return 0


def _run(settings: Settings, source: str, extravars: dict, customer: str, *, check: bool, json_out: bool,
         progress, services: list[str]) -> RunResult:
    """One pass of onboard.yml; an interrupted pass shows its steps (interrupted, not reached) before it stops."""
    mode = "plan" if check else "apply"
    try:
        result = run_playbook(settings, "onboard", source, check=check, diff=True, extravars=extravars,
                              label="dday-check" if check else "dday", on_event=progress)
    except interrupt.Interrupted as exc:
        exc.result.rename_host("localhost", CONTROLLER)
        rows = step_report(exc.result, customer, check, services)
        if not json_out:
            print_plan(exc.result, customer, f"axe deploy customer {customer}: {mode} interrupted", planning=check,
                       services=services)
            report.summary(exc.result, f"axe deploy customer {customer}: {mode} interrupted")
        exc.extra.update(mode=mode, applied=not check, steps=rows, reported=True)
        raise
    result.rename_host("localhost", CONTROLLER)
    return result


def print_later_days(customer: str) -> None:
    """The whole onboarding, not only its first day: what the operator runs on the runbook's later days."""
    report.out.print("after D-day (the runbook's later days):")
    for step in later_days.operator_steps(customer):
        report.out.print(f"  {step['day']}  {step['command']}\n        {step['what']}", soft_wrap=True, markup=False,
                         highlight=False)


def _warnings(result: RunResult) -> None:
    for host, h in sorted(result.hosts.items()):
        for warning in h.warnings:
            report.out.print(f"[yellow]warning:[/yellow] {host}: {warning}", soft_wrap=True)


def run(args) -> int:
    if args.ref or args.rollback or args.force or args.health_timeout is not None:
        raise AxeError("--ref, --rollback, --force and --health-timeout are for one service",
                       f"axe deploy frame {args.customer} --ref REF --apply (after the D-day)")
    settings = vault_session.for_command(args)  # every step's secrets come from the vault
    source = inventory.for_registered_customer(settings, args.customer)  # T01 before anything runs
    extravars = {"axe_target": args.customer, "axe_force_dns": args.force_dns, "axe_lock_wait": args.lock_wait}
    if args.from_pack:
        pack = os.path.abspath(os.path.expanduser(args.from_pack))
        if not os.path.isfile(pack):
            raise AxeError(f"no pack at {pack}", f"give the file customer IT sent: --from-pack axelabs-bootstrap-{args.customer}.json")
        extravars["pack"] = pack  # the path only: the module reads the pack on the controller, values never travel as vars
    title = f"axe deploy customer {args.customer}"
    catalogue = collection.definitions(settings)  # read once: the steps, the proof, the reply's links
    services = [d["name"] for d in catalogue]
    progress = report.Progress(not args.json)
    plan = _run(settings, source, extravars, args.customer, check=True, json_out=args.json, progress=progress,
                services=services)
    if not args.json:
        apply_flow.show_diffs(plan)
        print_plan(plan, args.customer, f"{title}: plan (check mode, nothing changed)", planning=True, services=services)
        _warnings(plan)  # a lock another run holds is named here, before the apply starts
        if plan.failed:
            report.summary(plan, f"{title}: the plan stopped", None)
    if plan.failed:
        if args.json:
            report.emit_json(report.as_json(plan, {"mode": "plan", "applied": False,
                                                   "steps": step_report(plan, args.customer, True, services)}))
        return 1
    would_change = bool(plan.changes)
    if not args.apply:
        if args.json:
            report.emit_json(report.as_json(plan, {"mode": "plan", "applied": False,
                                                   "steps": step_report(plan, args.customer, True, services),
                                                   "later_days": later_days.operator_steps(args.customer)}))
        else:
            print_later_days(args.customer)
            report.out.print("dry run: nothing was changed. Run again with --apply to apply this plan.")
        return 0
    if not would_change:
        if not args.json and proven(plan.stats.get(args.customer) or {}, services)[0]:
            report.out.print("nothing to change: the customer is as the D-day wants it.")
        return _finish(args, settings, plan, applied=False, catalogue=catalogue)
    apply_flow.confirm(args, "Apply this plan?")
    applied = _run(settings, source, extravars, args.customer, check=False, json_out=args.json, progress=progress,
                   services=services)
    if not args.json:
        print_plan(applied, args.customer, f"{title}: applied", planning=False, services=services)
    if applied.failed:
        if args.json:
            report.emit_json(report.as_json(applied, {"mode": "apply", "applied": True,
                                                      "steps": step_report(applied, args.customer, False, services)}))
        else:
            report.summary(applied, f"{title}: stopped (run the same command again to resume)", None)
        return 1
    if not args.json:
        report.summary(applied, f"{title}: applied", None)
    return _finish(args, settings, applied, applied=True, catalogue=catalogue)
