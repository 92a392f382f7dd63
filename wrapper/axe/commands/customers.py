"""`axe customers ingest|add`: D-day step 1, the pack into customers.yaml and the vault."""
from __future__ import annotations

import getpass
import os
import sys

from .. import apply_flow, vault_session
from ..errors import AxeError
from ..inventory import check_customer_id
from ..private_files import private_file
from ..settings import Settings

LOCALHOST = {"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}
PROMPTS = [("tenant_id", False)] + [(f"{app}_{field}", field == "client_secret")
                                    for app in ("blueprint", "vaultwarden", "frame_mcp")
                                    for field in ("client_id", "client_secret")] + [("frame_mcp_application_id_uri", False)]


def _ingest_details(host: str, stats: dict) -> str:
    ingest = stats.get("ingest") or {}
    items = ", ".join(f"{i['env']}: {i['action']}" for i in ingest.get("vault_items") or [])
    return (f"customers.yaml {'changes' if ingest.get('file_changed') else 'unchanged'}; vault {items}"
            + (f"; {len(ingest['pack_warnings'])} unknown pack field(s) ignored" if ingest.get("pack_warnings") else ""))


def _prompted_values(customer: str) -> str:
    """The runbook's fallback: ask for the 8 values (secrets hidden), as the text pack format."""
    if not sys.stdin.isatty():
        raise AxeError("--prompt needs a terminal", "give the values in a file with --from-text FILE")
    lines = []
    for name, hidden in PROMPTS:
        value = (getpass.getpass if hidden else input)(f"{customer} {name.replace('_', ' ')}: ").strip()
        lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n"


def ingest(args) -> int:
    if not (args.prompt or args.from_text or args.pack):
        raise AxeError("no pack given", f"axe customers ingest {args.customer} PACK.json (or --from-text FILE, --prompt)")
    settings = vault_session.for_command(args)

    def run(pack: str, fmt: str) -> int:
        return apply_flow.check_then_apply(
            args, settings, "customers_ingest", LOCALHOST,
            {"customer": args.customer, "pack": pack, "pack_format": fmt}, "ingest", _ingest_details,
            f"axe customers ingest {args.customer}", controller_for=args.customer)
    if args.prompt:
        with private_file(settings.state_dir, "pack-", _prompted_values(args.customer), ".txt") as pack:
            return run(pack, "text")
    if args.from_text:
        return run(os.path.abspath(args.from_text), "text")
    return run(os.path.abspath(args.pack), "json")


def add(args) -> int:
    settings = Settings.load().with_customers_file(args.customers_file)
    check_customer_id(args.customer)
    extravars = {"customer": args.customer}
    for key in ("legal_name", "primary_domain", "public_domain", "tailscale_host", "ssh_user"):
        if getattr(args, key):
            extravars[key] = getattr(args, key)
    if args.entity:
        extravars["entities"] = args.entity
    if args.entity_name:
        names = {}
        for item in args.entity_name:
            entity, sep, name = item.partition("=")
            if not sep or not entity or not name:
                raise AxeError(f"--entity-name {item!r} is not ID=NAME", "e.g. --entity-name 'zeta-kr=(주)제타코리아'")
            names[entity] = name
        extravars["entity_names"] = names
    return apply_flow.check_then_apply(
        args, settings, "customers_add", LOCALHOST, extravars, "add",
        lambda h, s: "created" if (s.get("entry") or {}).get("created") else "entry up to date",
        f"axe customers add {args.customer}", controller_for=args.customer)


def register(sub) -> None:
    customers = sub.add_parser("customers", help="the customer registry (customers.yaml) and pack ingest")
    cmds = customers.add_subparsers(dest="customers_command", required=True, metavar="COMMAND")
    p = cmds.add_parser("ingest", help="pack -> customers.yaml (SSO, manifest slots) + 3 client secrets -> vault")
    p.add_argument("customer")
    p.add_argument("pack", nargs="?", help="axelabs-bootstrap-{customer}.json")
    p.add_argument("--from-text", metavar="FILE", help="the 8 values as `name: value` lines instead of a JSON pack")
    p.add_argument("--prompt", action="store_true", help="ask for the 8 values (secrets hidden)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=ingest)
    p = cmds.add_parser("add", help="create (or update) a customer's entry stub")
    p.add_argument("customer")
    p.add_argument("--legal-name")
    p.add_argument("--primary-domain")
    p.add_argument("--public-domain", help="default {customer}.axelabs.ai")
    p.add_argument("--entity", action="append", help="an entity id (repeat for several)")
    p.add_argument("--entity-name", action="append", metavar="ID=NAME",
                   help="an entity's own legal name (repeat; default: the customer's legal name)")
    p.add_argument("--tailscale-host", help="default {customer}-macmini")
    p.add_argument("--ssh-user", help="the operator's account on the Mac mini (default axe)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=add)
