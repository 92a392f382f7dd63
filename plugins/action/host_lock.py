# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_lock's controller half: who holds the lock is a process on an operator's machine, so whether that
holder is provably gone can only be told here (module_utils/lock_owner.py). The lock itself is taken and
given back on the host by the module of the same name, in one round trip when the lock is free or ours."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.plugins.action import ActionBase

from ansible_collections.axelabs.onboard.plugins.module_utils import lock_owner


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def _lock(self, args, task_vars):
        return self._execute_module(module_name="axelabs.onboard.host_lock", module_args=args,
                                    task_vars=task_vars)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        task_vars = task_vars or {}
        args = dict(self._task.args)
        state = args.get("state", "acquired")
        customer = task_vars.get("inventory_hostname", "CUSTOMER")
        advice = lock_owner.release_advice(customer, bool(os.environ.get("AXE_CLI")))
        # This worker's parent is the ansible-playbook process that runs the play: the lock is held while it runs.
        args.setdefault("owner", lock_owner.owner(os.getppid()))
        here = args["owner"].get("machine")

        if state != "acquired":
            out = self._lock(args, task_vars)
            held = out.get("holder") or out.get("released") or {}
            out["stale_reason"] = lock_owner.stale_reason(held, here) if held else ""
            out["stale"] = bool(out["stale_reason"])
            result.update(out)
            return result

        wait = int(args.get("wait") or 0)
        first = self._lock(dict(args, report_held=True), task_vars)
        held = first.get("held") or {}
        if first.get("failed") or not held:
            first.update(stale=False, stale_reason="")
            result.update(first)
            return result
        reason = lock_owner.stale_reason(held, here)
        if reason:
            if self._task.check_mode:
                result.update(first, stale=True, stale_reason=reason)
                result.setdefault("warnings", []).append(
                    "the host's deploy lock is held by %s, but %s: the apply will take it over"
                    % (lock_owner.describe(held), reason))
                return result
            out = self._lock(dict(args, takeover=held.get("run_id")), task_vars)
            if not out.get("failed"):
                out.setdefault("warnings", []).append(
                    "took over the host's deploy lock left by %s: %s" % (lock_owner.describe(held), reason))
            out.update(stale=False, stale_reason="", taken_over=held)
            result.update(out)
            return result
        if self._task.check_mode:
            result.update(first, stale=False, stale_reason="")
            result.setdefault("warnings", []).append(
                "the host is locked by %s; an apply would wait or stop. To see it: %s"
                % (lock_owner.describe(held), advice))
            return result
        out = self._lock(dict(args, wait=wait), task_vars) if wait > 0 else dict(
            failed=True, msg="the host is locked by %s" % lock_owner.describe(held), holder=held, held=held,
            acquired=False)
        if out.get("failed") and out.get("held"):
            out["next_step"] = "wait for that run to end (or give --lock-wait SECONDS); to see it: %s" % advice
        out.update(stale=False, stale_reason="")
        result.update(out)
        return result
