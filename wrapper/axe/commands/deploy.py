"""`axe deploy SERVICE CUSTOMER`: one service of the collection's catalogue (frame, blueprint and hive through
the runbook's 13 steps, the customer's Vaultwarden as `axe deploy vault`), or the whole D-day (`customer`)."""
from __future__ import annotations

from .. import apply_flow, collection, inventory, vault_session
from ..errors import AxeError
from ..settings import Settings


def describe(d: dict) -> str:
    """One service's deploy report (its role's tasks/report.yml) as a line or two for the summary."""
    if not d:
        return ""
    if d.get("image"):  # a service run from an image (the vault), not built from a repository
        text = f"{d.get('service')} ({d.get('image')}): " + ("axe-vaultwarden recreated" if d.get("action") == "recreate" else "unchanged")
        if d.get("patched"):
            text += f"; keys patched: {', '.join(d['patched'])}"
        if d.get("health_seconds") not in ("", None):
            text += f"; /vault/alive in {d['health_seconds']} s"
        if d.get("sso_link"):
            text += f"\nemployees sign in at {d['sso_link']} (SSO identifier {d.get('sso_identifier')}, T15)"
        return text
    what = f"{d.get('service')} {d.get('ref')} ({str(d.get('commit', ''))[:12]})"
    if d.get("action") == "release":
        text = f"{what} -> {d.get('slot')}: {d.get('reason')}"
        if d.get("health_seconds") not in ("", None):
            text += f"; healthy in {d['health_seconds']} s"
    else:
        text = f"{what}: no release ({d.get('reason') or 'already live'})"
    if d.get("entities_registered"):
        text += f"; entities registered: {', '.join(d['entities_registered'])}"
    if d.get("generated"):
        text += f"; secrets generated: {len(d['generated'])}"
    return text


def _details(host: str, stats: dict) -> str:
    deploys = stats.get("deploys") or {}
    return "\n".join(describe(d) for d in deploys.values())


def run(args) -> int:
    if args.service == "customer":
        from . import dday
        return dday.run(args)
    definition = collection.known_service(Settings.load(), args.service, f"axe deploy SERVICE {args.customer} --apply, with a "
                                          f"service named above, or axe deploy customer {args.customer} for the whole D-day")
    built = "slots" in definition  # released from its repository by the engine; else run from an image (the vault)
    if args.from_pack or args.ship_log or args.reply_file or args.force_dns:
        raise AxeError("--from-pack, --ship-log, --reply-file and --force-dns are for the whole D-day",
                       f"axe deploy customer {args.customer} --from-pack PACK.json --apply")
    if args.health_timeout is not None and not 1 <= args.health_timeout <= 3600:
        raise AxeError(f"--health-timeout {args.health_timeout} is out of range", "give 1 to 3600 seconds")
    if args.rollback and args.ref:
        raise AxeError("--rollback and --ref contradict each other", "give one: --rollback goes back to the previous release")
    if not built and (args.ref or args.rollback or args.force):
        raise AxeError("--ref, --rollback and --force are for frame, blueprint and hive",
                       f"{args.service}'s image is a setting (AXE_VAULT_IMAGE); run axe deploy {args.service} {args.customer} --apply")
    settings = vault_session.for_command(args)  # secrets come from the vault
    source = inventory.for_registered_customer(settings, args.customer)
    extravars = {"axe_target": args.customer, "axe_service": args.service, "axe_lock_wait": args.lock_wait,
                 "service_rollback": args.rollback, "service_force": args.force}
    if args.ref:
        extravars["service_ref"] = args.ref
    if args.health_timeout is not None:
        extravars["service_health_timeout" if built else f"{args.service}_health_timeout"] = args.health_timeout
    what = "--rollback" if args.rollback else f"--ref {args.ref}" if args.ref else ""
    return apply_flow.check_then_apply(args, settings, "deploy", source, extravars, f"deploy-{args.service}", _details,
                                       f"axe deploy {args.service} {args.customer} {what}".strip())


def register(sub) -> None:
    p = sub.add_parser("deploy", help="the whole D-day (customer), or one service of the collection: frame, blueprint, "
                                      "hive (13 steps, blue/green) or the customer's Vaultwarden (vault)")
    p.add_argument("service", metavar="SERVICE",
                   help="customer: the whole D-day (ingest, preflight, cloudflared, every service, health); or a "
                        "service of the collection's catalogue (frame, blueprint, hive, vault)")
    p.add_argument("customer")
    p.add_argument("--ref", help="git ref to deploy: a tag (v1, v2), a branch or a commit (default: the one customers.yaml "
                                  "wants for the customer - services.SERVICE.CUSTOMER.ref, else releases.SERVICE, else "
                                  "main); recorded there once it is live")
    p.add_argument("--rollback", action="store_true", help="go back to the release that was live before the current one")
    p.add_argument("--force", action="store_true", help="release again even when nothing changed")
    p.add_argument("--health-timeout", type=int, metavar="SECONDS",
                   help="how long a new release may take to answer /health/ready (default: 60, the runbook's)")
    p.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    d_day = p.add_argument_group("the whole D-day (axe deploy customer CUSTOMER)")
    d_day.add_argument("--from-pack", metavar="PACK", help="the customer IT's axelabs-bootstrap-{customer}.json, ingested first")
    d_day.add_argument("--ship-log", metavar="PATH",
                       help="the Ship Log to append a line to on success (default: AXE_SHIP_LOG, else $AXE_STATE_DIR/ship-log.txt)")
    d_day.add_argument("--reply-file", metavar="PATH",
                       help="where to write the reply to the customer's IT (default: $AXE_STATE_DIR/replies/CUSTOMER-it-reply.md)")
    d_day.add_argument("--force-dns", action="store_true",
                       help="replace A/AAAA/CNAME records at the public name that axe does not own (T02)")
    apply_flow.add_apply_flags(p)
    p.set_defaults(func=run)
