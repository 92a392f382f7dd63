"""docs/traps.md stays in step with the product and the tests.

(a) every trap id (Txx) the product mentions has a `## Txx - title` section;
(b) every test a section names under "Reproduced by:" exists (the file, and `def test_name` in it);
(c) no section for an id the product never mentions, unless the section says so.
Pure Python: reads files only.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "traps.md"
PRODUCT_DIRS = ("plugins", "roles", "playbooks", "wrapper", "schemas")
TRAP_ID = re.compile(r"\bT\d{2}\b")
SECTION = re.compile(r"^## (T\d{2})\b(.*)$", re.M)
NODE_ID = re.compile(r"`(tests/[^`\s]+?\.py)((?:::[A-Za-z_][A-Za-z0-9_]*)+)(\[[^`]*\])?`")
NOT_IN_PRODUCT = "not mentioned by the product"  # what a section for such an id must say


def product_ids() -> dict[str, list[str]]:
    """{trap id: [file:line where the product mentions it]}, over the product's text files."""
    found: dict[str, list[str]] = {}
    for top in PRODUCT_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for trap in TRAP_ID.findall(line):
                    found.setdefault(trap, []).append(f"{path.relative_to(ROOT)}:{number}")
    return found


def sections() -> dict[str, str]:
    """{trap id: the section's text, heading included}."""
    text = CATALOGUE.read_text(encoding="utf-8")
    heads = list(SECTION.finditer(text))
    out: dict[str, str] = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[head.start():end]
        nxt = re.search(r"^## ", body[3:], re.M)  # a non-trap section (## Decision ...) ends it too
        out.setdefault(head.group(1), body[:nxt.start() + 3] if nxt else body)
    return out


def reproduced_by(section: str) -> str:
    at = section.find("Reproduced by:")
    return section[at:] if at >= 0 else ""


def test_the_catalogue_exists_and_has_one_section_per_id():
    assert CATALOGUE.is_file(), f"{CATALOGUE.relative_to(ROOT)} is missing"
    ids = [m.group(1) for m in SECTION.finditer(CATALOGUE.read_text(encoding="utf-8"))]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"docs/traps.md has more than one section for {', '.join(twice)}"


def test_every_trap_id_the_product_mentions_has_a_section():
    mentioned, documented = product_ids(), sections()
    assert mentioned, f"no trap id found under {', '.join(PRODUCT_DIRS)}: is the search broken?"
    missing = sorted(set(mentioned) - set(documented))
    assert not missing, "docs/traps.md has no `## Txx - title` section for: " + "; ".join(
        f"{trap} (mentioned at {', '.join(mentioned[trap][:3])})" for trap in missing)


def test_every_section_says_what_reproduces_it():
    without = sorted(trap for trap, body in sections().items() if "Reproduced by:" not in body)
    assert not without, f"sections without a `Reproduced by:` line: {', '.join(without)}"
    empty = sorted(trap for trap, body in sections().items()
                   if not NODE_ID.search(reproduced_by(body)) and "Reproduced by: none yet" not in body)
    assert not empty, ("sections naming no test (write `Reproduced by: none yet` and why, or name "
                       f"`tests/...py::test_name`): {', '.join(empty)}")


def test_every_named_test_exists():
    problems = []
    for trap, body in sorted(sections().items()):
        for match in NODE_ID.finditer(reproduced_by(body)):
            path, parts = match.group(1), match.group(2).split("::")[1:]
            file = ROOT / path
            if not file.is_file():
                problems.append(f"{trap}: {path} does not exist")
                continue
            source = file.read_text(encoding="utf-8")
            for cls in parts[:-1]:
                if not re.search(rf"^\s*class {re.escape(cls)}\b", source, re.M):
                    problems.append(f"{trap}: {path} has no class {cls}")
            if not re.search(rf"^\s*(?:async\s+)?def {re.escape(parts[-1])}\(", source, re.M):
                problems.append(f"{trap}: {path} has no `def {parts[-1]}`")
    assert not problems, "docs/traps.md names tests that do not exist:\n" + "\n".join(problems)


def test_no_section_for_an_id_the_product_never_mentions():
    mentioned = product_ids()
    stray = sorted(trap for trap, body in sections().items() if trap not in mentioned and NOT_IN_PRODUCT not in body)
    assert not stray, (f"docs/traps.md has sections for ids the product never mentions: {', '.join(stray)} "
                       f"(remove them, or say `{NOT_IN_PRODUCT}` in the section)")


@pytest.mark.parametrize("text, expected", [
    ("Reproduced by: `tests/unit/test_x.py::test_a[hive]`, `tests/lab/t.py::C::test_b`",
     [("tests/unit/test_x.py", "::test_a"), ("tests/lab/t.py", "::C::test_b")]),
    ("Reproduced by: none yet (needs a real Mac mini)", []),
])
def test_the_node_id_pattern(text, expected):
    assert [(m.group(1), m.group(2)) for m in NODE_ID.finditer(text)] == expected
