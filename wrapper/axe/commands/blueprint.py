"""`axe blueprint admin CUSTOMER EMAIL` (the runbook's D+1): the customer's admin, once they have signed in to
blueprint with Microsoft, gets blueprint's admin role. A dry run unless --apply: the plan reads their role and
writes nothing. Reads nothing from the operator's vault."""
from __future__ import annotations

from .. import apply_flow, collection, inventory
from ..settings import Settings


def describe(stats: dict) -> str:
    """The report: already admin, would grant (the plan), granted (the apply). A user who has not signed in
    fails the run instead, with the module's message and next step."""
    g = stats.get("blueprint_admin") or {}
    if not g:
        return ""
    email, before = g.get("email"), g.get("role_before")
    if not g.get("granted"):
        return f"{email}: already blueprint's admin, nothing to change"
    seen = f"; last signed in {g['last_sign_in_at']}" if g.get("last_sign_in_at") else ""
    if g.get("check_mode"):
        return f"{email}: would grant blueprint's admin role (now {before}){seen}"
    return f"{email}: granted blueprint's admin role (was {before})"


def admin(args) -> int:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    # The address is checked here, before any SSH, with the module's own rule (the module checks it again).
    collection.importable(settings)
    from ansible_collections.axelabs.onboard.plugins.module_utils import blueprint_admin
    blueprint_admin.check_email(args.email)
    source = inventory.for_registered_customer(settings, args.customer)  # checks the id (T25) first
    extravars = {"axe_target": args.customer, "blueprint_admin_email": args.email, "axe_lock_wait": args.lock_wait}
    return apply_flow.check_then_apply(args, settings, "blueprint_admin", source, extravars, "blueprint-admin",
                                       lambda _host, stats: describe(stats), f"axe blueprint admin {args.customer}")


def register(sub) -> None:
    p = sub.add_parser("blueprint", help="blueprint after its deploy: grant its admin role (D+1)")
    bsub = p.add_subparsers(dest="blueprint_command", required=True, metavar="SUBCOMMAND")
    a = bsub.add_parser("admin", help="make a user who has signed in to blueprint its admin (the runbook's D+1 "
                                      "UPDATE User SET role = 'admin'); dry run unless --apply")
    a.add_argument("customer")
    a.add_argument("email", help="the address the user signs in to Microsoft with")
    a.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    apply_flow.add_apply_flags(a)
    a.set_defaults(func=admin)
