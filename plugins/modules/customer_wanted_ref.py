#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 AXE Labs
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: customer_wanted_ref
short_description: Record in customers.yaml the version a customer runs a service at, once it runs it
version_added: 0.4.0
description:
  - Sets C(services.{service}.{customer}.ref) to O(ref) - the version C(axe deploy) deploys without C(--ref) and
    C(axe status) compares the host's live release with. The service engine calls it after a release went live (or
    was already live), so customers.yaml only ever says a customer should run a version it reached.
  - A customer with a services manifest but no slot for O(service) gets one (C(secrets) empty). A customer with no
    manifest at all is refused (T24, a sovereignty customer), except in check mode, where the D-day's plan runs
    before its pack is in.
  - Keeps every byte of customers.yaml it does not change; writes atomically under a lock with a C(.bak). Runs on the
    controller.
author:
  - AXE Labs (@axelabs)
extends_documentation_fragment:
  - axelabs.onboard.attributes
  - axelabs.onboard.attributes.STATE_MODULE
  - axelabs.onboard.vault.CUSTOMERS_FILE
  - axelabs.onboard.customer
options:
  service:
    description: The service (a role of the service catalogue).
    type: str
    required: true
  ref:
    description: The git ref the customer now runs the service at (a tag, a branch or a commit).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: acme runs frame v2 now
  axelabs.onboard.customer_wanted_ref:
    customer: acme
    service: frame
    ref: v2
  delegate_to: localhost
"""

RETURN = r"""
customers_file:
  description: The customers.yaml that was read (and written).
  returned: always
  type: str
previous:
  description: The ref the slot held before (empty when it named none and followed C(releases.{service})).
  returned: success
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.axelabs.onboard.plugins.module_utils import common_args
from ansible_collections.axelabs.onboard.plugins.module_utils import customers_file as cf
from ansible_collections.axelabs.onboard.plugins.module_utils.schemas import GIT_REF
from ansible_collections.axelabs.onboard.plugins.module_utils.validation import ProductError, fail


def main():
    argument_spec = dict(customer=dict(type="str", required=True), service=dict(type="str", required=True),
                         ref=dict(type="str", required=True))
    argument_spec.update(common_args.customers_file_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not cf.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"), exception=cf.RUAMEL_IMPORT_ERROR)
    p = module.params
    common_args.check_customer(module, p["customer"])
    path = common_args.customers_file(p)
    seen = {}

    def record(f):
        slot = ((f.document.get("services") or {}).get(p["service"]) or {}).get(p["customer"]) or {}
        seen["previous"] = cf.plain(slot.get("ref")) or ""
        if module.check_mode and not f.manifest(p["customer"]):
            module.exit_json(changed=True, previous="", customers_file=path,
                             msg="would be recorded once the pack gives %s a services manifest" % p["customer"])
        return f.set_wanted_ref(p["customer"], p["service"], p["ref"])

    try:
        if not re.match(GIT_REF, p["ref"]):
            raise ProductError("ref %r is not one git ref word (letters, digits, . _ / -)" % p["ref"],
                               next_step="give a tag, a branch or a commit")
        before, after = cf.edit(path, record, module.check_mode)
    except ProductError as exc:
        fail(module, exc)
    changed, previous = after != before, seen["previous"]
    result = dict(changed=changed, previous=previous, customers_file=path)
    if module._diff:
        result["diff"] = dict(before_header=path, after_header=path, before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
