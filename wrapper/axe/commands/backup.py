"""`axe backup CUSTOMER [--now]` sets up (and runs) the customer's restic backups; `axe backup status|verify|restore`
ask the host's agent (roles/backup/files/axe_backup.py). Only the set-up and a restore change anything, so only they
are dry runs unless --apply; status and verify read (verify restores into scratch, never over live data)."""
from __future__ import annotations

import re

from .. import apply_flow, inventory, report, vault_session
from ..errors import AxeError
from ..runner import run_playbook
from ..settings import Settings

ACTIONS = ("status", "verify", "restore")


def _size(n) -> str:
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted((counts or {}).items()))


def _setup_details(host: str, stats: dict) -> str:
    b = stats.get("backup") or {}
    if not b:
        return ""
    lines = [f"restic repository {b.get('repository')}" + (" (initialised now)" if b.get("initialised") else ""),
             f"LaunchAgent ai.axelabs.backup {b.get('launch_agent')}, daily at {b.get('schedule')} (host time)",
             f"backs up: {', '.join(b.get('sources') or [])}"]
    if b.get("generated"):
        lines.append("restic password generated into the vault")
    run = b.get("run") or {}
    if run.get("snapshot"):
        lines.append(f"backed up now: snapshot {run['snapshot']}, {_size(run.get('bytes'))} in {run.get('seconds')} s ("
                     + "; ".join(f"{s} {_counts(v.get('counts'))}" for s, v in sorted((run.get("sources") or {}).items())) + ")")
    elif run.get("would_run"):
        lines.append("would back up now")
    return "\n".join(lines)


def _status_details(host: str, stats: dict) -> str:
    s = stats.get("backup_status") or {}
    if not s:
        return ""
    latest = s.get("latest")
    lines = []
    if latest:
        lines.append(f"latest snapshot {latest['id']} at {latest['time']} ({latest['age_hours']:.1f} h ago), "
                     f"{_size(latest.get('size_bytes'))}, {latest.get('files')} files, {s.get('snapshots')} snapshot(s)")
        for service, held in sorted((latest.get("holds") or {}).items()):
            lines.append(f"  {service} ({held.get('kind')}): {_counts(held.get('counts'))}")
    verify = s.get("last_verify")
    if verify:
        lines.append(f"last verify: {'passed' if verify.get('ok') else 'FAILED'} at {verify.get('verified_at')} "
                     f"(snapshot {verify.get('snapshot')})" + ("" if verify.get("ok") else f": {verify.get('error')}"))
    else:
        lines.append("never verified: axe backup verify " + host)
    for f in s.get("findings") or []:
        lines.append(f"finding: {f['problem']}; next: {f['next']}")
    return "\n".join(lines)


def _verify_details(host: str, stats: dict) -> str:
    v = stats.get("backup_verify") or {}
    if not v:
        return ""
    lines = [f"snapshot {v.get('snapshot')} (taken {v.get('taken_at')}) restored into scratch in {v.get('seconds')} s"]
    for c in v.get("checks") or []:
        lines.append(f"  {c['service']}: {_counts(c['counts'])} " + ("= at snapshot time" if c["ok"] else
                                                                      f"!= {_counts(c['expected'])} at snapshot time"))
    return "\n".join(lines)


def _restore_details(host: str, stats: dict) -> str:
    r = stats.get("backup_restore") or {}
    if not r:
        return ""
    what = f"{r.get('service')} from snapshot {r.get('snapshot')} (taken {r.get('taken_at')}): replaces {r.get('replaces')}"
    if r.get("dry_run"):
        return f"would restore {what}; expects {_counts(r.get('expected'))}"
    text = f"restored {what}"
    if r.get("before_restore_snapshot"):
        text += f"; what was there is snapshot {r['before_restore_snapshot']}"
    if "counts" in r:
        text += f"; now {_counts(r['counts'])}"
    return text


