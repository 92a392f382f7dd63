"""Every changing command: check mode first, show the plan, then (with --apply) confirm and apply.

Without --apply a command stops after the plan. With --apply it asks before changing anything,
unless --yes; with no terminal to ask on and no --yes it refuses to apply.
"""
from __future__ import annotations

import difflib
import sys

from . import report
from .errors import AxeError
from .runner import RunResult, run_playbook
from .settings import Settings


def confirm(args, question: str) -> None:
    if getattr(args, "yes", False):
        return
    if not sys.stdin.isatty():
        raise AxeError("no terminal to confirm on, and --yes was not given: nothing was applied",
                       "review the plan above, then run again with --apply --yes")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise AxeError("not confirmed: nothing was applied", exit_code=1)


def show_diffs(result: RunResult) -> None:
    for host, task, diff in result.diffs:
        for part in diff if isinstance(diff, list) else [diff]:
            header = part.get("after_header") or part.get("before_header") or task
            before, after = part.get("before", ""), part.get("after", "")
            if before == after:
                continue
            lines = difflib.unified_diff(str(before).splitlines(True), str(after).splitlines(True),
                                         f"{header} (now)", f"{header} (after apply)")
            report.out.print(f"[bold]{host}[/bold]: {task}", soft_wrap=True)
            for line in lines:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                report.out.print(f"[{style}]{line.rstrip()}[/]", soft_wrap=True, markup=True, highlight=False)


def check_then_apply(args, settings: Settings, playbook: str, inventory: dict, extravars: dict, label: str,
                     details=None, title: str = "", controller_for: str | None = None) -> int:
    """`controller_for`: the customer a controller-side play (on localhost) acts for."""
    progress = report.Progress(not args.json)
    plan = run_playbook(settings, playbook, inventory, check=True, diff=True, extravars=extravars,
                        label=f"{label}-check", on_event=progress)
    if controller_for:
        plan.rename_host("localhost", controller_for)
    if not args.json:
        show_diffs(plan)
        report.summary(plan, f"{title or label}: plan (check mode, nothing changed)", details)
    if plan.failed:
        if args.json:
            report.emit_json(report.as_json(plan, {"mode": "plan", "applied": False}))
        return 1
    would_change = plan.totals()["changed"] > 0
    if not args.apply or not would_change:
        if args.json:
            report.emit_json(report.as_json(plan, {"mode": "plan", "applied": False}))
        elif not args.apply:
            report.out.print("dry run: nothing was changed. Run again with --apply to apply this plan.")
        else:
            report.out.print("nothing to change.")
        return 0
    confirm(args, "Apply this plan?")
    applied = run_playbook(settings, playbook, inventory, diff=True, extravars=extravars, label=label,
                           on_event=progress)
    if controller_for:
        applied.rename_host("localhost", controller_for)
    return report.finish(applied, args.json, f"{title or label}: applied", details, {"mode": "apply", "applied": True})


def add_apply_flags(parser) -> None:
    parser.add_argument("--apply", action="store_true", help="apply the plan (default: dry run, change nothing)")
    parser.add_argument("--yes", action="store_true", help="with --apply: do not ask for confirmation")
    parser.add_argument("--customers-file", help="customers.yaml to use (default: AXE_CUSTOMERS_FILE or ~/.axe/customers.yaml)")
