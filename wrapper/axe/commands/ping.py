"""`axe ping CUSTOMER...`: inventory -> SSH -> become -> remote Docker, and the host's platform."""
from __future__ import annotations

from .. import inventory, report
from ..runner import run_playbook
from ..settings import Settings


def _details(host: str, stats: dict) -> str:
    ping = stats.get("ping") or {}
    plat = ping.get("platform") or {}
    return (f"{plat.get('os', '?')} {plat.get('machine', '')}, python {plat.get('python', '?')}, "
            f"compose {ping.get('compose', '?')}, become uid {ping.get('become_uid', '?')}, "
            f"modules run by {ping.get('runner', '?')}")


def run(args) -> int:
    settings = Settings.load()
    inv = inventory.for_customers(settings, args.customers)
    result = run_playbook(settings, "ping", inv, label="ping", on_event=report.Progress(not args.json))
    return report.finish(result, args.json, "axe ping", _details)


def register(sub) -> None:
    p = sub.add_parser("ping", help="reach customer hosts over SSH: become, Docker Compose, platform facts")
    p.add_argument("customers", nargs="+", metavar="CUSTOMER", help="customer id(s), e.g. acme")
    p.set_defaults(func=run)
