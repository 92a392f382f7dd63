"""python3 -m frame.cli register-entity --id ID --legal-name NAME [--kind K] [--accounting-standard S]
                     list-entities
                     audit-summary

Prints one JSON object; exit 0 when done (registering an existing entity changes nothing)."""
import argparse
import json
import sys

from frame import pii, store


def main(argv):
    parser = argparse.ArgumentParser(prog="frame.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    reg = sub.add_parser("register-entity")
    reg.add_argument("--id", required=True)
    reg.add_argument("--legal-name", required=True)
    reg.add_argument("--kind", default="corporate")
    reg.add_argument("--accounting-standard", default="ksme")
    sub.add_parser("list-entities")
    sub.add_parser("audit-summary")
    args = parser.parse_args(argv)
    if args.command == "audit-summary":
        print(json.dumps(store.audit_summary()))
        return 0
    if args.command == "list-entities":
        print(json.dumps({"entities": store.entities()}))
        return 0
    try:
        pii.require(args.id)
    except RuntimeError as exc:
        print(json.dumps({"id": args.id, "error": str(exc)}))
        return 3
    created = store.register(args.id, args.legal_name, args.kind, args.accounting_standard)
    print(json.dumps({"id": args.id, "created": created}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
