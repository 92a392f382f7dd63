"""What the operator sees: live progress on stderr, a per-host summary, or one JSON object."""
from __future__ import annotations

import json
import sys
import time

from rich.console import Console
from rich.table import Table

from .runner import RunResult

# A pipe or a log file gets wide, unwrapped lines: 80 columns would split what a grep looks for.
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)

STYLE = {"ok": "green", "changed": "yellow", "failed": "red", "unreachable": "red", "skipped": "dim",
         "interrupted": "red"}


class Progress:
    """One line per task and host as results arrive: host, outcome, task, seconds."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, event: dict) -> None:
        if not self.enabled:
            return
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            err.print(f"[bold]▶ {data.get('play', '')}[/bold]", soft_wrap=True)
            return
        outcome = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_unreachable": "unreachable",
                   "runner_on_skipped": "skipped"}.get(kind)
        if not outcome:
            return
        if outcome == "ok" and (data.get("res") or {}).get("changed"):
            outcome = "changed"
        if outcome == "failed" and data.get("ignore_errors"):
            outcome = "ok"
        elapsed = time.monotonic() - self.started
        err.print(f"  [{STYLE[outcome]}]{outcome:<11}[/] {data.get('host', ''):<14} {data.get('task', '')}"
                  f" [dim]({elapsed:.1f}s)[/dim]", soft_wrap=True)


def as_json(result: RunResult, extra: dict | None = None) -> dict:
    hosts = {}
    for name, h in sorted(result.hosts.items()):
        hosts[name] = {"status": h.status, "ok": h.ok, "changed": h.changed, "failed": h.failed,
                       "unreachable": h.unreachable, "messages": h.messages, "warnings": h.warnings,
                       "errors": h.errors, **(result.stats.get(name) or {})}
    payload = {**result.totals(), "hosts": hosts, "playbook": result.playbook, "seconds": round(result.seconds, 2),
               "artifacts": str(result.artifact_dir), "interrupted": bool(result.interrupted), **(extra or {})}
    if result.failed and not result.hosts and not result.interrupted:
        payload.setdefault("error", result.early_error())
    # The first failure's own next step, as the module gave it, where a script looks for it.
    first = next((e for h in result.hosts.values() for e in h.errors if e.get("next")), None)
    if first and not payload.get("next"):
        payload["next"] = first["next"]
    return payload


def summary(result: RunResult, title: str, details=None) -> None:
    table = Table(title=title, title_justify="left")
    table.add_column("host")
    table.add_column("result")
    table.add_column("ok", justify="right")
    table.add_column("changed", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("details")
    for name, h in sorted(result.hosts.items()):
        detail = details(name, result.stats.get(name) or {}) if details and h.status in ("ok", "changed") else ""
        if h.messages:
            # A table cell wraps where the column ends, splitting a path or a phrase: the messages
            # are printed whole below the table, where they can be read and searched.
            detail = "failed: the message is below the table"
        if h.warnings:
            detail = "\n".join([detail] + [f"[yellow]warning:[/yellow] {w}" for w in h.warnings]).strip()
        table.add_row(name, f"[{STYLE[h.status]}]{h.status}[/]", str(h.ok), str(h.changed),
                      str(h.failed + h.unreachable), detail)
    if result.hosts:
        out.print(table)
    else:
        out.print(title, soft_wrap=True)
    for name, h in sorted(result.hosts.items()):
        for message in h.messages:
            out.print(f"{name}: {message}", soft_wrap=True, markup=False, highlight=False)
    t = result.totals()
    interrupted = f", {t['interrupted']} interrupted" if result.interrupted else ""
    out.print(f"{t['ok']} ok, {t['changed']} changed, {t['failed']} failed{interrupted} in {result.seconds:.1f}s "
              f"(artifacts: {result.artifact_dir})", soft_wrap=True)
    if result.failed and not result.hosts and not result.interrupted:
        out.print(f"[red]ansible-playbook stopped before reaching any host (rc={result.rc}):[/red]", soft_wrap=True)
        out.print(result.early_error(), soft_wrap=True, markup=False, highlight=False)


def finish(result: RunResult, json_out: bool, title: str, details=None, extra: dict | None = None) -> int:
    """A command's end: its result as JSON or as the summary table; the exit status (1 when anything failed)."""
    if json_out:
        emit_json(as_json(result, extra))
    else:
        summary(result, title, details)
    return 1 if result.failed else 0


def emit_json(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")
