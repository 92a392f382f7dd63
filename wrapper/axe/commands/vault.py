"""`axe vault bootstrap CUSTOMER` (D-ops-33), `axe vault session CUSTOMER` (the runbook's D-day step 3) and
`axe vault org CUSTOMER` (D+2): the customer's Vaultwarden after `axe deploy vault`. None reads the operator's vault."""
from __future__ import annotations

from pathlib import Path

from .. import apply_flow, collection, inventory, report
from ..errors import AxeError
from ..runner import run_playbook
from ..settings import Settings


def _settings(args) -> tuple[Settings, str]:
    settings = Settings.load().with_customers_file(getattr(args, "customers_file", None))
    source = inventory.for_registered_customer(settings, args.customer)  # checks the id (T25) first
    return settings, source


def _bootstrap_details(host: str, stats: dict) -> str:
    b = stats.get("vault_bootstrap") or {}
    if not b:
        return ""
    lines = []
    for f in b.get("findings") or []:
        now = "missing" if f.get("now") is None else repr(f["now"])
        mark = "ok" if f.get("action") == "ok" else f"{f.get('action')} -> {f.get('wanted')!r}"
        lines.append(f"{f.get('key')}: {now} ({mark}){' ' + f['trap'] if f.get('trap') else ''}")
    lines.append("axe-vaultwarden " + ("recreated" if b.get("recreated") else "not recreated"))
    return "\n".join(lines)


def bootstrap(args) -> int:
    settings, source = _settings(args)
    return apply_flow.check_then_apply(
        args, settings, "vault_bootstrap", source, {"axe_target": args.customer, "axe_lock_wait": args.lock_wait},
        "vault-bootstrap", _bootstrap_details, f"axe vault bootstrap {args.customer}")


def _session_details(host: str, stats: dict) -> str:
    s = stats.get("vault_session") or {}
    if not s:
        return ""
    if s.get("ready"):
        return f"session works over SSH ({s.get('source')}, bw {s.get('status')})"
    found = "; ".join(f"{k}={v}" for k, v in sorted(s.items()) if k not in ("ready", "next", "command"))
    return (f"does not work yet ({found})\nnext: customer IT runs, at the Mac mini or over ssh -t:\n  {s.get('command')}\n"
            f"then: axe vault session {host} --verify")


def session(args) -> int:
    settings, source = _settings(args)
    extravars = {"axe_target": args.customer, "vault_session_keychain": args.keychain}
    if args.email:
        extravars["vault_session_email"] = args.email
    if args.url:
        extravars["vault_session_url"] = args.url
    if not args.verify:
        return apply_flow.check_then_apply(args, settings, "vault_session", source, extravars, "vault-session",
                                           _session_details, f"axe vault session {args.customer}")
    # --verify changes nothing: one check run that fails unless the session works.
    extravars["vault_session_verify"] = True
    result = run_playbook(settings, "vault_session", source, check=True, extravars=extravars,
                          label="vault-session-verify", on_event=report.Progress(not args.json))
    return report.finish(result, args.json, f"axe vault session {args.customer} --verify", _session_details,
                         {"mode": "verify", "applied": False})


def _org_details(host: str, stats: dict) -> str:
    o = stats.get("vault_org") or {}
    if not o:
        return ""
    org = o.get("organization") or {}
    lines = [f"organization {org.get('name')} (the SSO identifier)" + (" created" if org.get("created") else "")]
    lines += [f"collection {c['name']}: {c['state']}" + (" (staff read/write)" if c.get("staff") else " (operator only)")
              for c in o.get("collections") or []]
    lines += [f"member {m['email']}: {m['type']}, {m['status']}" for m in o.get("members") or []]
    lines += [f"- {a}" for a in o.get("actions") or []]
    lines += [f"finding: {f}" for f in o.get("findings") or []]
    return "\n".join(lines)


def org(args) -> int:
    settings, source = _settings(args)
    extravars = {"axe_target": args.customer, "vault_org_keychain": args.keychain}
    if args.admin:
        extravars["vault_org_admin"] = args.admin
    if args.members:
        # Read here first, so a bad line is named (with its number) before anything reaches the host.
        collection.importable(settings)
        from ansible_collections.axelabs.onboard.plugins.module_utils import vaultwarden_org
        from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError
        path = Path(args.members).expanduser().resolve()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AxeError(f"cannot read the members file {path}: {exc}", "give a text file, one email per line")
        try:
            vaultwarden_org.parse_members(text, str(path))
        except ProductError as exc:
            raise AxeError.from_product(exc) from exc
        extravars["vault_org_members_file"] = str(path)
    if args.ca_file:
        extravars["vault_org_ca_file"] = args.ca_file
    return apply_flow.check_then_apply(args, settings, "vault_org", source, extravars, "vault-org", _org_details,
                                       f"axe vault org {args.customer}")


def register(sub) -> None:
    p = sub.add_parser("vault", help="the customer's Vaultwarden: the bootstrap patch, the customer-side session")
    vsub = p.add_subparsers(dest="vault_command", required=True, metavar="SUBCOMMAND")

    b = vsub.add_parser("bootstrap", help="check (and with --apply patch) the four SSO keys and DOMAIN, "
                                          "recreating axe-vaultwarden once (D-ops-33)")
    b.add_argument("customer")
    b.add_argument("--lock-wait", type=int, default=0, metavar="SECONDS",
                   help="wait this long for another run's lock on the host (default: fail at once, naming the holder)")
    apply_flow.add_apply_flags(b)
    b.set_defaults(func=bootstrap)

    s = vsub.add_parser("session", help="push the helper customer IT runs once for the customer-side vault session, "
                                        "and check it works over SSH (D-day step 3)")
    s.add_argument("customer")
    s.add_argument("--email", help="the vault account (default: ai@PRIMARY_DOMAIN, the automation identity)")
    s.add_argument("--url", help="the vault server bw logs in to (default: https://PUBLIC_DOMAIN/vault)")
    s.add_argument("--keychain", action="store_true",
                   help="the session lives in the login Keychain (axe.vault.session) instead of ~/.bw-session")
    s.add_argument("--verify", action="store_true",
                   help="change nothing; exit 0 only when the session works non-interactively over SSH")
    apply_flow.add_apply_flags(s)
    s.set_defaults(func=session)

    o = vsub.add_parser("org", help="the vault organization (CUSTOMER in capitals, the SSO identifier), its Owners, "
                                    "collection structure v1 and the staff's invites (D+2)")
    o.add_argument("customer")
    o.add_argument("--admin", metavar="EMAIL",
                   help="the real admin (a person), Owner beside ai@PRIMARY_DOMAIN; required the first time")
    o.add_argument("--members", metavar="FILE",
                   help="staff to invite: one email per line (blank lines and # comments ignored)")
    o.add_argument("--keychain", action="store_true",
                   help="the customer-side session is in the login Keychain (axe.vault.session), not ~/.bw-session")
    o.add_argument("--ca-file", metavar="PATH",
                   help="on the Mac mini: a CA to trust for the vault's HTTPS besides the system's (as NODE_EXTRA_CA_CERTS "
                        "is for bw); the public edge's certificate needs none")
    apply_flow.add_apply_flags(o)
    o.set_defaults(func=org)
