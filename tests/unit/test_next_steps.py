"""Every next step the product prints is a command `axe` accepts as printed (issue 14, item 2).

The steps are collected from the code, not listed by hand: in Python, the `next_step=` of every error and the
advice (second argument) of every AxeError, and every `axe ...` in backticks in a string the code builds,
f-strings and %-formats included; in the roles and playbooks, every
`next_step:`, `msg:` and `fail_msg:`. The placeholders the code fills in
at run time get a real value of their kind (a customer id, a service, a ref, an env name) and each command is
parsed by `axe`'s own argument parser. A step that is a shape rather than a command (`axe customers add CUSTOMER
... --apply`) fails here: print one the operator can run.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from axe import cli

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = "customers|deploy|health|lock|onboard|ping|secret|vault|entity|status|rollout|blueprint|backup|check"
COMMAND = re.compile(r"\baxe (?:%s)\b[^\n`\"()\[;,|]*(?:\[[^\]\n]*\][^\n`\"()\[;,|]*)*" % COMMANDS)
FILL = "\x00"  # what the code fills in at run time


def _literal(node) -> str | None:
    """The text of a string expression, with every value filled at run time as FILL."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else FILL for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = _literal(node.left)
        return re.sub(r"%[sdr]", FILL, left) if left is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_literal(node.left), _literal(node.right)]
        return "".join(p if p is not None else FILL for p in parts)
    if isinstance(node, ast.IfExp):
        return " ; ".join(p for p in (_literal(node.body), _literal(node.orelse)) if p)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        base = _literal(node.func.value)
        return re.sub(r"\{[^{}]*\}", FILL, base) if base is not None else None
    return None


def _python_steps(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                  and isinstance(n.body[0], ast.Expr)}
    for node in ast.walk(tree):
        # A command in backticks in any string the code builds (not a docstring) is printed to be run.
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and id(node) not in docstrings:
            text = _literal(node) or ""
            for command in re.findall(r"`(axe [^`]+)`", text):
                yield node.lineno, re.sub(r"\{[a-z_]*\}", FILL, command)  # str.format's fields
        if isinstance(node, ast.Return) and node.value is not None:  # advice built by a function (lock_owner)
            text = _literal(node.value)
            if text:
                yield node.lineno, text
        if not isinstance(node, ast.Call):
            continue
        exprs = [k.value for k in node.keywords if k.arg in ("next_step", "next")]
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name in ("AxeError", "Interrupted") and len(node.args) > 1:
            exprs.append(node.args[1])
        if name == "finding" and len(node.args) > 2:  # trap_checks: finding(trap, problem, next step)
            exprs.append(node.args[2])
        for expr in exprs:
            text = _literal(expr)
            if text:
                yield node.lineno, text


def _yaml_steps(path: Path):
    text = path.read_text(encoding="utf-8")
    for found in re.finditer(r"^(\s*)(next_step|msg|fail_msg):\s*(>-?\s*\n((?:\1\s+.*\n)+)|.*)$", text, re.M):
        body = found.group(4) or found.group(3)
        yield text[:found.start()].count("\n") + 1, re.sub(r"\{\{.*?\}\}", FILL, " ".join(body.split()))


PROSE = {"or", "and", "then", "shows", "to", "when", "for", "with", "if", "after", "before", "instead", "again"}


def _command_only(text: str) -> str:
    """The command, without the sentence around it ("axe health acme shows the host's side" -> "axe health acme")."""
    words = []
    for word in text.split():
        if word in PROSE or "'" in word:
            break
        words.append(word)
    return " ".join(words).rstrip(".:")


def collected():
    steps = {}
    sources = [p for d in ("wrapper/axe", "plugins") for p in (ROOT / d).rglob("*.py")]
    sources += [p for d in ("roles", "playbooks") for p in (ROOT / d).rglob("*.yml") if "meta" not in p.parts]
    for path in sources:
        finder = _python_steps if path.suffix == ".py" else _yaml_steps
        for line, text in finder(path):
            for command in COMMAND.findall(text):
                steps.setdefault(_command_only(command), "%s:%d" % (path.relative_to(ROOT), line))
    return steps


# Words the operator replaces with what only they know (a legal name, the pack they were sent): the value of a
# flag, by the flag; the value of a position, by the word. Anything else must be printed as it is to be run.
PLACEHOLDERS = {"CUSTOMER": "acme", "PACK.json": "pack.json", "REF": "v1", "NAME": "Acme", "DOMAIN": "acme.example",
                "ID": "acme-kr", "EMAIL": "a@acme.example", "FILE": "members.json", "ENTITY": "acme-kr",
                "ADMIN_EMAIL": "a@acme.example", "STAFF_FILE": "staff.txt", "SERVICE": "frame"}
# A value of the right kind for what the code fills in, by the word before it.
KINDS = {"--service": "frame", "--ref": "v1", "--from-pack": "pack.json", "--customer": "acme", "--members": "m.json",
         "--legal-name": "Acme", "--primary-domain": "acme.example", "--entity": "acme-kr"}


def runnable(command: str) -> list[str]:
    words = command.split()[1:]
    argv = []
    for i, word in enumerate(words):
        before = words[i - 1] if i else ""
        if word in PLACEHOLDERS:
            word = PLACEHOLDERS[word]
        elif word == FILL or FILL in word:
            if before in KINDS:
                word = KINDS[before]
            elif before == "deploy":
                word = "frame"
            elif before == "push" or before == "get":
                word = "AZURE_ACME_FRAME_MCP_CLIENT_SECRET"
            else:
                word = word.replace(FILL, "acme")
        argv.append(word)
    return argv


STEPS = collected()


def test_the_collection_finds_the_steps_it_should():
    assert len(STEPS) > 20
    assert any(c.startswith("axe lock release") for c in STEPS)
    assert any(c.startswith("axe secret push") for c in STEPS)


@pytest.mark.parametrize("command", sorted(STEPS))
def test_each_printed_next_step_parses_with_axe(command):
    argv = runnable(command)
    assert "..." not in argv, "%s (%s) is a shape, not a command" % (command, STEPS[command])
    try:
        args = cli.parser().parse_args(argv)
    except SystemExit:
        pytest.fail("`%s` (%s) does not parse with axe" % (" ".join(["axe"] + argv), STEPS[command]))
    assert args.func


def test_the_later_days_the_d_day_prints_are_commands_axe_accepts():
    from axe import later_days
    steps = later_days.operator_steps("acme")
    assert [s["day"] for s in steps] == ["D+1", "D+1", "D+1", "D+2", "D+7"]
    for step in steps:
        argv = runnable(step["command"])
        assert cli.parser().parse_args(argv).func, step