def _target(args) -> tuple[str | None, str | None]:
    """`axe backup CUSTOMER` or `axe backup ACTION CUSTOMER`: (action, customer)."""
    words = args.words
    if words and words[0] in ACTIONS:
        action, rest = words[0], words[1:]
    else:
        action, rest = None, words
    if len(rest) > 1:
        raise AxeError(f"too many customers: {' '.join(rest)}", "give one customer (axe backup status --all for every one)")
    customer = rest[0] if rest else None
    if args.all and action != "status":
        raise AxeError("--all is for axe backup status", "axe backup status --all")
    if customer is None and not (action == "status" and args.all):
        example = f"axe backup {action} CUSTOMER" if action else "axe backup CUSTOMER --apply"
        raise AxeError("no customer given", example)
    if args.service and action != "restore":
        raise AxeError("--service is for axe backup restore", "axe backup restore CUSTOMER --service frame --apply")
    if action == "restore" and not args.service:
        raise AxeError("axe backup restore needs the service whose data to put back",
                       f"axe backup restore {customer} --service frame --apply")
    if action and (args.now or args.at):
        raise AxeError("--now and --at set up backups", f"axe backup {customer} --now --apply")
    if action in ("status", "verify") and args.apply:
        raise AxeError(f"axe backup {action} changes nothing: there is nothing to apply", f"axe backup {action} "
                       + (customer or "--all"))
    return action, customer


def _schedule(at: str) -> dict:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", at)
    if not match:
        raise AxeError(f"--at {at!r} is not a time of day", "give HH:MM in the host's time, e.g. --at 03:15")
    return {"hour": int(match.group(1)), "minute": int(match.group(2))}


def run(args) -> int:
    action, customer = _target(args)
    args.customer = customer
    if action is None:
        settings = vault_session.for_command(args)  # the restic password is generated into the vault
        source = inventory.for_registered_customer(settings, customer)
        extravars = {"axe_target": customer, "backup_now": args.now, "backup_lock_wait": args.lock_wait}
        if args.at:
            extravars["backup_schedule"] = _schedule(args.at)
        return apply_flow.check_then_apply(args, settings, "backup", source, extravars, "backup", _setup_details,
                                           f"axe backup {customer}" + (" --now" if args.now else ""))
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    if action == "restore":
        source = inventory.for_registered_customer(settings, customer)
        return apply_flow.check_then_apply(
            args, settings, "backup", source, {"axe_target": customer, "backup_action": "restore",
                                               "backup_service": args.service, "backup_lock_wait": args.lock_wait},
            "backup-restore", _restore_details, f"axe backup restore {customer} --service {args.service}")
    if action == "status" and args.all:
        from .health import _customers
        args.customers = []
        managed = [c for c, info in _customers(settings, args).items() if info["managed"]]
        if not managed:
            raise AxeError("no customer in customers.yaml has services the operator runs (all are T24's)",
                           "nothing is backed up by axe; see docs/traps.md T24")
        source, target = inventory.for_customers(settings, managed), ",".join(managed)
    else:
        source, target = inventory.for_registered_customer(settings, customer), customer
    # Neither changes live data: run as a check, so the preflight keeps its hands off the host (T04's fix).
    result = run_playbook(settings, "backup", source, check=True, extravars={"axe_target": target, "backup_action": action},
                          label=f"backup-{action}", on_event=report.Progress(not args.json))
    details = _status_details if action == "status" else _verify_details
    code = report.finish(result, args.json, f"axe backup {action} {target if customer else '--all'}", details,
                         {"mode": action, "applied": False})
    if action == "status" and not code:
        findings = sum(len((result.stats.get(h) or {}).get("backup_status", {}).get("findings") or [])
                       for h in result.hosts)
        return 1 if findings else 0  # a stale or missing backup is a finding the exit status tells a script
    return code


def register(sub) -> None:
    p = sub.add_parser("backup", help="the customer's data in restic: set up and run (CUSTOMER), status, verify "
                                      "(a restore into scratch), restore (one service's data back)")
    p.add_argument("words", nargs="+", metavar="[status|verify|restore] CUSTOMER",
                   help="CUSTOMER alone sets up the backups (dry run unless --apply); status, verify and restore ask "
                        "the host's agent")
    p.add_argument("--all", action="store_true", help="with status: every customer the operator runs services for")
    p.add_argument("--now", action="store_true", help="with CUSTOMER: run one backup now, after the set-up")
    p.add_argument("--at", metavar="HH:MM", help="with CUSTOMER: when launchd runs the daily backup (host time; kept until given again, 03:15 at first)")
    p.add_argument("--service", help="with restore: the service whose data to put back (frame, blueprint, hive, vault)")
    p.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=run)
