"""`axe secret push|get`: one secret of a customer's service, by env name."""
from __future__ import annotations

import getpass
import sys

from .. import apply_flow, collection, vault_session
from ..commands.customers import LOCALHOST
from ..errors import AxeError
from ..private_files import private_file
from ..settings import Settings

# The runbook's words for the same vault items: `vaultwarden` is the vault role's service (its items are
# axe/CUSTOMER/vault/ENV); `cloudflare` is the operator's own Cloudflare token, not any customer's.
ALIASES = {"vaultwarden": "vault"}
OPERATOR = "operator"
OPERATOR_SECRETS = {"cloudflare": ["CLOUDFLARE_API_TOKEN"]}


def _service(args) -> str:
    """The vault service the arguments name, as the roles name it; the operator's own secrets only as the
    operator's."""
    service = ALIASES.get(args.service, args.service)
    if service in OPERATOR_SECRETS:
        if args.customer != OPERATOR or args.env not in OPERATOR_SECRETS[service]:
            allowed = ", ".join(OPERATOR_SECRETS[service])
            raise AxeError(f"--service {service} holds the operator's own {allowed}, not a customer's secret",
                           "axe secret push CLOUDFLARE_API_TOKEN --service cloudflare --customer operator --apply"
                           if args.secret_command == "push" else
                           "axe secret get CLOUDFLARE_API_TOKEN --service cloudflare --customer operator")
    elif args.customer == OPERATOR:
        raise AxeError(f"--customer {OPERATOR} holds the operator's own secrets (--service "
                       f"{', '.join(OPERATOR_SECRETS)}), not --service {args.service}",
                       "name the customer the secret belongs to: --customer CUSTOMER")
    else:
        collection.known_service(Settings.load(), service, "name the service whose manifest lists the secret "
                                 f"(vaultwarden = vault), or --service cloudflare --customer {OPERATOR}")
    return service


def _read_value() -> str:
    if sys.stdin.isatty():
        value = getpass.getpass("value (hidden): ")
    else:
        value = sys.stdin.read()
    value = value.rstrip("\n")
    if not value:
        raise AxeError("no value given", "type it at the hidden prompt, or pipe it on stdin")
    return value


def push(args) -> int:
    service = _service(args)
    settings = vault_session.for_command(args)
    with private_file(settings.state_dir, "value-", _read_value()) as path:
        return apply_flow.check_then_apply(
            args, settings, "secret_push", LOCALHOST,
            {"customer": args.customer, "service": service, "env_name": args.env, "value_file": path,
             "operator_secret": service in OPERATOR_SECRETS},
            "secret-push", lambda h, s: f"{(s.get('secret') or {}).get('name')}: {(s.get('secret') or {}).get('action')}",
            f"axe secret push {args.env}", controller_for=args.customer)


def get(args) -> int:
    """Prints the value and nothing else (reads need no playbook: nothing changes, nothing is logged)."""
    service = _service(args)
    settings = vault_session.for_command(args, quiet=True)  # the value and nothing else
    from ansible_collections.axelabs.onboard.plugins.module_utils import vault
    client = vault_session.client(settings)
    value = client.get(args.customer, service, args.env)  # a ProductError is the CLI's to show, as it is
    if value is None:
        raise AxeError(f"{vault.item_name(args.customer, service, args.env)} is not in the vault",
                       f"push it: axe secret push {args.env} --service {args.service} --customer {args.customer} --apply",
                       exit_code=1)
    sys.stdout.write(value + "\n")
    return 0


def register(sub) -> None:
    secret = sub.add_parser("secret", help="a customer's secrets in the vault, by env name")
    cmds = secret.add_subparsers(dest="secret_command", required=True, metavar="COMMAND")
    for name, fn, helptext in (("push", push, "push a value (hidden prompt or stdin); refused unless the manifest lists it"),
                               ("get", get, "print a value (and nothing else) to stdout")):
        p = cmds.add_parser(name, help=helptext)
        p.add_argument("env", help="the env name, e.g. AZURE_ACME_BLUEPRINT_CLIENT_SECRET")
        p.add_argument("--customer", required=True, help=f"the customer; `{OPERATOR}` for the operator's own secrets")
        p.add_argument("--service", required=True, metavar="SERVICE",
                       help="the service whose manifest lists it (frame, blueprint, hive, vault = vaultwarden: the "
                            "collection's services); cloudflare: the operator's CLOUDFLARE_API_TOKEN, with --customer operator")
        if name == "push":
            apply_flow.add_apply_flags(p)
        else:
            p.add_argument("--customers-file", help="customers.yaml to use")
        p.set_defaults(func=fn)
