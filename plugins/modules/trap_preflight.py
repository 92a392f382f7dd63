#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: trap_preflight
short_description: Every trap that can be seen before acting, all findings at once
version_added: 0.1.0
description:
  - Runs on the controller (in the controller's own process, through its action plugin, unless O(controller_checks)
    asks for the vault, Cloudflare and customers.yaml - those run as a module, whose Python the steps after it reuse).
    Gathers the host's findings (M(axelabs.onboard.host_preflight) - PATH and binaries T07, sleep
    T04, become, Compose), makes the Tailscale one (T05) from the inventory's facts and, with O(controller_checks), looks at everything the
    controller can see before anything changes - customers.yaml and the entry (T01, T23), the vault, the Cloudflare token
    and its permissions (T09), the records at the public name (T02, T03), and every secret and setting each service needs
    (T08, T10) - the services manifest missing is a note (T24).
  - One check does not stop the next, so one run names every problem with its trap id. Fails when any finding blocks,
    listing all of them; notes and safe fixes (the sleep settings apply sets, T04) never block.
  - Reads only.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
  - axelabs.onboard.cloudflare
  - axelabs.onboard.vault
  - axelabs.onboard.vault.CUSTOMERS_FILE
  - axelabs.onboard.customer
options:
  findings:
    description: What the host's checks found (M(axelabs.onboard.host_preflight)) - C(trap), C(problem), C(next_step), C(blocking).
    type: list
    elements: dict
    default: []
  tailscale:
    description:
      - The inventory's Tailscale facts of the host (C(axe_tailscale) - C(known), C(online), C(direct), C(relay)); a host
        that is not on the tailnet, offline, or reached only through a relay is a finding (T05).
    type: dict
  tailscale_host:
    description: The host's name on the tailnet, for the T05 finding.
    type: str
  allow_relayed:
    description: A host reached only through a DERP relay is not a finding.
    type: bool
    default: false
  controller_checks:
    description: Also run the controller's checks (customers.yaml, vault, Cloudflare, DNS, the services' values).
    type: bool
    default: false
  public_domain:
    description: The customer's public name, whose DNS records are looked at (T02, T03). Required with O(controller_checks).
    type: str
  force_dns:
    description: The run will replace records axe does not own (C(--force-dns)); a foreign record is then a note (T02).
    type: bool
    default: false
  definitions:
    description:
      - The services to be deployed, each with its C(secrets) and C(env) as in the roles' service definitions. Their
        missing secrets and settings are findings (T08, T10).
    type: dict
    default: {}
  planned:
    description:
      - What the ingest step of the same check run would write (the C(planned) result of
        M(axelabs.onboard.customer_pack_ingest)). Honoured in check mode only.
    type: dict
"""

EXAMPLES = r"""
- name: The host's half, in one round trip
  axelabs.onboard.host_preflight:
    binaries: [docker, git, cloudflared]
    check_sleep: true
  register: host_half

- name: Every trap that can be seen before acting, all at once
  axelabs.onboard.trap_preflight:
    customer: acme
    findings: "{{ host_half.findings }}"
    tailscale: "{{ axe_tailscale }}"
    controller_checks: true
    public_domain: acme.axelabs.ai
    api_token: "{{ lookup('axelabs.onboard.vault_secret', 'CLOUDFLARE_API_TOKEN', customer='operator', service='cloudflare', missing='empty') }}"
    definitions:
      frame: "{{ frame_definition }}"
  delegate_to: localhost
"""

RETURN = r"""
findings:
  description: Every finding, blocking or not, in the order they were found.
  returned: always
  type: list
  elements: dict
  sample: [{trap: T07, problem: "not found on the host: docker", next_step: "brew install docker", blocking: true}]
blocking:
  description: How many findings stop the run.
  returned: always
  type: int
managed:
  description:
    - With O(controller_checks), whether the customer has a services manifest (false - a sovereignty customer, T24),
      in customers.yaml as the ingest of the same plan leaves it.
  returned: when the customer's entry was found
  type: bool
values_checked:
  description:
    - With O(controller_checks), the services (of O(definitions)) whose every secret and setting was checked (T08, T10) -
      a service's own vault check in the same run has nothing left to find (C(playbooks/onboard.yml) skips it).
  returned: when the customer has a services manifest and the vault answered
  type: list
  elements: str
  sample: [blueprint, frame, hive, vault]
lines:
  description: "The findings as lines: C(TRAP: problem -> next: step)."
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.axelabs.onboard.plugins.module_utils import trap_preflight_step as step
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    module = AnsibleModule(argument_spec=step.argument_spec(), supports_check_mode=True, **step.VALIDATION)
    try:
        result = step.run(module.params, module.check_mode)
    except ProductError as exc:
        fail(module, exc)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
