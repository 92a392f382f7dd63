"""`axe`: the operator's entry point. Parses arguments, dispatches, turns errors into advice."""
from __future__ import annotations

import argparse
import sys
import time

from . import __version__, journal, report
from .commands import customers, deploy, health, lab, onboard, ping, secret, vault
from .errors import AxeError
from .settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="axe",
        description="Onboard a customer onto the AXE Labs stack. Changing commands are dry runs unless --apply.",
    )
    p.add_argument("--version", action="version", version=f"axe {__version__}")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of tables")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (customers, secret, onboard, deploy, vault, health, ping, lab):
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    # `--json` is accepted after the subcommand too (axe ping acme --json).
    args_in = list(sys.argv[1:] if argv is None else argv)
    json_flag = "--json" in args_in and "--" not in args_in[: args_in.index("--json")]
    if json_flag:
        args_in.remove("--json")
    args = p.parse_args(args_in)
    args.json = args.json or json_flag
    started = time.monotonic()
    code = 1
    try:
        code = _dispatch(args)
        return code
    finally:
        journal.record(_state_dir(), ["axe", *args_in], code, time.monotonic() - started)


def _state_dir():
    try:
        return Settings.load().state_dir
    except AxeError:
        return Settings.default_state_dir()


def _dispatch(args) -> int:
    try:
        return args.func(args)
    except AxeError as exc:
        if args.json:
            report.emit_json({"ok": 0, "changed": 0, "failed": 1, "hosts": {}, "error": exc.message,
                              "next": exc.next_step})
        report.err.print(f"[red]error:[/red] {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        report.err.print("[red]interrupted[/red]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
