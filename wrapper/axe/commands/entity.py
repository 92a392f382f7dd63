"""`axe entity add CUSTOMER ENTITY --legal-name NAME`: the runbook's D+1 deploy-new-entity.sh, generalized. The entity
goes into customers.yaml, its two PII passphrases into the vault (T16), and it is registered in frame and mirrored in
hive through a release of each (the engine of `axe deploy`). A dry run unless --apply; again, it changes nothing."""
from __future__ import annotations

import re

from .. import apply_flow, inventory, vault_session
from ..errors import AxeError
from .deploy import describe

ENTITY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
SETTING_WORD = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def _details(host: str, stats: dict) -> str:
    e = stats.get("entity") or {}
    lines = [f"entity {e.get('id')}: " + ("added to customers.yaml" if e.get("added") else "already in customers.yaml")]
    lines += [describe(d) for d in (stats.get("deploys") or {}).values()]
    return "\n".join(lines)


def add(args) -> int:
    if not ENTITY_ID.match(args.entity):
        raise AxeError(f"{args.entity!r} is not an entity id", "lowercase letters, digits, - and _, e.g. acme-us")
    if not args.legal_name.strip():
        raise AxeError("--legal-name is empty", "give the entity's legal name (법인명) as registered")
    settings = {}
    for key in ("kind", "accounting_standard"):
        value = getattr(args, key)
        if value is not None:
            if not SETTING_WORD.match(value):
                raise AxeError(f"--{key.replace('_', '-')} {value!r} is not one word", "e.g. --kind corporate "
                               "--accounting-standard ksme")
            settings[key] = value
    settings_ = vault_session.for_command(args)  # the passphrases go to the vault
    source = inventory.for_registered_customer(settings_, args.customer)
    extravars = {"axe_target": args.customer, "entity_id": args.entity, "entity_legal_name": args.legal_name,
                 "entity_settings": settings, "axe_lock_wait": args.lock_wait}
    return apply_flow.check_then_apply(args, settings_, "entity_add", source, extravars, "entity-add", _details,
                                       f"axe entity add {args.customer} {args.entity}")


def register(sub) -> None:
    p = sub.add_parser("entity", help="the customer's entities (the runbook's D+1): add one, registered in frame and hive")
    esub = p.add_subparsers(dest="entity_command", required=True, metavar="SUBCOMMAND")
    a = esub.add_parser("add", help="add an entity: customers.yaml, its PII passphrases in the vault, frame and hive")
    a.add_argument("customer")
    a.add_argument("entity", help="the entity id (lowercase, e.g. acme-us)")
    a.add_argument("--legal-name", required=True, help="the entity's legal name (법인명), as registered")
    a.add_argument("--kind", help="how frame registers it (default corporate)")
    a.add_argument("--accounting-standard", help="frame's accounting standard for it (default ksme)")
    a.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    apply_flow.add_apply_flags(a)
    a.set_defaults(func=add)
