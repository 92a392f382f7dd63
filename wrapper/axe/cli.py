"""`axe`: the operator's entry point. Parses arguments, dispatches, turns errors into advice."""
from __future__ import annotations

import argparse
import sys
import time

from . import __version__, interrupt, journal, private_files, report, secret_env
from .commands import (backup, blueprint, check, customers, deploy, entity, health, lab, lock, onboard, ping, rollout,
                       secret, status, vault)
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
    for module in (customers, secret, onboard, deploy, entity, vault, blueprint, backup, rollout, status, check, health, ping,
                   lock, lab):
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
    interrupt.install()
    secret_env.withdraw()  # no run inherits a secret-bearing variable; ansible-runner writes runs' env to disk
    started = time.monotonic()
    code = 1
    state_dir = _state_dir()
    try:
        private_files.sweep(state_dir)  # what a run killed with SIGKILL left behind
        code = _dispatch(args)
        return code
    finally:
        journal.record(state_dir, ["axe", *args_in], code, time.monotonic() - started)


def _state_dir():
    try:
        return Settings.load().state_dir
    except AxeError:
        return Settings.default_state_dir()


def _dispatch(args) -> int:
    try:
        code = args.func(args)
        interrupt.check()  # a signal that came while a run was winding down
        return code
    except interrupt.Interrupted as exc:
        _interrupted(args, exc)
        return exc.exit_code
    except Exception as caught:  # pylint: disable=broad-except - anything else is re-raised as it is
        # The boundary: the collection's errors become the CLI's here, and only here, every field kept.
        if isinstance(caught, AxeError):
            exc = caught
        elif _is_product_error(caught):
            exc = AxeError.from_product(caught)
        else:
            raise
        if args.json:
            report.emit_json({"ok": 0, "changed": 0, "failed": 1, "hosts": {}, **exc.as_json()})
        report.err.print(f"[red]error:[/red] {exc}")
        return exc.exit_code
    except KeyboardInterrupt:  # before axe's own handler was installed
        report.err.print("[red]interrupted[/red]")
        return 130


def _is_product_error(exc: Exception) -> bool:
    """A ProductError of the collection's code: its module is loaded when one was raised."""
    validation = sys.modules.get("ansible_collections.axelabs.onboard.plugins.module_utils.validation")
    return validation is not None and isinstance(exc, validation.ProductError)


def _interrupted(args, exc: interrupt.Interrupted) -> None:
    """The one way every command reports an interruption: what the run reached, never "ok" or "no change"."""
    result = exc.result
    if args.json:
        extra = {k: v for k, v in exc.extra.items() if k != "reported"}  # a note between commands, not output
        payload = report.as_json(result, extra) if result else {"ok": 0, "changed": 0, "failed": 0, "hosts": {}}
        payload.update(interrupted=True, signal=interrupt.NAMES.get(exc.signum, exc.signum), error=exc.message,
                       next=exc.next_step)
        report.emit_json(payload)
        return
    if result is not None and not exc.extra.get("reported"):
        report.summary(result, f"{getattr(args, 'command', 'axe')}: interrupted")
    report.err.print(f"[red]error:[/red] {exc}", soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
