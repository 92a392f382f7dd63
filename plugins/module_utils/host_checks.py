# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trap preflight's findings, in their one shape, and the host's half: what the customer's Mac mini
answered (and what the inventory knows of its tailnet link), turned into findings. Pure functions: the
host_preflight module gathers the answers in one round trip, trap_preflight (the controller's half, in
module_utils/trap_checks.py) adds its own findings of the same shape.

A finding is {trap, problem, next_step, blocking}. A non-blocking one is a note, or a safe fix apply makes
by itself (the sleep settings, T04)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# What keeps a Mac mini awake through D-day (T04): no sleep, no disk sleep, no standby, back after a power cut.
PMSET_AWAKE = ["pmset", "-a", "sleep", "0", "disksleep", "0", "standby", "0", "autorestart", "1"]


def finding(trap, problem, next_step, blocking=True):
    return dict(trap=trap or "", problem=problem, next_step=next_step or "", blocking=bool(blocking))


def tailscale(ts, host, allow_relayed):
    """T05 from the inventory's Tailscale facts ({known, online, direct, relay}); [] when the host is reachable."""
    ts = ts or {"known": True, "online": True, "direct": True}
    if not ts.get("known"):
        return [finding("T05", "%s is not on the tailnet" % host,
                        "exchange Tailscale keys with customer IT (the Mac mini must join the tailnet)")]
    if not ts.get("online"):
        return [finding("T05", "%s is offline" % host,
                        "ask customer IT to wake the Mac mini and check `tailscale status` there")]
    if not ts.get("direct") and not allow_relayed:
        return [finding("T05", "%s is reached only through the DERP relay %s (slow, not direct)" % (host, ts.get("relay") or "?"),
                        "check UDP 41641 on both sides (`tailscale netcheck`), or set preflight_allow_relayed")]
    return []


def reachable(ts, allow_relayed):
    return not tailscale(ts, "", allow_relayed)


def binaries(path, missing):
    if not missing:
        return []
    return [finding("T07", "not found on %s: %s" % (path, ", ".join(missing)),
                    "install them on the Mac mini (brew install %s), then run again" % " ".join(missing))]


def become(rc, stderr):
    if rc == 0:
        return []
    return [finding("", "become (sudo) does not work without a prompt: %s" % (stderr.strip() or "exit %d" % rc),
                    "allow the operator's account passwordless sudo on the Mac mini (customer IT), then run again")]


def compose(rc, stderr):
    if rc == 0:
        return []
    return [finding("", "the Docker engine does not answer `docker compose version`: %s" % (stderr.strip() or "exit %d" % rc),
                    "start Docker Desktop (or colima) on the Mac mini and install Compose v2, then run again")]


def sleep_minutes(pmset_g):
    """What `pmset -g` says the Mac mini sleeps after, in minutes ('0': never; '' when it says nothing)."""
    found = re.search(r"(?m)^\s*sleep\s+(\d+)", pmset_g or "")
    return found.group(1) if found else ""


def sleep(read_rc, read_stderr, minutes, check_mode, fix_rc=None, fix_stderr=""):
    """T04: a host that cannot tell its sleep settings, or sleeps; apply sets sleep 0 (fix_rc: how that went)."""
    if read_rc != 0:
        return [finding("T04", "cannot read the sleep settings (pmset -g): %s" % (read_stderr.strip() or "exit %d" % read_rc),
                        "run `pmset -g` on the Mac mini; set preflight_check_sleep false for a host that is not a Mac")]
    if minutes in ("", "0"):
        return []
    if check_mode:
        return [finding("T04", "the Mac mini sleeps after %s min; apply sets sleep 0" % minutes, "", blocking=False)]
    if fix_rc == 0:
        return [finding("T04", "the Mac mini sleeps after %s min; set to sleep 0 (pmset, with sudo)" % minutes, "", blocking=False)]
    return [finding("T04", "the Mac mini sleeps after %s min; pmset failed: %s" % (minutes, fix_stderr.strip()),
                    "run `sudo pmset -a sleep 0 disksleep 0 standby 0` on the Mac mini")]
