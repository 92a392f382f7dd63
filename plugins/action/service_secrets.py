# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""axelabs.onboard.service_secrets in the controller's own process (plugin_utils/controller_step.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.axelabs.onboard.plugins.module_utils import service_secrets_step as step
from ansible_collections.axelabs.onboard.plugins.plugin_utils.controller_step import ControllerStep


class ActionModule(ControllerStep):

    def argument_spec(self):
        return step.argument_spec()

    def work(self, params, check_mode, diff_mode, hide):
        return step.run(params, check_mode, diff_mode, hide)
