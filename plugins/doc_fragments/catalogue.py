# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service catalogue's health view as a module option, for the modules that check services by it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The option is checked with module_utils/catalogue.py's HEALTH_ENTRY_OPTIONS.
    DOCUMENTATION = r"""
options:
  services:
    description:
      - The services to check, as C(query('axelabs.onboard.services', view='health')) returns them (the tunnel first,
        then each service of the catalogue); filter the list to check fewer.
    type: list
    elements: dict
    required: true
    suboptions:
      service:
        description: The service's name.
        type: str
        required: true
      external_path:
        description: Its path under C(https://{public_domain}).
        type: str
        required: true
      local_url:
        description: Its health URL on the host; a service without one (the tunnel) is not looked at on the host.
        type: str
      containers:
        description: Containers that must all run.
        type: list
        elements: str
        default: []
      colours:
        description: Blue/green containers of which at least one must run.
        type: list
        elements: str
        default: []
"""
