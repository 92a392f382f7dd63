"""`axe onboard CUSTOMER`: D-day step 2, the Cloudflare tunnel, DNS and cloudflared (steps 1-9)."""
from __future__ import annotations

from .. import apply_flow, inventory, vault_session


def _details(host: str, stats: dict) -> str:
    onboard = stats.get("onboard") or {}
    return (f"tunnel {onboard.get('tunnel_id', '?')} for {onboard.get('public_domain', '?')}; "
            f"/cdn-cgi/trace: {onboard.get('trace', '?')}")


def run(args) -> int:
    settings = vault_session.for_command(args)  # the play reads the Cloudflare token from the vault
    source = inventory.for_registered_customer(settings, args.customer)
    return apply_flow.check_then_apply(
        args, settings, "tunnel", source, {"axe_target": args.customer, "cloudflared_force_dns": args.force_dns,
                                           "axe_lock_wait": args.lock_wait},
        "onboard", _details, f"axe onboard {args.customer}")


def register(sub) -> None:
    p = sub.add_parser("onboard", help="the runbook's `onboard`: Cloudflare tunnel + DNS + cloudflared on the customer's Mac mini (its steps 1-9, "
                                       "playbooks/tunnel.yml); the whole D-day is `axe deploy customer CUSTOMER` (playbooks/onboard.yml)")
    p.add_argument("customer")
    p.add_argument("--force-dns", action="store_true",
                   help="replace A/AAAA/CNAME records at the public name that axe does not own (T02)")
    p.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=run)
