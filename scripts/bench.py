#!/usr/bin/env python3
"""Measure what costs time: lab bring-up and SSH round trips. Figures, not assertions.

    .venv/bin/python scripts/bench.py [--cold-images] [--json]

Runs in its own lab (AXE_LAB_NAME=axebench, a temporary state dir) and removes it afterwards.
  --cold-images  also remove the lab images first, to time a build from nothing (debootstrap + apt)
SSH connections are counted from each host's sshd log ("Accepted publickey"), so a figure is what
the host saw, not what the client meant to do.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench_lab import BIN, own_lab, print_figures


def timed(fn):
    started = time.monotonic()
    value = fn()
    return time.monotonic() - started, value


def ssh_connections(container: str, since: str) -> int:
    logs = subprocess.run(["docker", "logs", "--since", since, container], capture_output=True, text=True)
    return (logs.stdout + logs.stderr).count("Accepted publickey")


def axe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "axe"), *args], capture_output=True, text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-images", action="store_true")
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    lab, _ = own_lab("axebench")
    from axe_lab import config, hosts, images

    figures: dict[str, float | int | str] = {}
    try:
        if opts.cold_images:
            for image in (images.host_image_tag(), config.BASE_IMAGE):
                subprocess.run(["docker", "rmi", "--force", image], capture_output=True)
            figures["images_cold_s"], _ = timed(lambda: images.ensure_host_image(log=lambda m: None))
        figures["images_warm_s"], _ = timed(lambda: images.ensure_host_image(log=lambda m: None))

        figures["up_1_host_cold_s"], _ = timed(lambda: axe("lab", "up", "--hosts", "b1"))
        figures["up_1_host_warm_s"], _ = timed(lambda: axe("lab", "up", "--hosts", "b1"))
        hosts.down(lab)
        five = "b1,b2,b3,b4,b5"
        figures["up_5_hosts_cold_s"], _ = timed(lambda: axe("lab", "up", "--hosts", five))
        figures["up_5_hosts_warm_s"], _ = timed(lambda: axe("lab", "up", "--hosts", five))

        since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
        time.sleep(1.1)
        figures["ping_1_host_s"], run = timed(lambda: axe("ping", "b1", "--json"))
        assert run.returncode == 0, run.stdout + run.stderr
        figures["ping_1_host_ssh_connections"] = ssh_connections(lab.container("b1-macmini"), since)
        figures["ping_5_hosts_s"], run = timed(lambda: axe("ping", "b1", "b2", "b3", "b4", "b5", "--json"))
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        figures["down_s"], _ = timed(lambda: hosts.down(lab))

    print_figures(figures, opts.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
