# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible.builtin.template whose diff masks secret-named settings (module_utils/redact.py) on both
sides: the file being replaced may hold secrets the new one does not (a hand-written stack)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action.template import ActionModule as TemplateAction

from ansible_collections.axelabs.onboard.plugins.module_utils.redact import redact_text


class ActionModule(TemplateAction):

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        diffs = result.get("diff")
        for diff in diffs if isinstance(diffs, list) else [diffs] if diffs else []:
            for side in ("before", "after"):
                if side in diff:
                    diff[side] = redact_text(diff[side])
            # The file on the host, not the template's temporary copy on the controller.
            dest = self._task.args.get("dest")
            if dest:
                diff["before_header"] = diff["after_header"] = dest
        return result
