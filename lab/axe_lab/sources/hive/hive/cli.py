"""python3 -m hive.cli register-entity --id ID --legal-name NAME | list-entities

Mirrors frame's entities; the same two PII passphrases must be in the environment (trap T16)."""
import argparse
import json
import os
import re
import sys

from hive import store


def main(argv):
    parser = argparse.ArgumentParser(prog="hive.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    reg = sub.add_parser("register-entity")
    reg.add_argument("--id", required=True)
    reg.add_argument("--legal-name", required=True)
    sub.add_parser("list-entities")
    args = parser.parse_args(argv)
    if args.command == "list-entities":
        print(json.dumps({"entities": store.entities()}))
        return 0
    stem = re.sub(r"[^A-Z0-9]", "_", args.id.upper())
    missing = [n for n in ("PII_%s_PASSPHRASE_1" % stem, "PII_%s_PASSPHRASE_2" % stem) if not os.environ.get(n)]
    if missing:
        print(json.dumps({"id": args.id, "error": "PII passphrases not configured: " + ", ".join(missing)}))
        return 3
    print(json.dumps({"id": args.id, "created": store.register(args.id, args.legal_name)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
