# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""axelabs.onboard.trap_preflight: the host's findings reported in the controller's own process
(plugin_utils/controller_step.py); with controller_checks, the module itself on the controller.

The controller's checks import the Cloudflare SDK (about 0.2 s) and ask the vault: as a module, they run in the
controller's module Python, where the D-day's tunnel and DNS steps find the SDK imported already. Without them
(a service's own deploy) the report is a few lines of logic, and no module Python needs starting for it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.axelabs.onboard.plugins.module_utils import trap_preflight_step as step
from ansible_collections.axelabs.onboard.plugins.plugin_utils.controller_step import ControllerStep


class ActionModule(ControllerStep):

    validation = step.VALIDATION
    _requires_connection = True  # with controller_checks it runs the module on the controller

    def argument_spec(self):
        return step.argument_spec()

    def work(self, params, check_mode, diff_mode, hide):
        return step.run(params, check_mode)

    def run(self, tmp=None, task_vars=None):
        if boolean(self._task.args.get("controller_checks", False), strict=False):
            result = ActionBase.run(self, tmp, task_vars)
            return merge_hash(result, self._execute_module(task_vars=task_vars))
        return super(ActionModule, self).run(tmp, task_vars)
