# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs a service deploy's commands on the customer's host, for the service_* modules.

One object per module run: it executes the argv lists from compose_commands.py with the
Homebrew-aware PATH (trap T07), keeps a log of what it ran and how long it took (returned to the
operator as `commands`), and reads and writes the release state atomically.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
from urllib.error import HTTPError, URLError
from urllib.request import ProxyHandler, build_opener

from ansible_collections.axelabs.onboard.plugins.module_utils import atomic_file
from ansible_collections.axelabs.onboard.plugins.module_utils import audit
from ansible_collections.axelabs.onboard.plugins.module_utils import compose_commands as cc
from ansible_collections.axelabs.onboard.plugins.module_utils import release
from ansible_collections.axelabs.onboard.plugins.module_utils.host_paths import remote_path
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError

STATE_DIR = ".axe"
STATE_FILE = "release.json"


def http_probe(url, timeout=5):
    """(status, body) of one GET from the host; status 0 (and the reason as body) when nothing answered.
    The host's loopback: never through a proxy."""
    try:
        resp = build_opener(ProxyHandler({})).open(url, timeout=timeout)
        try:
            return resp.getcode(), resp.read(2000).decode("utf-8", "replace")
        finally:
            resp.close()
    except HTTPError as exc:
        return exc.code, exc.read(2000).decode("utf-8", "replace")
    except (URLError, IOError, OSError) as exc:
        return 0, str(getattr(exc, "reason", exc))


class ServiceHost(object):
    def __init__(self, module, project_dir=None, compose_file="compose.yaml"):
        self.module = module
        self.project_dir = os.path.expanduser(project_dir) if project_dir else None
        self.compose_file = compose_file
        self.environ = {"PATH": remote_path(os.environ.get("PATH"))}
        self.commands = []

    # running ---------------------------------------------------------------------------------
    def run(self, argv, check=True, env=None, what=None):
        started = time.time()
        environ = dict(self.environ, **(env or {}))
        rc, out, err = self.module.run_command(argv, environ_update=environ)
        self.commands.append({"cmd": " ".join(argv), "rc": rc, "seconds": round(time.time() - started, 2)})
        if check and rc != 0:
            raise ProductError("%s failed (exit %d): %s" % (what or " ".join(argv[:4]), rc, (err or out).strip()[-800:]),
                               next_step="fix what the message names and run the deploy again: every step is re-runnable")
        return rc, out, err

    def ok(self, argv, env=None):
        return self.run(argv, check=False, env=env)[0] == 0

    def compose(self, builder, *args, **kwargs):
        env = kwargs.pop("env", None)
        what = kwargs.pop("what", None)
        return self.run(builder(self.project_dir, self.compose_file, *args, **kwargs), env=env, what=what)

    # files -------------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.project_dir, *parts)

    def write_file(self, relative, text, mode=0o644):
        """Atomic: a reader sees the old file or the new one, never half of one."""
        target = self.path(relative)
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        if os.path.isfile(target):
            with open(target) as fh:
                if fh.read() == text:
                    return False
        atomic_file.write(target, text, mode)
        return True

    def read_file(self, relative):
        try:
            with open(self.path(relative)) as fh:
                return fh.read()
        except (IOError, OSError):
            return None

    # release state -------------------------------------------------------------------------------
    def state(self):
        text = self.read_file(os.path.join(STATE_DIR, STATE_FILE))
        if not text:
            return release.empty_state()
        try:
            data = json.loads(text)
        except ValueError:
            raise ProductError("%s is not JSON" % self.path(STATE_DIR, STATE_FILE),
                               next_step="restore it from %s.bak, or remove it to treat the service as never released"
                                         % self.path(STATE_DIR, STATE_FILE))
        return dict(release.empty_state(), **data)

    def save_state(self, state):
        """Write the release state; what changed goes to the host's audit log (the one place every release, rollback
        and stopped release of every service passes)."""
        current = self.read_file(os.path.join(STATE_DIR, STATE_FILE))
        if current:
            self.write_file(os.path.join(STATE_DIR, STATE_FILE + ".bak"), current)
        self.write_file(os.path.join(STATE_DIR, STATE_FILE), json.dumps(state, indent=2, sort_keys=True) + "\n")
        try:
            before = json.loads(current) if current else {}
        except ValueError:
            before = {}
        what = audit.transition(os.path.basename(self.project_dir.rstrip("/")), before, state)
        if what:
            audit.record(os.path.basename(self.project_dir.rstrip("/")), what)

    # questions -------------------------------------------------------------------------------------
    def containers(self, names):
        """{name: {"status": .., "image": ..}} for the containers that exist."""
        if not names:
            return {}
        # One docker call for all of them: it prints a line for each that exists and fails naming the others.
        dummy, out, dummy2 = self.run(cc.container_state(names), check=False)
        found = {}
        for line in out.splitlines():
            cname, status, image = (line.strip().split(" ") + ["", ""])[:3]
            if cname.lstrip("/") in names:
                found[cname.lstrip("/")] = {"status": status, "image": image}
        return found

    def drift(self, services):
        """The services compose would create, recreate or start as things are now."""
        if not services:
            return {}
        rc, out, err = self.run(cc.compose_up(self.project_dir, self.compose_file, services, dry_run=True),
                                check=False)
        if rc != 0:
            # An image that is not there yet (a first release) makes the dry run fail: all would change.
            return dict((s, ["missing"]) for s in services)
        return cc.dry_run_changes(out + "\n" + err)

    def logs(self, container, lines=30):
        rc, out, err = self.run(cc.logs_tail(container, lines), check=False)
        text = (out or "") + (err or "")
        return [line for line in text.splitlines() if line.strip()][-lines:]
