# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: services
short_description: The service catalogue, read from the service roles' data
version_added: 0.2.0
description:
  - Every service the collection deploys is declared once, in its role's C(vars/main.yml) as
    C(<role>_definition) with an C(order). This lookup reads those definitions, in the D-day's order, and
    returns them or a view derived from them, so playbooks, modules and C(axe) never list services themselves.
  - A new service is one new role of data; it is deployed, routed, checked and proven without another file changing.
author:
  - AXE Labs (@axelabs)
options:
  view:
    description:
      - C(definitions), the roles' definitions as written; C(names), the service names; C(ingress), cloudflared's
        rules (name, path, port; the catch-all last); C(health), what C(axelabs.onboard.stack_health) and
        C(axelabs.onboard.edge_health) check (the tunnel first, then each service's containers and URLs); C(backup),
        what the backup role's agent dumps (each service's C(backup) data, with its service name); C(released), the
        names of the services the engine releases from their repository (versions, colours; not the vault).
    type: str
    choices: [definitions, names, ingress, health, backup, released]
    default: definitions
"""

EXAMPLES = r"""
- name: Deploy every service in the D-day's order
  ansible.builtin.include_role:
    name: "axelabs.onboard.{{ item }}"
  loop: "{{ query('axelabs.onboard.services', view='names') }}"

- name: The stack from the host
  axelabs.onboard.stack_health:
    services: "{{ query('axelabs.onboard.services', view='health') }}"
"""

RETURN = r"""
_raw:
  description: One element per service (per rule for C(ingress); the tunnel too for C(health)).
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            definitions = catalogue.load()
        except (catalogue.CatalogueError, OSError, ValueError) as exc:
            raise AnsibleLookupError("the service catalogue (roles/*/vars/main.yml) cannot be read: %s" % exc)
        view = self.get_option("view")
        if view == "names":
            return catalogue.names(definitions)
        if view == "ingress":
            return catalogue.ingress(definitions)
        if view == "health":
            return catalogue.stack(definitions)
        if view == "backup":
            return catalogue.backups(definitions)
        if view == "released":
            return catalogue.released(definitions)
        return definitions
