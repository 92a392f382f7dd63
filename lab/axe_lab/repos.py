"""The stand-in services' git repositories, and the lab's git server that the hosts clone from.

Built from `sources/` into `$state/lab/<name>/repos/*.git` whenever the sources change, with
fixed author and dates so the commit ids are the same on every machine. Each service gets the
refs `v1` (the default), `v2` (a new served version) and `broken` (fails its health check);
`main` is at v2. frame carries `frame-assets` as a submodule at `assets/`, by a relative URL, so
it resolves against whatever server the clone came from.

The server is `git daemon` in the container `{lab}-git` on the lab's network: hosts reach it as
`git://{lab}-git/<service>.git` (`AXE_REPO_BASE` in `axe lab env`).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import shell
from .config import Lab
from .files import atomic_write

SOURCES = Path(__file__).parent / "sources"
SERVICES = ("frame", "blueprint", "hive")
PROXIED = SERVICES                   # every service serves through the nginx proxy from _common
REFS = (("v1", "1.0.0", None), ("v2", "2.0.0", None),
        ("broken", "2.0.1", "migration 0007 failed: relation \"ledger_v3\" does not exist"))
GIT_PORT = 9418
_ENV = {"GIT_AUTHOR_NAME": "AXE Labs lab", "GIT_AUTHOR_EMAIL": "lab@axelabs.invalid",
        "GIT_COMMITTER_NAME": "AXE Labs lab", "GIT_COMMITTER_EMAIL": "lab@axelabs.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def repos_dir(lab: Lab) -> Path:
    return lab.state_dir / "repos"


def server_name(lab: Lab) -> str:
    return f"{lab.name}-git"


def repo_base(lab: Lab) -> str:
    return f"git://{server_name(lab)}"


def _sources_hash() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())   # how they are built counts too
    for path in sorted(p for p in SOURCES.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(SOURCES)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _git(cwd: Path, *argv: str, date: int = 0) -> str:
    stamp = f"{1793491200 + date * 3600} +0000"   # 2026-11-01, an hour per commit
    env = dict(os.environ, **_ENV, GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
    return subprocess.run(["git", *argv], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def _commit(work: Path, message: str, date: int) -> str:
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "--message", message, date=date)
    return _git(work, "rev-parse", "HEAD")


def _publish(work: Path, bare: Path) -> None:
    _git(bare.parent, "init", "--quiet", "--bare", "--initial-branch", "main", str(bare))
    _git(work, "push", "--quiet", "--tags", str(bare), "main")
    (bare / "git-daemon-export-ok").touch()


def _build_assets(out: Path) -> str:
    work = out / "work-frame-assets"
    shutil.copytree(SOURCES / "frame-assets", work)
    _git(work, "init", "--quiet", "--initial-branch", "main")
    commit = _commit(work, "frame brand assets", 0)
    _publish(work, out / "frame-assets.git")
    return commit


def _build_service(out: Path, service: str, assets_commit: str) -> None:
    work = out / f"work-{service}"
    shutil.copytree(SOURCES / service, work)
    shutil.copy2(SOURCES / "_common" / "standin.py", work / "standin.py")
    if service in PROXIED:
        shutil.copytree(SOURCES / "_common" / "proxy", work / "proxy")
    _git(work, "init", "--quiet", "--initial-branch", "main")
    if service == "frame":
        (work / ".gitmodules").write_text('[submodule "assets"]\n\tpath = assets\n\turl = ../frame-assets.git\n')
        # A nested checkout: `git add` records it as the gitlink of the submodule.
        _git(work, "clone", "--quiet", str(out / "frame-assets.git"), "assets")
        if _git(work / "assets", "rev-parse", "HEAD") != assets_commit:
            raise RuntimeError("frame-assets was not built as expected")
    for n, (ref, version, broken) in enumerate(REFS, start=1):
        if ref == "broken":
            _git(work, "checkout", "--quiet", "-b", "broken-line")
            (work / "BROKEN").write_text(broken + "\n")
        (work / "VERSION").write_text(version + "\n")
        _commit(work, f"{service} {version}", n)
        _git(work, "tag", ref)
    _git(work, "checkout", "--quiet", "main")   # main stays at v2; `broken` is a side line
    _publish(work, out / f"{service}.git")


def ensure_repos(lab: Lab, log=print) -> Path:
    """Build the repositories unless the sources are unchanged since the last build."""
    target = repos_dir(lab)
    stamp = _sources_hash()
    if (target / ".sources").exists() and (target / ".sources").read_text() == stamp:
        return target
    log("building the stand-in service repositories (frame, blueprint, hive)")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="axelab-repos-", dir=target.parent) as tmp:
        out = Path(tmp)
        assets = _build_assets(out)
        for service in SERVICES:
            _build_service(out, service, assets)
        # Swap each repository in by rename: the server keeps serving the directory it mounts.
        for bare in out.glob("*.git"):
            old = target / (bare.name + ".old")
            if (target / bare.name).exists():
                (target / bare.name).rename(old)
            bare.rename(target / bare.name)
            shutil.rmtree(old, ignore_errors=True)
    atomic_write(target / ".sources", stamp)
    return target


def ensure_server(lab: Lab, image: str) -> None:
    """`git daemon` serving the repositories read-only on the lab's network."""
    from . import services
    services.ensure_container(lab, image, server_name(lab), "git", repos_dir(lab), [], [
        "daemon", "--reuseaddr", "--export-all", "--base-path=/var/lib/axelab", f"--port={GIT_PORT}",
        "--informative-errors", "/var/lib/axelab"], entrypoint="git")


def refs(lab: Lab, service: str) -> dict[str, str]:
    """{ref: commit} of a service repository, for tests and `axe lab repos`."""
    out = shell.text(["git", "--git-dir", str(repos_dir(lab) / f"{service}.git"), "show-ref", "--tags", "--heads"])
    return {line.split()[1].rsplit("/", 1)[-1]: line.split()[0] for line in out.splitlines()}
