"""python3 -m blueprint.db show-user -- EMAIL | set-role --role ROLE -- EMAIL

blueprint's user-table command, what the operator `docker exec`s into blueprint-app instead of typing SQL into
`pnpm prisma db execute --stdin`: the email is an argv word (after `--`, so no address reads as an option) and
goes into the statement as a parameter. Each prints one JSON object, {"user": {...} or null}; set-role adds
"changed", and exits 3 when nobody with that email has signed in yet (nothing written)."""
import argparse
import json
import sys

from blueprint import users

NO_USER = 3


def main(argv):
    parser = argparse.ArgumentParser(prog="blueprint.db")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show-user").add_argument("email")
    grant = sub.add_parser("set-role")
    grant.add_argument("--role", required=True, choices=["user", "admin"])
    grant.add_argument("email")
    args = parser.parse_args(argv)
    if args.command == "show-user":
        print(json.dumps({"user": users.find(args.email)}))
        return 0
    user, changed = users.set_role(args.email, args.role)
    if user is None:
        print(json.dumps({"user": None, "error": "no user with this email: they have not signed in yet"}))
        return NO_USER
    print(json.dumps({"user": user, "changed": changed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
