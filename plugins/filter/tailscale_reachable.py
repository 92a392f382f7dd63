# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tailscale_reachable filter: whether a host may be asked at all, by the same rule that makes the T05
finding (module_utils/host_checks.py), so the preflight never skips a host the report would pass."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.axelabs.onboard.plugins.module_utils.host_checks import reachable


def tailscale_reachable(facts, allow_relayed=False):
    return reachable(facts, allow_relayed)


class FilterModule(object):
    def filters(self):
        return {"tailscale_reachable": tailscale_reachable}
