#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: edge_health
short_description: The customer's stack from outside - https://{public_domain}, as an employee reaches it
version_added: 0.1.0
description:
  - Runs on the controller. Asks each service's public path once, through the edge, with the public name as the Host.
  - The paths come from the service catalogue (the roles' data) that C(axe health) reads too, as the lookup
    C(axelabs.onboard.services) with C(view=health) returns them, so the two never disagree.
  - Fails when a service does not answer 200 - except in check mode, where the services may not exist yet and the
    statuses are only reported.
  - Reads only.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
  - axelabs.onboard.catalogue
options:
  public_domain:
    description: The customer's public name.
    type: str
    required: true
  edge_url:
    description:
      - Where requests for the public name go (the lab's edge). Empty means C(https://{public_domain}) itself.
      - Defaults to E(AXE_EDGE_URL).
    type: str
  customer:
    description: The customer id, for the next steps a failure prints (C(CUSTOMER) when not given).
    type: str
  timeout:
    description: Seconds each request may take.
    type: int
    default: 10
  retries:
    description:
      - Ask a service that does not answer 200 again, up to this many times, O(delay) seconds apart (a tunnel or a
        container that just restarted). 0 asks each once.
    type: int
    default: 0
  delay:
    description: Seconds between two asks of the same service.
    type: float
    default: 1
"""

EXAMPLES = r"""
- name: Every service answers through the edge
  axelabs.onboard.edge_health:
    public_domain: acme.axelabs.ai
    services: "{{ query('axelabs.onboard.services', view='health') | rejectattr('service', 'eq', 'cloudflared') }}"
  delegate_to: localhost
"""

RETURN = r"""
health:
  description: Each service's HTTP status from outside (0 when nothing answered).
  returned: always
  type: dict
  sample: {frame: 200, blueprint: 200, hive: 200, vault: 200}
urls:
  description: The public URL asked for each service.
  returned: always
  type: dict
  sample: {vault: https://acme.axelabs.ai/vault/alive}
answers:
  description: The start of each service's last answer (or why nothing answered).
  returned: always
  type: dict
  sample: {cloudflared: "fl=1f1 h=acme.axelabs.ai ..."}
"""

import time

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue, stack


def main():
    module = AnsibleModule(
        argument_spec=dict(public_domain=dict(type="str", required=True),
                           edge_url=dict(type="str", fallback=(env_fallback, ["AXE_EDGE_URL"])),
                           services=dict(type="list", elements="dict", required=True, options=catalogue.HEALTH_ENTRY_OPTIONS),
                           customer=dict(type="str"),
                           timeout=dict(type="int", default=10), retries=dict(type="int", default=0),
                           delay=dict(type="float", default=1)),
        supports_check_mode=True)
    p = module.params
    paths = dict((s["service"], s["external_path"]) for s in p["services"])
    domain = p["public_domain"].rstrip(".").lower()
    urls = dict((s, "https://%s%s" % (domain, path)) for s, path in paths.items())
    health, answers = {}, {}
    for service, path in paths.items():
        for attempt in range(max(0, p["retries"]) + 1):  # bounded: retries + 1 asks, delay apart
            health[service], answers[service] = stack.outside_answer(p["edge_url"], domain, path, p["timeout"])
            if health[service] == 200 or attempt == p["retries"]:
                break
            time.sleep(max(0.0, p["delay"]))
    bad = sorted(s for s, code in health.items() if code != 200)
    if bad and not module.check_mode:
        module.fail_json(msg="not answering 200 through https://%s: %s" % (domain, ", ".join(
            "%s %s" % (urls[s], health[s] or "no answer") for s in bad)), health=health, urls=urls, answers=answers,
            next_step="`axe health {c}` shows the host's side; a 1033 or 530 is cloudflared (`axe onboard {c} --apply`), "
                      "a 502 or 404 the service (`axe deploy {s} {c} --apply`)".format(
                          c=p["customer"] or "CUSTOMER", s=[s for s in bad if s != "cloudflared"][0] if bad != ["cloudflared"] else "frame"))
    module.exit_json(changed=False, health=health, urls=urls, answers=answers)


if __name__ == "__main__":
    main()
