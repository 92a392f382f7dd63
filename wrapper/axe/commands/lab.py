"""`axe lab ...`: the lab's customer hosts (test and demo infrastructure, see lab/)."""
from __future__ import annotations

import sys

from rich.table import Table

from .. import report
from ..errors import AxeError


def _lab():
    try:
        from axe_lab import config
    except ImportError as exc:
        raise AxeError("the lab is not installed with this axe", "install from a checkout: scripts/setup.sh") from exc
    try:
        return config.Lab.from_env()
    except config.LabError as exc:
        raise AxeError(str(exc)) from exc


def _customers(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def _guard(fn):
    """Lab failures become operator errors with the next step."""
    def wrapped(args):
        from axe_lab.config import LabError
        try:
            return fn(args)
        except LabError as exc:
            raise AxeError(str(exc), "see `axe lab status`; `axe lab down` then `axe lab up` starts afresh") from exc
    return wrapped


@_guard
def up(args) -> int:
    from axe_lab import env, hosts
    lab = _lab()
    customers = _customers(args.hosts) or ["acme"]
    result = hosts.up(lab, customers, log=lambda m: report.err.print(f"[dim]lab: {m}[/dim]"))
    written = env.write_operator_config(lab)
    statuses = {**{h: "changed" for h in result["started"]}, **{h: "ok" for h in result["unchanged"]}}
    _summary(args, "axe lab up", statuses, result["hosts"],
             {"operator_config": str(written) if written else None})
    if args.json:
        return 0
    if written:
        report.out.print(f"axe now points at the lab (settings in {written})")
    else:
        report.out.print(f"you have your own {env.operator_config_path()}: run `eval \"$(axe lab env)\"` to use the lab")
    return 0


@_guard
def down(args) -> int:
    from axe_lab import env, hosts
    lab = _lab()
    result = hosts.down(lab, _customers(args.hosts) or None)
    if not hosts.states(lab):
        env.remove_operator_config()
    _summary(args, "axe lab down", {h: "changed" for h in result["removed"]}, {})
    if not args.json and not result["removed"]:
        report.out.print("nothing to remove")
    return 0


def _summary(args, title: str, statuses: dict[str, str], details: dict, extra: dict | None = None) -> None:
    """The per-host ending every axe command has: a table, or one JSON object."""
    if args.json:
        report.emit_json({"ok": sum(1 for s in statuses.values() if s == "ok"),
                          "changed": sum(1 for s in statuses.values() if s == "changed"),
                          "failed": sum(1 for s in statuses.values() if s == "failed"),
                          "hosts": {h: {"status": s, **(details.get(h) or {})} for h, s in sorted(statuses.items())},
                          **(extra or {})})
        return
    table = Table(title=title, title_justify="left")
    table.add_column("host")
    table.add_column("result")
    table.add_column("ssh")
    for host, status in sorted(statuses.items()):
        table.add_row(host, f"[{report.STYLE[status]}]{status}[/]", (details.get(host) or {}).get("ssh") or "-")
    report.out.print(table)


@_guard
def status(args) -> int:
    from axe_lab import hosts
    lab = _lab()
    rows = {h: s.as_dict() for h, s in sorted(hosts.states(lab).items())}
    if args.json:
        report.emit_json({"lab": lab.name, "ok": sum(r["running"] for r in rows.values()), "changed": 0,
                          "failed": sum(not r["running"] for r in rows.values()), "hosts": rows})
        return 0
    table = Table(title=f"lab {lab.name}", title_justify="left")
    for col in ("host", "running", "ssh", "magicdns", "image"):
        table.add_column(col)
    for row in rows.values():
        table.add_row(row["host"], "yes" if row["running"] else "no", row["ssh"] or "-", row["magicdns"], row["image"])
    report.out.print(table if rows else f"lab {lab.name}: no hosts (axe lab up --hosts acme)")
    return 0


@_guard
def env_cmd(args) -> int:
    from axe_lab import env
    sys.stdout.write(env.exports(_lab()))
    return 0


@_guard
def ssh(args) -> int:
    from axe_lab import hosts
    from axe_lab.config import host_name
    lab = _lab()
    target = args.host if args.host.endswith("-macmini") else host_name(args.host)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise AxeError("no command given", "axe lab ssh acme -- docker ps")
    return hosts.run_ssh(lab, target, command)


@_guard
def bw(args) -> int:
    """`axe lab bw -- ARGS`: the lab operator's real Bitwarden CLI (its state, the lab's CA), with its stdio."""
    import subprocess
    from axe_lab import services
    lab = _lab()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    exe = services.bin_dir(lab) / (f"bw-{args.version}" if args.version else "bw")
    if not exe.exists():
        raise AxeError(f"the lab has no {exe.name}", "run `axe lab up` (it installs the Bitwarden CLI)")
    return subprocess.call([str(exe), *command])


@_guard
def images(args) -> int:
    from axe_lab import images as img
    tag = img.ensure_host_image(log=lambda m: report.err.print(f"[dim]lab: {m}[/dim]"))
    report.emit_json({"host_image": tag}) if args.json else report.out.print(tag)
    return 0


@_guard
def tailnet(args) -> int:
    """Set a lab host's Tailscale state (traps T05/T06): online or offline, direct or relayed."""
    from axe_lab import services
    from axe_lab.config import host_name
    lab = _lab()
    target = args.host if args.host.endswith("-macmini") else host_name(args.host)
    peer = services.set_peer(lab, target, online=args.online, relayed=args.relayed)
    report.emit_json({target: peer}) if args.json else report.out.print(
        f"{target}: {'online' if peer['online'] else 'offline'}, {'relayed' if peer['relayed'] else 'direct'}")
    return 0


def register(sub) -> None:
    lab = sub.add_parser("lab", help="the lab: customer hosts to onboard into (test and demo)")
    cmds = lab.add_subparsers(dest="lab_command", required=True, metavar="COMMAND")
    p = cmds.add_parser("up", help="bring lab hosts up (idempotent; images are built once)")
    p.add_argument("--hosts", help="comma-separated customer ids (default: acme)")
    p.set_defaults(func=up)
    p = cmds.add_parser("down", help="remove lab hosts, their volumes and, when empty, the network")
    p.add_argument("--hosts", help="comma-separated customer ids (default: every host of this lab)")
    p.set_defaults(func=down)
    cmds.add_parser("status", help="list the lab's hosts").set_defaults(func=status)
    cmds.add_parser("env", help="print `export NAME=value` lines that point axe at the lab").set_defaults(func=env_cmd)
    cmds.add_parser("images", help="build the lab's images if missing, print the host image").set_defaults(func=images)
    p = cmds.add_parser("tailnet", help="set how the lab's tailscale shows a host (online/offline, direct/relayed)")
    p.add_argument("host", help="customer id or host name")
    p.add_argument("--online", dest="online", action="store_true", default=None)
    p.add_argument("--offline", dest="online", action="store_false")
    p.add_argument("--relayed", dest="relayed", action="store_true", default=None)
    p.add_argument("--direct", dest="relayed", action="store_false")
    p.set_defaults(func=tailnet)
    p = cmds.add_parser("bw", help="run the lab operator's real Bitwarden CLI (logged in to the lab's vault server)")
    p.add_argument("--cli-version", dest="version", metavar="X.Y.Z",
                   help="one of the installed CLI versions (default: the pinned one, as AXE_BW)")
    p.add_argument("command", nargs="*", help="-- ARGS (for example: axe lab bw -- --version)")
    p.set_defaults(func=bw)
    p = cmds.add_parser("ssh", help="run a command on a lab host as the operator would over SSH")
    p.add_argument("host", help="customer id or host name (acme or acme-macmini)")
    p.add_argument("command", nargs="*", help="-- COMMAND [ARGS...]")
    p.set_defaults(func=ssh)
