# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An action that does its module's controller-side work in the controller's own worker process.

The work is the module's own (a function in module_utils that the module runs too), with the module's argument
spec, check mode and diff. What changes is where it runs: no module process starts on the controller. Under
Mitogen the first module on the controller starts a Python context there (about 0.45 s); a service's own deploy
has no other work on the controller, so it starts none (scripts/bench_dday.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError


class ControllerStep(ActionBase):
    """Subclasses name `argument_spec` (a function returning the module's spec) and `work(params, check_mode,
    diff_mode, hide)` (returns the result, raises ProductError); `validation` holds the spec's other rules."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _requires_connection = False
    validation = {}

    def argument_spec(self):
        raise NotImplementedError

    def work(self, params, check_mode, diff_mode, hide):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerStep, self).run(tmp, task_vars)
        spec = self.argument_spec()
        dummy, tagged = self.validate_argument_spec(argument_spec=spec, **self.validation)
        # Plain data, as a module process receives its arguments: the task's carry Ansible's data tags (str and dict
        # subclasses), which libraries such as ruamel.yaml refuse to write into customers.yaml.
        params = json.loads(json.dumps(tagged))
        # As AnsibleModule does: what a no_log option holds, and every value `work` hides, never leaves here.
        hidden = set(str(params[name]) for name, option in spec.items() if option.get("no_log") and params.get(name))
        try:
            result.update(self.work(params, self._task.check_mode, self._task.diff, hidden.add))
        except ProductError as exc:
            result.update(exc.result(), failed=True)
        return remove_values(result, hidden)
