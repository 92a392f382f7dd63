#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: stack_health
short_description: The customer's stack as its Mac mini sees it - containers and local health, in one round trip
version_added: 0.1.0
description:
  - For each service given reads its containers' states and asks its local health URL (the 127.0.0.1 port
    cloudflared's ingress points at), all from the host in one SSH round trip.
  - A blue/green service is healthy with its proxy running and at least one colour running. Reads only; changes
    nothing, so it runs in check mode.
  - The services, containers and URLs come from the service catalogue (the roles' data), as the lookup
    C(axelabs.onboard.services) with C(view=health) returns them; C(axe health) reads the same catalogue.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.INFO_MODULE
  - axelabs.onboard.catalogue
options:
  timeout:
    description: Seconds each local health request may take.
    type: float
    default: 3
"""

EXAMPLES = r"""
- name: Look at the stack from the host
  axelabs.onboard.stack_health:
    services: "{{ query('axelabs.onboard.services', view='health') }}"
  register: health
"""

RETURN = r"""
services:
  description: Per service - C(containers) (name to state, C(missing) when absent), C(http) (the local URL's status, 0 when
    nothing answered), C(ok).
  returned: always
  type: dict
  sample: {vault: {containers: {axe-vaultwarden: running}, http: 200, ok: true}}
"""

from urllib.error import HTTPError, URLError
from urllib.request import ProxyHandler, build_opener

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.axelabs.onboard.plugins.module_utils import catalogue, stack
from ansible_collections.axelabs.onboard.plugins.module_utils.service_host import ServiceHost


def status_of(opener, url, timeout):
    try:
        return opener.open(url, timeout=timeout).getcode()
    except HTTPError as exc:
        return exc.code
    except (URLError, IOError, OSError):
        return 0


def main():
    module = AnsibleModule(argument_spec=dict(services=dict(type="list", elements="dict", required=True,
                                                            options=catalogue.HEALTH_ENTRY_OPTIONS),
                                              timeout=dict(type="float", default=3)),
                           supports_check_mode=True)
    host = ServiceHost(module)
    opener = build_opener(ProxyHandler({}))  # the host's loopback: never through a proxy
    out = {}
    entries = [e for e in module.params["services"] if e["local_url"]]
    # Every service's containers in one docker call: each call is a process on the host, and this is the whole run.
    found = host.containers([n for e in entries for n in e.get("containers", []) + e.get("colours", [])])
    for entry in entries:
        names = entry.get("containers", []) + entry.get("colours", [])
        states = dict((name, found.get(name, {}).get("status", "missing")) for name in names)
        http = status_of(opener, entry["local_url"], module.params["timeout"])
        out[entry["service"]] = {"containers": states, "http": http,
                                 "ok": http == 200 and stack.container_verdict(states, entry)}
    module.exit_json(changed=False, services=out)


if __name__ == "__main__":
    main()
