"""The documentation gates: the changelog (antsibull-changelog), the collection's docs (antsibull-docs), ruff.

Each runs the real tool from the virtualenv over the real tree, with a timeout, and fails with the tool's
own output. None needs the lab. Nothing is written into the checkout: generated files go to tmp_path.
"""
from __future__ import annotations

import ast
import os
import subprocess

import yaml

from helpers.lab import ROOT, VENV_BIN

COLLECTIONS = ROOT / ".collections"
PLUGIN_PAGES = ("lookup", "filter", "inventory", "callback")  # action plugins carry no docs of their own


def _env(**extra):
    env = {**os.environ, **extra}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    env.pop("ANSIBLE_CONFIG", None)
    return env


def _run(args, timeout, **env):
    run = subprocess.run([str(VENV_BIN / args[0]), *args[1:]], cwd=ROOT, env=_env(**env), capture_output=True,
                         text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return run, f"$ {' '.join(args)} -> {run.returncode}\n{run.stdout[-6000:]}\n{run.stderr[-4000:]}"


# ---- the changelog ----------------------------------------------------------------------------------------
def test_changelog_fragments_and_changelog_yaml_lint_clean():
    run, output = _run(["antsibull-changelog", "lint"], 120)
    assert run.returncode == 0 and not run.stdout.strip(), output
    run, output = _run(["antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml"], 120)
    assert run.returncode == 0 and not run.stdout.strip(), output


def test_changelog_md_is_what_antsibull_changelog_generates(tmp_path):
    generated = tmp_path / "CHANGELOG.md"
    run, output = _run(["antsibull-changelog", "generate", "--output", str(generated), "--output-format", "md"], 120)
    assert run.returncode == 0 and generated.is_file(), output
    assert (ROOT / "CHANGELOG.md").read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), (
        "CHANGELOG.md is not what `antsibull-changelog generate` writes from changelogs/changelog.yaml: "
        "edit changelogs/ (a fragment, or the release), then run `antsibull-changelog generate`")


# ---- the collection's docs --------------------------------------------------------------------------------
def _has_documentation(path):
    if path.suffix in (".yml", ".yaml"):  # a filter or test plugin documented beside its code
        return "DOCUMENTATION" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets)
               for node in tree.body)


def expected_pages():
    """The page antsibull-docs writes for every module, documented plugin and role, from the tree."""
    pages = {f"{p.stem}_module.rst" for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.name.startswith("_")}
    for kind in PLUGIN_PAGES:
        for path in sorted((ROOT / "plugins" / kind).glob("*")):
            if path.name.startswith("_") or path.suffix not in (".py", ".yml", ".yaml"):
                continue
            if path.suffix == ".py" and path.with_suffix(".yml").is_file():
                continue  # the documentation is the .yml beside it
            if _has_documentation(path):
                pages.add(f"{path.stem}_{kind}.rst")
    pages |= {f"{role.name}_role.rst" for role in (ROOT / "roles").iterdir()
              if (role / "meta" / "argument_specs.yml").is_file()}
    return pages


def test_antsibull_docs_writes_a_page_for_every_module_plugin_and_role(tmp_path):
    assert (COLLECTIONS / "ansible_collections" / "axelabs" / "onboard" / "galaxy.yml").is_file(), (
        f"{COLLECTIONS} does not hold the checkout as axelabs.onboard: run `. scripts/setup.sh`")
    dest = tmp_path / "docs"
    dest.mkdir()
    run, output = _run(["antsibull-docs", "collection", "--use-current", "--dest-dir", str(dest), "axelabs.onboard"], 600,
                       ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    assert run.returncode == 0, output
    written = dest / "collections" / "axelabs" / "onboard"
    pages = {p.name for p in written.glob("*.rst")} if written.is_dir() else set()
    expected = expected_pages()
    assert len(expected) > 20, sorted(expected)  # the tree was read
    missing = sorted(expected - pages)
    assert not missing, f"antsibull-docs wrote no page for: {', '.join(missing)}\n{output}"
    broken = sorted(p.name for p in written.glob("*.rst")
                    if "There were some errors parsing the documentation" in p.read_text(encoding="utf-8"))
    assert not broken, f"antsibull-docs could not parse the documentation of: {', '.join(broken)}"


def test_antsibull_docs_lint_collection_docs_with_plugin_docs_is_clean():
    run, output = _run(["antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], 600,
                       ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS))
    assert run.returncode == 0 and not run.stdout.strip(), output


# ---- ruff -------------------------------------------------------------------------------------------------
def test_ruff_check_is_clean():
    run, output = _run(["ruff", "check", "--no-cache", "--output-format", "concise", "wrapper", "lab", "plugins",
                        "scripts", "tests"], 300)
    assert run.returncode == 0, output
