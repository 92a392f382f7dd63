# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who holds a customer host's deploy lock, and whether that holder is provably gone.

The lock lives on the customer's host; its holder is a process on an operator's machine. A lock
records the holder's machine, pid and the pid's start time. On that same machine the holder is
provably gone when the pid no longer runs, or runs as another process (its start time differs).
A lock from another machine is never called stale: nobody here can prove that run is dead.
Runs on the controller (the host_lock action plugin, axe); pure apart from the process table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import subprocess


def machine_id():
    """This machine's stable identity: its hostname and, where the OS has one, its machine id."""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as fh:
                ident = fh.read().strip()
            if ident:
                return "%s/%s" % (socket.gethostname(), ident[:16])
        except (IOError, OSError):
            continue
    return socket.gethostname()


def process_start(pid):
    """A token that changes when pid is reused: its start time (Linux /proc, else ps), or ''."""
    try:
        with open("/proc/%d/stat" % pid) as fh:
            stat = fh.read()
        # Field 22 (starttime), counted after the command name's closing parenthesis.
        return "ticks:" + stat.rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        pass
    try:
        out = subprocess.run(["ps", "-o", "lstart=", "-p", str(pid)], capture_output=True, text=True,
                             timeout=10, check=False).stdout.strip()
        return "lstart:" + out if out else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def owner(pid):
    """The owner record a lock taken by process pid carries."""
    return {"machine": machine_id(), "pid": pid, "started": process_start(pid)}


def running(pid, started):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it runs
    return not started or process_start(pid) == started


def stale_reason(details, here=None):
    """Why the lock's holder is provably gone, or '' when it may still run (or runs elsewhere)."""
    held_by = (details or {}).get("owner") or {}
    if not held_by.get("pid") or held_by.get("machine") != (here or machine_id()):
        return ""
    if running(int(held_by["pid"]), held_by.get("started") or ""):
        return ""
    return "its holder (pid %s on this machine) no longer runs" % held_by["pid"]


def describe(details):
    return "%s since %s for %r (run %s%s)" % (
        details.get("holder"), details.get("since"), details.get("purpose"), details.get("run_id"),
        ", pid %s on %s" % (details["owner"].get("pid"), details["owner"].get("machine"))
        if details.get("owner") else "")


def release_advice(customer, under_axe):
    """The exact command that shows and clears this customer's lock, for who is running."""
    if under_axe:
        return "axe lock status %s; if its holder is gone: axe lock release %s --apply" % (customer, customer)
    return ("ansible-playbook axelabs.onboard.lock_release -i inventory/customers.yml -e axe_target=%s "
            "(a dry run with --check)" % customer)
