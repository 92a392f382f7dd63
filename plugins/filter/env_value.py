# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env_value filter: one value for a compose env_file (module_utils/env_file.py says why it is written so)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.axelabs.onboard.plugins.module_utils.env_file import quote


class FilterModule(object):
    def filters(self):
        return {"env_value": quote}
