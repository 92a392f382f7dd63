"""`axe lock status CUSTOMER` and `axe lock release CUSTOMER`: the customer host's deploy lock, seen and cleared.

Every changing run holds the host's lock (plugins/modules/host_lock.py). A run that died holding it
leaves it behind; when that run was on this machine its holder is provably gone and the next apply
takes the lock over by itself. A lock from another operator's machine is only ever released here,
by name, after the plan shows whose it is.
"""
from __future__ import annotations

from .. import apply_flow, inventory, report
from ..runner import run_playbook
from ..settings import Settings


def describe(stats: dict) -> str:
    lock = stats.get("lock") or {}
    if not lock:
        return ""
    if not lock.get("held"):
        return "free: no run holds the host's deploy lock"
    h = lock.get("holder") or {}
    owner = h.get("owner") or {}
    where = f", pid {owner.get('pid')} on {owner.get('machine')}" if owner else ""
    line = f"held by {h.get('holder')} since {h.get('since')} for {h.get('purpose')!r} (run {h.get('run_id')}{where})"
    if lock.get("stale"):
        return f"{line}\nstale: {lock.get('stale_reason')}; the next apply takes it over"
    return f"{line}\nnot provably stale (it may still run, or ran on another machine)"


def _source(args) -> tuple[Settings, dict | str]:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    return settings, inventory.for_customers(settings, [args.customer])


def status(args) -> int:
    settings, source = _source(args)
    result = run_playbook(settings, "lock_status", source, extravars={"axe_target": args.customer},
                          label="lock-status", on_event=report.Progress(not args.json), one_round_trip=True)
    return report.finish(result, args.json, f"axe lock status {args.customer}", lambda _h, stats: describe(stats))


def release(args) -> int:
    settings, source = _source(args)
    return apply_flow.check_then_apply(args, settings, "lock_release", source, {"axe_target": args.customer},
                                       "lock-release", lambda _h, stats: describe(stats),
                                       f"axe lock release {args.customer}")


def register(sub) -> None:
    p = sub.add_parser("lock", help="the customer host's deploy lock: who holds it, and release a stale one")
    lock_sub = p.add_subparsers(dest="lock_command", required=True, metavar="ACTION")
    s = lock_sub.add_parser("status", help="who holds the lock, since when, for what; is the holder provably gone")
    s.add_argument("customer", metavar="CUSTOMER")
    s.set_defaults(func=status)
    r = lock_sub.add_parser("release", help="release the lock whoever holds it (dry run unless --apply)")
    r.add_argument("customer", metavar="CUSTOMER")
    apply_flow.add_apply_flags(r)
    r.set_defaults(func=release)
